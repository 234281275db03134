# STAND-IN for the nixpkgs package set: only the functions and packages our module and
# quadlet-nix's module call. Derivations are fake (a hashed store path, never built): the offline
# evaluation checks option types, assertions, the spec the module hands to the generator and the
# unit text quadlet-nix renders; building is `nix flake check`'s job.
{ lib }:
let
  storePath =
    name: extra:
    "${builtins.storeDir}/${
      builtins.substring 0 32 (builtins.hashString "sha256" (name + builtins.toJSON extra))
    }-${name}";
  fake =
    name: extra:
    extra
    // {
      type = "derivation";
      inherit name;
      outPath = storePath name extra;
      outputs = [ "out" ];
      meta = (extra.meta or { }) // {
        mainProgram = extra.meta.mainProgram or (lib.getName name);
      };
    };
  package = name: mainProgram: fake name { meta = { inherit mainProgram; }; };

  # nixpkgs' `formats.json`: a JSON value type and a generator.
  jsonValue =
    with lib.types;
    nullOr (oneOf [
      bool
      int
      float
      str
      path
      (attrsOf jsonValue)
      (listOf jsonValue)
    ])
    // {
      description = "JSON value";
    };
  writeText = name: text: fake name { inherit text; };
in
{
  path = ./nixpkgs-standin;
  stdenv.hostPlatform.system = "x86_64-linux";
  formats.json = _: {
    type = jsonValue;
    generate = name: value: writeText name (builtins.toJSON value);
  };
  inherit writeText;
  writeTextDir = path: text: fake (baseNameOf path) { inherit path text; };
  runCommand = name: env: script: fake name { inherit env script; };
  writeShellScript = name: text: fake name { inherit text; };
  linkFarm = name: entries: fake name { inherit entries; };

  # What the flake's packages provide (modules/flake-module.nix's `packagesFor`).
  gateway-image =
    fake "docker-image-openclaw-gateway.tar.gz" { }
    // {
      openclawGateway = fake "openclaw-gateway-2026.9.6" {
        version = "2026.9.6";
        meta.mainProgram = "openclaw";
      };
    };
  openclaw-lab = package "openclaw-lab" "openclaw-lab";
  openclaw-render = package "openclaw-render" "openclaw-render";
  openclaw-secretcheck = package "openclaw-secretcheck" "openclaw-secretcheck";
  openclaw-backup = package "openclaw-backup" "openclaw-backup";
  openclaw-probe = package "openclaw-probe" "openclaw-probe";
  restic = package "restic-0.18.0" "restic";
  openbao = package "openbao-2.2.2" "bao";
  step-cli = package "step-cli-0.28.6" "step";
  nftables = package "nftables-1.1.1" "nft";
  squid = package "squid-6.13" "squid";
  coreutils = package "coreutils-9.7" "coreutils";
  findutils = package "findutils-4.10.0" "find";
  util-linux = package "util-linux-2.41" "setpriv";
  curl = package "curl-8.13.0" "curl";
  podman = package "podman-5.4.1" "podman";
  systemd = package "systemd-257.5" "systemctl";
  nix = package "nix-2.28.3" "nix";
}
