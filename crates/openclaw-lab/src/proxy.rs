//! The proxy host: Caddy (Debian 2.6.2) in front of the gateway with forward_auth to the
//! identity fixture (stand-in for Keycloak) and a TLS certificate from the lab CA.
//! The Caddyfile is the rendered one when `openclaw-render` renders it; until its Caddy
//! renderer lands the lab writes one from the spec's `[proxy]` section.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::spec::{ProxyTls, Spec};
use openclaw_render::Artifact;

use crate::cmd::{output_within, wait_for};
use crate::components;
use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, netns_command, spawn, write_file, Spawn};
use crate::topology::PROXY;

/// Where the identity fixture listens, inside the proxy's namespace.
pub const IDENTITY_LISTEN: &str = "127.0.0.1:9091";

fn fallback_caddyfile(spec: &Spec) -> Result<String> {
    let p = spec
        .proxy
        .as_ref()
        .context("the lab needs [proxy] in the spec")?;
    let tls = match &p.tls {
        ProxyTls::Files { cert, key } => format!("tls {cert} {key}"),
        ProxyTls::Internal => "tls internal".into(),
        ProxyTls::Auto { .. } => String::new(),
    };
    let fa = p
        .forward_auth
        .as_ref()
        .map(|f| {
            format!(
                "  forward_auth {} {{\n    uri {}\n    copy_headers {}\n  }}\n",
                f.upstream,
                f.uri,
                f.copy_headers.join(" ")
            )
        })
        .unwrap_or_default();
    Ok(format!(
        "# Lab fallback Caddyfile (openclaw-render renders none yet).\n{{\n  admin off\n  auto_https disable_redirects\n}}\n\n\
         {site} {{\n  {tls}\n{fa}  reverse_proxy {up}\n}}\n",
        site = p.site,
        up = p.upstream
    ))
}

pub fn start(spec: &Spec, state: &Path, pki: &Pki, arts: &[Artifact]) -> Result<()> {
    let dir = state.join("proxy");
    mkdir(&dir, 0o700)?;
    let p = spec
        .proxy
        .as_ref()
        .context("the lab needs [proxy] in the spec")?;
    if let ProxyTls::Files { cert, key } = &p.tls {
        let host = p.site.split(':').next().unwrap_or(&p.site).to_string();
        pki.issue(
            &Leaf::server(&host, &[&host], &[PROXY.v4.to_string()]),
            Path::new(cert),
            Path::new(key),
        )?;
    }
    let caddyfile = match arts.iter().find(|a| a.path.ends_with("Caddyfile")) {
        Some(a) => a.content.clone(),
        None => fallback_caddyfile(spec)?,
    };
    let cf = dir.join("Caddyfile");
    write_file(&cf, caddyfile.as_bytes(), 0o644)?;
    let lab = state.join("bin/openclaw-lab").display().to_string();
    spawn(
        state,
        &Spawn {
            name: "identity",
            netns: &PROXY.netns(),
            argv: vec![
                lab,
                "serve".into(),
                "identity".into(),
                "--listen".into(),
                IDENTITY_LISTEN.into(),
            ],
            env: vec![],
            user: None,
            cwd: None,
        },
    )?;
    spawn_caddy(state, "proxy", &PROXY.netns(), &cf, &dir)?;
    let port = p
        .site
        .rsplit_once(':')
        .map(|(_, p)| p.to_string())
        .unwrap_or_else(|| "443".into());
    wait_listening(state, &PROXY.netns(), &port, "proxy")
}

/// Runs Caddy with `caddyfile` in `netns` as the lab process `name`, its data under `dir`.
pub fn spawn_caddy(
    state: &Path,
    name: &str,
    netns: &str,
    caddyfile: &Path,
    dir: &Path,
) -> Result<()> {
    spawn(
        state,
        &Spawn {
            name,
            netns,
            argv: vec![
                components::caddy()?.display().to_string(),
                "run".into(),
                "--config".into(),
                caddyfile.display().to_string(),
                "--adapter".into(),
                "caddyfile".into(),
            ],
            env: vec![
                (
                    "XDG_DATA_HOME".into(),
                    dir.join("data").display().to_string(),
                ),
                (
                    "XDG_CONFIG_HOME".into(),
                    dir.join("config").display().to_string(),
                ),
            ],
            user: None,
            cwd: Some(dir.to_path_buf()),
        },
    )?;
    Ok(())
}

/// Waits up to 20 s for a TCP listener on `port` in `netns`; the error names the log of the
/// lab process `log` that should have opened it.
pub fn wait_listening(state: &Path, netns: &str, port: &str, log: &str) -> Result<()> {
    let ok = wait_for(Duration::from_secs(20), Duration::from_millis(200), || {
        let mut c = netns_command(
            netns,
            None,
            &["ss".into(), "-Hltn".into(), format!("sport = :{port}")],
        );
        let out = output_within(&mut c, Duration::from_secs(3)).ok()?;
        (!out.stdout.is_empty()).then_some(())
    });
    if ok.is_none() {
        bail!(
            "nothing listens on {port} in {netns} after 20 s; see {}",
            crate::state::logfile(state, log).display()
        );
    }
    Ok(())
}
