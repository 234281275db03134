#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian 12 machine (as root): installs the pinned
# real components, checks formatting and lints, runs every Rust test (the generator against
# the real OpenClaw, nftables, Caddy, promtool and systemd-analyze; secretcheck against the
# real OpenBao agent; the probe against a real gateway; the lab's end-to-end suite) and the
# Nix syntax/deadnix checks.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-components.sh
# shellcheck source=/dev/null
source "${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}/env.sh"

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== nix checks"
bash scripts/check-nix.sh
