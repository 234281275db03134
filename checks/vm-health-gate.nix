# Health-gated rollback: switch to a generation whose gateway cannot start (its token names a
# key the OpenBao agent cannot render, so the start check refuses every start), and the host
# rolls itself back to the generation it confirmed healthy: the old token works again, the
# gate says why in the journal, and it does not gate or roll back a second time.
args@{ pkgs, ... }:
let
  common = import ./common.nix args;
in
pkgs.testers.runNixOSTest {
  name = "openclaw-health-gate";
  nodes = common.nodes // {
    gateway = {
      imports = [ common.nodes.gateway ];
      services.openclaw.deploy.healthGate = {
        timeout = 180;
        interval = 5;
        # The test VM has no bootloader to install; the deploy below uses `test` as well.
        switchAction = "test";
      };
      # A specialisation extends the parent config: override, don't redefine. The item is
      # declared (the module's assertion holds), its key is not in OpenBao.
      specialisation.broken.configuration.services.openclaw = {
        secrets.items.gateway_token_missing.min_length = 32;
        gateway.token = pkgs.lib.mkForce "gateway_token_missing";
      };
    };
  };
  testScript = common.setup + ''
    state = "/var/lib/openclaw-health-gate"
    assert auth_status(TOKEN_V1) == "200"

    with subtest("the booted generation is confirmed healthy"):
        gateway.wait_until_succeeds(f"test -s {state}/confirmed", timeout=400)
        good = gateway.succeed("readlink -f /run/current-system").strip()
        assert gateway.succeed(f"cat {state}/confirmed").strip() == good

    with subtest("a generation whose gateway cannot start is rolled back by the host itself"):
        broken = gateway.succeed("readlink -f /run/current-system/specialisation/broken").strip()
        # The switch returns at once: the gate runs after it (Type=simple).
        gateway.succeed("/run/current-system/specialisation/broken/bin/switch-to-configuration test")
        gateway.wait_until_succeeds(f"grep -qx {broken} {state}/rolled-back-from", timeout=400)
        gateway.wait_until_succeeds(
            f"test \"$(readlink -f /run/current-system)\" = {good}", timeout=400
        )
        journal = gateway.succeed("journalctl -b -u openclaw-health-gate -u openclaw-health-gate-rollback --no-pager")
        assert f"gating {broken}" in journal, journal
        assert "not healthy within 180s" in journal, journal
        assert f"rolling back from {broken} to {good}" in journal, journal

    with subtest("the old generation serves again, with its token"):
        gateway.wait_for_unit("openclaw.service", timeout=400)
        gateway.wait_until_succeeds(f"openclaw-lab check auth --vm --spec /etc/openclaw/spec.json", timeout=180)
        assert auth_status(TOKEN_V1) == "200"
        # The gate ran again for the good generation and left it alone (no loop).
        gateway.wait_until_succeeds(
            f"journalctl -b -u openclaw-health-gate --no-pager | grep -q '{good} was confirmed healthy before: not gated again'",
            timeout=120,
        )
        assert gateway.succeed(f"cat {state}/confirmed").strip() == good
        gateway.succeed("sleep 30")
        assert gateway.succeed("readlink -f /run/current-system").strip() == good
        assert journal.count("rolling back from") == 1
  '';
}
