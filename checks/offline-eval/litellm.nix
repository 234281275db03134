# The LXC host with LiteLLM in front of two providers on the same host (services.openclaw.litellm):
# the gateway's container reaches it at the host's address, its fallbacks live in LiteLLM.
{ lib, ... }:
{
  services.openclaw = {
    models = {
      base_url = lib.mkForce "http://10.0.3.20:4000/v1";
      models = lib.mkForce [ "claude-opus-4-6" ];
      fallbacks = lib.mkForce [ ];
    };
    egress.allow = [
      {
        name = "litellm-local";
        to = "10.0.3.20";
        ports = [ 4000 ];
        allow_private = true;
      }
    ];
    litellm = {
      listen = "10.0.3.20:4000";
      primary = "claude-opus-4-6";
      fallbacks = [ "qwen3-30b" ];
      timeout = "10s";
      budget_usd = 50.0;
      providers = [
        {
          name = "anthropic";
          model_group = "claude-opus-4-6";
          model = "anthropic/claude-opus-4-6";
          base_url = "https://api.anthropic.com";
          api_key = "anthropic_key";
        }
        {
          name = "gpu-box";
          model_group = "qwen3-30b";
          model = "openai/qwen3-30b";
          base_url = "http://10.0.3.30:8000/v1";
          api_key = "gpu_box_key";
        }
      ];
      openbao = {
        kv_path = "aether/litellm";
        # Its own certificate: renewed by the rendered litellm-cert-renew unit and timer.
        cert = "/var/lib/litellm-cert/machine.crt";
        key = "/var/lib/litellm-cert/machine.key";
      };
      egress = {
        dns_resolvers = [ "10.0.3.1" ];
        allow = [
          {
            name = "anthropic";
            to = "160.79.104.0/23";
            ports = [ 443 ];
            hosts = [ "api.anthropic.com" ];
          }
          {
            name = "gpu-box";
            to = "10.0.3.30";
            ports = [ 8000 ];
          }
        ];
      };
      paths.bin = "/nix/store/00000000000000000000000000000000-litellm-1.106.2/bin/litellm";
    };
  };
}
