# LiteLLM between the gateway and the model providers (`services.openclaw.litellm`): the
# generator's units verbatim (systemd.packages, plus drop-ins for what NixOS adds: wantedBy,
# PATH, ExecSearchPath, restart on a new render), its config and agent files from the rendered output, its own
# user, directories and egress table.
#
# Not nixpkgs' `services.litellm` (its module, checked in nixpkgs' source): it runs LiteLLM with
# DynamicUser, so there is no fixed account for the per-user nftables egress rule (`meta skuid`
# resolves a name when the table loads) nor for the env file's owner that openclaw-secretcheck
# checks before every start; and it builds config.yaml from Nix `settings`, where ours is
# rendered (and tested against the real LiteLLM) by the generator. Its package is what
# `litellm.paths.bin` should name: `lib.getExe pkgs.litellm`.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  l = cfg.litellm;
  unit = "${cfg.name}-litellm";
  agentUnit = "${cfg.name}-litellm-openbao-agent";
  useAgent = cfg.secrets.backend == "openbao" && cfg.secrets.openbao != null && l.openbao != null;
  # LiteLLM's machine certificate renewed by the rendered step-cli unit and timer, as on other
  # hosts; none when it is the gateway's own certificate (cert.nix renews that one).
  renewUnit = "${cfg.name}-litellm-cert-renew";
  useRenew = useAgent && cfg.machine_cert != null && l.openbao.cert != cfg.machine_cert.cert;
  strip = lib.removeSuffix "/";
  units = pkgs.runCommand "openclaw-${cfg.name}-litellm-units" { preferLocalBuild = true; } ''
    mkdir -p $out/lib/systemd/system $out/lib/tmpfiles.d
    cp ${cfg.rendered}/systemd/${unit}.service $out/lib/systemd/system/
    ${lib.optionalString useAgent "cp ${cfg.rendered}/systemd/${agentUnit}.service $out/lib/systemd/system/"}
    ${lib.optionalString useRenew "cp ${cfg.rendered}/systemd/${renewUnit}.service ${cfg.rendered}/systemd/${renewUnit}.timer $out/lib/systemd/system/"}
    cp ${cfg.rendered}/systemd/tmpfiles.d/${cfg.name}-litellm.conf $out/lib/tmpfiles.d/
    # Each agent's settings.json (OpenClaw's own retries off: LiteLLM falls back).
    cp ${cfg.rendered}/systemd/tmpfiles.d/${cfg.name}-agent-settings.conf $out/lib/tmpfiles.d/
  '';
  ruleset = "${cfg.rendered}/nftables/litellm-egress.nft";
  table = "litellm_${builtins.replaceStrings [ "-" ] [ "_" ] cfg.name}";
  load = "${pkgs.nftables}/bin/nft -f ${ruleset}";
in
{
  config = lib.mkIf (cfg.enable && l != null) {
    assertions = [
      {
        assertion = lib.hasPrefix "/etc/" (strip l.paths.config) && lib.hasPrefix "/etc/" (strip l.paths.agent_dir);
        message = ''
          services.openclaw.litellm.paths.config and .agent_dir must be under /etc on NixOS: the module installs the
          rendered config.yaml and agent files there with environment.etc. Keep the defaults.
        '';
      }
      {
        # On one host, a host-wide gateway table would filter LiteLLM's traffic too: the gateway
        # would then be allowed the providers, or LiteLLM refused them.
        assertion = cfg.egress.scope == "service";
        message = ''
          services.openclaw.litellm runs LiteLLM on the gateway's host: set services.openclaw.egress.scope = "service",
          so the gateway's table filters only the gateway and LiteLLM's own table only LiteLLM.
        '';
      }
      {
        assertion = lib.hasPrefix builtins.storeDir l.paths.bin;
        message = ''
          services.openclaw.litellm.paths.bin = "${l.paths.bin}" is not a store path: set it to lib.getExe pkgs.litellm.
        '';
      }
    ];

    users.users.${l.paths.service_user} = {
      isSystemUser = true;
      group = l.paths.service_user;
      home = l.paths.state_dir;
      description = "LiteLLM proxy (${cfg.name})";
    };
    users.groups.${l.paths.service_user} = { };

    environment.etc = {
      ${lib.removePrefix "/etc/" (strip l.paths.config)}.source = "${cfg.rendered}/litellm/config.yaml";
    }
    // lib.optionalAttrs useAgent {
      ${lib.removePrefix "/etc/" (strip l.paths.agent_dir)}.source = "${cfg.rendered}/litellm/openbao-agent";
    };

    systemd.packages = [ units ];
    systemd.tmpfiles.packages = [ units ];
    systemd.services.${unit} = {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ cfg.rendered ];
    };
    systemd.services.${agentUnit} = lib.mkIf useAgent {
      overrideStrategy = "asDropin";
      wantedBy = [ "multi-user.target" ];
      restartTriggers = [ cfg.rendered ];
      # promote restarts LiteLLM with systemctl after a changed key.
      path = [ config.systemd.package ];
    };
    systemd.services.${renewUnit} = lib.mkIf useRenew {
      overrideStrategy = "asDropin";
      # The rendered unit names step and systemctl without a path; systemd's built-in search
      # path has neither on NixOS.
      serviceConfig.ExecSearchPath = lib.makeBinPath [
        pkgs.step-cli
        config.systemd.package
      ];
    };
    systemd.timers.${renewUnit} = lib.mkIf useRenew {
      overrideStrategy = "asDropin";
      wantedBy = [ "timers.target" ];
    };
    # The first certificate is issued by hand into these (as the gateway's, cert.nix).
    systemd.tmpfiles.rules = lib.mkIf useRenew (
      lib.unique [
        "d ${builtins.dirOf l.openbao.cert} 0700 root root -"
        "d ${builtins.dirOf l.openbao.key} 0700 root root -"
      ]
    );

    # LiteLLM's egress table, loaded verbatim like the gateway's (egress.nix).
    systemd.services."${unit}-egress" = {
      description = "LiteLLM egress nftables table (${cfg.name})";
      wantedBy = [ "multi-user.target" ];
      before = [
        "network-pre.target"
        "${unit}.service"
      ];
      wants = [ "network-pre.target" ];
      after = [ "nftables.service" ];
      reloadIfChanged = true;
      reloadTriggers = [ ruleset ];
      unitConfig.DefaultDependencies = false;
      serviceConfig = import ./sidecar-sandbox.nix // {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = load;
        ExecReload = load;
        ExecStop = "-${pkgs.nftables}/bin/nft delete table inet ${table}";
        ProcSubset = "all";
        CapabilityBoundingSet = [ "CAP_NET_ADMIN" ];
        AmbientCapabilities = [ ];
        RestrictAddressFamilies = [
          "AF_NETLINK"
          "AF_UNIX"
        ];
        SystemCallArchitectures = "native";
        SystemCallFilter = [
          "@system-service"
          "~@privileged"
          "~@resources"
        ];
        SystemCallErrorNumber = "EPERM";
        UMask = "0077";
        MemoryMax = "64M";
        TasksMax = 8;
      };
    };
  };
}
