//! Results, exit codes, and the three output forms: text, JSON, Prometheus exposition text.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::token::Token;
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warning,
    Critical,
    /// Not run (nothing to check, or the gateway is down); never affects the result.
    Skipped,
}

impl Status {
    /// 0 ok/skipped, 1 warning, 2 critical: the Nagios/Consul scale.
    pub fn severity(self) -> u8 {
        match self {
            Status::Ok | Status::Skipped => 0,
            Status::Warning => 1,
            Status::Critical => 2,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Skipped => "SKIPPED",
        }
    }
    pub fn worst(a: Status, b: Status) -> Status {
        if b.severity() > a.severity() {
            b
        } else {
            a
        }
    }
}

/// What a client meets: connection refused (or no answer) is `Down`; `/healthz` ok but
/// `/readyz` not, or WebSocket close 1013, is `Starting`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayState {
    Up,
    Starting,
    Down,
}

impl GatewayState {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayState::Up => "up",
            GatewayState::Starting => "starting",
            GatewayState::Down => "down",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable name (`live`, `ready`, `http_auth_missing`, `ws_auth_token`, `tls_cert`,
    /// `cert_file`, `secret_age`, ...), used as the Prometheus `check` label.
    pub name: String,
    /// What was checked when a name occurs more than once (a path, a host:port).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ws_close: Option<u16>,
    /// Certificates: days left (negative once expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<f64>,
    /// Certificates: notAfter, Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// Secret files: seconds since the last render.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<f64>,
}

impl Check {
    pub fn new(name: &str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            subject: None,
            status,
            detail: detail.into(),
            http_status: None,
            ws_close: None,
            days_left: None,
            not_after: None,
            age_seconds: None,
        }
    }
    pub fn subject(mut self, s: impl Into<String>) -> Check {
        self.subject = Some(s.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub status: Status,
    pub exit_code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<GatewayState>,
    pub checks: Vec<Check>,
    pub duration_ms: f64,
    /// When the probe ran, Unix seconds.
    pub timestamp: f64,
    pub probe_version: &'static str,
    /// Requests and refusals of the egress proxy (`--egress-proxy-log`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<crate::egress_log::EgressCounts>,
}

/// How results map to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExitMode {
    /// 0 ok, 1 warning, 2 critical (Nagios, Consul, Nomad, systemd, Podman).
    #[default]
    Standard,
    /// 0 ok, 1 anything else: Docker's HEALTHCHECK reserves exit code 2.
    Docker,
}

/// The probe could not run as asked (bad flags): Nagios "UNKNOWN"; Consul and Nomad treat
/// it as critical, systemd as failure.
pub const EXIT_UNKNOWN: i32 = 3;

pub fn exit_code(status: Status, mode: ExitMode) -> i32 {
    match (status.severity(), mode) {
        (0, _) => 0,
        (1, _) | (_, ExitMode::Docker) => 1,
        _ => 2,
    }
}

impl Report {
    pub fn new(
        gateway: Option<String>,
        state: Option<GatewayState>,
        checks: Vec<Check>,
        duration: std::time::Duration,
    ) -> Report {
        let status = checks
            .iter()
            .fold(Status::Ok, |acc, c| Status::worst(acc, c.status));
        Report {
            status,
            exit_code: exit_code(status, ExitMode::Standard),
            gateway,
            state,
            checks,
            duration_ms: duration.as_secs_f64() * 1000.0,
            timestamp: crate::time::now_unix(),
            probe_version: env!("CARGO_PKG_VERSION"),
            egress: None,
        }
    }

    pub fn set_exit_mode(&mut self, mode: ExitMode) {
        self.exit_code = exit_code(self.status, mode);
    }

    /// Removes the token from every text that came from outside (server answers).
    pub fn redact(&mut self, token: &Token) {
        for c in &mut self.checks {
            c.detail = token.redact(&c.detail);
            if let Some(s) = &c.subject {
                c.subject = Some(token.redact(s));
            }
        }
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let bad: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| c.status.severity() > 0)
            .map(|c| c.name.as_str())
            .collect();
        let _ = write!(out, "openclaw-probe {}", self.status.label());
        if let (Some(g), Some(s)) = (&self.gateway, self.state) {
            let _ = write!(out, ": gateway {g} {}", s.as_str());
        }
        if bad.is_empty() {
            let n = self
                .checks
                .iter()
                .filter(|c| c.status == Status::Ok)
                .count();
            let _ = write!(out, "; {n} checks ok");
        } else {
            let _ = write!(out, "; not ok: {}", bad.join(", "));
        }
        let _ = writeln!(out, " ({:.0} ms)", self.duration_ms);
        if let Some(e) = &self.egress {
            let _ = writeln!(
                out,
                "  egress proxy: {} of {} requests refused ({})",
                e.denied, e.requests, e.log
            );
        }
        let w = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &self.checks {
            let subj = c
                .subject
                .as_deref()
                .map(|s| format!("{s}: "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<8}  {:<w$}  {subj}{}",
                c.status.label(),
                c.name,
                c.detail
            );
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into()) + "\n"
    }

    /// Prometheus text exposition format 0.0.4, for node_exporter's textfile collector or
    /// any scraper. Skipped checks produce no samples.
    pub fn prometheus(&self) -> String {
        let mut m = Metrics::default();
        m.family(
            "openclaw_probe_status",
            "Overall result: 0 ok, 1 warning, 2 critical.",
        );
        m.sample("openclaw_probe_status", &[], self.status.severity() as f64);
        m.family(
            "openclaw_probe_check_status",
            "Result per check: 0 ok, 1 warning, 2 critical (skipped checks are absent).",
        );
        for c in self.checks.iter().filter(|c| c.status != Status::Skipped) {
            let mut l = vec![("check", c.name.as_str())];
            if let Some(s) = &c.subject {
                l.push(("subject", s));
            }
            m.sample(
                "openclaw_probe_check_status",
                &l,
                c.status.severity() as f64,
            );
        }
        if let (Some(g), Some(state)) = (&self.gateway, self.state) {
            let gl = [("gateway", g.as_str())];
            let flag = |name: &str| self.check(name).map(|c| c.status);
            m.family("openclaw_probe_up", "1 if GET /healthz answered 200.");
            m.sample(
                "openclaw_probe_up",
                &gl,
                f64::from(u8::from(flag("live") == Some(Status::Ok))),
            );
            m.family("openclaw_probe_ready", "1 if GET /readyz answered 200.");
            m.sample(
                "openclaw_probe_ready",
                &gl,
                f64::from(u8::from(flag("ready") == Some(Status::Ok))),
            );
            m.family(
                "openclaw_probe_gateway_state",
                "Gateway state as a client meets it (one of up, starting, down is 1).",
            );
            for s in [GatewayState::Up, GatewayState::Starting, GatewayState::Down] {
                m.sample(
                    "openclaw_probe_gateway_state",
                    &[("gateway", g), ("state", s.as_str())],
                    f64::from(u8::from(s == state)),
                );
            }
            let ran = |names: &[&str]| -> Vec<Status> {
                names
                    .iter()
                    .filter_map(|n| flag(n))
                    .filter(|s| *s != Status::Skipped)
                    .collect()
            };
            let rejects = ran(&[
                "http_auth_missing",
                "http_auth_wrong",
                "ws_auth_missing",
                "ws_auth_wrong",
            ]);
            if !rejects.is_empty() {
                m.family(
                    "openclaw_probe_auth_enforced",
                    "1 if requests without or with a wrong token were all rejected (HTTP and WebSocket).",
                );
                m.sample(
                    "openclaw_probe_auth_enforced",
                    &gl,
                    f64::from(u8::from(rejects.iter().all(|s| *s == Status::Ok))),
                );
            }
            let accepts = ran(&["http_auth_token", "ws_auth_token"]);
            if !accepts.is_empty() {
                m.family(
                    "openclaw_probe_token_accepted",
                    "1 if the configured token was accepted (HTTP and WebSocket).",
                );
                m.sample(
                    "openclaw_probe_token_accepted",
                    &gl,
                    f64::from(u8::from(accepts.iter().all(|s| *s == Status::Ok))),
                );
            }
        }
        let certs: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.days_left.is_some())
            .collect();
        if !certs.is_empty() {
            m.family(
                "openclaw_probe_cert_days_left",
                "Days until the certificate's notAfter (negative: expired).",
            );
            for c in &certs {
                let l = [
                    ("check", c.name.as_str()),
                    ("subject", c.subject.as_deref().unwrap_or("")),
                ];
                m.sample(
                    "openclaw_probe_cert_days_left",
                    &l,
                    c.days_left.unwrap_or(0.0),
                );
            }
            m.family(
                "openclaw_probe_cert_not_after_timestamp_seconds",
                "The certificate's notAfter, Unix seconds.",
            );
            for c in certs.iter().filter(|c| c.not_after.is_some()) {
                let l = [
                    ("check", c.name.as_str()),
                    ("subject", c.subject.as_deref().unwrap_or("")),
                ];
                m.sample(
                    "openclaw_probe_cert_not_after_timestamp_seconds",
                    &l,
                    c.not_after.unwrap_or(0) as f64,
                );
            }
        }
        let secrets: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.age_seconds.is_some())
            .collect();
        if !secrets.is_empty() {
            m.family(
                "openclaw_probe_secret_age_seconds",
                "Seconds since the secret file was last rendered (mtime).",
            );
            for c in secrets {
                m.sample(
                    "openclaw_probe_secret_age_seconds",
                    &[("path", c.subject.as_deref().unwrap_or(""))],
                    c.age_seconds.unwrap_or(0.0),
                );
            }
        }
        if let Some(e) = &self.egress {
            let l = [("log", e.log.as_str())];
            m.family(
                "openclaw_probe_egress_requests",
                "Requests in the egress proxy's access log.",
            );
            m.sample("openclaw_probe_egress_requests", &l, e.requests as f64);
            m.family(
                "openclaw_probe_egress_denied",
                "Egress attempts the egress proxy refused (its access log).",
            );
            m.sample("openclaw_probe_egress_denied", &l, e.denied as f64);
        }
        m.family(
            "openclaw_probe_duration_seconds",
            "How long the probe run took.",
        );
        m.sample(
            "openclaw_probe_duration_seconds",
            &[],
            self.duration_ms / 1000.0,
        );
        m.family(
            "openclaw_probe_last_run_timestamp_seconds",
            "When the probe ran, Unix seconds (staleness alerts).",
        );
        m.sample(
            "openclaw_probe_last_run_timestamp_seconds",
            &[],
            self.timestamp.floor(),
        );
        m.out
    }
}

#[derive(Default)]
struct Metrics {
    out: String,
}

impl Metrics {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(
            self.out,
            "# HELP {name} {}",
            help.replace('\\', "\\\\").replace('\n', "\\n")
        );
        let _ = writeln!(self.out, "# TYPE {name} gauge");
    }
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.out, "{{{}}}", l.join(","));
        }
        let _ = writeln!(self.out, " {}", fmt_value(v));
    }
}

pub fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Writes `contents` to `path` so a reader (node_exporter) sees the old or the new file,
/// never half of one: a temporary file in the same directory (not ending in `.prom`, so the
/// textfile collector ignores it), fsync, mode 0644, rename.
pub fn write_atomic(path: &Path, contents: &str) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let err = |source| Error::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ))
    })?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let res = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut cert =
            Check::new("tls_cert", Status::Warning, "expires in 5d").subject("proxy:443");
        cert.days_left = Some(5.25);
        cert.not_after = Some(1_800_000_000);
        let mut sec =
            Check::new("secret_age", Status::Ok, "rendered 10s ago").subject("/run/a \"b\"");
        sec.age_seconds = Some(10.0);
        Report::new(
            Some("http://127.0.0.1:18789".into()),
            Some(GatewayState::Up),
            vec![
                Check::new("live", Status::Ok, "200"),
                Check::new("ready", Status::Ok, "200"),
                Check::new("http_auth_missing", Status::Ok, "rejected"),
                Check::new("ws_auth_token", Status::Skipped, "no --token-file"),
                cert,
                sec,
            ],
            std::time::Duration::from_millis(12),
        )
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Status::Ok, ExitMode::Standard), 0);
        assert_eq!(exit_code(Status::Skipped, ExitMode::Standard), 0);
        assert_eq!(exit_code(Status::Warning, ExitMode::Standard), 1);
        assert_eq!(exit_code(Status::Critical, ExitMode::Standard), 2);
        assert_eq!(exit_code(Status::Critical, ExitMode::Docker), 1);
        assert_eq!(exit_code(Status::Warning, ExitMode::Docker), 1);
        let r = sample();
        assert_eq!((r.status, r.exit_code), (Status::Warning, 1));
    }

    #[test]
    fn prometheus_text() {
        let p = sample().prometheus();
        assert!(p.contains("openclaw_probe_status 1\n"), "{p}");
        assert!(p.contains("openclaw_probe_check_status{check=\"live\"} 0\n"));
        assert!(
            !p.contains("check=\"ws_auth_token\""),
            "skipped checks have no sample"
        );
        assert!(p.contains(
            "openclaw_probe_gateway_state{gateway=\"http://127.0.0.1:18789\",state=\"up\"} 1\n"
        ));
        assert!(p.contains(
            "openclaw_probe_gateway_state{gateway=\"http://127.0.0.1:18789\",state=\"down\"} 0\n"
        ));
        assert!(p.contains("openclaw_probe_auth_enforced{gateway=\"http://127.0.0.1:18789\"} 1\n"));
        assert!(!p.contains("openclaw_probe_token_accepted"));
        assert!(p.contains(
            "openclaw_probe_cert_days_left{check=\"tls_cert\",subject=\"proxy:443\"} 5.25\n"
        ));
        assert!(p.contains("openclaw_probe_cert_not_after_timestamp_seconds{check=\"tls_cert\",subject=\"proxy:443\"} 1800000000\n"));
        assert!(p.contains("openclaw_probe_secret_age_seconds{path=\"/run/a \\\"b\\\"\"} 10\n"));
        // Every sample line belongs to a family declared before it.
        let mut declared = std::collections::HashSet::new();
        for line in p.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                declared.insert(rest.split(' ').next().unwrap().to_string());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert!(declared.contains(name), "{line}");
            }
        }
    }

    #[test]
    fn text_and_json() {
        let r = sample();
        let t = r.text();
        assert!(
            t.starts_with(
                "openclaw-probe WARNING: gateway http://127.0.0.1:18789 up; not ok: tls_cert"
            ),
            "{t}"
        );
        assert!(t.contains("SKIPPED"));
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["status"], "warning");
        assert_eq!(v["exit_code"], 1);
        assert_eq!(v["state"], "up");
        assert_eq!(v["checks"][4]["days_left"], 5.25);
    }

    #[test]
    fn redaction() {
        let mut r = sample();
        r.checks[0].detail = "echo s3cr3t-token back".into();
        r.redact(&Token::from_secret("s3cr3t-token").unwrap());
        assert_eq!(r.checks[0].detail, "echo <redacted> back");
    }

    #[test]
    fn atomic_textfile() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("openclaw.prom");
        write_atomic(&p, "a 1\n").unwrap();
        write_atomic(&p, "a 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a 2\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        assert!(write_atomic(&d.path().join("missing/x.prom"), "x").is_err());
    }
}
