# Seed 001: a VM whose gateway lives on a separate sandbox network (its own Podman bridge with
# no route to the LAN except what egress.allow names), with a local OpenAI-compatible LLM and
# Caddy on this host in front of it.
#
# Deploy: nixos-rebuild switch --flake .#openclaw-vm --target-host root@openclaw-vm
{ lib, modulesPath, ... }:
{
  imports = [
    (modulesPath + "/profiles/qemu-guest.nix")
    ../common-spec.nix
  ];

  networking.hostName = "openclaw-vm";
  boot.loader.grub.device = "/dev/vda";
  fileSystems."/" = {
    device = "/dev/disk/by-label/nixos";
    fsType = "ext4";
  };

  services.openclaw = {
    # The sandbox network: its own bridge and subnet.
    container.network = "openclaw-sandbox";
    # Caddy runs here, so the gateway is published on loopback only.
    publishAddress = "127.0.0.1";
    # Only this host's Caddy, over loopback.
    ingress.allow_from = lib.mkForce [ "127.0.0.1" ];
    caddy.enable = true;
    proxy = {
      site = "openclaw-vm.home.example";
      upstream = "127.0.0.1:18789";
      forward_auth = {
        upstream = "auth.home.example:9091";
        uri = "/api/verify?rd=https://auth.home.example";
      };
      # No public egress for ACME: Caddy's internal CA (or point tls at step-ca's ACME).
      tls.mode = "internal";
    };
    gateway.trusted_proxies = lib.mkForce [ "127.0.0.1" ];
    models = {
      provider_id = lib.mkForce "local";
      base_url = lib.mkForce "http://10.0.5.10:8000/v1";
      models = lib.mkForce [ "qwen3-30b" ];
      primary = lib.mkForce "qwen3-30b";
      fallbacks = lib.mkForce [ ];
    };
    egress.allow = [
      {
        name = "local-llm";
        to = "10.0.5.10";
        ports = [ 8000 ];
        allow_private = true;
      }
      {
        name = "auth";
        to = "10.0.3.40";
        ports = [ 9091 ];
        hosts = [ "auth.home.example" ];
        allow_private = true;
      }
    ];
  };
}
