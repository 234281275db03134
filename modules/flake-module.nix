# The module the flake exports as `nixosModules.default`: `services.openclaw` plus quadlet-nix's
# module, with this flake's builds as package defaults. On x86_64-linux the gateway image
# defaults to the Nix-built one (OpenClaw 2026.9.6, the lab's pins): no registry, and a
# rollback brings the previous image back. Set `services.openclaw.image = null` and
# `container.image` to a digest to run a registry image instead.
{
  quadletModule,
  # system -> this flake's packages for it
  packagesFor,
}:
{ lib, pkgs, ... }:
let
  own = packagesFor pkgs.stdenv.hostPlatform.system;
in
{
  imports = [
    ./openclaw
    quadletModule
  ];
  services.openclaw = {
    package = lib.mkDefault own.openclaw-render;
    secretcheckPackage = lib.mkDefault own.openclaw-secretcheck;
    backupPackage = lib.mkDefault own.openclaw-backup;
    probePackage = lib.mkDefault own.openclaw-probe;
    image = lib.mkDefault (own.gateway-image or null);
  };
}
