#!/usr/bin/env bash
# Nix checks that run without nixpkgs (none can be fetched here): every .nix file parses,
# deadnix finds no dead code, and the generated spec options evaluate against the names of
# nixpkgs' option types (a typo in a type constructor fails here, not on someone's server).
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${OPENCLAW_HOMELAB_CACHE:-/var/cache/openclaw-homelab}"
# Debian's nix-bin names a build group that does not exist; nothing here builds.
export NIX_CONFIG="build-users-group ="
DEADNIX_VERSION=1.2.1
DEADNIX="$CACHE/cargo-bin/bin/deadnix"

command -v nix-instantiate >/dev/null || {
  echo "check-nix: nix-instantiate is missing; run scripts/install-components.sh (Debian package nix-bin)" >&2
  exit 1
}
if ! { [ -x "$DEADNIX" ] && "$DEADNIX" --version | grep -qx "deadnix $DEADNIX_VERSION"; }; then
  echo "== installing deadnix $DEADNIX_VERSION into $CACHE/cargo-bin"
  cargo install deadnix --locked --version "$DEADNIX_VERSION" --root "$CACHE/cargo-bin" --quiet
fi

mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.nix' | sort)
[ "${#files[@]}" -gt 0 ] || { echo "check-nix: no .nix files found" >&2; exit 1; }

echo "== nix-instantiate --parse (${#files[@]} files)"
for f in "${files[@]}"; do
  nix-instantiate --parse "$f" >/dev/null || { echo "check-nix: $f does not parse" >&2; exit 1; }
done

echo "== deadnix --fail"
"$DEADNIX" --fail "${files[@]}"

echo "== generated spec options evaluate"
nix-instantiate --eval --strict --json - >/dev/null <<'NIX'
let
  # The option-type names of nixpkgs' lib.types the generator may emit; anything else is a typo.
  leaf = name: { _type = name; };
  types = {
    str = leaf "str";
    bool = leaf "bool";
    int = leaf "int";
    number = leaf "number";
    float = leaf "float";
    enum = values: assert builtins.isList values; { _type = "enum"; inherit values; };
    strMatching = re: assert builtins.isString re && builtins.match re "" != [ ]; { _type = "strMatching"; inherit re; };
    listOf = t: { _type = "listOf"; of = t; };
    attrsOf = t: { _type = "attrsOf"; of = t; };
    nullOr = t: { _type = "nullOr"; of = t; };
    submodule = m: assert m ? options; { _type = "submodule"; inherit (m) options; };
    ints = {
      u8 = leaf "u8";
      u16 = leaf "u16";
      u32 = leaf "u32";
      unsigned = leaf "unsigned";
      s8 = leaf "s8";
      s16 = leaf "s16";
      s32 = leaf "s32";
    };
  };
  mkOption =
    o:
    assert o ? type && o ? description && builtins.isString o.description;
    o // { _option = true; };
  lib = { inherit mkOption types; };
  opts = import ./modules/openclaw/spec-options.generated.nix {
    inherit lib;
    jsonFormat.type = leaf "json";
  };
  # The module relies on these exact paths.
  required = [
    opts.name opts.gateway.port opts.gateway.bind opts.gateway.auth opts.gateway.token
    opts.models.base_url opts.models.api_key opts.channels.matrix opts.channels.telegram
    opts.secrets.backend opts.secrets.dir opts.secrets.env_file opts.secrets.openbao opts.secrets.items
    opts.machine_cert opts.egress.dns_resolvers opts.egress.container_interfaces
    opts.ingress.allow_from opts.observability.prometheus opts.proxy
    opts.container.image opts.container.user opts.container.memory_max opts.container.cpus
    opts.container.pids_limit opts.container.read_only opts.container.network opts.container.volumes
    opts.paths.config opts.paths.state_dir opts.paths.service_user opts.paths.agent_dir
    opts.paths.secretcheck_bin opts.paths.bao_bin opts.settings
  ];
in
assert builtins.all (o: o._option or false) required;
opts
NIX
# The module evaluated against nixpkgs' real lib and quadlet-nix. Their sources sit beside the
# repository in ../shared/nix-sources (neither can be fetched on a machine without GitHub
# access); OPENCLAW_NIXPKGS_LIB / OPENCLAW_QUADLET_NIX override them. This always runs: a
# missing source is an error, never a silent skip.
SOURCES="$(cd .. && pwd)/shared/nix-sources"
NIXPKGS_LIB="${OPENCLAW_NIXPKGS_LIB:-$SOURCES/nixpkgs-lib-25.05}"
QUADLET_NIX="${OPENCLAW_QUADLET_NIX:-$SOURCES/quadlet-nix}"
for src in "$NIXPKGS_LIB" "$QUADLET_NIX"; do
  [ -d "$src" ] || {
    echo "check-nix: $src is missing: put nixpkgs' lib and quadlet-nix (at the flake.lock revs) in $SOURCES, or set OPENCLAW_NIXPKGS_LIB and OPENCLAW_QUADLET_NIX" >&2
    exit 1
  }
done
echo "== module evaluation (nixpkgs lib: $NIXPKGS_LIB)"
bash scripts/eval-module-offline.sh "$NIXPKGS_LIB" "$QUADLET_NIX" ${OPENCLAW_NIX_OPENCLAW:+"$OPENCLAW_NIX_OPENCLAW"}
echo "check-nix: ok (${#files[@]} files)"
