# Evaluates `services.openclaw` the way a host would, with nixpkgs' real `lib`, quadlet-nix's real
# module and the stand-ins next to this file, and returns what scripts/eval-module-offline.sh
# checks with the real tools: the spec handed to the generator, the quadlet files, the units'
# settings, the artifact paths the module expects inside the rendered output, and the
# assertions that fail.
{
  nixpkgsLib,
  quadletNix,
  # A host file (hosts/*/default.nix) or any module setting services.openclaw,
  host ? { },
  # or the name of a node of the VM tests.
  vmTestNode ? null,
  # Extra modules: the negative cases override the host with them.
  extra ? [ ],
}:
let
  lib = import nixpkgsLib;
  pkgs = import ./pkgs.nix { inherit lib; };
  evaluated = lib.evalModules {
    specialArgs.modulesPath = pkgs.path + "/nixos/modules";
    modules = [
      { _module.args.pkgs = pkgs; }
      ./nixos-options.nix
      # The module exactly as the flake exports it, with stand-in builds of our packages.
      (import ../../modules/flake-module.nix {
        quadletModule = import (quadletNix + "/nixos-module.nix");
        packagesFor = _: {
          inherit (pkgs) openclaw-render openclaw-secretcheck openclaw-backup openclaw-probe gateway-image;
        };
      })
      (
        if vmTestNode != null then
          # A node of the VM tests (checks/common.nix); it imports the module through `module`,
          # which is already here.
          (import ../common.nix {
            inherit pkgs;
            module = { };
            lab = pkgs.openclaw-lab;
            gatewayImage = pkgs.gateway-image;
            fixtures = pkgs.writeText "openclaw-vm-test-pki" "";
          }).nodes.${vmTestNode}
        else
          host
      )
    ] ++ extra;
  };
  inherit (evaluated) config;
  cfg = config.services.openclaw;
  rendered = toString cfg.rendered;

  # Every "<rendered>/<path>" the module put into the configuration: each must exist in the
  # generator's real output, or the module points at an artifact that is not rendered.
  renderedRefs =
    let
      walk =
        v:
        if builtins.isString v then
          let
            parts = lib.splitString rendered v;
          in
          map (p: builtins.head (builtins.match "/([^ :\"']*).*" p)) (
            lib.filter (p: builtins.match "/[^ :\"']+.*" p != null) (lib.tail parts)
          )
        else if builtins.isList v then
          lib.concatMap walk v
        else if builtins.isAttrs v && !(lib.isDerivation v) then
          lib.concatMap walk (builtins.attrValues v)
        else if lib.isDerivation v && toString v == rendered then
          [ "" ]
        else
          [ ];
    in
    lib.unique (walk {
      etc = lib.mapAttrs (_: e: e.source) (lib.filterAttrs (_: e: e.source != null) config.environment.etc);
      services = lib.mapAttrs (_: s: s.serviceConfig) config.systemd.services;
      inherit (config.services.caddy) extraConfig;
      quadlet = lib.mapAttrs (_: e: e.text) (
        lib.filterAttrs (n: _: lib.hasPrefix "containers/systemd/" n) config.environment.etc
      );
    });

  # Unit files the way NixOS writes them (systemd-lib's serviceToUnit, roughly): the list
  # options as space-separated [Unit] keys, `path` as PATH, serviceConfig verbatim. For
  # `systemd-analyze security --offline`, which scores exactly these settings.
  inherit ((import (pkgs.path + "/nixos/lib/utils.nix") { inherit lib; }).systemdUtils.lib) attrsToSection;
  unitFile =
    s:
    let
      joined = lib.filterAttrs (_: v: v != [ ] && v != "") {
        Description = s.description;
        After = lib.concatStringsSep " " s.after;
        Before = lib.concatStringsSep " " s.before;
        Wants = lib.concatStringsSep " " s.wants;
        Requires = lib.concatStringsSep " " s.requires;
      };
      path = lib.optionalAttrs (s.path != [ ]) {
        Environment = "PATH=${lib.concatMapStringsSep ":" (p: "${p}/bin") s.path}";
      };
    in
    "[Unit]\n${attrsToSection (joined // s.unitConfig)}\n[Service]\n${attrsToSection (path // s.serviceConfig)}";

  units =
    kind: lib.mapAttrs (_: u: builtins.removeAttrs u [ "_module" ]) (
      lib.filterAttrs (_: u: u.enable) config.systemd.${kind}
    );
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
  inherit (config) warnings;
  # Only when every assertion holds: a failing one may leave parts of the config undefined.
  result = lib.optionalAttrs (lib.all (a: a.assertion) config.assertions) {
    spec = builtins.fromJSON cfg.specFile.text;
    inherit renderedRefs;
    quadlet = lib.mapAttrs' (n: e: lib.nameValuePair (lib.removePrefix "containers/systemd/" n) e.text) (
      lib.filterAttrs (n: _: lib.hasPrefix "containers/systemd/" n) config.environment.etc
    );
    services = units "services";
    # Our own units: not quadlet-nix's drop-ins (quadlet is checked apart), nor the settings we
    # add to nixpkgs' caddy and prometheus units.
    unitFiles = lib.mapAttrs (_: unitFile) (
      lib.filterAttrs (
        _: s: s.overrideStrategy != "asDropin" && s.serviceConfig ? ExecStart
      ) config.systemd.services
    );
    timers = units "timers";
    tmpfiles = config.systemd.tmpfiles.rules;
    users = lib.mapAttrs (_: u: { inherit (u) uid group home; }) config.users.users;
    groups = lib.mapAttrs (_: g: { inherit (g) gid; }) config.users.groups;
    etc = lib.mapAttrs (_: e: if e.source != null then toString e.source else "text") config.environment.etc;
    inherit (config.services.caddy) extraConfig;
    inherit (config.services.prometheus) scrapeConfigs;
  };
}
