//! The cloud host: a cloud API's edge on the lab's internet segment. Caddy terminates TLS
//! (a lab-CA certificate for every name in [`EGRESS_NAMES`] that points here, one address as
//! a CDN has) and forwards to provider A's fixture: a provider's public API front end. The
//! gateway's model calls go to LiteLLM, not here; what the gateway reaches here by name
//! through the egress proxy is what `web_fetch` may fetch (`egress.allow_domains`), and
//! Caddy's access log (one JSON line per request, with the Host) is the record of which
//! names were ever reached.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::lab::PROVIDER_PORT;
use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, write_file};
use crate::topology::{CLOUD, EGRESS_NAMES, PROVIDER_A};

/// Caddy's access log on the cloud host.
pub fn access_log(state: &Path) -> PathBuf {
    state.join("cloud/access.log")
}

/// Names served by the cloud host.
pub fn names() -> Vec<&'static str> {
    EGRESS_NAMES
        .iter()
        .filter(|(_, h, _)| h.name == CLOUD.name)
        .map(|(n, _, _)| *n)
        .collect()
}

pub fn start(state: &Path, pki: &Pki) -> Result<()> {
    let dir = state.join("cloud");
    mkdir(&dir, 0o700)?;
    let names = names();
    let (crt, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    pki.issue(&Leaf::server(CLOUD.dns, &names, &[]), &crt, &key)?;
    let sites: Vec<String> = names.iter().map(|n| format!("https://{n}")).collect();
    let caddyfile = format!(
        "# The lab's cloud edge (stand-in for a provider's API front end).\n\
         {{\n  admin off\n  auto_https disable_redirects\n}}\n\n\
         {sites} {{\n  tls {crt} {key}\n  log {{\n    output file {log}\n    format json\n  }}\n  reverse_proxy {upstream}:{PROVIDER_PORT}\n}}\n",
        sites = sites.join(", "),
        crt = crt.display(),
        key = key.display(),
        log = access_log(state).display(),
        upstream = PROVIDER_A.v4,
    );
    let cf = dir.join("Caddyfile");
    write_file(&cf, caddyfile.as_bytes(), 0o644)?;
    crate::proxy::spawn_caddy(state, "cloud", &CLOUD.netns(), &cf, &dir)?;
    crate::proxy::wait_listening(state, &CLOUD.netns(), "443", "cloud")
}

/// Hosts Caddy logged a request for (the names that were reached), in log order.
pub fn hosts_reached(state: &Path) -> Vec<String> {
    std::fs::read_to_string(access_log(state))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["request"]["host"].as_str().map(str::to_string))
        .collect()
}
