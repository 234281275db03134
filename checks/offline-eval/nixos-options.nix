# STAND-IN declarations of the NixOS options our module and quadlet-nix's module set, with the
# types nixpkgs gives them (nixos/modules/system/boot/systemd*.nix, misc/assertions.nix,
# system/etc/etc.nix, config/users-groups.nix, services/networking/nftables.nix, ...). No
# freeform types: a misspelt attribute fails here as it would on NixOS. Options a host sets
# that our module never reads (boot, fileSystems, openssh) are `anything`.
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  inherit ((import (pkgs.path + "/nixos/lib/utils.nix") { inherit lib; }).systemdUtils.unitOptions) unitOption;
  opt = type: default: mkOption { inherit type default; };
  strs = opt (types.listOf types.str) [ ];
  section = opt (types.attrsOf unitOption) { };
  anything = opt types.anything null;

  # systemd-unit-options.nix: commonUnitOptions + serviceOptions / timerOptions.
  unitOptions = {
    enable = opt types.bool true;
    description = opt types.singleLineStr "";
    documentation = strs;
    requires = strs;
    wants = strs;
    upholds = strs;
    after = strs;
    before = strs;
    bindsTo = strs;
    partOf = strs;
    conflicts = strs;
    requisite = strs;
    onFailure = strs;
    onSuccess = strs;
    wantedBy = strs;
    requiredBy = strs;
    upheldBy = strs;
    aliases = strs;
    unitConfig = section;
    restartTriggers = opt (types.listOf types.unspecified) [ ];
    reloadTriggers = opt (types.listOf types.unspecified) [ ];
    startLimitBurst = opt (types.nullOr types.int) null;
    startLimitIntervalSec = opt (types.nullOr types.int) null;
    overrideStrategy = opt (types.enum [
      "asDropinIfExists"
      "asDropin"
    ]) "asDropinIfExists";
  };
  serviceOptions = unitOptions // {
    serviceConfig = section;
    environment = opt (types.attrsOf (types.nullOr (types.oneOf [
      types.str
      types.path
      types.package
    ]))) { };
    path = opt (types.listOf (types.oneOf [
      types.package
      types.str
    ])) [ ];
    script = opt types.lines "";
    preStart = opt types.lines "";
    postStart = opt types.lines "";
    reload = opt types.lines "";
    preStop = opt types.lines "";
    postStop = opt types.lines "";
    restartIfChanged = opt types.bool true;
    reloadIfChanged = opt types.bool false;
    stopIfChanged = opt types.bool true;
    startAt = opt (types.either types.str (types.listOf types.str)) [ ];
  };
  timerOptions = unitOptions // {
    timerConfig = section;
  };
  submodules = options: opt (types.attrsOf (types.submodule { inherit options; })) { };
in
{
  options = {
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = strs;

    system.stateVersion = opt types.str "25.05";
    environment.systemPackages = opt (types.listOf types.package) [ ];
    # Set by the VM tests' nodes, read only by the test driver.
    virtualisation.vlans = anything;
    virtualisation.memorySize = anything;
    virtualisation.cores = anything;
    virtualisation.diskSize = anything;
    networking.useDHCP = anything;
    networking.interfaces = anything;
    specialisation = opt (types.attrsOf (types.submodule { options.configuration = anything; })) { };
    boot = anything;
    fileSystems = anything;

    environment.etc = submodules {
      enable = opt types.bool true;
      source = opt (types.nullOr types.path) null;
      text = opt (types.nullOr types.lines) null;
      mode = opt types.str "symlink";
      user = opt types.str "+0";
      group = opt types.str "+0";
    };

    users.users = submodules {
      isSystemUser = opt types.bool false;
      isNormalUser = opt types.bool false;
      group = opt types.str "";
      uid = opt (types.nullOr types.int) null;
      home = opt types.path "/var/empty";
      description = opt types.str "";
    };
    users.groups = submodules { gid = opt (types.nullOr types.int) null; };

    systemd.package = opt types.package pkgs.systemd;
    nix.package = opt types.package pkgs.nix;
    systemd.packages = opt (types.listOf types.package) [ ];
    systemd.services = submodules serviceOptions;
    systemd.timers = submodules timerOptions;
    systemd.tmpfiles.rules = strs;
    systemd.tmpfiles.packages = opt (types.listOf types.package) [ ];

    networking.hostName = opt types.str "nixos";
    networking.nftables.enable = opt types.bool false;
    networking.nftables.flushRuleset = opt types.bool true;
    networking.firewall.allowedTCPPorts = opt (types.listOf types.port) [ ];

    virtualisation.podman.enable = opt types.bool false;
    virtualisation.podman.package = opt types.package pkgs.podman;

    services.caddy.enable = opt types.bool false;
    services.caddy.extraConfig = opt types.lines "";
    services.prometheus.scrapeConfigs = opt (types.listOf (types.attrsOf types.anything)) [ ];
    services.openssh = anything;
  };
}
