# OpenClaw 2026.9.6 from the lab's committed npm lock (scripts/npm/openclaw: one set of pins for
# the lab and NixOS), run by the lab's Node. No install scripts run, as in the lab (npm 11 skips
# scripts not in allowScripts): the tree is the one the lab's tests exercise.
#
# Channel plugins (@openclaw/matrix) are not in here: OpenClaw trusts them with channel state only
# when `openclaw plugins install` recorded them in the state directory, which the NixOS module's
# openclaw-plugins.service does with this package's CLI.
{
  lib,
  callPackage,
  importNpmLock,
  nodejs,
  makeWrapper,
  runCommand,
}:
let
  readLock = import ./npm-lock.nix { inherit lib; };
  node = callPackage ./node24.nix { };
  lock = readLock ../scripts/npm/openclaw;
  # `nodejs` (nixpkgs') only runs npm at build time; the gateway runs on `node`.
  openclaw = importNpmLock.buildNodeModules (
    lock
    // {
      inherit nodejs;
      npmRebuildFlags = [ "--ignore-scripts" ];
    }
  );
  inherit (lock.packageLock.packages."node_modules/openclaw") version;
in
runCommand "openclaw-gateway-${version}"
  {
    nativeBuildInputs = [ makeWrapper ];
    passthru = {
      inherit version node openclaw;
    };
    meta = {
      description = "OpenClaw ${version} gateway";
      homepage = "https://github.com/openclaw/openclaw";
      license = lib.licenses.mit;
      mainProgram = "openclaw";
      platforms = [ "x86_64-linux" ];
    };
  }
  ''
    makeWrapper ${lib.getExe node} $out/bin/openclaw \
      --add-flags ${openclaw}/node_modules/openclaw/openclaw.mjs
    $out/bin/openclaw --version | grep -qF ${version}
  ''
