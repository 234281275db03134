# Health-gated deployment (`services.openclaw.deploy.healthGate`): after a switch that changes
# the gateway's deployment (its rendered artifacts or its image), wait up to `timeout` for
# `openclaw-probe --startup` to report the gateway started (`/startupz`) and auth enforced
# (no token refused, the rendered token accepted). If it does not, switch back to the last
# generation this gate saw healthy, set the system profile to it, and log why.
#
# Like deploy-rs's magic rollback, the host rolls itself back (no deployer connection needed);
# unlike it, the confirmation is the application's own health, not an SSH round trip.
#
# It never loops: it only rolls back to a generation it confirmed healthy itself (recorded in
# /var/lib/openclaw-health-gate/confirmed), never twice from the same place (the target is
# recorded in rollback-target, and a rolled-back-to generation that is unhealthy is left for a
# human), and a confirmed generation is not gated again (a reboot or an OpenBao outage on a
# confirmed generation is an alert, not a rollback).
#
# On by default: it acts only on a generation that was never healthy while a healthy one is
# known, which is the failure this module exists to prevent (a bad render never replaces a
# good deployment). What it rolls back is the whole system generation: other changes in the
# same switch go back too, and the journal says so.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  gate = cfg.deploy.healthGate;
  stateDir = "/var/lib/openclaw-health-gate";
  item = cfg.secrets.items.${cfg.gateway.token} or { };
  tokenPath =
    if cfg.gateway.token == null then
      null
    else if cfg.secrets.backend == "files" && (item.path or null) != null then
      item.path
    else
      "${lib.removeSuffix "/" cfg.secrets.dir}/${cfg.gateway.token}";
  host =
    if
      lib.elem cfg.publishAddress [
        "0.0.0.0"
        "::"
      ]
    then
      "127.0.0.1"
    else if lib.hasInfix ":" cfg.publishAddress then
      "[${cfg.publishAddress}]"
    else
      cfg.publishAddress;
  probe = lib.escapeShellArgs (
    [
      (lib.getExe' cfg.probePackage "openclaw-probe")
      "--url"
      "http://${host}:${toString cfg.gateway.port}"
      "--startup"
      # A wrong token every few seconds would count against the auth rate limit.
      "--no-wrong-token"
      "--quiet"
    ]
    ++ lib.optionals (tokenPath != null) [
      "--token-file"
      tokenPath
    ]
  );

  # Run detached (systemd-run): switch-to-configuration restarts this gate's own unit.
  rollback = pkgs.writeShellScript "openclaw-health-gate-rollback" ''
    set -u
    target=$1
    echo "openclaw-health-gate: switching to $target (${gate.switchAction})"
    systemctl reset-failed ${cfg.name}.service || true
    exec "$target/bin/switch-to-configuration" ${gate.switchAction}
  '';

  script = pkgs.writeShellScript "openclaw-health-gate" ''
    set -u
    log() { echo "openclaw-health-gate: $*"; }
    mkdir -p -m 0700 ${stateDir}
    current=$(readlink -f /run/current-system)
    confirmed=$(cat ${stateDir}/confirmed 2>/dev/null || true)
    rollback_target=$(cat ${stateDir}/rollback-target 2>/dev/null || true)
    if [ "$current" = "$confirmed" ]; then
      log "$current was confirmed healthy before: not gated again"
      exit 0
    fi
    log "gating $current: waiting up to ${toString gate.timeout}s for the gateway to start with auth enforced"
    start=$SECONDS
    failures=0
    while :; do
      if ${probe}; then
        printf '%s\n' "$current" >${stateDir}/confirmed.new
        mv -f ${stateDir}/confirmed.new ${stateDir}/confirmed
        rm -f ${stateDir}/rollback-target
        log "healthy after $((SECONDS - start))s ($failures failed probes): $current confirmed"
        exit 0
      fi
      failures=$((failures + 1))
      [ $((SECONDS - start)) -lt ${toString gate.timeout} ] || break
      sleep ${toString gate.interval}
    done
    why=$(${probe} --json 2>&1 | tr '\n' ' ' | cut -c1-2000 || true)
    log "not healthy within ${toString gate.timeout}s ($failures failed probes); last probe: $why"
    if [ "$current" = "$rollback_target" ]; then
      log "$current is where an earlier failed deploy was rolled back to: not rolling back again (fix it by hand)"
      exit 1
    fi
    if [ -z "$confirmed" ] || [ ! -x "$confirmed/bin/switch-to-configuration" ]; then
      log "no generation was ever confirmed healthy on this host: nothing to roll back to"
      exit 1
    fi
    printf '%s\n' "$confirmed" >${stateDir}/rollback-target
    printf '%s\n' "$current" >${stateDir}/rolled-back-from
    log "rolling back from $current to $confirmed (the whole generation: other changes of this switch go back too)"
    nix-env --profile /nix/var/nix/profiles/system --set "$confirmed" ||
      log "warning: could not set the system profile; the next boot may start the failed generation"
    systemd-run --unit=openclaw-health-gate-rollback --collect --no-block ${rollback} "$confirmed"
    exit 1
  '';
in
{
  options.services.openclaw = {
    probePackage = lib.mkPackageOption pkgs "openclaw-probe" { };
    deploy.healthGate = {
      enable = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = ''
          After a switch that changes the gateway's deployment, roll back to the last
          generation confirmed healthy unless the gateway starts with auth enforced within
          `timeout`. Acts only on never-confirmed generations and never twice in a row.
        '';
      };
      timeout = lib.mkOption {
        type = lib.types.ints.between 30 3600;
        default = 300;
        description = "Seconds a new generation's gateway has to start (image load, secret render, OpenClaw's ~20 s start).";
      };
      interval = lib.mkOption {
        type = lib.types.ints.between 1 60;
        default = 5;
        description = "Seconds between probes.";
      };
      switchAction = lib.mkOption {
        type = lib.types.enum [
          "switch"
          "test"
        ];
        default = "switch";
        description = "How the rollback activates the good generation (`test` leaves the bootloader alone).";
      };
    };
  };

  config = lib.mkIf (cfg.enable && gate.enable) {
    assertions = [
      {
        assertion = cfg.gateway.auth == "token" -> tokenPath != null;
        message = ''
          services.openclaw.deploy.healthGate checks that auth is enforced with the rendered token, but services.openclaw.gateway.token is unset.
          Set gateway.token to a secret name, or services.openclaw.deploy.healthGate.enable = false.
        '';
      }
    ];
    systemd.services.openclaw-health-gate = {
      description = "Roll back to the last healthy generation unless the OpenClaw gateway (${cfg.name}) comes up";
      wantedBy = [ "multi-user.target" ];
      after = [ "${cfg.name}.service" ];
      # Re-run exactly when the gateway's deployment changes.
      restartTriggers = [
        cfg.rendered
        (toString cfg.image)
      ];
      path = [
        pkgs.coreutils
        config.nix.package
        config.systemd.package
      ];
      serviceConfig = {
        # simple: a switch does not wait out the gate's timeout (the rollback it may start runs
        # after that switch has finished).
        Type = "simple";
        RemainAfterExit = true;
        ExecStart = script;
        StateDirectory = "openclaw-health-gate";
        StateDirectoryMode = "0700";
        UMask = "0077";
        # Root for the token file (the gateway's 0600), the system profile and systemd's bus;
        # nothing else.
        CapabilityBoundingSet = [ "CAP_DAC_READ_SEARCH" ];
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ReadWritePaths = [ "/nix/var/nix" ];
        ProtectHome = true;
        PrivateTmp = true;
        PrivateDevices = true;
        ProtectKernelTunables = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectControlGroups = true;
        ProtectClock = true;
        ProtectHostname = true;
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        RestrictAddressFamilies = [
          "AF_UNIX"
          "AF_INET"
          "AF_INET6"
        ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" ];
      };
    };
  };
}
