# `services.openclaw`: a thin NixOS module. Its options are the generator's spec; at build time
# the spec goes through `openclaw-render render` (a plain derivation, no import-from-derivation),
# which validates it (failing the build with the field and the fix) and renders every artifact.
# The pieces below install those artifacts and wire the units around them.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.openclaw;
  jsonFormat = pkgs.formats.json { };

  # The spec's top-level field names: exactly the generated options.
  specNames = builtins.attrNames (import ./spec-options.generated.nix { inherit lib jsonFormat; });

  # Option values -> spec JSON. Unset optional fields are null here and absent in the spec
  # (serde's None); `_module` is the module system's own bookkeeping. `settings` is passed as
  # written: it is OpenClaw's JSON.
  clean =
    v:
    if builtins.isAttrs v then
      lib.mapAttrs (_: clean) (lib.filterAttrs (n: x: x != null && n != "_module") v)
    else if builtins.isList v then
      map clean v
    else
      v;
  spec = lib.mapAttrs (n: v: if n == "settings" then v else clean v) (lib.getAttrs specNames cfg);

  specFile = pkgs.writeText "openclaw-${cfg.name}-spec.json" (builtins.toJSON spec);

  # The generator writes atomically through a sibling temp dir, which /nix/store does not allow
  # inside the sandbox: render into the build dir, then copy.
  rendered =
    pkgs.runCommand "openclaw-${cfg.name}-rendered"
      {
        nativeBuildInputs = [ cfg.package ];
        preferLocalBuild = true;
      }
      ''
        openclaw-render render ${specFile} --out ./out
        cp -r ./out $out
        cp ${specFile} $out/spec.json
      '';

  isStore = p: p != null && lib.hasPrefix builtins.storeDir (toString p);
  secretPaths =
    [ cfg.secrets.dir ]
    ++ lib.mapAttrsToList (_: i: i.path) cfg.secrets.items
    ++ lib.optionals (cfg.machine_cert != null) [ cfg.machine_cert.key ];
  refs = lib.filter (r: r.secret != null) [
    {
      field = "gateway.token";
      secret = cfg.gateway.token;
    }
    {
      field = "models.api_key";
      secret = cfg.models.api_key;
    }
    {
      field = "channels.matrix.access_token";
      secret = if cfg.channels.matrix == null then null else cfg.channels.matrix.access_token;
    }
    {
      field = "channels.telegram.bot_token";
      secret = if cfg.channels.telegram == null then null else cfg.channels.telegram.bot_token;
    }
  ];
in
{
  imports = [
    ./options.nix
    ./secrets.nix
    ./container.nix
    ./egress.nix
    ./egress-proxy.nix
    ./cert.nix
    ./proxy.nix
    ./observability.nix
    ./plugins.nix
    ./litellm.nix
    ./backup.nix
    ./health-gate.nix
  ];

  config = lib.mkIf cfg.enable {
    services.openclaw = {
      inherit rendered specFile;
      # Binaries the rendered units and the agent's promote step call: this system's builds.
      paths.secretcheck_bin = lib.mkDefault "${lib.getExe' cfg.secretcheckPackage "openclaw-secretcheck"}";
      paths.bao_bin = lib.mkDefault "${lib.getExe' cfg.openbaoPackage "bao"}";
      container.image = lib.mkIf (cfg.image != null) (lib.mkDefault "docker-archive:${cfg.image}");
    };

    # Quick, local checks with the option path in the message. Everything semantic (bind/auth
    # combinations, egress coverage, literal secrets, memory) is the generator's: the render
    # derivation fails the build with its own field-and-fix list.
    assertions = [
      {
        assertion = cfg.runtime == "container";
        message = ''
          services.openclaw.runtime = "${cfg.runtime}": this module deploys the gateway as the Podman
          container (quadlet-nix) only. Leave runtime at "container"; for a native unit, render the
          spec with `openclaw-render render` and install its systemd/ units yourself.
        '';
      }
    ]
    ++ map (p: {
        assertion = !(isStore p);
        message = ''
          services.openclaw: ${toString p} is in the Nix store, which every local user can read.
          Secret files must live outside it: keep `secrets.dir` on a tmpfs such as /run/secrets/openclaw,
          and point `secrets.items.<name>.path` / `machine_cert.key` at files sops-nix, agenix or the agent write.
        '';
      }) (lib.filter (p: p != null) secretPaths)
      ++ map (r: {
        assertion = cfg.secrets.items ? ${r.secret};
        message = ''
          services.openclaw.${r.field} refers to the secret "${r.secret}", which services.openclaw.secrets.items does not declare.
          Add services.openclaw.secrets.items.${r.secret} = { }; (and store its value in OpenBao, or set its `path` for the files backend).
        '';
      }) refs
      ++ [
        {
          assertion = cfg.gateway.auth == "none" -> cfg.gateway.bind == "loopback";
          message = ''
            services.openclaw.gateway.auth = "none" with bind = "${cfg.gateway.bind}" lets anyone who reaches the port drive the agent.
            Set services.openclaw.gateway.auth = "token" and gateway.token to a secret name.
          '';
        }
        {
          # The container is reached through a published port: the gateway must listen on the
          # container's own interface, and publishAddress (plus nftables) limits who reaches it.
          assertion = cfg.gateway.bind == "lan";
          message = ''
            services.openclaw.gateway.bind = "${cfg.gateway.bind}" cannot work in the Podman container: the published port
            reaches the container's interface, not its loopback. Set services.openclaw.gateway.bind = "lan" (it binds inside
            the container's own network namespace) and limit exposure with services.openclaw.publishAddress and ingress.allow_from.
          '';
        }
        {
          assertion = cfg.secrets.backend == "openbao" -> cfg.secrets.openbao != null;
          message = ''
            services.openclaw.secrets.backend = "openbao" needs services.openclaw.secrets.openbao (address, kv_path, ...).
            Set it, or use secrets.backend = "files" with each secrets.items.<name>.path from sops-nix/agenix.
          '';
        }
        {
          assertion = cfg.caddy.enable -> cfg.proxy != null;
          message = "services.openclaw.caddy.enable needs services.openclaw.proxy (site, upstream, forward_auth).";
        }
        {
          assertion = cfg.prometheus.enable -> cfg.observability.prometheus != null;
          message = "services.openclaw.prometheus.enable needs services.openclaw.observability.prometheus (target, token).";
        }
      ];

    # The config and the agent files, straight from the generator's output (store paths: a
    # rollback to an older generation brings the older files back with it).
    environment.etc = {
      "openclaw/spec.json".source = "${rendered}/spec.json";
      "openclaw/manifest.json".source = "${rendered}/manifest.json";
    };
  };
}
