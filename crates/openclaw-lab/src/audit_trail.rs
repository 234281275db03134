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
//! [`tool_call_records`] joins the two on the call-id fingerprint into one record per
//! finished tool call: agent, session, run, tool, redacted arguments, status and model
//! request id. Nothing in it is taken from anywhere but those two records.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `sha256:<hex>`: how the ledger names a tool call id.
pub fn call_fingerprint(call_id: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(call_id.as_bytes())))
}

/// One record per `tool.action.finished` row of `ledger` (`openclaw audit --json` output:
/// `{events: [...]}`), with the arguments and model request id of the matching `toolCall` in
/// `history` (`chat.history` output: `{messages: [...]}`). Oldest first.
pub fn tool_call_records(ledger: &Value, history: &Value) -> Vec<Value> {
    // fingerprint -> (arguments, responseId)
    let mut calls = std::collections::HashMap::new();
    for m in history["messages"].as_array().into_iter().flatten() {
        if m["role"] != "assistant" {
            continue;
        }
        for part in m["content"].as_array().into_iter().flatten() {
            if part["type"] == "toolCall" {
                if let Some(id) = part["id"].as_str() {
                    calls.insert(
                        call_fingerprint(id),
                        (part["arguments"].clone(), m["responseId"].clone()),
                    );
                }
            }
        }
    }
    let mut out: Vec<Value> = ledger["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["action"] == "tool.action.finished")
        .map(|e| {
            let fp = e["toolCallId"].as_str().unwrap_or("");
            let (arguments, request) = calls.get(fp).cloned().unwrap_or((Value::Null, Value::Null));
            json!({
                "occurredAt": e["occurredAt"],
                "sequence": e["sequence"],
                "agentId": e["agentId"],
                "sessionKey": e["sessionKey"],
                "sessionId": e["sessionId"],
                "runId": e["runId"],
                "toolCallId": e["toolCallId"],
                "tool": e["toolName"],
                "arguments": arguments,
                "status": e["status"],
                "errorCode": e["errorCode"],
                "modelRequestId": request,
            })
        })
        .collect();
    out.sort_by_key(|r| r["sequence"].as_u64().unwrap_or(0));
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
        let history = json!({"messages": [
            {"role": "assistant", "responseId": "chatcmpl-1",
             "content": [{"type": "toolCall", "id": "call_olab_1", "name": "read", "arguments": {"path": "x"}}]},
        ]});
        let r = tool_call_records(&ledger, &history);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0]["modelRequestId"], "chatcmpl-1");
        assert_eq!(r[0]["arguments"]["path"], "x");
        assert_eq!(r[0]["status"], "failed");
    }
}
