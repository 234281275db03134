# The spec both example hosts share (seed 000's homelab: LiteLLM, Matrix DMs from an allowlist
# plus mention-gated rooms, WebChat behind Caddy + forward_auth, OpenBao through the step-ca
# machine certificate). Addresses, names and the image digest are this example's: put yours.
{ lib, ... }:
{
  services.openclaw = {
    enable = true;
    name = "openclaw";

    gateway = {
      port = 18789;
      # Inside the container's own network namespace; publishAddress + nftables decide who reaches it.
      bind = "lan";
      auth = "token";
      token = "gateway_token";
      trusted_proxies = [ "10.0.3.2" ];
      allowed_origins = [ "https://openclaw.home.example" ];
      rate_limit = {
        max_attempts = 5;
        window = "1m";
        lockout = "15m";
        # Behind a proxy every client looks alike; keep the limit on for all of them.
        exempt_loopback = false;
      };
    };

    models = {
      provider_id = "litellm";
      base_url = "https://litellm.home.example/v1";
      api_key = "litellm_api_key";
      models = [
        "claude-opus-4-6"
        "qwen3-30b"
      ];
      primary = "claude-opus-4-6";
      fallbacks = [ "qwen3-30b" ];
    };

    channels.matrix = {
      homeserver = "https://matrix.home.example";
      user_id = "@openclaw:home.example";
      access_token = "matrix_access_token";
      dm_policy = "allowlist";
      allow_from = [ "@you:home.example" ];
      group_policy = "allowlist";
      group_allow_from = [ "@you:home.example" ];
      rooms."!assistant:home.example".require_mention = true;
    };

    hardening.log_file = "/var/lib/openclaw/logs/openclaw.log";

    secrets = {
      backend = "openbao";
      dir = "/run/secrets/openclaw";
      openbao = {
        address = "https://openbao.home.example:8200";
        ca_cert = "/etc/ssl/certs/homelab-root.pem";
        kv_path = "aether/openclaw";
        cert_auth_role = "openclaw";
      };
      items = {
        gateway_token.min_length = 32;
        litellm_api_key = { };
        matrix_access_token = { };
      };
    };

    machine_cert = {
      ca_url = "https://ca.home.example:9000";
      root_ca = "/etc/ssl/certs/homelab-root.pem";
    };

    egress = {
      # The gateway's user and its container bridge, deny-by-default. Not every process of
      # the host: NTP, nix-daemon and the one-time `openclaw plugins install` of @openclaw/matrix
      # (openclaw-plugins.service) need their own ways out.
      scope = "service";
      dns_resolvers = [ "10.0.3.1" ];
      allow = [
        {
          name = "litellm";
          to = "10.0.3.10";
          ports = [ 443 ];
          hosts = [ "litellm.home.example" ];
          allow_private = true;
        }
        {
          name = "synapse";
          to = "10.0.3.11";
          ports = [ 443 ];
          hosts = [ "matrix.home.example" ];
          allow_private = true;
        }
        {
          name = "openbao";
          to = "10.0.3.12";
          ports = [ 8200 ];
          hosts = [ "openbao.home.example" ];
          allow_private = true;
        }
        {
          name = "step-ca";
          to = "10.0.3.13";
          ports = [ 9000 ];
          hosts = [ "ca.home.example" ];
          allow_private = true;
        }
      ];
    };

    # Only the Caddy on the gateway stack reaches the port.
    ingress.allow_from = [ "10.0.3.2" ];
    # Published on every address; the rendered table admits only ingress.allow_from.
    publishAddress = lib.mkDefault "0.0.0.0";

    # The image is the flake's Nix-built OpenClaw 2026.9.6 + Matrix (services.openclaw.image's
    # default): nothing is pulled, and a rollback brings the previous image back. For a registry
    # image instead: services.openclaw.image = null; container.image = "registry/openclaw@sha256:...";
    container.memory_max = "2560M";
  };

  # The host's own firewall; the gateway port is handled by the generator's table.
  networking.nftables.enable = true;
  networking.firewall.allowedTCPPorts = [ 22 ];
  services.openssh = {
    enable = true;
    settings.PasswordAuthentication = false;
  };
  system.stateVersion = "25.05";
}
