# step-ca machine certificate renewal (pkgs.step-cli): a timer checks every
# `machine_cert.check_interval` and renews over mTLS once less than `renew_before` is left.
# The OpenBao agent's cert auth has `reload = true`, so it logs in with the new certificate
# without a restart. The first certificate is issued once by hand (`step ca certificate` with a
# one-time token); until it exists the unit is skipped, not failed.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  mc = cfg.machine_cert;
  # The spec writes "8h", "2d", "90s"; step takes Go durations (no "d"): pass seconds.
  seconds =
    d:
    let
      m = builtins.match "([0-9]+)([smhd]?)" d;
      n = lib.toInt (builtins.head m);
      unit = lib.last m;
      mult = {
        "" = 1;
        s = 1;
        m = 60;
        h = 3600;
        d = 86400;
      };
    in
    n * mult.${unit};
  certDir = builtins.dirOf mc.cert;
in
{
  config = lib.mkIf (cfg.enable && mc != null) {
    systemd.tmpfiles.rules = lib.unique [
      "d ${certDir} 0700 root root -"
      "d ${builtins.dirOf mc.key} 0700 root root -"
    ];

    systemd.services.openclaw-cert-renew = {
      description = "Renew the OpenClaw machine certificate from step-ca (${cfg.name})";
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      unitConfig.ConditionPathExists = [
        mc.cert
        mc.key
      ];
      serviceConfig = import ./sidecar-sandbox.nix // {
        Type = "oneshot";
        ExecStart = lib.escapeShellArgs [
          (lib.getExe pkgs.step-cli)
          "ca"
          "renew"
          "--force"
          "--expires-in"
          "${toString (seconds mc.renew_before)}s"
          "--ca-url"
          mc.ca_url
          "--root"
          mc.root_ca
          mc.cert
          mc.key
        ];
        # step keeps its defaults under $HOME/.step; nothing there is needed.
        Environment = [ "HOME=/run/openclaw-cert-renew" ];
        RuntimeDirectory = "openclaw-cert-renew";
        RuntimeDirectoryMode = "0700";
        UMask = "0077";
        ReadWritePaths = lib.unique [
          certDir
          (builtins.dirOf mc.key)
        ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
        ];
        SystemCallErrorNumber = "EPERM";
        RestrictAddressFamilies = [
          "AF_INET"
          "AF_INET6"
          "AF_UNIX"
        ];
        CapabilityBoundingSet = "";
        MemoryMax = "128M";
        TasksMax = 32;
      };
    };

    systemd.timers.openclaw-cert-renew = {
      description = "Check the OpenClaw machine certificate every ${mc.check_interval}";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnBootSec = "1min";
        OnUnitActiveSec = "${toString (seconds mc.check_interval)}s";
        RandomizedDelaySec = "60s";
        Persistent = true;
      };
    };
  };
}
