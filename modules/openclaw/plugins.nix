# Official channel plugins (@openclaw/matrix) installed the way OpenClaw 2026.9.6 trusts them:
# `openclaw plugins install <package>@<version> --pin`, recorded in the state directory. A copy
# loaded from `paths.plugins_dir` loads, but is refused channel state (the Matrix channel exits
# with "openKeyedStore is only available for trusted plugins").
#
# Once per gateway version (a marker in the state directory), before the gateway, as root
# (OpenClaw expects plugin code owned by root), with the gateway package of the Nix-built image.
# It needs the npm registry reachable from this host that once; the egress table filters the
# gateway's user and container, not this unit, unless `egress.scope = "host"`.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  gateway = cfg.image.openclawGateway or null;
  stateDir = lib.removeSuffix "/" cfg.paths.state_dir;
  wanted = lib.optional (cfg.channels.matrix != null) "@openclaw/matrix";
  install = "openclaw plugins install <package>@<gateway version> --pin";
  ids = map (p: lib.removePrefix "@openclaw/" p) wanted;
  scratchConfig = (pkgs.formats.json { }).generate "openclaw-plugins-install.json" {
    plugins = {
      allow = ids;
      entries = lib.genAttrs ids (_: {
        enabled = true;
      });
    };
  };
in
{
  config = lib.mkIf (cfg.enable && wanted != [ ]) (
    lib.mkMerge [
      (lib.mkIf (gateway == null) {
        warnings = [
          ''
            services.openclaw.channels.matrix needs ${lib.concatStringsSep ", " wanted} installed in ${stateDir}, which this
            module does only for the Nix-built image (services.openclaw.image). Run once on this host, as root:
            OPENCLAW_STATE_DIR=${stateDir} ${install} (a copy in paths.plugins_dir is not trusted with channel state).
          ''
        ];
      })
      (lib.mkIf (gateway != null) (
        let
          marker = "${stateDir}/.openclaw-homelab-plugins-${gateway.version}";
        in
        {
          systemd.services.openclaw-plugins = {
            description = "Install ${lib.concatStringsSep ", " wanted} for OpenClaw ${gateway.version} (${cfg.name})";
            wantedBy = [ "${cfg.name}.service" ];
            before = [ "${cfg.name}.service" ];
            wants = [ "network-online.target" ];
            after = [
              "network-online.target"
              "systemd-tmpfiles-setup.service"
            ];
            unitConfig.ConditionPathExists = "!${marker}";
            # `plugins install` enables the plugin in the config it is given and may rewrite
            # it: a scratch copy, not the read-only generated one (the record that matters is
            # in the state directory).
            environment = {
              OPENCLAW_STATE_DIR = stateDir;
              OPENCLAW_CONFIG_PATH = "/run/openclaw-plugins/openclaw.json";
              HOME = "/run/openclaw-plugins";
            };
            serviceConfig = import ./sidecar-sandbox.nix // {
              Type = "oneshot";
              RemainAfterExit = true;
              # --force replaces the previous version's copy after an upgrade.
              ExecStart = map (p: "${lib.getExe gateway} plugins install ${p}@${gateway.version} --pin --force") wanted;
              ExecStartPre = "${pkgs.coreutils}/bin/install -m 0600 ${scratchConfig} /run/openclaw-plugins/openclaw.json";
              ExecStartPost = [
                # The install runs as root and creates the state database root-only: everything
                # but the plugin code (npm/, root's, as OpenClaw expects) goes back to the
                # gateway's user (checked: the gateway as uid 1000 then answers on Matrix).
                "${pkgs.findutils}/bin/find ${stateDir} -mindepth 1 -maxdepth 1 ! -name npm -exec ${pkgs.coreutils}/bin/chown -R ${cfg.container.user} {} +"
                "${pkgs.coreutils}/bin/touch ${marker}"
              ];
              RuntimeDirectory = "openclaw-plugins";
              RuntimeDirectoryMode = "0700";
              ReadWritePaths = [ stateDir ];
              # Node's JIT; npm runs child processes.
              MemoryDenyWriteExecute = false;
              ProcSubset = "all";
              User = "root";
              UMask = "0022";
              CapabilityBoundingSet = [
                "CAP_CHOWN"
                "CAP_FOWNER"
                "CAP_DAC_OVERRIDE"
              ];
              RestrictAddressFamilies = [
                "AF_INET"
                "AF_INET6"
                "AF_UNIX"
              ];
              SystemCallArchitectures = "native";
              SystemCallFilter = [
                "@system-service"
                "~@privileged"
                "@chown"
              ];
              SystemCallErrorNumber = "EPERM";
              MemoryMax = "1G";
              TasksMax = 128;
              TimeoutStartSec = "10min";
            };
          };
        }
      ))
    ]
  );
}
