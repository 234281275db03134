# The LXC host with backups on (services.openclaw.backup): a local repository on another disk,
# the password an OpenBao-rendered item like the gateway's token.
{ config, lib, ... }:
{
  services.openclaw = {
    secrets.items.restic_password.min_length = 32;
    backup = {
      repository = "/mnt/backup/openclaw-restic";
      password = "restic_password";
      keep = {
        daily = 7;
        weekly = 4;
        monthly = 6;
      };
      bin = lib.getExe config.services.openclaw.backupPackage;
      restic_bin = lib.getExe config.services.openclaw.resticPackage;
    };
  };
}
