//! The audit trail of tool calls, from what OpenClaw 2026.9.6 itself records.
//!
//! OpenClaw keeps two durable records of every tool call, both in the gateway's state
//! directory, both surviving a restart:
//!
//! - the **audit ledger** (`logging.audit.enabled`, SQLite `state/openclaw.sqlite`, read with
//!   `openclaw audit --kind tool_action --json` or the `audit.activity.list` RPC): an
//!   append-only, metadata-only row per `tool.action.started` / `tool.action.finished` with
//!   agent, session key and id, run id, tool name, status and error code; the call id only
//!   as `sha256:<hex>` of the raw id. It never stores arguments or results.
//! - the **session transcript** (the agent's SQLite database, read with the `chat.history`
//!   RPC): the assistant message with the `toolCall` (raw call id, tool name, arguments
//!   passed through `logging.redactPatterns`) and the `responseId` the model API returned
//!   (the LLM request id), then the `toolResult` (`isError`).
//!
//! [`tool_call_records`] makes one record per tool that ran: agent, session, run, tool,
//! redacted arguments, result status and model request id. With Tool Search (2026.9.6's
//! default for the messaging profile) the model calls `tool_call` and the tool it names runs
//! as a nested call (a transcript entry with `parentToolCallId`, its own ledger row): the
//! record is the nested call's, `via` names the wrapper, and the model request id is the
//! wrapper's. The transcript drives it, because the ledger has no row for a call OpenClaw
//! refuses before running it (a tool the profile does not offer: its result says "Tool ...
//! not found"); status and error code come from the ledger's `tool.action.finished` row
//! (matched on the call-id fingerprint) when there is one, else from the transcript's
//! `toolResult`. Nothing in a record is taken from anywhere but those two records.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `sha256:<hex>`: how the ledger names a tool call id.
pub fn call_fingerprint(call_id: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(call_id.as_bytes())))
}

/// `toolCall` parts of a message.
fn tool_calls(m: &Value) -> impl Iterator<Item = &Value> {
    m["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["type"] == "toolCall" && p["id"].is_string())
}

/// One record per tool that ran for a `toolCall` in `history` (`chat.history` output:
/// `{sessionKey, sessionId, messages}`), oldest first, with the status of its
/// `tool.action.finished` row in `ledger` (`openclaw audit --json` output: `{events}`) or of
/// its `toolResult`.
pub fn tool_call_records(ledger: &Value, history: &Value) -> Vec<Value> {
    let finished: std::collections::HashMap<&str, &Value> = ledger["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "tool.action.finished")
        .filter_map(|e| Some((e["toolCallId"].as_str()?, e)))
        .collect();
    let messages: Vec<&Value> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    // Nested calls (Tool Search's `tool_call`), by the model-facing call they ran under.
    let mut nested: std::collections::HashMap<&str, Vec<&Value>> = Default::default();
    for m in &messages {
        for part in tool_calls(m) {
            if let Some(parent) = part["parentToolCallId"].as_str() {
                nested.entry(parent).or_default().push(part);
            }
        }
    }
    let session_key = history["sessionKey"].clone();
    // `agent:<id>:<rest>`: the agent the session belongs to.
    let agent_of_session = session_key
        .as_str()
        .and_then(|k| k.strip_prefix("agent:"))
        .and_then(|k| k.split(':').next())
        .map(|a| Value::String(a.to_string()))
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if m["role"] != "assistant" {
            continue;
        }
        for call in tool_calls(m) {
            let id = call["id"].as_str().unwrap_or("");
            let result = messages[i + 1..]
                .iter()
                .find(|r| r["role"] == "toolResult" && r["toolCallId"] == id);
            let ran: Vec<(&Value, Value)> = match nested.get(id) {
                Some(inner) => inner.iter().map(|p| (*p, call["name"].clone())).collect(),
                None => vec![(call, Value::Null)],
            };
            for (part, via) in ran {
                let fp = call_fingerprint(part["id"].as_str().unwrap_or(""));
                let (status, error_code, agent, occurred, in_ledger) =
                    match finished.get(fp.as_str()) {
                        Some(e) => (
                            e["status"].clone(),
                            e["errorCode"].clone(),
                            e["agentId"].clone(),
                            e["occurredAt"].clone(),
                            true,
                        ),
                        None => (
                            json!(match result.map(|r| r["isError"] == true) {
                                Some(true) => "failed",
                                Some(false) => "succeeded",
                                None => "unknown",
                            }),
                            Value::Null,
                            agent_of_session.clone(),
                            result
                                .map(|r| r["timestamp"].clone())
                                .unwrap_or(Value::Null),
                            false,
                        ),
                    };
                out.push(json!({
                    "occurredAt": occurred,
                    "agentId": agent,
                    "sessionKey": session_key,
                    "sessionId": history["sessionId"],
                    "runId": m["__openclaw"]["runId"],
                    "toolCallId": fp,
                    "tool": part["name"],
                    "via": via,
                    "arguments": part["arguments"],
                    "status": status,
                    "errorCode": error_code,
                    "inLedger": in_ledger,
                    "modelRequestId": m["responseId"],
                }));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_ledger_row_joins_its_transcript_call_by_fingerprint() {
        let fp = call_fingerprint("call_olab_1");
        // The ledger fingerprint OpenClaw 2026.9.6 printed for call id `call_olab_1`.
        assert_eq!(
            fp,
            "sha256:a09c115ffd3a80a6a22d4365f19d594959a87bed7763be4d07d73c09812a9693"
        );
        let ledger = json!({"events": [
            {"sequence": 7, "action": "tool.action.finished", "toolCallId": fp, "toolName": "read",
             "status": "failed", "errorCode": "tool_failed", "agentId": "main"},
            {"sequence": 6, "action": "tool.action.started", "toolCallId": fp, "toolName": "read"},
        ]});
        let history = json!({"sessionKey": "agent:main:main", "messages": [
            {"role": "assistant", "responseId": "chatcmpl-1", "__openclaw": {"runId": "r1"},
             "content": [{"type": "toolCall", "id": "call_olab_1", "name": "read", "arguments": {"path": "x"}}]},
            {"role": "toolResult", "toolCallId": "call_olab_1", "isError": true},
            // Refused before it ran (not offered): no ledger row, the result says so.
            {"role": "assistant", "responseId": "chatcmpl-2", "__openclaw": {"runId": "r2"},
             "content": [{"type": "toolCall", "id": "call_olab_2", "name": "nope", "arguments": {}}]},
            {"role": "toolResult", "toolCallId": "call_olab_2", "isError": true, "timestamp": 5},
        ]});
        let r = tool_call_records(&ledger, &history);
        assert_eq!(r.len(), 2);
        assert!(r[0]["via"].is_null());
        assert_eq!(r[0]["modelRequestId"], "chatcmpl-1");
        assert_eq!(r[0]["arguments"]["path"], "x");
        assert_eq!(r[0]["status"], "failed");
        assert_eq!(r[0]["errorCode"], "tool_failed");
        assert_eq!(r[0]["inLedger"], true);
        assert_eq!(r[1]["tool"], "nope");
        assert_eq!(r[1]["status"], "failed");
        assert_eq!(r[1]["inLedger"], false);
        assert_eq!(r[1]["agentId"], "main");
        assert_eq!(r[1]["runId"], "r2");
    }

    /// Tool Search: the model calls `tool_call`, `sessions_list` runs nested; one record, the
    /// nested tool's, with the wrapper's request id.
    #[test]
    fn a_nested_call_is_the_record_and_its_wrapper_is_via() {
        let inner = "tool_search_code:call_olab_1:sessions_list:1";
        // The fingerprint OpenClaw 2026.9.6 printed for that nested call.
        assert_eq!(
            call_fingerprint(inner),
            "sha256:f7a752155c042d2e048c192faa5e1eda6adbbb3193b0846269d5846eff15b8cd"
        );
        let ledger = json!({"events": [
            {"action": "tool.action.finished", "toolCallId": call_fingerprint("call_olab_1"),
             "toolName": "tool_call", "status": "succeeded", "agentId": "main"},
            {"action": "tool.action.finished", "toolCallId": call_fingerprint(inner),
             "toolName": "sessions_list", "status": "succeeded", "agentId": "main"},
        ]});
        let history = json!({"sessionKey": "agent:main:main", "messages": [
            {"role": "assistant", "responseId": "chatcmpl-1", "__openclaw": {"runId": "r1"},
             "content": [{"type": "toolCall", "id": "call_olab_1", "name": "tool_call",
                          "arguments": {"id": "sessions_list", "args": {"search": "x"}}}]},
            {"role": "custom", "content": [{"type": "toolCall", "id": inner, "name": "sessions_list",
              "arguments": {"search": "x"}, "parentToolCallId": "call_olab_1"}]},
            {"role": "toolResult", "toolCallId": "call_olab_1", "isError": false},
        ]});
        let r = tool_call_records(&ledger, &history);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0]["tool"], "sessions_list");
        assert_eq!(r[0]["via"], "tool_call");
        assert_eq!(r[0]["arguments"]["search"], "x");
        assert_eq!(r[0]["inLedger"], true);
        assert_eq!(r[0]["modelRequestId"], "chatcmpl-1");
    }
}
