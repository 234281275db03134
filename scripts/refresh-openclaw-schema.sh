#!/usr/bin/env bash
# Refreshes the OpenClaw JSON Schema embedded in openclaw-render from the installed, pinned
# OpenClaw. Bumping OpenClaw: change the pin in scripts/install-components.sh and
# OPENCLAW_VERSION in crates/openclaw-render/src/openclaw_schema.rs, then run this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-components.sh
# shellcheck source=/dev/null
source "${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}/env.sh"
version=$(grep -oP 'OPENCLAW_VERSION: &str = "\K[^"]+' crates/openclaw-render/src/openclaw_schema.rs)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
dest="crates/openclaw-render/openclaw-schema/openclaw-${version}.schema.json"
PATH="$OPENCLAW_NODE_BIN_DIR:$PATH" HOME="$home" "$OPENCLAW_BIN" config schema > "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "wrote $dest"
