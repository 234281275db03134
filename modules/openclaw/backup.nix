# Encrypted backups of the gateway's state (`services.openclaw.backup`, the spec's [backup]):
# the generator's units verbatim (systemd.packages, plus drop-ins for what NixOS adds: the
# timers' wantedBy, PATH), its backup.json from the rendered output, and `openclaw-backup` on
# the system PATH for the 3 a.m. restore. Off until you set a repository and a password item.
#
# Not nixpkgs' `services.restic.backups`: it runs its backupPrepareCommand as the same user as
# restic, so either OpenClaw's CLI runs as root inside the gateway's state (root-owned files
# the gateway then cannot write) or restic runs as the gateway's user with the repository
# password (a prompt-injected agent could then delete the backups); and its check runs after
# every backup instead of on a schedule of its own. Our units keep restic and the password
# root's and run OpenClaw's `backup create|verify` as the gateway's user. `resticPackage` is
# nixpkgs' restic all the same.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  b = cfg.backup;
  unit = "${cfg.name}-backup";
  checkUnit = "${cfg.name}-backup-check";
  strip = lib.removeSuffix "/";
  gateway = cfg.image.openclawGateway or null;
  units = pkgs.runCommand "openclaw-${cfg.name}-backup-units" { preferLocalBuild = true; } ''
    mkdir -p $out/lib/systemd/system $out/lib/tmpfiles.d
    for u in ${unit}.service ${unit}.timer ${checkUnit}.service ${checkUnit}.timer; do
      cp ${cfg.rendered}/systemd/$u $out/lib/systemd/system/
    done
    cp ${cfg.rendered}/systemd/tmpfiles.d/${cfg.name}-backup.conf $out/lib/tmpfiles.d/
  '';
in
{
  options.services.openclaw = {
    backupPackage = lib.mkPackageOption pkgs "openclaw-backup" {
      extraDescription = ''
        Runs the backup (OpenClaw's archive, verified, into restic; retention), the repository
        check and the verify-first restore. Set `services.openclaw.backup.bin` to
        `lib.getExe cfg.backupPackage`'s path; the flake's module provides its own build.
      '';
    };
    resticPackage = lib.mkPackageOption pkgs "restic" { };
  };

  config = lib.mkMerge [
    # OpenClaw's CLI on the host: the Nix-built image's gateway package (the one the container runs).
    (lib.mkIf (cfg.enable && b != null && gateway != null) {
      services.openclaw.paths.openclaw_bin = lib.mkDefault (lib.getExe gateway);
    })
    (lib.mkIf (cfg.enable && b != null) {
      assertions = [
        {
          assertion = cfg.secrets.items ? ${b.password};
          message = ''
            services.openclaw.backup.password = "${b.password}" is not declared in services.openclaw.secrets.items.
            Add services.openclaw.secrets.items.${b.password} = { min_length = 32; }; and store the repository password in OpenBao.
          '';
        }
        {
          assertion = lib.hasPrefix builtins.storeDir b.bin && lib.hasPrefix builtins.storeDir b.restic_bin;
          message = ''
            services.openclaw.backup.bin = "${b.bin}" and .restic_bin = "${b.restic_bin}" must be store paths:
            set them to lib.getExe config.services.openclaw.backupPackage and lib.getExe config.services.openclaw.resticPackage.
          '';
        }
        {
          assertion = lib.hasPrefix builtins.storeDir cfg.paths.openclaw_bin;
          message = ''
            services.openclaw.backup needs OpenClaw's CLI on the host (it runs `openclaw backup create|verify|restore`),
            but services.openclaw.paths.openclaw_bin = "${cfg.paths.openclaw_bin}" is not a store path.
            Keep the flake's gateway image (it provides it), or set paths.openclaw_bin to lib.getExe of an OpenClaw 2026.9.6 package.
          '';
        }
        {
          assertion = lib.hasPrefix "/etc/" (strip b.config);
          message = ''
            services.openclaw.backup.config must be under /etc on NixOS: the module installs the rendered backup.json there.
            Keep the default (/etc/openclaw/backup.json).
          '';
        }
      ];

      environment.etc.${lib.removePrefix "/etc/" (strip b.config)}.source = "${cfg.rendered}/backup/backup.json";
      # `openclaw-backup restore --config ...` at 3 a.m. (README: restore runbook).
      environment.systemPackages = [ cfg.backupPackage ];

      systemd.packages = [ units ];
      systemd.tmpfiles.packages = [ units ];
      systemd.services.${unit} = {
        overrideStrategy = "asDropin";
        # cp for a restore across filesystems; the rest are absolute store paths.
        path = [ pkgs.coreutils ];
      };
      systemd.services.${checkUnit}.overrideStrategy = "asDropin";
      systemd.timers.${unit} = {
        overrideStrategy = "asDropin";
        wantedBy = [ "timers.target" ];
      };
      systemd.timers.${checkUnit} = {
        overrideStrategy = "asDropin";
        wantedBy = [ "timers.target" ];
      };
    })
  ];
}
