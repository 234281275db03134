//! step-ca (0.19.0, built from Debian's Go sources) with a hand-written `ca.json`: no step
//! CLI exists here. The intermediate from [`crate::pki`] signs; certificates live minutes
//! (`defaultTLSCertDuration: 5m`), so renewals happen while the tests run.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cmd::{output_within, wait_for};
use crate::pki::Pki;
use crate::state::{mkdir, netns_command, spawn, write_file, Spawn};
use crate::topology::CA;

pub const PORT: u16 = 9000;

pub fn url() -> String {
    format!("https://{}:{PORT}", CA.dns)
}

/// Writes `ca.json` and starts step-ca in the `ca` namespace; waits for `/health`.
pub fn start(state: &Path, pki: &Pki, step_ca: &Path) -> Result<()> {
    let dir = state.join("ca");
    mkdir(&dir, 0o700)?;
    let cfg = json!({
        "root": pki.root_crt(),
        "federatedRoots": [],
        "crt": pki.int_crt(),
        "key": pki.int_key(),
        "address": format!(":{PORT}"),
        "dnsNames": [CA.dns, CA.v4.to_string(), CA.v6.to_string()],
        "logger": {"format": "text"},
        "db": {"type": "badgerv2", "dataSource": dir.join("db")},
        "authority": {
            // Renewal (`/renew`, mTLS) needs no provisioner; one ACME provisioner makes the
            // authority start and lets Caddy or others use ACME later.
            "provisioners": [{"type": "ACME", "name": "acme"}],
            "claims": {
                "minTLSCertDuration": "1m",
                "defaultTLSCertDuration": "5m",
                "maxTLSCertDuration": "24h",
                "disableRenewal": false
            }
        },
        "tls": {
            "cipherSuites": ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"],
            "minVersion": 1.2, "maxVersion": 1.3, "renegotiation": false
        }
    });
    let cfg_path = dir.join("ca.json");
    write_file(
        &cfg_path,
        serde_json::to_string_pretty(&cfg)?.as_bytes(),
        0o600,
    )?;
    spawn(
        state,
        &Spawn {
            name: "ca",
            netns: &CA.netns(),
            argv: vec![
                step_ca.display().to_string(),
                cfg_path.display().to_string(),
            ],
            env: vec![("STEPPATH".into(), dir.display().to_string())],
            user: None,
            cwd: Some(dir.clone()),
        },
    )?;
    let ok = wait_for(Duration::from_secs(30), Duration::from_millis(200), || {
        health(pki, &CA.netns()).ok().filter(|b| *b).map(|_| ())
    });
    if ok.is_none() {
        bail!(
            "step-ca did not answer /health within 30 s; see {}",
            crate::state::logfile(state, "ca").display()
        );
    }
    Ok(())
}

/// `GET /health` from inside `netns`, verified against the lab root.
pub fn health(pki: &Pki, netns: &str) -> Result<bool> {
    let mut c = netns_command(
        netns,
        None,
        &[
            "curl".into(),
            "-sS".into(),
            "--max-time".into(),
            "3".into(),
            "--cacert".into(),
            pki.root_crt().display().to_string(),
            format!("{}/health", url()),
        ],
    );
    let out = output_within(&mut c, Duration::from_secs(5)).context("curl /health")?;
    Ok(String::from_utf8_lossy(&out.stdout).contains("\"ok\""))
}
