//! `openclaw-backup run|check|init|snapshots|restore --config backup.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use openclaw_backup::restic::Restic;
use openclaw_backup::{Config, RestoreOptions};

/// Encrypted backups of the OpenClaw gateway's state (OpenClaw's archive, kept by restic)
/// and the verify-first restore.
#[derive(Parser)]
#[command(name = "openclaw-backup", version)]
struct Cli {
    /// The rendered backup config (openclaw-render: backup/backup.json).
    #[arg(long, global = true, default_value = "/etc/openclaw/backup.json")]
    config: PathBuf,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// openclaw backup create + verify, restic backup, restic forget --prune.
    Run,
    /// restic check --read-data-subset (the spec's verify_subset).
    Check,
    /// Create the restic repository.
    Init,
    /// This deployment's snapshots, newest last.
    Snapshots,
    /// Restore a snapshot into the state directory (verify first; the previous state is kept
    /// as <state>.pre-restore).
    Restore {
        /// Snapshot id (see `snapshots`), or `latest`.
        #[arg(long, default_value = "latest")]
        snapshot: String,
        /// You stopped the gateway yourself (hosts without systemd): no systemctl stop/start.
        #[arg(long)]
        gateway_stopped: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openclaw-backup: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let cfg = Config::load(&cli.config)?;
    let out = match cli.cmd {
        Cmd::Run => serde_json::to_string_pretty(&openclaw_backup::run(&cfg)?)?,
        Cmd::Check => openclaw_backup::check(&cfg)?,
        Cmd::Init => {
            openclaw_backup::run::init(&cfg)?;
            format!("created the restic repository {}", cfg.repository)
        }
        Cmd::Snapshots => serde_json::to_string_pretty(&Restic::new(&cfg).snapshots()?)?,
        Cmd::Restore {
            snapshot,
            gateway_stopped,
        } => {
            let report = openclaw_backup::restore(
                &cfg,
                &RestoreOptions {
                    snapshot,
                    gateway_stopped,
                },
            )?;
            serde_json::to_string_pretty(&report)?
        }
    };
    println!("{out}");
    Ok(())
}
