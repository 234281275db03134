# An offline OpenClaw gateway image built by Nix (no registry, no network at run time): the
# gateway, the Node it runs on (also `node` for the container's health check) and the plugins it
# needs (the Matrix channel is a separate npm package: without it the gateway tries
# `npm install` at every start).
#
# `gateway` is any derivation with `bin/openclaw`; the flake's `packages.<system>.openclaw-gateway`
# (OpenClaw 2026.9.6 + Matrix, the lab's pins) is the default in `packages.<system>.gateway-image`.
# Its `pluginsDir` is carried on the image as `openclawPluginsDir`: the NixOS module uses it as
# the default `paths.plugins_dir`. Use the result as `services.openclaw.image`.
{
  pkgs,
  gateway,
  plugins ? [ ],
  name ? "localhost/openclaw-gateway",
  tag ? gateway.version or "local",
}:
let
  image = pkgs.dockerTools.buildLayeredImage {
    inherit name tag;
    contents = [
      (gateway.node or pkgs.nodejs_24)
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
        (pkgs.lib.getExe gateway)
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
  };
in
image // pkgs.lib.optionalAttrs (gateway ? pluginsDir) { openclawPluginsDir = gateway.pluginsDir; }
