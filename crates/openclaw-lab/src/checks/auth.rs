//! Gateway auth, on the gateway host: the public health endpoints answer, the protected
//! `POST /tools/invoke` and the WebSocket `connect` reject no token and a wrong token and
//! accept the rendered one.
//! Through the proxy (when the spec has one and this host resolves its site): rejected
//! without the forward-auth identity, passed with it.

use std::time::Duration;

use anyhow::{Context, Result};
use openclaw_render::spec::{SecretLocation, Spec};
use serde_json::json;

use super::Report;
use crate::cmd::output_within;

/// Status of one curl request; headers/body given through a 0600 temp file (never argv).
pub fn curl_status(
    url: &str,
    method: &str,
    header_lines: &[String],
    body: Option<&str>,
    cacert: Option<&str>,
) -> Result<u16> {
    let dir = tempfile_dir()?;
    let hf = dir.join("headers");
    crate::state::write_file(&hf, header_lines.join("\n").as_bytes(), 0o600)?;
    let mut c = std::process::Command::new("curl");
    c.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "10",
        "-X",
        method,
    ]);
    if !header_lines.is_empty() {
        c.arg("-H").arg(format!("@{}", hf.display()));
    }
    if let Some(b) = body {
        let bf = dir.join("body");
        crate::state::write_file(&bf, b.as_bytes(), 0o600)?;
        c.arg("-H")
            .arg("Content-Type: application/json")
            .arg("--data-binary")
            .arg(format!("@{}", bf.display()));
    }
    if let Some(ca) = cacert {
        c.arg("--cacert").arg(ca);
    }
    c.arg(url);
    let out = output_within(&mut c, Duration::from_secs(15))?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0))
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let d = std::env::temp_dir().join(format!(
        "olab-auth-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos()
    ));
    crate::state::mkdir(&d, 0o700)?;
    Ok(d)
}

/// The gateway token as the agent rendered it (root can read it).
pub fn gateway_token(spec: &Spec) -> Result<String> {
    let name = spec
        .gateway
        .token
        .as_ref()
        .context("gateway.token is not set")?;
    match spec
        .secret_location(name)
        .context("gateway.token names no secret")?
    {
        SecretLocation::File { path } => Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading {path}"))?
            .trim_end_matches('\n')
            .to_string()),
        SecretLocation::Env { file, var } => {
            let text = std::fs::read_to_string(&file)?;
            crate::units::parse_env_file(&text)
                .into_iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v)
                .context("token var missing")
        }
    }
}

/// Whether `token` is accepted by `POST /tools/invoke` at `base` (401/403 = rejected).
pub fn token_accepted(base: &str, token: Option<&str>) -> Result<(bool, u16)> {
    let headers: Vec<String> = token
        .map(|t| vec![format!("Authorization: Bearer {t}")])
        .unwrap_or_default();
    let code = curl_status(
        &format!("{base}/tools/invoke"),
        "POST",
        &headers,
        Some(r#"{"tool":"sessions_list","args":{}}"#),
        None,
    )?;
    Ok((code != 0 && code != 401 && code != 403 && code != 429, code))
}

pub fn run(spec: &Spec) -> Result<Report> {
    let mut r = Report::new("auth");
    let base = format!("http://127.0.0.1:{}", spec.gateway.port);
    for p in ["/healthz", "/readyz"] {
        let c = curl_status(&format!("{base}{p}"), "GET", &[], None, None)?;
        r.push(format!("GET {p} (public)"), "200", c.to_string(), c == 200);
    }
    let token = gateway_token(spec)?;
    let wrong = format!("{}x", &token[..token.len().saturating_sub(1)]);
    let (ok, c) = token_accepted(&base, None)?;
    r.push(
        "POST /tools/invoke without a token",
        "rejected",
        format!("{} ({c})", if ok { "accepted" } else { "rejected" }),
        !ok && c == 401,
    );
    let (ok, c) = token_accepted(&base, Some(&wrong))?;
    r.push(
        "POST /tools/invoke with a wrong token",
        "rejected",
        format!("{} ({c})", if ok { "accepted" } else { "rejected" }),
        !ok && c == 401,
    );
    let (ok, c) = token_accepted(&base, Some(&token))?;
    r.push(
        "POST /tools/invoke with the rendered token",
        "accepted",
        format!("{} ({c})", if ok { "accepted" } else { "rejected" }),
        ok,
    );
    ws_checks(&mut r, spec.gateway.port, &token)?;
    r.counts.insert("base".into(), json!(base));
    Ok(r)
}

/// The WebSocket `connect` without a token, with a wrong one and with the rendered one,
/// through `openclaw-probe`'s handshake (the same code the probe unit runs).
fn ws_checks(r: &mut Report, port: u16, token: &str) -> Result<()> {
    use openclaw_probe::ws::{connect_check, WsOutcome};
    let target: openclaw_probe::HttpTarget = format!("http://127.0.0.1:{port}").parse()?;
    let right = openclaw_probe::Token::from_secret(token)
        .map_err(|m| anyhow::anyhow!("the rendered gateway token is unusable: {m}"))?;
    let wrong = openclaw_probe::Token::wrong(Some(&right));
    let limit = Duration::from_secs(10);
    let has = |c: &Option<String>, want: &str| c.as_deref() == Some(want);
    let cases = [
        ("without a token", None, "NOT_PAIRED, close 1008"),
        (
            "with a wrong token",
            Some(&wrong),
            "AUTH_TOKEN_MISMATCH, close 1008",
        ),
        ("with the rendered token", Some(&right), "hello-ok"),
    ];
    for (i, (what, tok, want)) in cases.into_iter().enumerate() {
        let o = connect_check(&target, tok, limit);
        let ok = match (&o, i) {
            (
                WsOutcome::Rejected {
                    error_code,
                    close_code,
                    ..
                },
                0,
            ) => has(error_code, "NOT_PAIRED") && *close_code == Some(1008),
            (
                WsOutcome::Rejected {
                    error_code,
                    detail_code,
                    close_code,
                    ..
                },
                1,
            ) => {
                (has(error_code, "AUTH_TOKEN_MISMATCH") || has(detail_code, "AUTH_TOKEN_MISMATCH"))
                    && *close_code == Some(1008)
            }
            (WsOutcome::Accepted { .. }, 2) => true,
            _ => false,
        };
        // describe() carries codes and the server's message, never the token.
        r.push(format!("WebSocket connect {what}"), want, o.describe(), ok);
    }
    Ok(())
}
