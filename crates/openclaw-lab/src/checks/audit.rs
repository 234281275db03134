//! OpenClaw's own judgement and the audit trail, on the running gateway, run the way the
//! gateway runs (inside its container with `podman exec`, or as its user on the host):
//!
//! - `check audit`: `openclaw security audit --deep --json` on the live config and state,
//!   with the deep probe reaching the live gateway (its token from the config's SecretRef).
//!   Every finding must be allowed for the lab's spec (`lab`, mode `live`) by
//!   `crates/openclaw-render/audit-allowlist.toml`. Never `--fix`.
//! - `check audit-trail`: one chat turn whose model answer (the LLM fixture's scripted tool
//!   call) calls a tool with a secret-shaped canary in its arguments leaves exactly one
//!   record ([`crate::audit_trail`]) with agent, session, tool, redacted arguments, status
//!   and the model's request id; the raw canary is in none of the record, the ledger, the
//!   gateway's log file.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use openclaw_render::audit::{Allowlist, Report as Audit};
use openclaw_render::render::bao_agent::CONTAINER_OPENCLAW_BIN;
use openclaw_render::spec::{Runtime, Spec};
use serde_json::Value;

use super::Report;
use crate::cmd::output_within;

/// The allowlist's name for the lab's spec.
const LAB_SPEC: &str = "lab";

/// `openclaw ARGS` as the gateway runs: in its container, or as its user with its unit's
/// environment. npm stays offline (the audit would try to install missing plugins).
pub(crate) fn openclaw_as_gateway(spec: &Spec, args: &[&str]) -> Result<Command> {
    let mut c;
    match spec.runtime {
        Runtime::Container => {
            c = Command::new("podman");
            c.args([
                "exec",
                &format!("--user={}", spec.container.user),
                "--env=npm_config_offline=true",
                &spec.name,
                CONTAINER_OPENCLAW_BIN,
            ]);
        }
        Runtime::Native => {
            let user = &spec.paths.service_user;
            let state = spec.paths.state_dir.trim_end_matches('/');
            let node = crate::components::node_bin_dir()?;
            c = Command::new("setpriv");
            c.args([
                &format!("--reuid={user}"),
                &format!("--regid={user}"),
                "--init-groups",
                "--inh-caps=-all",
                "--",
                "env",
                "-i",
                &format!("PATH={}:/usr/bin:/bin", node.display()),
                &format!("HOME={state}"),
                &format!("OPENCLAW_STATE_DIR={state}"),
                &format!("OPENCLAW_CONFIG_PATH={}", spec.paths.config),
                "OPENCLAW_NIX_MODE=1",
                "npm_config_offline=true",
                &spec.paths.openclaw_bin,
            ]);
        }
    }
    c.args(args);
    Ok(c)
}

/// `openclaw ARGS` as the gateway runs, started from this machine's root: on the gateway host
/// (its namespaces), within `limit`.
pub fn openclaw_on_gateway_host(
    spec: &Spec,
    args: &[&str],
    limit: Duration,
) -> Result<std::process::Output> {
    let cmd = openclaw_as_gateway(spec, args)?;
    let argv: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut c = crate::state::netns_command(&crate::topology::GATEWAY.netns(), None, &argv);
    output_within(&mut c, limit)
}

/// Runs `openclaw ARGS` as the gateway; its stdout's JSON object.
fn json_of(spec: &Spec, args: &[&str], limit: Duration) -> Result<Value> {
    let out = output_within(&mut openclaw_as_gateway(spec, args)?, limit)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let start = stdout.find('{').unwrap_or(0);
    serde_json::from_str(&stdout[start..]).with_context(|| {
        format!(
            "openclaw {}: no JSON: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        )
    })
}

pub fn security(spec: &Spec) -> Result<Report> {
    let mut r = Report::new("audit");
    let t = std::time::Instant::now();
    let out = output_within(
        &mut openclaw_as_gateway(spec, &["security", "audit", "--deep", "--json"])?,
        Duration::from_secs(180),
    )?;
    let audit = Audit::parse(&String::from_utf8_lossy(&out.stdout))
        .map_err(anyhow::Error::msg)
        .with_context(|| String::from_utf8_lossy(&out.stderr).into_owned())?;
    r.counts
        .insert("findings".into(), Value::from(audit.findings.len() as u64));
    r.counts.insert(
        "seconds".into(),
        Value::from((t.elapsed().as_secs_f64() * 10.0).round() / 10.0),
    );
    // 2026.9.6's probe authenticates with the config's token but, without a paired device,
    // gets no operator.read scope: that error still proves it reached and passed auth.
    let probe_error = audit.deep_gateway["error"].as_str().unwrap_or("");
    let reached = audit.deep_gateway["ok"] == true || probe_error.contains("missing scope");
    r.push(
        "deep probe reached the live gateway and passed auth",
        "ok or missing scope",
        if audit.deep_gateway["ok"] == true {
            "ok".to_string()
        } else {
            openclaw_render::error::printable_lines(probe_error, 120)
        },
        reached,
    );
    let list = Allowlist::embedded();
    for f in &audit.findings {
        let allowed = list.find(LAB_SPEC, "live", &f.check_id).is_some();
        r.push(
            format!("{} ({})", f.check_id, f.severity),
            "allowed",
            if allowed { "allowed" } else { "NOT ALLOWED" },
            allowed && f.severity != "critical",
        );
    }
    Ok(r)
}

pub fn trail(spec: &Spec) -> Result<Report> {
    use crate::fixtures::llm::TOOL_TRIGGER;
    let mut r = Report::new("audit-trail");
    let mut b = [0u8; 12];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    // Shaped like an API key, so the spec's default redact pattern (`sk-...`) must catch it.
    let canary = format!("sk-olabcanary{}", hex::encode(b));
    // The message goes through a file in the state directory (mounted at the same path in
    // the container), not argv. The messaging profile offers tools through Tool Search, so the
    // scripted call is `tool_call` naming `sessions_list` (harmless: it lists sessions).
    let state = Path::new(spec.paths.state_dir.trim_end_matches('/'));
    let msg = state.join("audit-trail-check.txt");
    std::fs::write(
        &msg,
        format!(
            "Audit trail check.\n{TOOL_TRIGGER}tool_call {{\"id\":\"sessions_list\",\"args\":{{\"search\":\"notes {canary}\"}}}}\n"
        ),
    )?;
    crate::cmd::run(
        "chown",
        &[
            &format!("{0}:{0}", spec.paths.service_user),
            &msg.display().to_string(),
        ],
    )?;
    let turn = json_of(
        spec,
        &[
            "agent",
            "--agent",
            "main",
            "--message-file",
            &msg.display().to_string(),
            "--timeout",
            "180",
            "--json",
        ],
        Duration::from_secs(240),
    );
    let _ = std::fs::remove_file(&msg);
    let turn = turn?;
    r.push(
        "chat turn with a tool call",
        "ok",
        turn["status"].as_str().unwrap_or("?"),
        turn["status"] == "ok",
    );
    let run_id = turn["runId"].as_str().unwrap_or("").to_string();
    let ledger = json_of(
        spec,
        &["audit", "--kind", "tool_action", "--limit", "500", "--json"],
        Duration::from_secs(60),
    )?;
    let history = json_of(
        spec,
        &[
            "gateway",
            "call",
            "chat.history",
            "--params",
            r#"{"sessionKey":"agent:main:main","limit":1000}"#,
            "--json",
        ],
        Duration::from_secs(60),
    )?;
    let all = crate::audit_trail::tool_call_records(&ledger, &history);
    // Records an earlier run of this check left (the e2e test runs it again after killing
    // the gateway: they must still be there).
    let earlier = all
        .iter()
        .filter(|x| {
            x["runId"] != run_id.as_str()
                && x["tool"] == "sessions_list"
                && x["arguments"]["search"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("notes sk-ola"))
        })
        .count();
    r.counts
        .insert("earlier_check_records".into(), Value::from(earlier as u64));
    let records: Vec<Value> = all
        .into_iter()
        .filter(|x| x["runId"] == run_id.as_str())
        .collect();
    r.push(
        "records of the turn's tool call",
        "1",
        records.len().to_string(),
        records.len() == 1,
    );
    if let Some(rec) = records.first() {
        r.push(
            "record: agent, session, tool",
            "main agent:main:main sessions_list",
            format!("{} {} {}", rec["agentId"], rec["sessionKey"], rec["tool"]),
            rec["agentId"] == "main"
                && rec["sessionKey"] == "agent:main:main"
                && rec["tool"] == "sessions_list",
        );
        r.push(
            "record: model request id",
            "chatcmpl-olab-tool-*",
            rec["modelRequestId"].to_string(),
            rec["modelRequestId"]
                .as_str()
                .is_some_and(|s| s.starts_with("chatcmpl-olab-tool-")),
        );
        r.push(
            "record: via, status, in the ledger",
            "tool_call succeeded true",
            format!("{} {} {}", rec["via"], rec["status"], rec["inLedger"]),
            rec["via"] == "tool_call" && rec["status"] == "succeeded" && rec["inLedger"] == true,
        );
        let args = rec["arguments"].to_string();
        r.push(
            "record: canary in arguments redacted",
            "sk-ola…",
            args.clone(),
            args.contains("sk-ola") && args.contains('…'),
        );
        eprintln!("audit record: {rec}");
    }
    let log_file = spec.hardening.log_file.clone().unwrap_or_else(|| {
        format!(
            "{}/logs/openclaw.log",
            spec.paths.state_dir.trim_end_matches('/')
        )
    });
    for (what, text) in [
        ("records", serde_json::to_string(&records)?),
        ("audit ledger", ledger.to_string()),
        (
            "gateway log file",
            std::fs::read_to_string(&log_file).unwrap_or_default(),
        ),
    ] {
        r.push(
            format!("raw canary absent from the {what}"),
            "absent",
            if text.contains(&canary) {
                "PRESENT"
            } else {
                "absent"
            },
            !text.contains(&canary),
        );
    }
    Ok(r)
}
