# Rollback: switch to a generation whose gateway uses another token, then back; each time the
# gateway is healthy and accepts exactly the token of the running generation.
args@{ pkgs, ... }:
let
  common = import ./common.nix args;
in
pkgs.testers.runNixOSTest {
  name = "openclaw-rollback";
  nodes = common.nodes // {
    gateway = {
      imports = [ common.nodes.gateway ];
      # A specialisation extends the parent config: override, don't redefine.
      specialisation.new-token.configuration.services.openclaw.gateway.token =
        pkgs.lib.mkForce "gateway_token_v2";
    };
  };
  testScript = common.setup + ''
    assert auth_status(TOKEN_V1) == "200"

    with subtest("switch to the generation with the new token"):
        gateway.succeed("/run/current-system/specialisation/new-token/bin/switch-to-configuration test")
        gateway.wait_for_unit("openclaw.service", timeout=400)
        gateway.wait_until_succeeds(f"openclaw-lab check auth --vm --spec /etc/openclaw/spec.json", timeout=120)
        assert auth_status(TOKEN_V2) == "200"
        assert auth_status(TOKEN_V1) == "401"

    with subtest("and back"):
        gateway.succeed("/run/booted-system/bin/switch-to-configuration test")
        gateway.wait_for_unit("openclaw.service", timeout=400)
        gateway.wait_until_succeeds(f"openclaw-lab check auth --vm --spec /etc/openclaw/spec.json", timeout=120)
        assert auth_status(TOKEN_V1) == "200"
        assert auth_status(TOKEN_V2) == "401"
  '';
}
