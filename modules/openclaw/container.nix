# The gateway as a rootful Podman container through quadlet-nix (github:SEIAROTg/quadlet-nix,
# `virtualisation.quadlet`), read-only, all capabilities dropped, gated by the secret check and
# reported healthy only once OpenClaw answers /readyz.
#
# The unit is `<name>.service`, the unit the agent's promote step try-restarts after a secret
# change. quadlet-nix hashes the unit text into the drop-in, so a new config, image or spec
# (new store paths) restarts the gateway on `switch`, and a rollback restores the old ones.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  c = cfg.container;
  secretsDir = lib.removeSuffix "/" cfg.secrets.dir;
  stateDir = cfg.paths.state_dir;
  port = toString cfg.gateway.port;
  usesEnvFile = lib.any (i: i.deliver == "env") (lib.attrValues cfg.secrets.items);
  envFile = "${secretsDir}/${cfg.secrets.env_file}";
  pluginsDir = if cfg.paths.plugins_dir == null then null else lib.removeSuffix "/" cfg.paths.plugins_dir;
  containerUid = builtins.head (lib.splitString ":" c.user);
  # "2", not Nix's "2.000000".
  cpus = builtins.toJSON c.cpus;
  # Linux caps interface names at 15 characters.
  bridge = builtins.substring 0 15 "oc-${cfg.name}";
  publishHost =
    if lib.hasInfix ":" cfg.publishAddress then "[${cfg.publishAddress}]" else cfg.publishAddress;

  # Node is in every OpenClaw image; the check needs nothing else. /readyz is public and
  # answers 200 once the gateway serves (15-19 s after start on 2 vCPU, measured).
  healthCheck = pkgs.writeTextDir "check.mjs" ''
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 4000);
    fetch("http://127.0.0.1:${port}/readyz", { signal: ac.signal })
      .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  '';
in
{
  config = lib.mkIf cfg.enable {
    services.openclaw.egress.container_interfaces = lib.mkDefault [ bridge ];

    environment.etc = lib.mkIf (lib.hasPrefix "/etc/" cfg.paths.config) {
      ${lib.removePrefix "/etc/" cfg.paths.config}.source = "${cfg.rendered}/openclaw.json";
    };

    virtualisation.podman.enable = true;

    virtualisation.quadlet.networks.${c.network} = {
      networkConfig = {
        name = c.network;
        # As a podman flag: quadlet's InterfaceName= is newer than nixpkgs' Podman 5.4.
        podmanArgs = [ "--interface-name=${bridge}" ];
        # Pinned, as the generator's .network pins it: the egress table filters the
        # container's forwarded traffic by this source range (and by the bridge name).
        subnets = [ c.subnet ] ++ lib.optional (c.subnet6 != null) c.subnet6;
        ipv6 = c.subnet6 != null;
        # The container resolves through egress.dns_resolvers directly (checked by the egress
        # policy in the forward hook), not through aardvark-dns on the host.
        disableDns = cfg.egress.dns_resolvers != [ ];
      };
    };

    virtualisation.quadlet.containers.${cfg.name} = {
      containerConfig = {
        image = c.image;
        pull = if cfg.image != null then null else "missing";
        user = c.user;
        networks = [ config.virtualisation.quadlet.networks.${c.network}.ref ];
        dns = cfg.egress.dns_resolvers;
        publishPorts = [ "${publishHost}:${port}:${port}" ];
        readOnly = c.read_only;
        dropCapabilities = [ "ALL" ];
        noNewPrivileges = true;
        pidsLimit = c.pids_limit;
        # Memory= is newer than nixpkgs' Podman 5.4 quadlet (it refuses the whole unit): flags,
        # as the generator's quadlet unit does. No swap beyond the limit.
        podmanArgs = [
          "--memory=${c.memory_max}"
          "--memory-swap=${c.memory_max}"
          "--cpus=${cpus}"
          # OpenClaw reclaims a killed gateway's state lease only from the same host name.
          "--hostname=${cfg.name}"
          # Podman's default rlimits exceed what unprivileged LXC hosts allow.
          "--ulimit=nofile=${toString c.ulimit_nofile}:${toString c.ulimit_nofile}"
          "--ulimit=nproc=${toString c.ulimit_nproc}:${toString c.ulimit_nproc}"
        ];
        volumes = [
          "${cfg.rendered}/openclaw.json:${cfg.paths.config}:ro"
          "${secretsDir}:${secretsDir}:ro"
          "${stateDir}:${stateDir}:rw"
          "${healthCheck}:/run/openclaw-health:ro"
        ]
        # Read-only, as the generator's quadlet unit mounts it (the ClawHub diagnostics plugins;
        # channel plugins are installed into the state dir, see plugins.nix).
        ++ lib.optional (pluginsDir != null) "${pluginsDir}:${pluginsDir}:ro"
        ++ c.volumes;
        environments = {
          OPENCLAW_CONFIG_PATH = cfg.paths.config;
          OPENCLAW_STATE_DIR = stateDir;
          # OpenClaw writes $HOME/.cache and $HOME/.npm; the root filesystem is read-only.
          HOME = stateDir;
          # Leave the read-only config alone; systemd supervises (fast failure on bad secrets).
          OPENCLAW_NIX_MODE = "1";
          OPENCLAW_SUPERVISOR_MODE = "external";
        };
        environmentFiles = lib.optional usesEnvFile envFile;
        healthCmd = "node /run/openclaw-health/check.mjs";
        healthInterval = "30s";
        healthTimeout = "5s";
        healthRetries = 3;
        healthStartPeriod = "90s";
        healthOnFailure = "kill";
        # The unit is active only once the gateway is ready: `switch`, the VM tests and the
        # rollback test wait on something real.
        notify = "healthy";
      };
      serviceConfig = {
        # A bad or half-rendered secret fails the start here, so the gateway never runs with
        # it; the agent's promote step runs the same check before it replaces live files, so
        # a running gateway is never restarted onto a bad render.
        # Owned by the container's uid: that is who reads them inside (no user namespace).
        ExecStartPre = [
          "${lib.getExe' cfg.secretcheckPackage "openclaw-secretcheck"} check --spec ${cfg.specFile} --owner ${containerUid}"
        ];
        Restart = "always";
        RestartSec = "10s";
        TimeoutStartSec = "300s";
        TimeoutStopSec = "30s";
      };
      unitConfig = {
        Description = "OpenClaw gateway ${cfg.name} (Podman)";
        Wants = [ "network-online.target" ]
          ++ lib.optional (cfg.secrets.backend == "openbao") "openclaw-openbao-agent.service";
        After = [
          "network-online.target"
          "openclaw-egress.service"
        ] ++ lib.optional (cfg.secrets.backend == "openbao") "openclaw-openbao-agent.service";
        # Never run without the egress table.
        Requires = [ "openclaw-egress.service" ];
        StartLimitIntervalSec = 600;
        StartLimitBurst = 5;
      };
    };
  };
}
