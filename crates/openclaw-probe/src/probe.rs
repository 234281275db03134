//! One probe run: gateway liveness/readiness/auth, certificates, secret file ages.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cert;
use crate::http;
use crate::report::{Check, GatewayState, Report, Status};
use crate::target::{HttpTarget, TlsTarget};
use crate::time::{human_secs, now_unix, Threshold};
use crate::tls;
use crate::token::Token;
use crate::ws::{self, WsOutcome};

/// The protected endpoint used for the HTTP auth checks. The body names no tool, so nothing
/// ever runs: the gateway checks auth first (401) and only then the body (400).
pub const PROTECTED_PATH: &str = "/tools/invoke";
const PROTECTED_BODY: &str = "{}";
/// OpenClaw delays each failed auth from loopback by 250 ms doubling up to this.
pub const WRONG_TOKEN_PENALTY_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub enum TokenSource {
    File(PathBuf),
    Secret(Token),
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Run the auth checks at all (a container HEALTHCHECK may want liveness only).
    pub enabled: bool,
    /// Also present a wrong token. Each try counts against `gateway.auth.rateLimit`
    /// (default 10 failures a minute per client IP; loopback exempt by default).
    pub wrong_token: bool,
    pub token: Option<TokenSource>,
}

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub target: HttpTarget,
    pub auth: AuthConfig,
    /// Judge readiness by `/startupz` (startup finished) instead of `/readyz` (which also
    /// waits on channel deep checks): what a deploy gate asks of a new generation.
    pub startup: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub gateway: Option<GatewayConfig>,
    pub tls: Option<TlsTarget>,
    pub ca_file: Option<PathBuf>,
    pub cert_file: Option<PathBuf>,
    pub cert_warn: Threshold,
    pub cert_crit: Threshold,
    pub secret_files: Vec<PathBuf>,
    pub max_secret_age: Option<Duration>,
    /// Bound of each network exchange (connect + request + answer).
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            gateway: None,
            tls: None,
            ca_file: None,
            cert_file: None,
            cert_warn: Threshold::Percent(33.0),
            cert_crit: Threshold::Percent(10.0),
            secret_files: Vec::new(),
            max_secret_age: None,
            timeout: Duration::from_secs(2),
        }
    }
}

impl Config {
    /// Gateway checks with auth (wrong token included) against `target`.
    pub fn gateway(target: HttpTarget, token: Option<TokenSource>) -> Config {
        Config {
            gateway: Some(GatewayConfig {
                target,
                auth: AuthConfig {
                    enabled: true,
                    wrong_token: true,
                    token,
                },
                startup: false,
            }),
            ..Config::default()
        }
    }
}

pub fn run(cfg: &Config) -> Report {
    let started = Instant::now();
    let mut checks = Vec::new();
    let mut state = None;
    let mut token = None;
    if let Some(gw) = &cfg.gateway {
        let (s, t) = gateway(gw, cfg.timeout, &mut checks);
        state = Some(s);
        token = t;
    }
    if let Some(t) = &cfg.tls {
        checks.push(tls_check(t, cfg));
    }
    if let Some(p) = &cfg.cert_file {
        let mut c = match cert::read_cert_file(p) {
            Ok(info) => cert_check("cert_file", &info, cfg),
            Err(e) => Check::new("cert_file", Status::Critical, e),
        };
        c.subject = Some(p.display().to_string());
        checks.push(c);
    }
    for p in &cfg.secret_files {
        checks.push(secret_check(p, cfg.max_secret_age));
    }
    let mut r = Report::new(
        cfg.gateway.as_ref().map(|g| g.target.url()),
        state,
        checks,
        started.elapsed(),
    );
    if let Some(t) = &token {
        r.redact(t);
    }
    r
}

/// Liveness, readiness, then the auth checks in parallel (wrong-token answers are delayed by
/// the gateway, ~250 ms each). Returns the state and the token for redaction.
fn gateway(
    gw: &GatewayConfig,
    timeout: Duration,
    checks: &mut Vec<Check>,
) -> (GatewayState, Option<Token>) {
    let t = &gw.target;
    let skipped_rest = |checks: &mut Vec<Check>, why: &str| {
        let mut names = vec!["ready"];
        if gw.auth.enabled {
            names.extend(["http_auth_missing", "http_auth_wrong", "http_auth_token"]);
            names.extend(["ws_auth_missing", "ws_auth_wrong", "ws_auth_token"]);
        }
        for n in names {
            if n.ends_with("_wrong") && !gw.auth.wrong_token {
                continue;
            }
            checks.push(Check::new(n, Status::Skipped, why));
        }
    };
    // Read first, so a broken token file shows even when the gateway is down.
    let token = if !gw.auth.enabled {
        None
    } else {
        match &gw.auth.token {
            None => None,
            Some(TokenSource::Secret(t)) => Some(t.clone()),
            Some(TokenSource::File(p)) => match Token::from_file(p) {
                Ok(t) => Some(t),
                Err(e) => {
                    checks.push(Check::new("token_file", Status::Critical, e.to_string()));
                    None
                }
            },
        }
    };
    let mut state = GatewayState::Up;
    match http::request(t, "GET", "/healthz", None, None, timeout) {
        Err(e) => {
            checks.push(Check::new(
                "live",
                Status::Critical,
                format!("GET /healthz: {e}: gateway down"),
            ));
            skipped_rest(checks, "gateway down");
            return (GatewayState::Down, token);
        }
        Ok(r) if r.status == 200 => {
            checks.push(http_check("live", Status::Ok, "GET /healthz", &r, false));
        }
        Ok(r) => {
            // Something answers, but not a live gateway (a 404 from another service, a 5xx).
            checks.push(http_check(
                "live",
                Status::Critical,
                "GET /healthz",
                &r,
                true,
            ));
            state = GatewayState::Down;
        }
    }
    let ready_path = if gw.startup { "/startupz" } else { "/readyz" };
    match http::request(t, "GET", ready_path, None, None, timeout) {
        Ok(r) if r.status == 200 => checks.push(http_check(
            "ready",
            Status::Ok,
            &format!("GET {ready_path}"),
            &r,
            false,
        )),
        Ok(r) => {
            let failing = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v.get("failing").cloned())
                .map(|f| format!(", failing {f}"))
                .unwrap_or_default();
            let mut c = Check::new(
                "ready",
                if state == GatewayState::Down {
                    Status::Critical
                } else {
                    Status::Warning
                },
                format!(
                    "GET {ready_path}: {} (not ready: starting{failing})",
                    r.status
                ),
            );
            c.http_status = Some(r.status);
            checks.push(c);
            if state == GatewayState::Up {
                state = GatewayState::Starting;
            }
        }
        Err(e) => checks.push(Check::new(
            "ready",
            Status::Critical,
            format!("GET {ready_path}: {e}"),
        )),
    }
    if !gw.auth.enabled {
        return (state, token);
    }
    let wrong = Token::wrong(token.as_ref());
    let no_token = || "no --token-file: the configured token is not checked".to_string();
    // The right token before each wrong one: a success resets the gateway's per-IP failure
    // history, so every wrong try meets its smallest loopback penalty (250 ms; it doubles per
    // failure within a minute up to 5 s) and its lockout counter never builds up.
    let tok = token.as_ref();
    // Failed auth is answered only after that penalty: allow for its maximum wherever a
    // token is presented (a right one is answered at once).
    let slow = timeout + WRONG_TOKEN_PENALTY_MAX;
    let w = gw.auth.wrong_token.then_some(&wrong);
    // A missing token is a failed attempt too: it waits out the same penalty. While the
    // gateway is still starting, an attempt that gets no answer is not yet a verdict.
    let starting = state == GatewayState::Starting;
    let (first, second) = std::thread::scope(|s| {
        let hm = s.spawn(|| http_auth("http_auth_missing", t, None, false, slow, starting));
        let wm = s.spawn(|| ws_auth("ws_auth_missing", t, None, false, slow, starting));
        let ht = tok.map(|k| {
            s.spawn(move || http_auth("http_auth_token", t, Some(k), true, slow, starting))
        });
        let ht = ht.map(join);
        let hw = w.map(|w| {
            s.spawn(move || http_auth("http_auth_wrong", t, Some(w), false, slow, starting))
        });
        // The WebSocket pair in one thread: its success resets the history again.
        let ws_pair = s.spawn(move || {
            let wt = tok.map(|k| ws_auth("ws_auth_token", t, Some(k), true, slow, starting));
            let ww = w.map(|w| ws_auth("ws_auth_wrong", t, Some(w), false, slow, starting));
            (wt, ww)
        });
        let (wt, ww) = ws_pair.join().unwrap_or((None, None));
        ([Some(join(hm)), ht, Some(join(wm)), wt], [hw.map(join), ww])
    });
    let [hm, ht, wm, wt] = first;
    let [hw, ww] = second;
    let skip = |name: &str| Some((Check::new(name, Status::Skipped, no_token()), false));
    let ordered = [
        hm,
        hw,
        ht.or_else(|| skip("http_auth_token")),
        wm,
        ww,
        wt.or_else(|| skip("ws_auth_token")),
    ];
    let mut auth = Vec::new();
    let mut starting = false;
    for (c, st) in ordered.into_iter().flatten() {
        starting |= st;
        auth.push(c);
    }
    checks.append(&mut auth);
    if starting && state == GatewayState::Up {
        state = GatewayState::Starting;
    }
    (state, token)
}

fn join(h: std::thread::ScopedJoinHandle<'_, (Check, bool)>) -> (Check, bool) {
    h.join().unwrap_or_else(|_| {
        (
            Check::new("auth", Status::Critical, "check panicked"),
            false,
        )
    })
}

fn http_check(name: &str, status: Status, what: &str, r: &http::Response, body: bool) -> Check {
    let mut d = format!("{what}: {}", r.status);
    if body {
        d.push_str(&format!(" {}", r.excerpt(120)));
    }
    let mut c = Check::new(name, status, d);
    c.http_status = Some(r.status);
    c
}

/// How a protected endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpAuth {
    Accepted,
    Rejected,
    RateLimited,
    Starting,
    Unexpected,
}

/// 401/403 rejected; 2xx or 400 (auth passed, then the empty body was refused) accepted.
pub fn classify_http(status: u16) -> HttpAuth {
    match status {
        401 | 403 => HttpAuth::Rejected,
        429 => HttpAuth::RateLimited,
        503 => HttpAuth::Starting,
        200..=299 | 400 => HttpAuth::Accepted,
        _ => HttpAuth::Unexpected,
    }
}

fn who(token: Option<&Token>, expect_accept: bool) -> &'static str {
    match (token, expect_accept) {
        (None, _) => "without a token",
        (Some(_), true) => "with the configured token",
        (Some(_), false) => "with a wrong token",
    }
}

/// Returns the check and whether the gateway said "starting".
fn http_auth(
    name: &str,
    t: &HttpTarget,
    token: Option<&Token>,
    expect_accept: bool,
    timeout: Duration,
    gateway_starting: bool,
) -> (Check, bool) {
    let what = format!("POST {PROTECTED_PATH} {}", who(token, expect_accept));
    let r = match http::request(
        t,
        "POST",
        PROTECTED_PATH,
        token.map(Token::expose),
        Some(PROTECTED_BODY),
        timeout,
    ) {
        Ok(r) => r,
        Err(e) => {
            return (
                Check::new(name, unanswered(gateway_starting), format!("{what}: {e}")),
                gateway_starting,
            )
        }
    };
    let class = classify_http(r.status);
    let (status, verdict) = match (class, expect_accept) {
        (HttpAuth::Accepted, true) => (Status::Ok, "accepted".to_string()),
        (HttpAuth::Rejected, true) => (Status::Critical, "REJECTED: the configured token does not match the gateway's".into()),
        (HttpAuth::RateLimited, true) => (
            Status::Critical,
            "rate-limited: this client is locked out (gateway.auth.rateLimit), even with the right token".into(),
        ),
        (HttpAuth::Rejected, false) => (Status::Ok, "rejected".into()),
        (HttpAuth::RateLimited, false) => (Status::Ok, "rejected (rate-limited)".into()),
        (HttpAuth::Accepted, false) => (
            Status::Critical,
            "ACCEPTED: auth is not enforced (gateway.auth.mode none?)".into(),
        ),
        (HttpAuth::Starting, _) => (Status::Warning, "gateway starting".into()),
        (HttpAuth::Unexpected, _) => (Status::Critical, format!("unexpected answer: {}", r.excerpt(120))),
    };
    let mut c = Check::new(name, status, format!("{what}: {} {verdict}", r.status));
    c.http_status = Some(r.status);
    (c, class == HttpAuth::Starting)
}

fn ws_auth(
    name: &str,
    t: &HttpTarget,
    token: Option<&Token>,
    expect_accept: bool,
    timeout: Duration,
    gateway_starting: bool,
) -> (Check, bool) {
    let what = format!("WebSocket connect {}", who(token, expect_accept));
    let out = ws::connect_check(t, token, timeout);
    let status = match (&out, expect_accept) {
        (WsOutcome::Accepted { .. }, true) | (WsOutcome::Rejected { .. }, false) => Status::Ok,
        (WsOutcome::Starting { .. }, _) => Status::Warning,
        (WsOutcome::Failed(_), _) => unanswered(gateway_starting),
        _ => Status::Critical,
    };
    let note = match (&out, expect_accept) {
        (WsOutcome::Accepted { .. }, false) => ": auth is not enforced",
        (WsOutcome::Rejected { .. }, true) => ": the configured token is not accepted",
        _ => "",
    };
    let mut c = Check::new(name, status, format!("{what}: {}{note}", out.describe()));
    c.ws_close = match &out {
        WsOutcome::Rejected { close_code, .. } | WsOutcome::Starting { close_code, .. } => {
            *close_code
        }
        _ => None,
    };
    let no_answer_yet = gateway_starting && matches!(out, WsOutcome::Failed(_));
    (
        c,
        no_answer_yet || matches!(out, WsOutcome::Starting { .. }),
    )
}

/// An auth attempt that got no answer at all: critical on a running gateway, a warning while
/// it is still starting (its readiness already says so). An answer is always judged.
fn unanswered(gateway_starting: bool) -> Status {
    if gateway_starting {
        Status::Warning
    } else {
        Status::Critical
    }
}

fn cert_check(name: &str, info: &cert::CertInfo, cfg: &Config) -> Check {
    let (status, detail, days) = cert::evaluate(info, now_unix(), cfg.cert_warn, cfg.cert_crit);
    let mut c = Check::new(name, status, format!("{detail}, subject {}", info.subject));
    c.days_left = Some(days);
    c.not_after = Some(info.not_after);
    c
}

fn tls_check(t: &TlsTarget, cfg: &Config) -> Check {
    let subject = t.authority.clone();
    let served = match tls::served_cert(t, cfg.ca_file.as_deref(), cfg.timeout) {
        Ok(s) => s,
        Err(e) => {
            return Check::new("tls_cert", Status::Critical, format!("{t}: {e}")).subject(subject)
        }
    };
    let Some(leaf) = &served.leaf else {
        let why = served
            .handshake_error
            .unwrap_or_else(|| "no certificate received".into());
        return Check::new("tls_cert", Status::Critical, format!("{t}: {why}")).subject(subject);
    };
    let mut c = match cert::parse_der(leaf) {
        Ok(info) => cert_check("tls_cert", &info, cfg),
        Err(e) => Check::new(
            "tls_cert",
            Status::Critical,
            format!("served certificate: {e}"),
        ),
    };
    if let Some(v) = &served.verify_error {
        c.status = Status::Critical;
        c.detail = format!("NOT TRUSTED: {v}; {}", c.detail);
    } else if let Some(h) = &served.handshake_error {
        c.status = Status::Critical;
        c.detail = format!("handshake failed after the certificate: {h}; {}", c.detail);
    } else {
        c.detail = format!("verified; {}", c.detail);
    }
    c.subject(subject)
}

/// Metadata only: the probe never opens a secret file.
fn secret_check(p: &Path, max_age: Option<Duration>) -> Check {
    let subject = p.display().to_string();
    let c = |s, d: String| Check::new("secret_age", s, d).subject(subject.clone());
    let m = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) => return c(Status::Critical, format!("not rendered: {e}")),
    };
    if !m.is_file() {
        return c(Status::Critical, "not a regular file".into());
    }
    if m.len() == 0 {
        return c(Status::Critical, "empty: the render failed".into());
    }
    let age = m
        .modified()
        .ok()
        .and_then(|t| t.elapsed().ok())
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut out = match max_age {
        Some(max) if age > max.as_secs_f64() => c(
            Status::Warning,
            format!(
                "rendered {} ago, older than --max-secret-age {}: is the OpenBao agent re-rendering?",
                human_secs(age),
                human_secs(max.as_secs_f64())
            ),
        ),
        _ => c(Status::Ok, format!("rendered {} ago", human_secs(age))),
    };
    out.age_seconds = Some(age);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_classes() {
        assert_eq!(classify_http(401), HttpAuth::Rejected);
        assert_eq!(classify_http(403), HttpAuth::Rejected);
        assert_eq!(classify_http(429), HttpAuth::RateLimited);
        assert_eq!(classify_http(200), HttpAuth::Accepted);
        assert_eq!(classify_http(400), HttpAuth::Accepted);
        assert_eq!(classify_http(503), HttpAuth::Starting);
        assert_eq!(classify_http(404), HttpAuth::Unexpected);
        assert_eq!(classify_http(500), HttpAuth::Unexpected);
    }

    #[test]
    fn secret_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("token");
        std::fs::write(&p, "x").unwrap();
        let c = secret_check(&p, Some(Duration::from_secs(3600)));
        assert_eq!(c.status, Status::Ok);
        assert!(c.age_seconds.unwrap() < 60.0);
        // Older than allowed: set mtime two hours back.
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        let c = secret_check(&p, Some(Duration::from_secs(3600)));
        assert_eq!(c.status, Status::Warning, "{}", c.detail);
        assert!(c.age_seconds.unwrap() >= 7199.0);
        assert_eq!(secret_check(&p, None).status, Status::Ok);
        std::fs::write(&p, "").unwrap();
        assert_eq!(secret_check(&p, None).status, Status::Critical);
        assert_eq!(
            secret_check(&d.path().join("nope"), None).status,
            Status::Critical
        );
        assert_eq!(secret_check(d.path(), None).status, Status::Critical);
    }

    #[test]
    fn missing_token_file_is_a_critical_check_not_a_crash() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Dead port: auth checks are skipped, the result is critical (down).
        let cfg = Config::gateway(
            format!("http://127.0.0.1:{port}").parse().unwrap(),
            Some(TokenSource::File("/nonexistent/token".into())),
        );
        let r = run(&cfg);
        assert_eq!(r.state, Some(GatewayState::Down));
        assert_eq!(r.status, Status::Critical);
        assert_eq!(r.check("ws_auth_token").unwrap().status, Status::Skipped);
        assert_eq!(r.check("token_file").unwrap().status, Status::Critical);
    }
}
