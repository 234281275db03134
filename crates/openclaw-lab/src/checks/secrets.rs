//! Secrets, on the gateway host as root: the agent rendered every file, secretcheck accepts
//! the live set, the machine certificate chains to the root and is valid, and no secret
//! value appears in any process's argv, in openclaw.json or in any log the lab knows of.

use std::path::Path;

use anyhow::Result;
use openclaw_render::render::bao_agent;
use openclaw_render::spec::Spec;
use serde_json::json;

use super::Report;
use crate::cmd::{output_within, run as run_cmd};

/// Values of every rendered secret (single files whole, env files per line).
pub fn secret_values(spec: &Spec) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for f in spec.rendered_secret_files() {
        let Ok(text) = std::fs::read_to_string(&f.path) else {
            continue;
        };
        match f.kind {
            openclaw_render::spec::SecretFileKind::Single => {
                v.push((f.path.clone(), text.trim_end_matches('\n').to_string()))
            }
            openclaw_render::spec::SecretFileKind::Env => {
                for (k, val) in crate::units::parse_env_file(&text) {
                    v.push((format!("{}:{k}", f.path), val));
                }
            }
        }
    }
    v.retain(|(_, s)| s.len() >= 8);
    v
}

/// Files scanned for leaks: openclaw.json, the gateway's log file, the lab's logs.
fn scanned_files(spec: &Spec) -> Vec<std::path::PathBuf> {
    let mut files = vec![std::path::PathBuf::from(&spec.paths.config)];
    if let Some(l) = &spec.hardening.log_file {
        if let Some(d) = Path::new(l).parent() {
            walk(d, &mut files);
        }
    }
    walk(&crate::state::state_dir().join("logs"), &mut files);
    files
}

fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

pub fn run(spec: &Spec) -> Result<Report> {
    let mut r = Report::new("secrets");
    let files = spec.rendered_secret_files();
    for f in &files {
        r.push(
            format!("rendered {}", f.path),
            "present",
            if Path::new(&f.path).exists() {
                "present"
            } else {
                "missing"
            },
            Path::new(&f.path).exists(),
        );
    }
    let mut c = std::process::Command::new(&spec.paths.secretcheck_bin);
    c.arg("check").args(bao_agent::secretcheck_args(spec));
    let out = output_within(&mut c, std::time::Duration::from_secs(20))?;
    r.push(
        "openclaw-secretcheck check (live set)",
        "exit 0",
        format!("exit {}", out.status.code().unwrap_or(-1)),
        out.status.success(),
    );
    if let Some(m) = &spec.machine_cert {
        let verify = run_cmd(
            "openssl",
            &[
                "verify",
                "-CAfile",
                &m.root_ca,
                "-untrusted",
                &m.cert,
                &m.cert,
            ],
        )
        .is_ok();
        r.push(
            "machine certificate chains to the root",
            "verified",
            if verify { "verified" } else { "not verified" },
            verify,
        );
        let left = crate::pki::seconds_left(Path::new(&m.cert)).unwrap_or(-1);
        r.push(
            "machine certificate valid",
            "> 0 s left",
            format!("{left} s left"),
            left > 0,
        );
    }
    let values = secret_values(spec);
    r.push(
        "secret values found to scan for",
        ">= 1",
        values.len().to_string(),
        !values.is_empty(),
    );
    // argv of every process on the machine.
    let mut argv_hits = 0;
    let mut procs = 0;
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
                procs += 1;
                let s = String::from_utf8_lossy(&cmd);
                argv_hits += values
                    .iter()
                    .filter(|(_, v)| s.contains(v.as_str()))
                    .count();
            }
        }
    }
    r.push(
        format!("no secret in the argv of {procs} processes"),
        "0 hits",
        format!("{argv_hits} hits"),
        argv_hits == 0,
    );
    for f in scanned_files(spec) {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let s = String::from_utf8_lossy(&bytes);
        let hits: Vec<&str> = values
            .iter()
            .filter(|(_, v)| s.contains(v.as_str()))
            .map(|(n, _)| n.as_str())
            .collect();
        // Names only in the report, never values.
        r.push(
            format!("no secret in {}", f.display()),
            "0 hits",
            if hits.is_empty() {
                "0 hits".to_string()
            } else {
                format!("values of {}", hits.join(", "))
            },
            hits.is_empty(),
        );
    }
    r.counts.insert("values".into(), json!(values.len()));
    Ok(r)
}
