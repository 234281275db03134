//! The WebSocket handshake a client of OpenClaw 2026.9.6 performs, observed in its
//! `dist/` (client, message handler) and against a real gateway:
//!
//! 1. the HTTP upgrade always answers 101 (auth is not checked there);
//! 2. the server sends `{"type":"event","event":"connect.challenge","payload":{"nonce":..}}`;
//! 3. the client sends `{"type":"req","id":..,"method":"connect","params":{minProtocol,
//!    maxProtocol, client:{id,version,platform,mode}, auth:{token}}}` (the server speaks
//!    protocol 4 and also admits `mode:"probe"` clients at 3; `openclaw-probe`/`probe` are
//!    client id and mode the server itself defines);
//! 4. it answers `{"type":"res","id":..,"ok":true,"payload":{"type":"hello-ok",..}}` for the
//!    right token, or `ok:false` with `error.code`/`error.details.code` (`NOT_PAIRED` /
//!    `DEVICE_IDENTITY_REQUIRED` without a token, `AUTH_TOKEN_MISMATCH` for a wrong one)
//!    followed by close 1008; while startup sidecars are pending, `UNAVAILABLE` and close 1013.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Message, WebSocket};

use crate::http::{self, Deadline, NetError};
use crate::target::HttpTarget;
use crate::token::Token;

/// OpenClaw's close code for "gateway starting; retry shortly".
pub const CLOSE_STARTING: u16 = 1013;
const REQ_ID: &str = "openclaw-probe-connect";

#[derive(Debug, Clone, PartialEq)]
pub enum WsOutcome {
    /// `hello-ok`.
    Accepted {
        protocol: Option<u64>,
        server_version: Option<String>,
    },
    /// Error response and/or close before `hello-ok`.
    Rejected {
        error_code: Option<String>,
        detail_code: Option<String>,
        message: Option<String>,
        close_code: Option<u16>,
    },
    /// Close 1013 / `UNAVAILABLE`: the gateway is up but still starting.
    Starting {
        close_code: Option<u16>,
        message: Option<String>,
    },
    /// Could not complete the exchange (down, timeout, not a WebSocket).
    Failed(NetError),
}

impl WsOutcome {
    pub fn describe(&self) -> String {
        match self {
            WsOutcome::Accepted {
                protocol,
                server_version,
            } => format!(
                "hello-ok (protocol {}, server {})",
                protocol
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "?".into()),
                server_version.as_deref().unwrap_or("?")
            ),
            WsOutcome::Rejected {
                error_code,
                detail_code,
                message,
                close_code,
            } => {
                let mut s = String::from("rejected");
                let codes: Vec<&str> = [error_code.as_deref(), detail_code.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                if !codes.is_empty() {
                    s.push_str(&format!(" {}", codes.join("/")));
                }
                if let Some(c) = close_code {
                    s.push_str(&format!(", close {c}"));
                }
                if let Some(m) = message {
                    s.push_str(&format!(": {}", cut(m, 120)));
                }
                s
            }
            WsOutcome::Starting {
                close_code,
                message,
            } => format!(
                "gateway starting (close {}{})",
                close_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "-".into()),
                message
                    .as_deref()
                    .map(|m| format!(": {}", cut(m, 80)))
                    .unwrap_or_default()
            ),
            WsOutcome::Failed(e) => format!("failed: {e}"),
        }
    }
}

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The `connect` request frame. Holds the token: goes to the socket and nowhere else.
fn connect_frame(token: Option<&Token>) -> String {
    let mut params = json!({
        "minProtocol": 3,
        "maxProtocol": 4,
        "client": {
            "id": "openclaw-probe",
            "version": env!("CARGO_PKG_VERSION"),
            "platform": std::env::consts::OS,
            "mode": "probe",
        },
    });
    if let Some(t) = token {
        params["auth"] = json!({ "token": t.expose() });
    }
    json!({"type": "req", "id": REQ_ID, "method": "connect", "params": params}).to_string()
}

fn str_at(v: &Value, ptr: &str) -> Option<String> {
    v.pointer(ptr).and_then(Value::as_str).map(str::to_string)
}

/// Opens a WebSocket to the gateway and presents `token` (none: no `auth` at all).
pub fn connect_check(target: &HttpTarget, token: Option<&Token>, timeout: Duration) -> WsOutcome {
    let deadline = Deadline::after(timeout);
    let mut ws = match open(target, deadline) {
        Ok(ws) => ws,
        Err(e) => return WsOutcome::Failed(e),
    };
    let out = exchange(&mut ws, token, deadline);
    // Leave politely; the verdict is already in.
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "probe done".into(),
    }));
    let _ = ws.flush();
    tracing::debug!(outcome = %out.describe(), "websocket connect");
    out
}

fn open(target: &HttpTarget, deadline: Deadline) -> Result<WebSocket<TcpStream>, NetError> {
    let stream = http::connect(&target.host, target.port, deadline)?;
    let step = "upgrading to WebSocket";
    let left = deadline.left(step)?;
    stream
        .set_read_timeout(Some(left))
        .and_then(|_| stream.set_write_timeout(Some(left)))
        .map_err(|e| NetError::from_io(&e, step))?;
    let mut req = target
        .ws_url()
        .into_client_request()
        .map_err(|e| NetError::Other(format!("WebSocket request: {e}")))?;
    req.headers_mut().insert(
        "User-Agent",
        tungstenite::http::HeaderValue::from_static(concat!(
            "openclaw-probe/",
            env!("CARGO_PKG_VERSION")
        )),
    );
    // hello-ok is ~15 KB; cap what a misbehaving peer can make us buffer.
    let cfg = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20));
    match tungstenite::client::client_with_config(req, stream, Some(cfg)) {
        Ok((ws, _resp)) => Ok(ws),
        Err(HandshakeError::Interrupted(_)) => Err(NetError::Timeout(step)),
        Err(HandshakeError::Failure(tungstenite::Error::Http(r))) => Err(NetError::Other(format!(
            "WebSocket upgrade answered HTTP {}",
            r.status().as_u16()
        ))),
        Err(HandshakeError::Failure(tungstenite::Error::Io(e))) => Err(NetError::from_io(&e, step)),
        Err(HandshakeError::Failure(e)) => Err(NetError::Other(format!("{step}: {e}"))),
    }
}

fn exchange(ws: &mut WebSocket<TcpStream>, token: Option<&Token>, deadline: Deadline) -> WsOutcome {
    let mut sent = false;
    // The error response, kept while waiting for the close that follows it.
    let mut refused: Option<(Option<String>, Option<String>, Option<String>)> = None;
    let mut starting = false;
    let verdict = |refused: &Option<(Option<String>, Option<String>, Option<String>)>,
                   starting: bool,
                   close_code: Option<u16>,
                   reason: Option<String>| {
        let (error_code, detail_code, message) = refused.clone().unwrap_or((None, None, reason));
        if starting || close_code == Some(CLOSE_STARTING) {
            WsOutcome::Starting {
                close_code,
                message,
            }
        } else {
            WsOutcome::Rejected {
                error_code,
                detail_code,
                message,
                close_code,
            }
        }
    };
    loop {
        let step = if !sent {
            "waiting for connect.challenge"
        } else if refused.is_some() || starting {
            "waiting for the close after the refusal"
        } else {
            "waiting for the connect response"
        };
        let left = match deadline.left(step) {
            Ok(l) => l,
            Err(_) if refused.is_some() || starting => {
                return verdict(&refused, starting, None, None);
            }
            Err(e) => return WsOutcome::Failed(e),
        };
        if let Err(e) = ws.get_mut().set_read_timeout(Some(left)) {
            return WsOutcome::Failed(NetError::from_io(&e, step));
        }
        match ws.read() {
            Ok(Message::Text(t)) => {
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                let typ = v.get("type").and_then(Value::as_str).unwrap_or("");
                if !sent {
                    if typ == "event"
                        && v.get("event").and_then(Value::as_str) == Some("connect.challenge")
                    {
                        if let Err(e) = ws.send(Message::text(connect_frame(token))) {
                            return WsOutcome::Failed(NetError::Other(format!(
                                "sending connect: {e}"
                            )));
                        }
                        sent = true;
                    }
                    continue;
                }
                if typ != "res" || v.get("id").and_then(Value::as_str) != Some(REQ_ID) {
                    continue; // events (health, presence) after the handshake
                }
                if v.get("ok").and_then(Value::as_bool) == Some(true) {
                    if str_at(&v, "/payload/type").as_deref() == Some("hello-ok") {
                        return WsOutcome::Accepted {
                            protocol: v.pointer("/payload/protocol").and_then(Value::as_u64),
                            server_version: str_at(&v, "/payload/server/version"),
                        };
                    }
                    return WsOutcome::Failed(NetError::Other(
                        "connect answered ok without hello-ok".into(),
                    ));
                }
                let code = str_at(&v, "/error/code");
                if code.as_deref() == Some("UNAVAILABLE") {
                    starting = true;
                }
                refused = Some((
                    code,
                    str_at(&v, "/error/details/code"),
                    str_at(&v, "/error/message"),
                ));
            }
            Ok(Message::Close(f)) => {
                let (code, reason) = match f {
                    Some(f) => (
                        Some(u16::from(f.code)),
                        Some(f.reason.as_str().to_string()).filter(|r| !r.is_empty()),
                    ),
                    None => (None, None),
                };
                return verdict(&refused, starting, code, reason);
            }
            Ok(_) => continue,
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed)
            | Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )) => {
                if refused.is_some() || starting {
                    return verdict(&refused, starting, None, None);
                }
                return WsOutcome::Failed(NetError::Other(format!(
                    "connection closed while {step}"
                )));
            }
            Err(tungstenite::Error::Io(e)) => {
                if refused.is_some() || starting {
                    return verdict(&refused, starting, None, None);
                }
                return WsOutcome::Failed(NetError::from_io(&e, step));
            }
            Err(e) => return WsOutcome::Failed(NetError::Other(format!("{step}: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_frame_shape() {
        let t = Token::from_secret("tok-123").unwrap();
        let v: Value = serde_json::from_str(&connect_frame(Some(&t))).unwrap();
        assert_eq!(v["type"], "req");
        assert_eq!(v["method"], "connect");
        assert_eq!(v["params"]["client"]["id"], "openclaw-probe");
        assert_eq!(v["params"]["client"]["mode"], "probe");
        assert_eq!(v["params"]["maxProtocol"], 4);
        assert_eq!(v["params"]["auth"]["token"], "tok-123");
        let v: Value = serde_json::from_str(&connect_frame(None)).unwrap();
        assert!(v["params"].get("auth").is_none());
    }

    #[test]
    fn descriptions() {
        let r = WsOutcome::Rejected {
            error_code: Some("INVALID_REQUEST".into()),
            detail_code: Some("AUTH_TOKEN_MISMATCH".into()),
            message: Some("unauthorized".into()),
            close_code: Some(1008),
        };
        assert_eq!(
            r.describe(),
            "rejected INVALID_REQUEST/AUTH_TOKEN_MISMATCH, close 1008: unauthorized"
        );
        let s = WsOutcome::Starting {
            close_code: Some(1013),
            message: None,
        };
        assert_eq!(s.describe(), "gateway starting (close 1013)");
    }

    #[test]
    fn dead_port_fails_fast() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let t: HttpTarget = format!("http://127.0.0.1:{port}").parse().unwrap();
        let start = std::time::Instant::now();
        assert_eq!(
            connect_check(&t, None, Duration::from_secs(2)),
            WsOutcome::Failed(NetError::Refused)
        );
        assert!(start.elapsed() < Duration::from_millis(500));
    }
}
