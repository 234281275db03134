# OpenClaw 2026.9.6 and its Matrix channel plugin, from the lab's committed npm locks
# (scripts/npm/openclaw, scripts/npm/openclaw-matrix: one set of pins for the lab and NixOS),
# run by the lab's Node. No install scripts run, as in the lab (npm 11 skips scripts not in
# allowScripts; the Matrix crypto library's script would download a binary): the trees are
# the ones the lab's tests exercise.
#
# `passthru.pluginsDir` is the Matrix plugin's directory, for `paths.plugins_dir` (OpenClaw
# loads it through `plugins.load.paths` instead of trying to download it at every start).
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
  # `nodejs` (nixpkgs') only runs npm at build time; the gateway runs on `node`.
  nodeModules =
    name:
    importNpmLock.buildNodeModules (
      readLock (../scripts/npm + "/${name}")
      // {
        inherit nodejs;
        npmRebuildFlags = [ "--ignore-scripts" ];
      }
    );
  openclaw = nodeModules "openclaw";
  matrix = nodeModules "openclaw-matrix";
  inherit ((readLock ../scripts/npm/openclaw).packageLock.packages."node_modules/openclaw") version;
in
runCommand "openclaw-gateway-${version}"
  {
    nativeBuildInputs = [ makeWrapper ];
    passthru = {
      inherit
        version
        node
        openclaw
        matrix
        ;
      pluginsDir = "${matrix}/node_modules/@openclaw/matrix";
    };
    meta = {
      description = "OpenClaw ${version} gateway with the Matrix channel plugin";
      homepage = "https://github.com/openclaw/openclaw";
      license = lib.licenses.mit;
      mainProgram = "openclaw";
      platforms = [ "x86_64-linux" ];
    };
  }
  ''
    makeWrapper ${lib.getExe node} $out/bin/openclaw \
      --add-flags ${openclaw}/node_modules/openclaw/openclaw.mjs
    # Keeps the plugin in the gateway's closure, and so in the image built from it.
    mkdir -p $out/lib/openclaw/plugins
    ln -s ${matrix}/node_modules/@openclaw/matrix $out/lib/openclaw/plugins/matrix
    $out/bin/openclaw --version | grep -qF ${version}
  ''
