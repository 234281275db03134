# An offline OpenClaw gateway image built by Nix (no registry, no network at run time):
# Node 24 and a gateway package you provide, plus the plugins it needs (the Matrix channel is a
# separate npm package: without it the gateway tries `npm install` at every start).
#
# nixpkgs has no OpenClaw 2026.9.6 and nix-openclaw's package tracks other versions, so the
# gateway is a parameter: any derivation with `bin/openclaw` (e.g. built with buildNpmPackage
# from a lock of openclaw@2026.9.6 and @openclaw/matrix@2026.9.6 installed with --ignore-scripts).
# Use the result as `services.openclaw.image`.
{
  pkgs,
  gateway,
  plugins ? [ ],
  name ? "localhost/openclaw-gateway",
  tag ? gateway.version or "local",
}:
pkgs.dockerTools.buildLayeredImage {
  inherit name tag;
  contents = [
    pkgs.nodejs_24
    gateway
    pkgs.cacert
    pkgs.tzdata
  ] ++ plugins;
  # /tmp for Node; everything else the container writes is a volume (read-only root).
  extraCommands = ''
    mkdir -p tmp
    chmod 1777 tmp
  '';
  config = {
    Entrypoint = [
      "${gateway}/bin/openclaw"
      "gateway"
      "run"
    ];
    Env = [
      "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"
      "NODE_ENV=production"
      "PATH=/bin"
    ];
    User = "1000:1000";
  };
}
