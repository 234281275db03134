# An offline OpenClaw gateway image built by Nix (no registry at run time): the gateway and the
# Node it runs on (also `node` for the container's health check), plus any `plugins` you add for
# `paths.plugins_dir`. Channel plugins such as @openclaw/matrix are installed into the state
# directory instead (see modules/openclaw/plugins.nix).
#
# The layout (entry point, user, env, labels, /etc/passwd, the paths the image must have) is
# ./gateway-image-layout.json, the same file the lab's offline builder
# (scripts/build-gateway-image.sh) follows; crates/openclaw-lab/tests/image_layout.rs holds
# both to it. dockerTools links every `contents` path into /, so /bin/openclaw, /bin/node,
# /etc/ssl/certs/ca-bundle.crt and /share/zoneinfo are where the layout says.
#
# `gateway` is any derivation with `bin/openclaw` and a `version`; the flake's
# `packages.<system>.openclaw-gateway` (OpenClaw 2026.9.6, the lab's pins) is the default in
# `packages.<system>.gateway-image`. Use the result as `services.openclaw.image`.
{
  pkgs,
  gateway,
  plugins ? [ ],
  name ? null,
  tag ? gateway.version or "local",
}:
let
  layout = builtins.fromJSON (builtins.readFile ./gateway-image-layout.json);
  image = pkgs.dockerTools.buildLayeredImage {
    name = if name == null then layout.name else name;
    inherit tag;
    contents = [
      (gateway.node or pkgs.nodejs_24)
      gateway
      pkgs.cacert
      pkgs.tzdata
    ]
    ++ plugins;
    # /tmp for Node; everything else the container writes is a volume (read-only root).
    extraCommands = ''
      mkdir -p tmp etc
      chmod 1777 tmp
      rm -f etc/passwd etc/group
      printf '%s' ${pkgs.lib.escapeShellArg layout.passwd} > etc/passwd
      printf '%s' ${pkgs.lib.escapeShellArg layout.group} > etc/group
    '';
    config = {
      Entrypoint = layout.entrypoint;
      Env = map (k: "${k}=${layout.env.${k}}") (builtins.attrNames layout.env);
      User = layout.user;
      WorkingDir = layout.workdir;
      Labels = layout.labels // {
        "org.opencontainers.image.version" = gateway.version or tag;
      };
    };
  };
in
# The gateway package rides along: the NixOS module runs its `openclaw plugins install` on the
# host for the official plugins the spec needs.
image // { openclawGateway = gateway; }
