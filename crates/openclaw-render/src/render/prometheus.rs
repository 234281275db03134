//! Prometheus scrape configuration: the probe's metrics through node_exporter's textfile
//! collector always, and the gateway's own metrics (`diagnostics-prometheus`, behind the
//! gateway token) when the spec ships that plugin.

use super::Artifact;
use crate::spec::{SecretLocation, Spec};

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let Some(p) = &spec.observability.prometheus else {
        return Vec::new();
    };
    let host = p
        .target
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&p.target);
    let every = p.scrape_interval.to_string();
    let mut jobs: Vec<String> = vec![
        "  # openclaw-probe results (liveness, readiness, auth enforced, certificate days left),".into(),
        "  # written by the probe timer into node_exporter's textfile collector on the gateway host.".into(),
        format!("  - job_name: {}", yaml_str(&format!("{}-probe", p.job_name))),
        format!("    scrape_interval: {every}"),
        "    static_configs:".into(),
        format!("      - targets: [{}]", yaml_str(&format!("{host}:9100"))),
    ];
    if p.gateway_metrics {
        let token = match spec.secret_location(&p.token) {
            Some(SecretLocation::File { path }) => path,
            _ => format!("/run/secrets/{}", p.token),
        };
        jobs.extend([
            "  # The gateway's own metrics behind the gateway token, which Prometheus reads".into(),
            "  # from a file (never inline in this config).".into(),
            format!("  - job_name: {}", yaml_str(&p.job_name)),
            format!("    scrape_interval: {every}"),
            "    metrics_path: /api/diagnostics/prometheus".into(),
            "    authorization:".into(),
            "      type: Bearer".into(),
            format!("      credentials_file: {}", yaml_str(&token)),
            "    static_configs:".into(),
            format!("      - targets: [{}]", yaml_str(&p.target)),
        ]);
    }
    let jobs = jobs.join("\n") + "\n";
    let full = format!(
        "# Rendered by openclaw-render for deployment '{}'.\nglobal:\n  scrape_interval: {every}\nscrape_configs:\n{jobs}",
        spec.name
    );
    let snippet = format!("# Rendered by openclaw-render: merge under scrape_configs.\n{jobs}");
    vec![
        Artifact::public(
            "prometheus/prometheus.yml",
            full,
            "a complete Prometheus config scraping this deployment",
        ),
        Artifact::public(
            "prometheus/scrape-openclaw.yml",
            snippet,
            "the scrape jobs alone, to merge into an existing config",
        ),
    ]
}

/// A YAML double-quoted scalar: JSON's string syntax is valid YAML and escapes quotes, `\\`
/// and control characters, so a value can never close its quote or start a new key.
fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

#[cfg(test)]
mod tests {
    #[test]
    fn yaml_strings_stay_one_scalar() {
        assert_eq!(super::yaml_str("a\"]\n  - x"), "\"a\\\"]\\n  - x\"");
    }
}
