# Egress by host name (`egress.allow_domains`): the generator's Squid config, run by a sandboxed
# unit as its own user. The generator's nftables table (egress.nix) lets only this user reach
# public addresses, and only on the listed ports; the gateway reaches the proxy on loopback or,
# from its container, on the container network's gateway address (its openclaw.json carries
# `proxy.proxyUrl`, its environment HTTPS_PROXY).
#
# Why not nixpkgs' `services.squid`: its unit runs the proxy as root-started Squid with a cache
# directory and its own config options; the rendered config here is the tested policy (the lab
# runs the same file), so it is loaded verbatim.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  p = cfg.egress.proxy;
  configFile = if p.config != null then p.config else "/etc/${cfg.name}-egress-proxy/squid.conf";
  accessLog =
    if p.access_log != null then p.access_log else "/var/log/${cfg.name}-egress-proxy/access.log";
  squid = lib.getExe' pkgs.squid "squid";
in
{
  config = lib.mkIf (cfg.enable && cfg.egress.allow_domains != [ ]) {
    services.openclaw.egress.proxy.squid_bin = lib.mkDefault squid;

    assertions = [
      {
        assertion = p.config == null;
        message = ''
          services.openclaw.egress.proxy.config: the module installs the rendered Squid config at
          /etc/${cfg.name}-egress-proxy/squid.conf itself. Leave egress.proxy.config unset.
        '';
      }
    ];

    users.users.${p.user} = {
      isSystemUser = true;
      group = p.user;
      description = "OpenClaw egress proxy (${cfg.name})";
    };
    users.groups.${p.user} = { };

    environment.etc."${cfg.name}-egress-proxy/squid.conf".source =
      "${cfg.rendered}/egress-proxy/squid.conf";

    systemd.tmpfiles.rules = [ "d ${builtins.dirOf accessLog} 0750 ${p.user} ${p.user} -" ];

    systemd.services."${cfg.name}-egress-proxy" = {
      description = "OpenClaw egress proxy (${cfg.name}): HTTPS to egress.allow_domains only";
      wantedBy = [ "multi-user.target" ];
      after = [
        "network-online.target"
        "systemd-tmpfiles-setup.service"
        "openclaw-egress.service"
      ];
      wants = [ "network-online.target" ];
      before = [ "${cfg.name}.service" ];
      # A changed config is re-read (SIGHUP), no restart: open tunnels survive.
      reloadIfChanged = true;
      reloadTriggers = [ "${cfg.rendered}/egress-proxy/squid.conf" ];
      serviceConfig = import ./sidecar-sandbox.nix // {
        Type = "simple";
        User = p.user;
        Group = p.user;
        ExecStartPre = "${squid} -k parse -f ${configFile}";
        ExecStart = "${squid} -N -d 1 -f ${configFile}";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        Restart = "always";
        RestartSec = "2s";
        LimitNOFILE = 4096;
        MemoryMax = "256M";
        TasksMax = 64;
        UMask = "0027";
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        ReadWritePaths = [ (builtins.dirOf accessLog) ];
        RemoveIPC = true;
        RestrictAddressFamilies = [
          "AF_INET"
          "AF_INET6"
          "AF_UNIX"
        ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @module"
        ];
        SystemCallErrorNumber = "EPERM";
      };
    };
  };
}
