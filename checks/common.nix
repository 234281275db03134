# Nodes shared by the VM tests: an OpenBao server (TLS, cert auth, KV v2), an OpenAI-compatible
# LLM fixture, a LAN canary the gateway must not reach, a Caddy proxy (the only host allowed to
# reach the gateway port) and the gateway host running services.openclaw.
{
  pkgs,
  module,
  lab,
  gatewayImage,
  fixtures,
}:
let
  addr = n: {
    virtualisation.vlans = [ 1 ];
    networking.useDHCP = false;
    networking.interfaces.eth1.ipv4.addresses = [
      {
        address = "192.168.1.${toString n}";
        prefixLength = 24;
      }
    ];
  };
  llmFixture = pkgs.writeText "llm.py" ''
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply({"object": "list", "data": [{"id": "test-model", "object": "model"}]})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.reply({
                "id": "c1", "object": "chat.completion", "model": "test-model",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "pong"}}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            })

    ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
  '';
in
{
  nodes = {
    vault = {
      imports = [ (addr 10) ];
      services.openbao = {
        enable = true;
        address = "0.0.0.0:8200";
        tlsCertFile = "${fixtures}/vault.crt";
        tlsKeyFile = "${fixtures}/vault.key";
      };
      environment.systemPackages = [ pkgs.openbao ];
      environment.variables = {
        BAO_ADDR = "https://vault:8200";
        BAO_CACERT = "${fixtures}/root.crt";
      };
      networking.firewall.allowedTCPPorts = [ 8200 ];
    };

    llm = {
      imports = [ (addr 20) ];
      systemd.services.llm = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig.ExecStart = "${pkgs.python3}/bin/python3 ${llmFixture}";
      };
      networking.firewall.allowedTCPPorts = [ 8080 ];
    };

    canary = {
      imports = [ (addr 30) ];
      services.nginx.enable = true;
      networking.firewall.allowedTCPPorts = [ 80 ];
    };

    proxy = {
      imports = [ (addr 2) ];
      environment.systemPackages = [ pkgs.curl ];
    };

    gateway = {
      imports = [
        (addr 40)
        module
      ];
      virtualisation.memorySize = 3072;
      virtualisation.cores = 2;
      virtualisation.diskSize = 8192;
      environment.systemPackages = [
        lab
        pkgs.curl
      ];
      # The machine certificate step-ca would have issued (fixture).
      systemd.tmpfiles.rules = [
        "C /var/lib/openclaw-cert/machine.crt - - - - ${fixtures}/machine.crt"
        "C /var/lib/openclaw-cert/machine.key - - - - ${fixtures}/machine.key"
        "z /var/lib/openclaw-cert/machine.key 0600 root root -"
      ];
      networking.nftables.enable = true;
      services.openclaw = {
        enable = true;
        image = gatewayImage;
        publishAddress = "0.0.0.0";
        gateway = {
          bind = "lan";
          auth = "token";
          token = "gateway_token";
          trusted_proxies = [ "192.168.1.2" ];
        };
        models = {
          provider_id = "fixture";
          base_url = "http://192.168.1.20:8080/v1";
          api_key = "llm_api_key";
          models = [ "test-model" ];
          primary = "test-model";
        };
        secrets = {
          backend = "openbao";
          openbao = {
            # By address: the VMs have no DNS (the test driver's /etc/hosts is not the
            # container's), and the egress policy would need a resolver for a name.
            address = "https://192.168.1.10:8200";
            ca_cert = "${fixtures}/root.crt";
            kv_path = "openclaw";
            cert_auth_role = "openclaw";
            refresh_interval = "10s";
          };
          items = {
            gateway_token.min_length = 32;
            gateway_token_v2.min_length = 32;
            llm_api_key = { };
          };
        };
        machine_cert = {
          # No CA in these tests: renewal is skipped-by-failure, the fixture cert is long-lived.
          ca_url = "https://192.168.1.10:9000";
          root_ca = "${fixtures}/root.crt";
        };
        egress = {
          scope = "host";
          allow = [
            {
              # OpenBao, and where step-ca would listen.
              name = "openbao";
              to = "192.168.1.10";
              ports = [
                8200
                9000
              ];
              allow_private = true;
            }
            {
              name = "llm";
              to = "192.168.1.20";
              ports = [ 8080 ];
              allow_private = true;
            }
          ];
        };
        ingress.allow_from = [ "192.168.1.2" ];
      };
    };
  };

  # Python for the test scripts: unseal OpenBao, enable KV v2 and cert auth, store the secrets.
  # Test-only values: they live in this VM test and nowhere else.
  setup = ''
    import json
    TOKEN_V1 = "v1-" + "a" * 40
    TOKEN_V2 = "v2-" + "b" * 40

    start_all()
    vault.wait_for_unit("openbao.service")
    vault.wait_for_open_port(8200)
    init = json.loads(vault.succeed("bao operator init -key-shares=1 -key-threshold=1 -format=json"))
    vault.succeed(f"bao operator unseal {init['unseal_keys_b64'][0]}")
    root = init["root_token"]
    bao = f"BAO_TOKEN={root} bao"
    vault.succeed(f"{bao} secrets enable -path=kv kv-v2")
    vault.succeed(f"{bao} auth enable cert")
    vault.succeed(
        f"echo 'path \"kv/data/openclaw\" {{ capabilities = [\"read\"] }}' | {bao} policy write openclaw -"
    )
    vault.succeed(
        f"{bao} write auth/cert/certs/openclaw certificate=@${fixtures}/root.crt token_policies=openclaw"
    )
    vault.succeed(
        f"{bao} kv put kv/openclaw gateway_token={TOKEN_V1} gateway_token_v2={TOKEN_V2} llm_api_key=sk-fixture-0123456789abcdef"
    )

    def auth_status(token):
        return gateway.succeed(
            "curl -s -o /dev/null -w '%{http_code}' -X POST "
            f"-H 'Authorization: Bearer {token}' -H 'content-type: application/json' "
            "-d '{\"tool\":\"session_status\",\"args\":{}}' http://127.0.0.1:18789/tools/invoke"
        ).strip()

    gateway.wait_until_succeeds("test -s /run/secrets/openclaw/gateway_token", timeout=180)
    gateway.wait_for_unit("openclaw.service", timeout=400)
  '';
}
