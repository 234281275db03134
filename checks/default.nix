# NixOS VM tests (pkgs.testers.runNixOSTest). They need a gateway image (nixpkgs has no OpenClaw
# 2026.9.6; see lib/gateway-image.nix) and the lab's host checks (`openclaw-lab`).
{
  pkgs,
  module,
  lab,
  gatewayImage,
}:
let
  fixtures = import ./fixtures.nix { inherit pkgs; };
  args = {
    inherit
      pkgs
      module
      lab
      gatewayImage
      fixtures
      ;
  };
in
{
  vm-openclaw = import ./vm-openclaw.nix args;
  vm-rollback = import ./vm-rollback.nix args;
  vm-health-gate = import ./vm-health-gate.nix args;
}
