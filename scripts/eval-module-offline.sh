#!/usr/bin/env bash
# Evaluates the NixOS module without nixpkgs' package set: nixpkgs' real `lib`, quadlet-nix's real
# module (the flake.lock rev) and the named stand-ins in checks/offline-eval/, then checks the
# result with the real tools. For machines with Nix but no nixpkgs (like ours); with nixpkgs,
# `nix flake check` does all of this and builds the hosts.
#
#   scripts/eval-module-offline.sh NIXPKGS_LIB_DIR QUADLET_NIX_DIR [NIX_OPENCLAW_DIR]
#
# NIXPKGS_LIB_DIR: the `lib` directory of a nixpkgs (or nix-community/nixpkgs.lib) checkout.
# QUADLET_NIX_DIR: a checkout of github:SEIAROTg/quadlet-nix at flake.lock's rev.
# NIX_OPENCLAW_DIR: optionally, a checkout of github:openclaw/nix-openclaw: its NixOS module
# (`services.openclaw-gateway`) must import next to ours without changing what ours does.
#
# For each example host: every assertion holds; the spec the module builds passes the real
# `openclaw-render render`; every artifact path the module references inside the rendered output
# exists in it; the quadlet files quadlet-nix writes pass Podman's real quadlet generator and run
# the container locked down; our own units pass `systemd-analyze verify` and score <= 3.0 in
# `systemd-analyze security`. Then each unsafe setting fails with its option named.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 2 ] || [ $# -eq 3 ] || { sed -n '2,19p' "$0" >&2; exit 2; }
LIB=$(realpath "$1")
QUADLET_NIX=$(realpath "$2")
NIX_OPENCLAW=${3:+$(realpath "$3")}
[ -f "$LIB/default.nix" ] && [ -f "$LIB/modules.nix" ] || { echo "eval-module-offline: $LIB is not nixpkgs' lib directory" >&2; exit 2; }
[ -f "$QUADLET_NIX/nixos-module.nix" ] || { echo "eval-module-offline: $QUADLET_NIX is not a quadlet-nix checkout" >&2; exit 2; }

# shellcheck disable=SC1091
[ -f /var/cache/openclaw-homelab/env.sh ] && . /var/cache/openclaw-homelab/env.sh
QUADLET_BIN=${QUADLET_BIN:-/var/cache/openclaw-homelab/quadlet/quadlet}
# Debian's nix-bin names a build group that does not exist; evaluation builds nothing.
export NIX_CONFIG="build-users-group ="

cargo build --quiet --locked -p openclaw-render
RENDER=target/debug/openclaw-render
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

evaluate() { # eval.nix-arguments -> JSON on stdout
  nix-instantiate --eval --strict --json --expr "
    import ./checks/offline-eval/eval.nix {
      nixpkgsLib = $LIB;
      quadletNix = $QUADLET_NIX;
      $1
    }"
}

# The example hosts, the VM tests' gateway node, and that node as the rollback test's
# specialisation changes it (checks/vm-rollback.nix: another token).
declare -A hosts=(
  [openclaw-lxc]="host = ./hosts/openclaw-lxc;"
  [openclaw-vm]="host = ./hosts/openclaw-vm;"
  [vm-test-gateway]="vmTestNode = \"gateway\";"
  [vm-test-gateway-new-token]="vmTestNode = \"gateway\"; extra = [ ({ lib, ... }: { services.openclaw.gateway.token = lib.mkForce \"gateway_token_v2\"; }) ];"
  [openclaw-lxc-litellm]="host = ./hosts/openclaw-lxc; extra = [ ./checks/offline-eval/litellm.nix ];"
  [vm-test-gateway-broken]="vmTestNode = \"gateway\"; extra = [ ({ lib, ... }: { services.openclaw.secrets.items.gateway_token_missing.min_length = 32; services.openclaw.gateway.token = lib.mkForce \"gateway_token_missing\"; }) ];"
  [openclaw-lxc-backup]="host = ./hosts/openclaw-lxc; extra = [ ./checks/offline-eval/backup.nix ];"
)
for host in openclaw-lxc openclaw-vm vm-test-gateway vm-test-gateway-new-token openclaw-lxc-litellm vm-test-gateway-broken openclaw-lxc-backup; do
  out=$WORK/$host.json
  fails_before=$fails
  if ! evaluate "${hosts[$host]}" >"$out" 2>"$WORK/$host.err"; then
    fail "$host: evaluation failed: $(cat "$WORK/$host.err")"
    continue
  fi
  if [ "$(jq '.failedAssertions | length' "$out")" != 0 ]; then
    fail "$host: assertions failed: $(jq -r '.failedAssertions[]' "$out")"
    continue
  fi
  jq '.result.spec' "$out" >"$WORK/$host.spec.json"
  if ! "$RENDER" render "$WORK/$host.spec.json" --out "$WORK/$host.rendered" >"$WORK/$host.render.log" 2>&1; then
    fail "$host: the generator rejects the module's spec: $(cat "$WORK/$host.render.log")"
    continue
  fi
  while read -r ref; do
    # A glob (Caddy's `import <rendered>/caddy/*`) must match something.
    compgen -G "$WORK/$host.rendered/$ref" >/dev/null ||
      fail "$host: the module references <rendered>/$ref, which the generator does not write"
  done < <(jq -r '.result.renderedRefs[] | select(. != "" and . != "spec.json")' "$out")

  mkdir -p "$WORK/$host.quadlet" "$WORK/$host.generated"
  jq -r '.result.quadlet | keys[]' "$out" | while read -r f; do
    jq -r --arg f "$f" '.result.quadlet[$f]' "$out" >"$WORK/$host.quadlet/$f"
  done
  if ! QUADLET_UNIT_DIRS=$WORK/$host.quadlet "$QUADLET_BIN" -no-kmsg-log "$WORK/$host.generated" 2>"$WORK/$host.quadlet.log" ||
    grep -qi "error\|unsupported" "$WORK/$host.quadlet.log"; then
    fail "$host: quadlet rejects quadlet-nix's files: $(cat "$WORK/$host.quadlet.log")"
    continue
  fi
  name=$(jq -r '.result.spec.name' "$out")
  user=$(jq -r ".result.spec.container.user" "$out")
  unit=$WORK/$host.generated/$name.service
  exec_start=$(grep '^ExecStart=' "$unit" || true)
  for flag in '--read-only' '--cap-drop[= ]all' '--security-opt[= ]no-new-privileges' \
    "--memory[= ]$(jq -r '.result.spec.container.memory_max' "$out")" '--pids-limit[= ][0-9]' \
    "--user[= ]$(jq -r '.result.spec.container.user' "$out")" '--sdnotify[= ]healthy'; do
    grep -qE -- " $flag" <<<"$exec_start" || fail "$host: the generated podman run lacks $flag: $exec_start"
  done
  grep -qE "^ExecStartPre=.*openclaw-secretcheck check --spec [^ ]+ --owner ${user%%:*}$" "$unit" || fail "$host: no secretcheck ExecStartPre for the container's uid in $unit"
  network=$(jq -r '.result.quadlet | keys[] | select(endswith(".network"))' "$out")
  iface=$(grep '^ExecStart=' "$WORK/$host.generated/${network%.network}-network.service" |
    grep -oE -- '--interface-name[= ][^ ]+' | sed 's/--interface-name[= ]//')
  [ -n "$iface" ] && [ "$(jq -r '.result.spec.egress.container_interfaces | join(",")' "$out")" = "$iface" ] ||
    fail "$host: the egress table filters $(jq -c '.result.spec.egress.container_interfaces' "$out") but the container bridge is '$iface'"

  # Our own units as NixOS writes them: valid for systemd, and sandboxed (exposure <= 3.0 of
  # 10, where a bare service scores 9.6). Binaries are stand-in store paths, hence the filter.
  mkdir -p "$WORK/$host.units"
  scores=()
  for u in $(jq -r '.result.unitFiles | keys[]' "$out"); do
    f=$WORK/$host.units/$u.service
    jq -r --arg u "$u" '.result.unitFiles[$u]' "$out" >"$f"
    bad=$(systemd-analyze verify "$f" 2>&1 | grep -v 'is not executable: No such file' || true)
    [ -z "$bad" ] || fail "$host: systemd-analyze verify $u: $bad"
    score=$(systemd-analyze security --offline=true "$f" 2>&1 | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    scores+=("$u $score")
    systemd-analyze security --offline=true --threshold=30 "$f" >/dev/null 2>&1 ||
      fail "$host: $u is exposed ($score > 3.0): systemd-analyze security --offline=true shows which settings"
  done
  # Matrix needs the official plugin installed the way OpenClaw trusts it (checked by hand
  # against OpenClaw 2026.9.6: `plugins install ... --pin [--force]` -> trust trusted-official).
  if [ "$(jq '.result.spec.channels.matrix != null' "$out")" = true ]; then
    grep -qE '^ExecStart=.*/bin/openclaw plugins install @openclaw/matrix@2026\.9\.6 --pin --force$' \
      "$WORK/$host.units/openclaw-plugins.service" 2>/dev/null ||
      fail "$host: channels.matrix without openclaw-plugins.service installing @openclaw/matrix@2026.9.6"
  fi
  # Backups: the rendered units and backup.json installed, the timers wanted, the password
  # file outside the state directory; the health gate's unit is there (on by default).
  if [ "$(jq '.result.spec.backup != null' "$out")" = true ]; then
    for t in "$name-backup" "$name-backup-check"; do
      [ "$(jq -r --arg t "$t" '.result.timers[$t].wantedBy | index("timers.target") != null' "$out")" = true ] ||
        fail "$host: timer $t is not wanted by timers.target"
    done
    [ "$(jq -r '.result.etc["openclaw/backup.json"] // ""' "$out")" != "" ] || fail "$host: /etc/openclaw/backup.json is not installed"
    pw=$(jq -r '.password_file' "$WORK/$host.rendered/backup/backup.json")
    state=$(jq -r '.state_dir' "$WORK/$host.rendered/backup/backup.json")
    case "$pw" in "$state"/*) fail "$host: the restic password file $pw is inside the backed-up state $state" ;; esac
  fi
  [ "$(jq '.result.services | has("openclaw-health-gate")' "$out")" = true ] || fail "$host: no openclaw-health-gate unit"
  # LiteLLM's own certificate: the rendered renewal unit and timer exist, the timer is wanted,
  # and the drop-in lets systemd find step and systemctl.
  if [ "$(jq '.result.spec.litellm.openbao != null and .result.spec.litellm.openbao.cert != .result.spec.machine_cert.cert' "$out")" = true ]; then
    t="$name-litellm-cert-renew"
    for f in "$t.service" "$t.timer"; do
      [ -f "$WORK/$host.rendered/systemd/$f" ] || fail "$host: the module installs <rendered>/systemd/$f, which the generator does not write"
    done
    [ "$(jq -r --arg t "$t" '.result.timers[$t].wantedBy | index("timers.target") != null' "$out")" = true ] ||
      fail "$host: timer $t is not wanted by timers.target"
    jq -e --arg t "$t" '.result.services[$t].serviceConfig.ExecSearchPath | test("step")' "$out" >/dev/null ||
      fail "$host: $t has no ExecSearchPath with step"
  fi
  [ "$fails" -eq "$fails_before" ] || continue
  printf '   %s: systemd-analyze security %s\n' "$host" "$(IFS=,; echo "${scores[*]}")"
  echo "ok: $host: assertions hold, spec renders ($(find "$WORK/$host.rendered" -type f | wc -l) files), $(jq '.result.renderedRefs | length' "$out") artifact refs exist, quadlet accepts $(jq '.result.quadlet | length' "$out") files"
done

if [ -n "$NIX_OPENCLAW" ]; then
  module=$NIX_OPENCLAW/nix/modules/nixos/openclaw-gateway.nix
  [ -f "$module" ] || { echo "eval-module-offline: $module is missing" >&2; exit 2; }
  if evaluate "host = ./hosts/openclaw-lxc; extra = [ $module ];" >"$WORK/both.json" 2>"$WORK/both.err" &&
    [ "$(jq -c '.failedAssertions' "$WORK/both.json")" = "[]" ] &&
    [ "$(jq -cS '.result.spec' "$WORK/both.json")" = "$(jq -cS '.result.spec' "$WORK/openclaw-lxc.json")" ]; then
    echo "ok: nix-openclaw's services.openclaw-gateway imports next to services.openclaw, same spec"
  else
    fail "importing nix-openclaw's module next to ours: $(cat "$WORK/both.err") $(jq -c '.failedAssertions' "$WORK/both.json" 2>/dev/null)"
  fi
fi

# Unsafe or impossible settings: each must fail evaluation naming the option to change.
expect_failure() { # description expected-text module
  local err
  if evaluate "host = ./hosts/openclaw-lxc; extra = [ ($3) ];" >"$WORK/case.json" 2>"$WORK/case.err"; then
    err=$(jq -r '.failedAssertions[]' "$WORK/case.json")
  else
    err=$(cat "$WORK/case.err")
  fi
  if grep -qF -- "$2" <<<"$err"; then
    echo "ok: $1 -> refused"
  else
    fail "$1: expected a failure mentioning '$2', got: ${err:-nothing}"
  fi
}
expect_failure "a secret file in the store" "is in the Nix store" \
  '{ lib, ... }: { services.openclaw.secrets.backend = lib.mkForce "files"; services.openclaw.secrets.openbao = lib.mkForce null;
     services.openclaw.secrets.items.gateway_token.path = "/nix/store/aaaa-token"; }'
expect_failure "a token naming an undeclared secret" 'services.openclaw.gateway.token refers to the secret "nope"' \
  '{ lib, ... }: { services.openclaw.gateway.token = lib.mkForce "nope"; }'
expect_failure "bind = loopback in the container" 'services.openclaw.gateway.bind = "loopback" cannot work' \
  '{ lib, ... }: { services.openclaw.gateway.bind = lib.mkForce "loopback"; }'
expect_failure "auth = none on the LAN" 'services.openclaw.gateway.auth = "none"' \
  '{ lib, ... }: { services.openclaw.gateway.auth = lib.mkForce "none"; }'
expect_failure "a container user by name" 'services.openclaw.container.user = "openclaw" must be numeric' \
  '{ services.openclaw.container.user = "openclaw"; users.users.alice = { isNormalUser = true; uid = 1000; }; }'
expect_failure "the container uid of a declared login user" 'users.users.alice also has' \
  '{ users.users.alice = { isNormalUser = true; uid = 1000; }; }'
expect_failure "OpenBao without a machine certificate" "set services.openclaw.machine_cert" \
  '{ lib, ... }: { services.openclaw.machine_cert = lib.mkForce null; }'
expect_failure "Caddy without a proxy" "services.openclaw.caddy.enable needs services.openclaw.proxy" \
  '{ lib, ... }: { services.openclaw.caddy.enable = true; services.openclaw.proxy = lib.mkForce null; }'
expect_failure "a port out of range" "services.openclaw.gateway.port" \
  '{ lib, ... }: { services.openclaw.gateway.port = lib.mkForce 70000; }'
expect_failure "a misspelt spec field" "services.openclaw.gateway.tokn" \
  '{ services.openclaw.gateway.tokn = "x"; }'
expect_failure "a backup password naming an undeclared secret" 'services.openclaw.backup.password = "nope" is not declared' \
  '{ lib, ... }: { imports = [ ./checks/offline-eval/backup.nix ]; services.openclaw.backup.password = lib.mkForce "nope"; }'
expect_failure "backup binaries outside the store" "must be store paths" \
  '{ lib, ... }: { imports = [ ./checks/offline-eval/backup.nix ]; services.openclaw.backup.bin = lib.mkForce "/usr/bin/openclaw-backup"; }'
expect_failure "backup.json outside /etc" "services.openclaw.backup.config must be under /etc" \
  '{ imports = [ ./checks/offline-eval/backup.nix ]; services.openclaw.backup.config = "/var/lib/backup.json"; }'
expect_failure "the health gate without a token to check" "services.openclaw.deploy.healthGate checks that auth is enforced" \
  '{ lib, ... }: { services.openclaw.gateway.token = lib.mkForce null; }'

# `settings` (RFC 42, OpenClaw's own JSON) reaches openclaw.json through the generator, which
# checks it against OpenClaw's schema: a valid key lands, one 2026.9.6 rejects fails the build.
settings_case() { # description settings-nix -> render exit status; openclaw.json in $WORK/settings
  rm -rf "$WORK/settings"
  evaluate "host = ./hosts/openclaw-lxc; extra = [ { services.openclaw.settings = $1; } ];" >"$WORK/settings.json" &&
    jq '.result.spec' "$WORK/settings.json" >"$WORK/settings.spec.json" &&
    "$RENDER" render "$WORK/settings.spec.json" --out "$WORK/settings" >"$WORK/settings.log" 2>&1
}
if settings_case '{ logging.level = "debug"; }' &&
  [ "$(jq -r '.logging.level' "$WORK/settings/openclaw.json")" = debug ]; then
  echo "ok: settings.logging.level reaches openclaw.json"
else
  fail "settings.logging.level did not reach openclaw.json: $(cat "$WORK/settings.log" 2>/dev/null)"
fi
if ! settings_case '{ metrics.enabled = true; }' && grep -q "settings.metrics: OpenClaw" "$WORK/settings.log"; then
  echo "ok: settings.metrics (rejected by OpenClaw 2026.9.6) -> the build fails naming settings"
else
  fail "settings.metrics was not refused by the generator: $(cat "$WORK/settings.log" 2>/dev/null)"
fi

# A setting that works today but breaks later: a warning naming the fix.
# (sops-nix's option, declared here as sops-nix declares it.)
if evaluate "host = ./hosts/openclaw-lxc; extra = [ ({ lib, ... }: { options.sops.defaultSymlinkPath = lib.mkOption { type = lib.types.str; default = \"/run/secrets\"; }; }) ];" \
  >"$WORK/warn.json" 2>"$WORK/warn.err" &&
  jq -r '.warnings[]' "$WORK/warn.json" | grep -qF 'set services.openclaw.secrets.dir = "/run/openclaw/secrets"'; then
  echo "ok: secrets.dir inside sops-nix's /run/secrets -> warned"
else
  fail "secrets.dir inside sops-nix's /run/secrets: no warning: $(cat "$WORK/warn.err") $(jq -c .warnings "$WORK/warn.json" 2>/dev/null)"
fi

[ "$fails" -eq 0 ] || { echo "eval-module-offline: $fails failure(s)" >&2; exit 1; }
echo "eval-module-offline: ok"
