# Optional Caddy on this host, serving the generator's site block (forward_auth, TLS, headers)
# verbatim: Caddy imports the rendered file from the store, so nothing is re-typed in Nix and no
# import-from-derivation is needed. Assumes the Caddy renderer writes its site block(s) under
# `caddy/` in the output (`import` takes a glob).
{
  config,
  lib,
  ...
}:
let
  cfg = config.services.openclaw;
in
{
  config = lib.mkIf (cfg.enable && cfg.caddy.enable) {
    services.caddy = {
      enable = true;
      extraConfig = ''
        import ${cfg.rendered}/caddy/*
      '';
    };
    # Caddy reaches the gateway over the published port; only the web ports open here.
    networking.firewall.allowedTCPPorts = [
      80
      443
    ];
    systemd.services.caddy = {
      wants = [ "${cfg.name}.service" ];
      after = [ "${cfg.name}.service" ];
    };
  };
}
