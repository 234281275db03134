//! `openclaw-secretcheck [check] | promote`: see the crate docs and README for exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use openclaw_render::spec::{Duration, Spec};
use openclaw_secretcheck::fsrules::{self, Rules};
use openclaw_secretcheck::promote::{promote, PromoteArgs};
use openclaw_secretcheck::report::exit;
use openclaw_secretcheck::{check, target, Options, Target};
use serde_json::json;

/// Validates rendered OpenClaw secret files before the gateway may use them.
///
/// Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing (file, key or value), 4 syntax,
/// 5 content (template markers, placeholders, too short), 6 permissions (mode, owner,
/// symlink, hard link, store path, directory), 7 stale, 8 promoted but the on-change
/// command failed. With several problems, the lowest class code wins.
#[derive(Parser)]
#[command(
    name = "openclaw-secretcheck",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand)]
enum Cmd {
    /// Check the live files (the default).
    Check(Common),
    /// Check a staged set and, only if it passes, install it over the live files.
    Promote {
        /// Directory the agent renders into; staged files have the live files' names.
        #[arg(long)]
        staged_dir: PathBuf,
        /// Delete a rejected staged set so the agent renders it again on its next retry.
        #[arg(long)]
        discard_rejected: bool,
        /// Give the on-change command VAR set to PATH's content from before this promotion:
        /// the credential the running service still accepts (repeatable). Environment only,
        /// never argv.
        #[arg(long = "on-change-env", value_name = "VAR=PATH", value_parser = parse_var_path)]
        on_change_env: Vec<(String, PathBuf)>,
        /// Command run when the on-change command fails or cannot run, or instead of it when
        /// a `--fallback-if-changed` file changed; split on whitespace, no shell
        /// (e.g. "systemctl try-restart openclaw.service").
        #[arg(long, value_name = "CMD")]
        fallback: Option<String>,
        /// A live file the on-change command cannot apply (read only at process start, like
        /// an env file): when it changed, only the fallback runs (repeatable).
        #[arg(
            long = "fallback-if-changed",
            value_name = "PATH",
            requires = "fallback"
        )]
        fallback_if_changed: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
        /// Command to run when a live file changed (e.g. `openclaw secrets reload`, or
        /// `systemctl try-restart openclaw.service`).
        #[arg(last = true)]
        on_change: Vec<String>,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Deployment spec (TOML or JSON) to derive the files, keys and owner from.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Single-value secret file, optionally with its minimum length: PATH[:MIN].
    #[arg(long = "file", value_name = "PATH[:MIN]")]
    files: Vec<String>,
    /// Env file (EnvironmentFile= / podman --env-file syntax).
    #[arg(long)]
    env_file: Option<String>,
    /// Variable the env file must set: VAR[:MIN].
    #[arg(long = "env", value_name = "VAR[:MIN]")]
    env: Vec<String>,
    /// User (name or uid) that must own the files; default: the spec's service user, else
    /// the user running this command.
    #[arg(long)]
    owner: Option<String>,
    /// Refuse files under this prefix (repeatable). /nix/store is always refused.
    #[arg(long = "forbid-prefix")]
    forbid_prefix: Vec<String>,
    /// Refuse files last changed longer ago than this (e.g. 90s, 10m, 1d).
    #[arg(long)]
    max_age: Option<Duration>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENCLAW_SECRETCHECK_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("openclaw-secretcheck: {e:#}");
            exit::USAGE
        }
    };
    ExitCode::from(code as u8)
}

fn run(cli: Cli) -> Result<i32> {
    match cli.cmd {
        None => run_check(&cli.common),
        Some(Cmd::Check(c)) => run_check(&c),
        Some(Cmd::Promote {
            staged_dir,
            discard_rejected,
            on_change_env,
            fallback,
            fallback_if_changed,
            common,
            on_change,
        }) => {
            let (targets, rules) = setup(&common)?;
            let fallback: Vec<String> = fallback
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            let out = promote(PromoteArgs {
                targets: &targets,
                staged_dir: &staged_dir,
                live_rules: rules,
                discard_rejected,
                on_change: &on_change,
                on_change_env: &on_change_env,
                fallback: &fallback,
                fallback_if_changed: &fallback_if_changed,
            });
            if common.json {
                let v = json!({
                    "ok": out.exit_code == exit::OK,
                    "exit_code": out.exit_code,
                    "staged": out.staged,
                    "live": out.live,
                    "changed": out.changed,
                    "unchanged": out.unchanged,
                    "discarded": out.discarded,
                    "actions": out.actions,
                    "error": out.error,
                });
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print!(
                    "staged set {}:\n{}",
                    staged_dir.display(),
                    out.staged.to_text()
                );
                if out.discarded {
                    println!("discarded the rejected staged set; the live files are untouched");
                } else if !out.staged.ok() {
                    println!("the live files are untouched");
                }
                if let Some(live) = &out.live {
                    print!("live set:\n{}", live.to_text());
                    println!(
                        "promoted: {} changed, {} unchanged",
                        out.changed.len(),
                        out.unchanged.len()
                    );
                }
                for a in &out.actions {
                    println!("after the change: {a}");
                }
                if let Some(e) = &out.error {
                    eprintln!("openclaw-secretcheck: {e}");
                }
            }
            Ok(out.exit_code)
        }
    }
}

/// `VAR=PATH` for `--on-change-env`.
fn parse_var_path(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((var, path))
            if !var.is_empty()
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && path.starts_with('/') =>
        {
            Ok((var.to_string(), PathBuf::from(path)))
        }
        _ => Err(format!(
            "`{s}`: expected VAR=/absolute/path (e.g. OPENCLAW_GATEWAY_TOKEN=/run/secrets/openclaw/gateway_token)"
        )),
    }
}

fn run_check(c: &Common) -> Result<i32> {
    let (targets, rules) = setup(c)?;
    let report = check(&targets, &Options { rules });
    if c.json {
        let v = json!({
            "ok": report.ok(),
            "exit_code": report.exit_code(),
            "class": report.worst(),
            "files": report.files,
            "findings": report.findings,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(report.exit_code())
}

fn setup(c: &Common) -> Result<(Vec<Target>, Rules)> {
    let mut targets = Vec::new();
    let mut owner_name = c.owner.clone();
    if let Some(path) = &c.spec {
        let spec = Spec::from_path(path)
            .with_context(|| format!("reading the spec {}", path.display()))?;
        targets.extend(target::from_spec(&spec));
        owner_name.get_or_insert(spec.paths.service_user.clone());
    }
    targets.extend(
        target::from_args(&c.files, c.env_file.as_deref(), &c.env).map_err(anyhow::Error::msg)?,
    );
    if targets.is_empty() {
        bail!("nothing to check: give --spec, or --file / --env-file with --env");
    }
    let owner = match &owner_name {
        Some(n) => fsrules::resolve_owner(n)
            .map_err(anyhow::Error::msg)
            .context("--owner")?,
        None => fsrules::current_owner(),
    };
    let mut forbidden_prefixes = vec!["/nix/store".to_string()];
    forbidden_prefixes.extend(c.forbid_prefix.iter().cloned());
    Ok((
        targets,
        Rules {
            owner,
            forbidden_prefixes,
            max_age: c
                .max_age
                .map(|d| std::time::Duration::from_secs(d.as_secs())),
        },
    ))
}
