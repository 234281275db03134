# The gateway as a scrape target of this host's Prometheus (optional). OpenClaw has no built-in
# /metrics: the diagnostics-prometheus plugin serves /api/diagnostics/prometheus behind the
# gateway's token. Prometheus gets the token through a systemd credential (read by systemd as
# root at start), never through the store or a world-readable file.
{
  config,
  lib,
  ...
}:
let
  cfg = config.services.openclaw;
  p = cfg.observability.prometheus;
  item = cfg.secrets.items.${p.token} or { };
  tokenPath =
    if cfg.secrets.backend == "files" && (item.path or null) != null then
      item.path
    else
      "${lib.removeSuffix "/" cfg.secrets.dir}/${p.token}";
in
{
  config = lib.mkIf (cfg.enable && cfg.prometheus.enable && p != null) {
    services.prometheus.scrapeConfigs = [
      {
        inherit (p) job_name;
        scrape_interval = p.scrape_interval;
        metrics_path = "/api/diagnostics/prometheus";
        static_configs = [ { targets = [ p.target ]; } ];
        authorization = {
          type = "Bearer";
          credentials_file = "/run/credentials/prometheus.service/openclaw-token";
        };
      }
    ];
    # After a token rotation Prometheus needs a restart to read the new credential.
    systemd.services.prometheus.serviceConfig.LoadCredential = [ "openclaw-token:${tokenPath}" ];
  };
}
