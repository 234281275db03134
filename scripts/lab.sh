#!/usr/bin/env bash
# The main job: brings up the whole hardened homelab on this Linux box (as root) from the
# default spec, with real components in network namespaces. `scripts/lab.sh down` removes it.
#   scripts/lab.sh [up|down|status|test|bench] [--spec FILE] [--gateway container|native]
#   scripts/lab.sh check egress|secrets|auth|container [--from-container]   (on the gateway host)
#   scripts/lab.sh check browser     (headless Chromium on this machine; screenshots in the state dir)
#   scripts/lab.sh approve ID        (the browser pairing request the WebChat shows)
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-up}
shift || true

bash scripts/install-components.sh
# shellcheck source=/dev/null
source "${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}/env.sh"
cargo build --release --locked -p openclaw-render -p openclaw-secretcheck -p openclaw-probe -p openclaw-lab
export PATH="$PWD/target/release:$PATH"

case "$cmd" in
  up|bench|test) exec openclaw-lab "$cmd" --spec "${SPEC:-examples/lab.toml}" "$@" ;;
  # The browser runs on this machine (through the published loopback port), every other check
  # on the gateway host.
  check) if [ "${1:-}" = browser ]; then exec openclaw-lab check "$@"; fi
         exec openclaw-lab check "$@" --host gateway ;;
  *) exec openclaw-lab "$cmd" "$@" ;;
esac
