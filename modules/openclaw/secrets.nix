# Secret delivery: the directories, the service user, and the OpenBao agent.
#
# The agent is our own unit, not nixpkgs' `services.vault-agent.instances`: that module runs
# `${getExe package} -config ...` and adds the `agent` subcommand only when the package is named
# "vault", so with `pkgs.openbao` it would start `bao -config ...` and fail; it also takes JSON
# settings while the generator renders (and tests) HCL with staged templates and a promote step.
# Hardening follows nixpkgs' openbao server unit, tightened where the agent allows.
{
  config,
  options,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  useAgent = cfg.secrets.backend == "openbao" && cfg.secrets.openbao != null;
  agentDir = lib.removeSuffix "/" cfg.paths.agent_dir;
  secretsDir = lib.removeSuffix "/" cfg.secrets.dir;
  user = cfg.paths.service_user;
  # The container user owns the rendered files (rootful Podman, no user namespace: the uid
  # inside is the uid on the host), so the host account gets the same ids.
  # Null until container.user is numeric (its assertion says so) rather than a toInt error.
  numericIds = builtins.match "([0-9]+):([0-9]+)" cfg.container.user;
  uid = if numericIds == null then null else lib.toInt (builtins.head numericIds);
  gid = if numericIds == null then null else lib.toInt (lib.last numericIds);
  sameUid = lib.optionals (uid != null) (
    lib.attrNames (lib.filterAttrs (n: u: n != user && u.uid == uid) config.users.users)
  );
in
{
  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        users.users.${user} = {
          isSystemUser = true;
          group = user;
          inherit uid;
          home = cfg.paths.state_dir;
          description = "OpenClaw gateway (container user ${cfg.container.user})";
        };
        users.groups.${user}.gid = gid;

        assertions = [
          {
            # Accounts whose uid NixOS allocates at activation are not visible here; this
            # catches the declared ones (a login user declared with uid 1000 is common).
            assertion = sameUid == [ ];
            message = ''
              services.openclaw.container.user = "${cfg.container.user}" gives ${user} uid ${toString uid}, which
              users.users.${builtins.head sameUid} also has: that account could read the gateway's secrets.
              Set services.openclaw.container.user to a free "uid:gid" (e.g. "61789:61789"); the container runs as it.
            '';
          }
          {
            assertion = numericIds != null;
            message = ''
              services.openclaw.container.user = "${cfg.container.user}" must be numeric "uid:gid": the host account
              services.openclaw.paths.service_user gets those ids so the secret files it owns are readable in the container.
            '';
          }
        ];

        # secrets.dir: the gateway may traverse it, nobody else; .staged is the agent's alone.
        systemd.tmpfiles.rules = [
          "d ${secretsDir} 0750 root ${user} -"
          "d ${cfg.paths.state_dir} 0700 ${user} ${user} -"
        ] ++ lib.optional useAgent "d ${secretsDir}/.staged 0700 root root -";
      }

      (lib.mkIf useAgent {
        # sops-nix points /run/secrets at a fresh directory on every activation: a directory
        # made inside it for the agent would vanish with the next switch.
        warnings = lib.optional (
          options ? sops && lib.hasPrefix "${config.sops.defaultSymlinkPath}/" "${secretsDir}/"
        ) "services.openclaw.secrets.dir = \"${secretsDir}\" is inside sops-nix's ${config.sops.defaultSymlinkPath}, which sops-nix replaces on every activation; set services.openclaw.secrets.dir = \"/run/openclaw/secrets\".";

        assertions = [
          {
            assertion = lib.hasPrefix "/etc/" agentDir;
            message = ''
              services.openclaw.paths.agent_dir = "${agentDir}" must be under /etc on NixOS: the module installs the
              rendered agent config and templates there with environment.etc. Keep the default /etc/openclaw/agent.
            '';
          }
          {
            assertion = cfg.machine_cert != null;
            message = ''
              services.openclaw.secrets.openbao logs in with the step-ca machine certificate: set services.openclaw.machine_cert
              (ca_url, root_ca; cert/key paths default to /var/lib/openclaw-cert).
            '';
          }
        ];

        environment.etc.${lib.removePrefix "/etc/" agentDir}.source = "${cfg.rendered}/openbao-agent";

        systemd.services.openclaw-openbao-agent = {
          description = "OpenBao agent rendering the OpenClaw secrets (${cfg.name})";
          wantedBy = [ "multi-user.target" ];
          wants = [ "network-online.target" ];
          after = [
            "network-online.target"
            "systemd-tmpfiles-setup.service"
          ] ++ lib.optional (cfg.machine_cert != null) "openclaw-cert-renew.service";
          # A new agent.hcl (new store path) restarts the agent on switch; a restart re-renders
          # and promote restarts the gateway only if a live file actually changed.
          restartTriggers = [ cfg.rendered ];
          startLimitIntervalSec = 60;
          startLimitBurst = 3;
          # promote chowns files to the gateway's user and runs `systemctl try-restart`.
          # systemctl for the restart fallback; setpriv and env run `openclaw secrets reload`
          # as the gateway's user after a rotation.
          path = [
            config.systemd.package
            pkgs.util-linux
            pkgs.coreutils
          ]
          # In a container deployment the reload is `podman exec <name> openclaw secrets
          # reload` (bao_agent.rs). Not verified on NixOS: if the agent's sandbox refuses it,
          # promote falls back to `systemctl try-restart` and logs why.
          ++ lib.optional (cfg.runtime == "container") config.virtualisation.podman.package;
          serviceConfig = import ./sidecar-sandbox.nix // {
            # The post-rotation `openclaw secrets reload` is a Node child of the agent: its JIT
            # needs writable+executable memory and it reads /proc beyond the agent's own pids.
            MemoryDenyWriteExecute = false;
            ProcSubset = "all";
            ExecStart = "${cfg.paths.bao_bin} agent -config=${agentDir}/agent.hcl";
            ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
            KillSignal = "SIGINT";
            TimeoutStopSec = "30s";
            Restart = "on-failure";
            RestartSec = "5s";
            # Root: promote must chown to the gateway's user. Everything else is taken away.
            User = "root";
            # The state dir: the reload CLI, as the gateway's user, keeps its caches there.
            ReadWritePaths = [
              secretsDir
              cfg.paths.state_dir
            ];
            RuntimeDirectory = "openclaw-openbao-agent";
            RuntimeDirectoryMode = "0700";
            UMask = "0077";
            RemoveIPC = true;
            SystemCallArchitectures = "native";
            SystemCallFilter = [
              "@system-service"
              "~@privileged"
              "@chown"
              # setpriv drops to the gateway's user for `openclaw secrets reload`.
              "@setuid"
            ];
            # A refused call fails with EPERM instead of killing the agent mid-render.
            SystemCallErrorNumber = "EPERM";
            RestrictAddressFamilies = [
              "AF_INET"
              "AF_INET6"
              "AF_UNIX"
            ];
            CapabilityBoundingSet = [
              "CAP_CHOWN"
              "CAP_FOWNER"
              "CAP_DAC_OVERRIDE"
              # setpriv drops to the gateway's user for `openclaw secrets reload`.
              "CAP_SETUID"
              "CAP_SETGID"
            ];
            AmbientCapabilities = [ ];
            LimitCORE = 0;
            # The post-rotation `openclaw secrets reload` is a Node process in this cgroup.
            MemoryMax = "768M";
            TasksMax = 64;
          };
        };
      })
    ]
  );
}
