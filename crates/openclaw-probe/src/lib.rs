//! `openclaw-probe`: checks a running OpenClaw gateway the way a user's client meets it
//! (liveness, readiness, auth enforced over HTTP and WebSocket), the certificates in front of
//! and beside it, and the age of rendered secret files; reports as text, JSON or Prometheus
//! exposition text, with exit codes for systemd, Podman/Docker, Nomad and Consul.
//!
//! Blocking std I/O only (no async runtime): one run takes milliseconds and a few MB.
//! The gateway token is held in [`Token`], whose `Debug` is redacted; it is sent in one
//! `Authorization` header and one WebSocket `connect` frame and never written anywhere else.

pub mod cert;
pub mod egress_log;
pub mod http;
pub mod probe;
pub mod report;
pub mod target;
pub mod time;
pub mod tls;
pub mod token;
pub mod ws;

pub use probe::{run, AuthConfig, Config, GatewayConfig, Readiness};
pub use report::{
    exit_code, write_atomic, Check, ExitMode, GatewayState, Report, Status, EXIT_UNKNOWN,
};
pub use target::{HttpTarget, TlsTarget};
pub use time::{parse_duration, Threshold};
pub use token::Token;

/// Errors of the probe's own inputs (flags, files it must write). Network failures are
/// never errors: they are check results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid duration {0:?}: {1}")]
    Duration(String, &'static str),
    #[error("invalid threshold {0:?}: {1}")]
    Threshold(String, &'static str),
    #[error("invalid URL {0:?}: {1}")]
    Url(String, String),
    #[error("token file {path}: {msg}")]
    TokenFile { path: String, msg: String },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
