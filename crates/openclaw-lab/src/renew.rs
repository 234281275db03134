//! Renewal of the gateway's machine certificate through step-ca's `POST /renew` (mTLS with
//! the current certificate), the job `step ca renew` does where the step CLI exists. Here the
//! client is curl; the private key never changes and never leaves its 0600 file.
//!
//! The new chain (leaf + intermediate) replaces the certificate file atomically, so the
//! OpenBao agent (`reload = true`) picks it up at its next login.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::cmd::output_within;
use crate::pki;
use crate::state::write_file;

pub struct Renewal<'a> {
    pub ca_url: &'a str,
    pub root_ca: &'a Path,
    pub cert: &'a Path,
    pub key: &'a Path,
    pub renew_before: Duration,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    NotDue {
        seconds_left: i64,
    },
    Renewed {
        old_serial: String,
        new_serial: String,
        seconds_left: i64,
    },
}

/// Renews when less than `renew_before` is left (or when `force`).
pub fn renew_if_due(r: &Renewal, force: bool) -> Result<Outcome> {
    let left = pki::seconds_left(r.cert)?;
    if !force && left > r.renew_before.as_secs() as i64 {
        return Ok(Outcome::NotDue { seconds_left: left });
    }
    let old_serial = pki::serial(r.cert)?;
    let mut c = std::process::Command::new("curl");
    c.args(["-sS", "--fail-with-body", "--max-time", "10", "-X", "POST"])
        .arg("--cacert")
        .arg(r.root_ca)
        .arg("--cert")
        .arg(r.cert)
        .arg("--key")
        .arg(r.key)
        .arg(format!("{}/renew", r.ca_url.trim_end_matches('/')));
    let out = output_within(&mut c, Duration::from_secs(15))?;
    if !out.status.success() {
        bail!(
            "step-ca /renew failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("step-ca /renew answer is not JSON")?;
    // certChain = [leaf, intermediate]; older answers carry crt + ca.
    let chain: Vec<String> = match v["certChain"].as_array() {
        Some(a) if !a.is_empty() => a
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
        _ => [&v["crt"], &v["ca"]]
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect(),
    };
    if chain.is_empty() || !chain[0].contains("BEGIN CERTIFICATE") {
        bail!("step-ca /renew answered without a certificate");
    }
    let mut pem = String::new();
    for c in &chain {
        pem.push_str(c.trim_end());
        pem.push('\n');
    }
    write_file(r.cert, pem.as_bytes(), 0o644)?;
    Ok(Outcome::Renewed {
        old_serial,
        new_serial: pki::serial(r.cert)?,
        seconds_left: pki::seconds_left(r.cert)?,
    })
}
