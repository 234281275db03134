# The options of `services.openclaw`: the spec's own fields (generated from its JSON Schema, same
# names and defaults) plus the few that only exist on NixOS (packages, image, wiring switches).
# Nothing here clashes with nix-openclaw's `services.openclaw-gateway`.
{ lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  jsonFormat = pkgs.formats.json { };
  specOptions = import ./spec-options.generated.nix { inherit lib jsonFormat; };
in
{
  options.services.openclaw = specOptions // {
    enable = lib.mkEnableOption "the hardened OpenClaw gateway (Podman container, OpenBao agent, egress firewall)";

    package = lib.mkPackageOption pkgs "openclaw-render" {
      extraDescription = ''
        The generator. It runs at build time only: the spec built from these options goes
        through `openclaw-render render`, which fails the build with the field and the fix
        when the spec is unsafe. The flake's module sets this to its own build.
      '';
    };

    secretcheckPackage = lib.mkPackageOption pkgs "openclaw-secretcheck" {
      extraDescription = ''
        Gates every gateway start (`ExecStartPre`) and every secret render (the agent's promote
        step), so a bad render never replaces a good deployment.
      '';
    };

    openbaoPackage = lib.mkPackageOption pkgs "openbao" {
      extraDescription = "Provides `bao agent` for `secrets.backend = \"openbao\"`.";
    };

    image = mkOption {
      type = types.nullOr types.package;
      default = null;
      example = lib.literalExpression ''
        openclaw-homelab.lib.gatewayImage { inherit pkgs; gateway = my-openclaw-2026-9-6; }
      '';
      description = ''
        A gateway image built by Nix (a `dockerTools` archive). When set, the container runs
        `docker-archive:<this store path>` (immutable, no registry involved: offline hosts and
        VM tests) and `container.image` defaults to that reference. When null the container
        runs `container.image`, which must be pinned by digest.
      '';
    };

    publishAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = ''
        Host address the gateway port is published on. Loopback suits a reverse proxy on the
        same host. To let a proxy on another host in (seed 000: Caddy on the gateway stack),
        publish on the host's address or `0.0.0.0`: the rendered nftables table then admits
        only `ingress.allow_from` (it filters the DNAT'd traffic in the forward hook, which the
        NixOS firewall's input chain never sees for a rootful container).
      '';
    };

    caddy.enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Serve `proxy.site` from this host's Caddy (`services.caddy.virtualHosts`), with the
        forward_auth and TLS settings of `proxy`. Leave off when the proxy runs elsewhere.
      '';
    };

    prometheus.enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Add `observability.prometheus` as a scrape job of this host's Prometheus
        (`services.prometheus.scrapeConfigs`). For a Prometheus elsewhere use the rendered
        `prometheus` artifact.
      '';
    };

    rendered = mkOption {
      type = types.package;
      readOnly = true;
      internal = true;
      description = "The generator's output for this host's spec (a store path).";
    };

    specFile = mkOption {
      type = types.package;
      readOnly = true;
      internal = true;
      description = "The spec as JSON (names of secrets only, never values).";
    };
  };
}
