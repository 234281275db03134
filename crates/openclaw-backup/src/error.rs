use std::path::PathBuf;

/// What went wrong, phrased for the operator running the command: each names what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the backup config {path}: {source} (fix: pass the rendered backup.json with --config)")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the backup config {path} is invalid: {message} (fix: render it again with openclaw-render)")]
    ConfigParse { path: PathBuf, message: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}): {detail}")]
    Command {
        what: String,
        status: String,
        detail: String,
    },
    #[error("user {0} does not exist on this host (fix: create the gateway's user, or correct paths.service_user)")]
    UnknownUser(String),
    #[error("the restic repository {0} does not exist (fix: run `openclaw-backup init --config ...`, or set backup.initialize = true)")]
    NoRepository(String),
    #[error("snapshot {snapshot} holds no {name} (fix: pick a snapshot made by openclaw-backup: `openclaw-backup snapshots --config ...`)")]
    NoArchive { snapshot: String, name: String },
    #[error("the backup in snapshot {snapshot} failed OpenClaw's verification, so it was not restored and the current state is untouched: {message} (fix: restore an older snapshot: `openclaw-backup snapshots --config ...`, then `restore --snapshot ID`)")]
    VerifyFailed { snapshot: String, message: String },
    #[error("the archive has no state directory in its manifest: {0} (fix: restore a snapshot made by `openclaw-backup run`, not --only-config)")]
    NoStateAsset(String),
    #[error("the gateway still answers on 127.0.0.1:{port}; the current state is untouched (fix: stop it first, e.g. `systemctl stop {unit}`, or run restore without --gateway-stopped so it stops the unit itself)")]
    GatewayRunning { port: u16, unit: String },
    #[error("another openclaw-backup run or restore holds {0} (fix: wait for it to finish)")]
    Busy(PathBuf),
}

impl Error {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}
