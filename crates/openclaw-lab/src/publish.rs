//! What a browser on this machine can reach: the proxy host's Caddy (the WebChat behind
//! forward auth) published on `127.0.0.1` and `::1`, entering the lab where a LAN client's
//! browser would (the LAN host), and, for the browser check, a page on
//! another origin of the same site ([`OTHER_ORIGIN`], served by Caddy on the LAN host) that
//! tries to use the gateway from there. Nothing listens on any other interface.
//!
//! A browser resolves the lab's names to loopback itself: Chromium with
//! `--host-resolver-rules` ([`resolver_rules`]), another browser with a hosts-file line.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use openclaw_render::spec::Spec;

use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, spawn, write_file, Spawn, MACHINE};
use crate::topology::{LAN_CANARY, PROXY};

/// The page on another origin: a LAN web app the user also has open.
pub const OTHER_NAME: &str = "other.olab.test";
pub const OTHER_PORT: u16 = 8444;
pub const OTHER_ORIGIN: &str = "https://other.olab.test:8444";

/// The proxy site's host name and port (`[proxy].site`, port 443 when none is given).
pub fn proxy_site(spec: &Spec) -> Result<(String, u16)> {
    let site = &spec
        .proxy
        .as_ref()
        .context("the lab needs [proxy] in the spec")?
        .site;
    Ok(match site.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().context("[proxy].site port")?),
        None => (site.clone(), 443),
    })
}

/// The WebChat's address for a browser on this machine.
pub fn webchat_url(spec: &Spec) -> Result<String> {
    let (host, port) = proxy_site(spec)?;
    Ok(if port == 443 {
        format!("https://{host}/")
    } else {
        format!("https://{host}:{port}/")
    })
}

/// Chromium's flag that sends the lab's names to this machine's loopback.
pub fn resolver_rules(spec: &Spec) -> Result<String> {
    let (host, _) = proxy_site(spec)?;
    Ok(format!("MAP {host} 127.0.0.1, MAP {OTHER_NAME} 127.0.0.1"))
}

fn loopback(port: u16) -> [SocketAddr; 2] {
    [
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
    ]
}

fn forward(state: &Path, name: &str, port: u16, netns: &str, to: SocketAddr) -> Result<()> {
    let mut argv = vec![
        state.join("bin/openclaw-lab").display().to_string(),
        "serve".into(),
        "forward".into(),
    ];
    for a in loopback(port) {
        argv.extend(["--listen".into(), a.to_string()]);
    }
    argv.extend([
        "--netns".into(),
        netns.into(),
        "--to".into(),
        to.to_string(),
    ]);
    spawn(
        state,
        &Spawn {
            name,
            netns: MACHINE,
            argv,
            env: vec![],
            user: None,
            cwd: None,
        },
    )?;
    wait_machine_listening(port)
        .with_context(|| format!("see {}", crate::state::logfile(state, name).display()))
}

fn wait_machine_listening(port: u16) -> Result<()> {
    crate::cmd::wait_for(Duration::from_secs(10), Duration::from_millis(100), || {
        std::net::TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            Duration::from_millis(500),
        )
        .ok()
    })
    .map(|_| ())
    .with_context(|| {
        format!("nothing answers on 127.0.0.1:{port} (is the port taken on this machine?)")
    })
}

/// Publishes the proxy and starts the other-origin page (with its published port).
pub fn start(spec: &Spec, state: &Path, pki: &Pki) -> Result<()> {
    let (_, port) = proxy_site(spec)?;
    // From the LAN host, as a LAN client's browser: Caddy and the gateway then see a client
    // address that is not the proxy's own (the gateway refuses to attribute one that is).
    forward(
        state,
        "publish-proxy",
        port,
        &LAN_CANARY.netns(),
        SocketAddr::new(IpAddr::V4(PROXY.v4), port),
    )?;
    start_other_origin(state, pki)?;
    forward(
        state,
        "publish-other-origin",
        OTHER_PORT,
        &LAN_CANARY.netns(),
        SocketAddr::new(IpAddr::V4(LAN_CANARY.v4), OTHER_PORT),
    )
}

fn other_dir(state: &Path) -> PathBuf {
    state.join("other-origin")
}

/// The other origin's certificate (the browser check trusts exactly it and the proxy's).
pub fn other_cert(state: &Path) -> PathBuf {
    other_dir(state).join("tls.crt")
}

/// Caddy on the LAN host serving [`OTHER_PAGE`] with a lab-CA certificate.
fn start_other_origin(state: &Path, pki: &Pki) -> Result<()> {
    let dir = other_dir(state);
    mkdir(&dir, 0o700)?;
    mkdir(&dir.join("www"), 0o755)?;
    write_file(
        &dir.join("www/index.html"),
        OTHER_PAGE.replace("@CONNECT@", CONNECT_JS).as_bytes(),
        0o644,
    )?;
    let (crt, key) = (other_cert(state), dir.join("tls.key"));
    pki.issue(&Leaf::server(OTHER_NAME, &[OTHER_NAME], &[]), &crt, &key)?;
    let caddyfile = format!(
        "# A web page on another origin of the lab's site (the browser check's cross-origin page).\n\
         {{\n  admin off\n  auto_https disable_redirects\n}}\n\n\
         https://{OTHER_NAME}:{OTHER_PORT} {{\n  tls {crt} {key}\n  root * {www}\n  file_server\n}}\n",
        crt = crt.display(),
        key = key.display(),
        www = dir.join("www").display(),
    );
    let cf = dir.join("Caddyfile");
    write_file(&cf, caddyfile.as_bytes(), 0o644)?;
    crate::proxy::spawn_caddy(state, "other-origin", &LAN_CANARY.netns(), &cf, &dir)?;
    crate::proxy::wait_listening(
        state,
        &LAN_CANARY.netns(),
        &OTHER_PORT.to_string(),
        "other-origin",
    )
}

/// `olabConnect(url, token)`: opens the gateway's WebSocket from the page it runs on, answers
/// the challenge with a Control-UI-shaped `connect` and resolves to the first answer
/// (`{ok, code, message}`) or to how the socket closed. The browser check runs the same
/// function on the allowed origin (the control) and on [`OTHER_ORIGIN`].
pub const CONNECT_JS: &str = r#"function olabConnect(url, token) {
  return new Promise(function (resolve) {
    var done = false;
    function finish(r) { if (!done) { done = true; try { ws.close(); } catch (e) {} resolve(r); } }
    var ws = new WebSocket(url);
    var timer = setTimeout(function () { finish({ok: false, code: "TIMEOUT", message: "no answer in 15 s"}); }, 15000);
    ws.onmessage = function (m) {
      var f = JSON.parse(m.data);
      if (f.type === "event" && f.event === "connect.challenge") {
        ws.send(JSON.stringify({type: "req", id: "olab-origin", method: "connect", params: {
          minProtocol: 3, maxProtocol: 4,
          client: {id: "openclaw-control-ui", version: "lab", platform: "web", mode: "webchat"},
          auth: {token: token}}}));
      } else if (f.type === "res" && f.id === "olab-origin") {
        clearTimeout(timer);
        finish({ok: !!f.ok, code: (f.error && (f.error.details && f.error.details.code || f.error.code)) || (f.ok ? "OK" : "ERROR"),
                message: (f.error && f.error.message) || ""});
      }
    };
    ws.onclose = function (e) { clearTimeout(timer); finish({ok: false, code: "CLOSED_" + e.code, message: e.reason || ""}); };
  });
}"#;

/// The other origin's page: runs [`CONNECT_JS`] against the gateway behind the proxy with the
/// token from its own `#token=` fragment (the worst case: an attacker page that has the
/// token) and shows the answer.
const OTHER_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another origin</title></head><body>
<h1>A page on another origin</h1>
<p>This page tries to use the OpenClaw gateway behind the lab's proxy from its own origin.</p>
<pre id="olab-result">connecting…</pre>
<script>
@CONNECT@
var params = new URLSearchParams(location.hash.slice(1));
olabConnect(params.get("gateway"), params.get("token")).then(function (r) {
  window.olabResult = r;
  document.getElementById("olab-result").textContent = JSON.stringify(r, null, 2);
});
</script>
</body></html>
"#;
