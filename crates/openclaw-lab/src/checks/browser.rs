//! `check browser`: the WebChat as a person uses it, in real headless Chromium (Debian's, driven
//! through Debian's chromium-driver by `fantoccini`) on this machine, through the proxy that
//! `up` publishes on loopback: Caddy, forward auth to the identity fixture, the gateway.
//!
//! Each state a person sees is asserted from the page's own text and saved as a screenshot:
//! 1. no identity: the identity fixture's sign-in page (Caddy refused the request);
//! 2. signed in: the Control UI loads and asks for the gateway's token;
//! 3. a wrong token: the UI's auth error;
//! 4. the right token: the UI asks for the one-time device approval; the check approves the
//!    request id the page shows, on the gateway host, as the runbook says; the UI connects;
//! 5. a message sent in WebChat gets the LLM fixture's answer on the page;
//! 6. a page on another origin of the same site, holding the token, is refused by the
//!    gateway's allowed origins; the control runs the same code on the allowed origin and gets
//!    past the origin check.
//!
//! Why fantoccini: the W3C WebDriver protocol is what chromium-driver (packaged with the
//! browser, so always its version) speaks; the CDP crates generate their bindings by downloading
//! the protocol at build time, which an offline build cannot do.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use openclaw_render::spec::{SecretLocation, Spec};
use serde_json::{json, Value};

use super::Report;
use crate::fixtures::llm::REPLY;
use crate::publish::{self, CONNECT_JS, OTHER_ORIGIN};

/// What the page says in each state (OpenClaw 2026.9.6's Control UI, the identity fixture).
const SIGN_IN_TEXT: &str = "Sign in to the lab";
const ASKS_TOKEN_TEXT: &str = "This Gateway expects its token";
const WRONG_TOKEN_TEXT: &str = "rejected the supplied Gateway secret";
const APPROVE_TEXT: &str = "openclaw devices approve ";
const CONNECTED_TEXT: &str = "Connected";
const ORIGIN_REFUSED: &str = "CONTROL_UI_ORIGIN_NOT_ALLOWED";

/// Chromium-driver as a child process on a free loopback port; killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(log: &Path) -> Result<Self> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new(crate::components::chromedriver()?)
            .arg(format!("--port={port}"))
            // At INFO the driver logs every command with its arguments, the token's URL among
            // them: only errors go to the log.
            .arg("--log-level=SEVERE")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let d = Driver { child, port };
        crate::cmd::wait_for(Duration::from_secs(20), Duration::from_millis(100), || {
            TcpStream::connect_timeout(
                &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
                Duration::from_millis(300),
            )
            .ok()
        })
        .with_context(|| format!("chromedriver did not listen: see {}", log.display()))?;
        Ok(d)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SHA-256 of a certificate's public key, base64: what Chromium's SPKI allowlist takes. The
/// browser trusts exactly the lab's two site certificates, not every certificate.
fn spki_hash(cert: &Path) -> Result<String> {
    let out = Command::new("sh")
        .args([
            "-c",
            "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der \
             | openssl dgst -sha256 -binary | base64 -w0",
            "sh",
        ])
        .arg(cert)
        .output()?;
    let h = String::from_utf8(out.stdout)?;
    if !out.status.success() || h.len() != 44 {
        bail!(
            "SPKI hash of {}: {}",
            cert.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(h)
}

fn gateway_token(spec: &Spec) -> Result<String> {
    let name = spec
        .gateway
        .token
        .as_ref()
        .context("the spec has no gateway.token")?;
    match spec.secret_location(name) {
        Some(SecretLocation::File { path }) => Ok(std::fs::read_to_string(&path)
            .with_context(|| format!("reading the rendered token {path}"))?
            .trim()
            .to_string()),
        _ => bail!("the browser check reads the gateway token from its rendered file"),
    }
}

/// Where the screenshots go by default.
pub fn default_out(state: &Path) -> PathBuf {
    state.join("browser")
}

pub fn run(spec: &Spec, state: &Path, out: &Path) -> Result<Report> {
    std::fs::create_dir_all(out)?;
    let profile = tempfile_dir(state)?;
    let driver = Driver::start(&crate::state::logfile(state, "chromedriver"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let res = rt.block_on(session(spec, state, out, driver.port, &profile));
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    let mut r = res?;
    let leaked = logs_holding(&state.join("logs"), &gateway_token(spec)?);
    r.push(
        "the token in the lab's logs (driver, Caddy, fixtures)",
        "absent",
        if leaked.is_empty() {
            "absent".to_string()
        } else {
            format!("IN {}", leaked.join(", "))
        },
        leaked.is_empty(),
    );
    Ok(r)
}

/// The log files under `dir` that contain `secret`.
fn logs_holding(dir: &Path, secret: &str) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return vec![];
    };
    rd.flatten()
        .filter(|e| {
            std::fs::read(e.path())
                .is_ok_and(|b| b.windows(secret.len()).any(|w| w == secret.as_bytes()))
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn tempfile_dir(state: &Path) -> Result<PathBuf> {
    let d = state.join(format!("browser-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    crate::state::mkdir(&d, 0o700)?;
    Ok(d)
}

async fn session(
    spec: &Spec,
    state: &Path,
    out: &Path,
    port: u16,
    profile: &Path,
) -> Result<Report> {
    let proxy_cert = match spec.proxy.as_ref().map(|p| &p.tls) {
        Some(openclaw_render::spec::ProxyTls::Files { cert, .. }) => PathBuf::from(cert),
        _ => {
            bail!("the browser check needs [proxy.tls] mode = \"files\" (the lab CA's certificate)")
        }
    };
    let certs = [proxy_cert, publish::other_cert(state)];
    let spki: Vec<String> = certs.iter().map(|c| spki_hash(c)).collect::<Result<_>>()?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": crate::components::chromium()?,
            "args": [
                "--headless=new",
                // Chromium refuses to run as root with its own sandbox; the browser is the
                // test's client here, not what the check is about.
                "--no-sandbox",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
                format!("--host-resolver-rules={}", publish::resolver_rules(spec)?),
                format!("--ignore-certificate-errors-spki-list={}", spki.join(",")),
            ],
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("connecting to chromedriver")?;
    let mut r = Report::new("browser");
    let res = steps(&c, spec, out, &mut r).await;
    if let Err(e) = &res {
        let _ = shot(&c, out, "failed").await;
        r.push("browser session", "completes", format!("{e:#}"), false);
    }
    let _ = c.close().await;
    r.counts
        .insert("screenshots".into(), Value::from(out.display().to_string()));
    Ok(r)
}

async fn shot(c: &Client, out: &Path, name: &str) -> Result<PathBuf> {
    let p = out.join(format!("{name}.png"));
    std::fs::write(&p, c.screenshot().await?)?;
    Ok(p)
}

async fn page_text(c: &Client) -> String {
    c.execute(
        "return document.body ? document.body.innerText : ''",
        vec![],
    )
    .await
    .ok()
    .and_then(|v| v.as_str().map(str::to_string))
    .unwrap_or_default()
}

/// Polls the page's text until it contains `needle`; the text, or an error quoting it.
async fn wait_text(c: &Client, needle: &str, limit: Duration) -> Result<String> {
    wait_until(c, limit, |t| t.contains(needle))
        .await
        .with_context(|| format!("waiting for {needle:?}"))
}

/// Polls the page's text until `done` holds; the text, or an error quoting it.
async fn wait_until(c: &Client, limit: Duration, done: impl Fn(&str) -> bool) -> Result<String> {
    let t0 = Instant::now();
    loop {
        let t = page_text(c).await;
        if done(&t) {
            return Ok(t);
        }
        if t0.elapsed() > limit {
            bail!(
                "not on the page after {} s; it shows: {}",
                limit.as_secs(),
                first_line_of(&t)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Presses Enter in the composer until the message shows in the transcript (the app may
/// still be loading the session's history when the first key arrives); whether it did.
async fn send_and_wait(c: &Client, message: &str) -> Result<bool> {
    for _ in 0..3 {
        focus_composer(c).await?.send_keys("\u{E007}").await?; // WebDriver's Enter key
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            // Sent: the composer is empty again and the transcript shows the message.
            let in_composer = c.execute(FOCUS_COMPOSER_JS, vec![json!("text")]).await?;
            let pending = in_composer.as_str().is_some_and(|t| t.contains(message));
            if !pending && page_text(c).await.contains(message) {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    Ok(false)
}

fn first_line_of(t: &str) -> String {
    let s: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(160).collect()
}

/// Loads `url` as a new document (a bare fragment change would not reload the app).
async fn open(c: &Client, url: &str) -> Result<()> {
    c.goto("about:blank").await?;
    c.goto(url).await?;
    Ok(())
}

async fn steps(c: &Client, spec: &Spec, out: &Path, r: &mut Report) -> Result<()> {
    let url = publish::webchat_url(spec)?;
    let token = gateway_token(spec)?;

    open(c, &url).await?;
    wait_text(c, SIGN_IN_TEXT, Duration::from_secs(30)).await?;
    let control_ui_shown = page_text(c).await.contains("Gateway secret");
    shot(c, out, "01-sign-in-required").await?;
    r.push(
        "through Caddy without an identity",
        "refused",
        "the identity provider's sign-in page, no Control UI",
        !control_ui_shown,
    );

    c.find(Locator::Id("olab-user")).await?.clear().await?;
    c.find(Locator::Id("olab-user"))
        .await?
        .send_keys("lab-user")
        .await?;
    c.find(Locator::Id("olab-sign-in-button"))
        .await?
        .click()
        .await?;
    wait_text(c, ASKS_TOKEN_TEXT, Duration::from_secs(60)).await?;
    shot(c, out, "02-control-ui-asks-for-token").await?;
    r.push(
        "signed in: the Control UI loads",
        "asks for the token",
        ASKS_TOKEN_TEXT,
        true,
    );

    // A token of the right shape that is not the gateway's.
    let wrong = format!("{:0>48}", "0badc0ffee");
    open(c, &format!("{url}#token={wrong}")).await?;
    wait_text(c, WRONG_TOKEN_TEXT, Duration::from_secs(60)).await?;
    shot(c, out, "03-wrong-token").await?;
    r.push("a wrong token", "auth error", WRONG_TOKEN_TEXT, true);

    open(c, &format!("{url}#token={token}")).await?;
    let t = wait_text(c, APPROVE_TEXT, Duration::from_secs(60)).await?;
    shot(c, out, "04-approve-this-browser").await?;
    let request = request_id(&t).context("no request id after `devices approve`")?;
    approve_device(spec, &request)?;
    wait_text(c, CONNECTED_TEXT, Duration::from_secs(60)).await?;
    let composer = focus_composer(c)
        .await
        .context("no message composer after connecting")?;
    shot(c, out, "05-connected").await?;
    r.push(
        "the right token + the device approval the page asks for",
        "connected",
        format!("connected after `openclaw devices approve {request}`"),
        true,
    );

    // A message of this run only; the session may hold earlier turns with the same answer.
    let message = format!("hello from the browser check {}", std::process::id());
    let answers_before = page_text(c).await.matches(REPLY).count();
    composer.send_keys(&message).await?;
    let shown = send_and_wait(c, &message).await?;
    let t = wait_until(c, Duration::from_secs(120), |t| {
        t.matches(REPLY).count() > answers_before
    })
    .await?;
    shot(c, out, "06-webchat-answer").await?;
    r.push(
        "a WebChat message",
        "the model's answer on the page",
        format!(
            "message {}, answer shown ({} answers before, {} now)",
            if shown { "sent" } else { "NOT SENT" },
            answers_before,
            t.matches(REPLY).count()
        ),
        shown,
    );

    let ws = format!(
        "wss://{}/",
        url.trim_start_matches("https://").trim_end_matches('/')
    );
    let control = connect_from_page(c, &ws, &token).await?;
    let other = {
        open(c, &format!("{OTHER_ORIGIN}/#gateway={ws}&token={token}")).await?;
        wait_result(c).await?
    };
    shot(c, out, "07-other-origin-refused").await?;
    let code = |v: &Value| v["code"].as_str().unwrap_or("").to_string();
    r.push(
        format!(
            "control: the gateway's WebSocket from {}",
            url.trim_end_matches('/')
        ),
        "past the origin check",
        format!(
            "{} {}",
            code(&control),
            control["message"].as_str().unwrap_or("")
        ),
        code(&control) != ORIGIN_REFUSED
            && !code(&control).starts_with("CLOSED")
            && code(&control) != "TIMEOUT",
    );
    r.push(
        format!("the same code from {OTHER_ORIGIN}, with the token"),
        ORIGIN_REFUSED,
        code(&other),
        code(&other) == ORIGIN_REFUSED,
    );
    Ok(())
}

/// The app's components keep their inputs in shadow roots, out of reach of CSS locators:
/// find the composer (a textarea or an editable element) through them, focus it, and return
/// it as the browser's active element.
const FOCUS_COMPOSER_JS: &str = r#"
function find(root) {
  for (const el of root.querySelectorAll('*')) {
    if (el.matches('textarea, [contenteditable="true"], [role="textbox"]')) return el;
    if (el.shadowRoot) { const f = find(el.shadowRoot); if (f) return f; }
  }
  return null;
}
const el = find(document);
if (arguments[0] === "text") { return el ? (el.value !== undefined ? el.value : el.innerText) : null; }
if (el) { el.focus(); }
return !!el;"#;

async fn focus_composer(c: &Client) -> Result<fantoccini::elements::Element> {
    let t0 = Instant::now();
    while c.execute(FOCUS_COMPOSER_JS, vec![json!("focus")]).await? != json!(true) {
        if t0.elapsed() > Duration::from_secs(30) {
            bail!("no textarea or editable element on the page");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(c.active_element().await?)
}

/// Runs [`CONNECT_JS`] in the current page (the allowed origin).
async fn connect_from_page(c: &Client, ws: &str, token: &str) -> Result<Value> {
    let script =
        format!("{CONNECT_JS}\nolabConnect(arguments[0], arguments[1]).then(arguments[2]);");
    c.execute_async(&script, vec![json!(ws), json!(token)])
        .await
        .context("running the connect script on the allowed origin")
}

/// The other-origin page's `window.olabResult`, once its script has an answer.
async fn wait_result(c: &Client) -> Result<Value> {
    let t0 = Instant::now();
    loop {
        let v = c
            .execute("return window.olabResult || null", vec![])
            .await?;
        if !v.is_null() {
            return Ok(v);
        }
        if t0.elapsed() > Duration::from_secs(30) {
            bail!(
                "the other origin's page got no answer: {}",
                first_line_of(&page_text(c).await)
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The pairing request id the page shows after `openclaw devices approve `.
fn request_id(page: &str) -> Option<String> {
    let rest = &page[page.find(APPROVE_TEXT)? + APPROVE_TEXT.len()..];
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    (id.len() >= 8).then_some(id)
}

/// `openclaw devices approve ID` as the gateway runs, on the gateway host.
pub fn approve_device(spec: &Spec, id: &str) -> Result<()> {
    let out = super::audit::openclaw_on_gateway_host(
        spec,
        &["devices", "approve", id],
        Duration::from_secs(90),
    )?;
    if !out.status.success() {
        bail!(
            "openclaw devices approve {id}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_from_the_page() {
        let page = "RUN ON THE GATEWAY HOST\nopenclaw devices approve 429bf327-2691-4dfb-b902-0c55369a7b17\nPrefer a link?";
        assert_eq!(
            request_id(page).as_deref(),
            Some("429bf327-2691-4dfb-b902-0c55369a7b17")
        );
        assert_eq!(request_id("Connected"), None);
    }
}
