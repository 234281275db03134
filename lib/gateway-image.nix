# An offline OpenClaw gateway image built by Nix (no registry at run time): the gateway and the
# Node it runs on (also `node` for the container's health check), plus any `plugins` you add for
# `paths.plugins_dir`. Channel plugins such as @openclaw/matrix are installed into the state
# directory instead (see modules/openclaw/plugins.nix).
#
# `gateway` is any derivation with `bin/openclaw` and a `version`; the flake's
# `packages.<system>.openclaw-gateway` (OpenClaw 2026.9.6, the lab's pins) is the default in
# `packages.<system>.gateway-image`. Use the result as `services.openclaw.image`.
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
# The gateway package rides along: the NixOS module runs its `openclaw plugins install` on the
# host for the official plugins the spec needs.
image // { openclawGateway = gateway; }
