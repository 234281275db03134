# The generator's nftables table (deny-by-default egress, gateway port only from
# ingress.allow_from), loaded verbatim by a oneshot unit.
#
# Why not `networking.nftables.tables`: it wants the table body, the generator renders a whole
# file (its own atomic "declare, delete, redeclare" of one table) and reading it into Nix would
# be import-from-derivation. Loading the file leaves every other table alone, so this works with
# the NixOS firewall on either backend and with netavark's own tables. Rootful container traffic
# crosses the forward hook, not output: the table filters the bridge (`egress.container_interfaces`,
# set by container.nix) and the DNAT'd published port there.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  ruleset = "${cfg.rendered}/nftables/openclaw-egress.nft";
  table = "openclaw_${builtins.replaceStrings [ "-" ] [ "_" ] cfg.name}";
  load = "${pkgs.nftables}/bin/nft -f ${ruleset}";
in
{
  config = lib.mkIf cfg.enable {
    # A full `flush ruleset` on every firewall reload would drop this table (and netavark's)
    # until their units run again.
    networking.nftables.flushRuleset = lib.mkDefault false;

    # The gateway port is not opened in the NixOS firewall: a published container port is
    # DNAT'd and never reaches the input chain, and the table above admits only
    # ingress.allow_from. A same-host Caddy reaches it over loopback.

    systemd.services.openclaw-egress = {
      description = "OpenClaw egress/ingress nftables table (${cfg.name})";
      wantedBy = [ "multi-user.target" ];
      before = [ "network-pre.target" ];
      wants = [ "network-pre.target" ];
      after = [ "nftables.service" ];
      # Reload (one atomic nft transaction) instead of stop/start: never a moment without rules.
      reloadIfChanged = true;
      reloadTriggers = [ ruleset ];
      unitConfig.DefaultDependencies = false;
      # The shared sidecar sandbox: nft needs only netlink and CAP_NET_ADMIN in the host's
      # network namespace (so no PrivateNetwork/PrivateUsers). /proc stays whole: nft may read
      # /proc/net for names.
      serviceConfig = import ./sidecar-sandbox.nix // {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = load;
        ExecReload = load;
        # Only when the unit goes away for good (module disabled): remove what we added.
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
