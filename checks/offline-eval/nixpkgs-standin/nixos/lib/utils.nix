# STAND-IN for nixpkgs' nixos/lib/utils.nix, only the part quadlet-nix reads (`systemdUtils`'s
# `toOption`, `attrsToSection`, `unitOptions.unitOption`), written from their documented
# behaviour so quadlet-nix's real module can render unit text without a nixpkgs checkout.
{ lib, ... }:
let
  toOption =
    x:
    if x == true then
      "true"
    else if x == false then
      "false"
    else
      toString x;
in
{
  systemdUtils = {
    lib = {
      inherit toOption;
      attrsToSection =
        section:
        lib.concatStrings (
          lib.concatLists (
            lib.mapAttrsToList (
              name: value: map (x: "${name}=${toOption x}\n") (if builtins.isList value then value else [ value ])
            ) section
          )
        );
    };
    unitOptions.unitOption = lib.mkOptionType {
      name = "systemd option";
      merge =
        loc: defs:
        let
          defs' = lib.filterOverrides defs;
        in
        if lib.any (def: builtins.isList def.value) defs' then
          lib.concatMap (def: lib.toList def.value) defs'
        else
          lib.mergeEqualOption loc defs';
    };
  };
}
