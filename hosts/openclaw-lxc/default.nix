# Seed 000: NixOS in a Proxmox LXC (2 vCPU) in the services VLAN.
#
# Memory: the gateway peaks near 1.43 GB after one agent run (measured, 2 vCPU) plus ~0.3 GB for
# NixOS, Podman/conmon and the OpenBao agent. The seed's 2 GB LXC leaves almost nothing, and the
# LXC's own limit would OOM-kill before the container's memory_max (2560M) could act: give the
# LXC 3 GB (`pct set <id> --memory 3072`). Podman inside the LXC needs `features: nesting=1,keyctl=1`.
#
# Deploy: nixos-rebuild switch --flake .#openclaw-lxc --target-host root@openclaw
{ modulesPath, ... }:
{
  imports = [
    (modulesPath + "/virtualisation/proxmox-lxc.nix")
    ../common-spec.nix
  ];

  networking.hostName = "openclaw";
  # web_fetch may read these sites, and nothing else on the internet: through the egress proxy
  # (Squid), which refuses any other name, IP literals and names that resolve into the LAN.
  services.openclaw.egress.allow_domains = [
    "docs.python.org"
    "*.wikipedia.org"
  ];
  # The container's upstream address as Caddy on the gateway stack sees it.
  services.openclaw.proxy = {
    site = "openclaw.home.example";
    upstream = "10.0.3.20:18789";
    forward_auth = {
      upstream = "keycloak.home.example:8080";
      uri = "/realms/home/protocol/openid-connect/auth";
    };
  };
}
