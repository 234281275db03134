//! `openclaw-render`: render, check or describe a deployment spec.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use openclaw_render::{output, render_all, RenderError, Spec};

#[derive(Parser)]
#[command(
    name = "openclaw-render",
    version,
    about = "One deployment spec in, every hardened OpenClaw artifact out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate SPEC and write every artifact to DIR atomically (a failure leaves DIR as it was).
    Render {
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Validate SPEC (semantics and OpenClaw's schema) without writing anything.
    Check {
        spec: PathBuf,
        /// Also run OpenClaw's own `security audit --deep --json` on the rendered config (in a
        /// scratch directory, placeholder secrets); fails on a critical finding or one the
        /// allowlist does not name. Needs OpenClaw 2026.9.6 and Node 24.
        #[arg(long)]
        audit: bool,
        /// The `openclaw` binary for --audit (default: `openclaw` on PATH; Node must be on
        /// PATH too).
        #[arg(long, requires = "audit")]
        openclaw_bin: Option<PathBuf>,
    },
    /// Print the spec's JSON Schema.
    Schema,
    /// Print the NixOS option declarations generated from the spec's schema.
    NixOptions,
    /// Print one rendered artifact to stdout (e.g. `openclaw.json`).
    Show { spec: PathBuf, artifact: String },
    /// Time N renders of SPEC (no writes) and print JSON figures.
    Bench {
        spec: PathBuf,
        #[arg(long, default_value_t = 50)]
        iterations: u32,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env(
            "OPENCLAW_RENDER_LOG",
        ))
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse().command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Validation errors are already a readable list; anything else gets its chain.
            match e.downcast_ref::<RenderError>() {
                Some(RenderError::Invalid(inv)) => eprint!("openclaw-render: {inv}"),
                _ => eprintln!(
                    "openclaw-render: {}",
                    openclaw_render::error::printable_lines(&format!("{e:#}"), 2000)
                ),
            }
            ExitCode::from(1)
        }
    }
}

fn load(path: &Path) -> Result<Spec> {
    let spec = Spec::from_path(path).map_err(RenderError::from)?;
    for w in openclaw_render::validate::warnings(&spec) {
        eprintln!("openclaw-render: warning: {w}");
    }
    Ok(spec)
}

/// `check --audit`: OpenClaw's own audit of the rendered config, judged by the allowlist.
fn security_audit(
    spec: &Path,
    artifacts: &[openclaw_render::Artifact],
    openclaw_bin: Option<PathBuf>,
) -> Result<()> {
    use openclaw_render::audit;
    let path_var = std::env::var("PATH").unwrap_or_default();
    let bin = match openclaw_bin {
        Some(b) if b.is_file() => b,
        Some(b) => anyhow::bail!(
            "--openclaw-bin {}: no such file (fix: pass the path of OpenClaw's `openclaw`, e.g. node_modules/.bin/openclaw)",
            b.display()
        ),
        None => std::env::split_paths(&path_var)
            .map(|d| d.join("openclaw"))
            .find(|p| p.is_file())
            .context(
                "openclaw not found on PATH (fix: pass --openclaw-bin PATH, or put OpenClaw 2026.9.6 and Node 24 on PATH)",
            )?,
    };
    let dir = tempfile::tempdir().context("make a scratch directory for the audit")?;
    let staged = audit::stage(artifacts, dir.path()).map_err(anyhow::Error::msg)?;
    let t = Instant::now();
    let out = audit::command(&bin, &path_var, &staged)
        .output()
        .with_context(|| format!("run {} security audit", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = audit::Report::parse(&stdout).map_err(|e| {
        let err = String::from_utf8_lossy(&out.stderr);
        let head: String = err.lines().take(5).collect::<Vec<_>>().join("\n");
        anyhow::anyhow!(
            "{e} (fix: OpenClaw 2026.9.6 needs Node 24 first on PATH; --openclaw-bin {})\n{}",
            bin.display(),
            openclaw_render::error::printable_lines(&head, 300)
        )
    })?;
    let name = spec
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let list = audit::Allowlist::embedded();
    print!("{}", audit::table(&report, &list, &name, "render"));
    let bad: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == "critical" || list.find(&name, "render", &f.check_id).is_none())
        .map(|f| format!("{} ({})", f.check_id, f.severity))
        .collect();
    println!(
        "openclaw security audit --deep: {} finding(s) in {:.1} s, {} not allowed",
        report.findings.len(),
        t.elapsed().as_secs_f64(),
        bad.len()
    );
    if !bad.is_empty() {
        anyhow::bail!(
            "OpenClaw's security audit of {} has findings the allowlist does not allow: {} (fix: change the spec, or, if the finding is intended, add it with the reason to crates/openclaw-render/audit-allowlist.toml)",
            spec.display(),
            bad.join(", ")
        );
    }
    Ok(())
}

fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Render { spec, out } => {
            let artifacts = render_all(&load(&spec)?)?;
            output::write_atomically(&out, &artifacts)?;
            tracing::info!(count = artifacts.len(), out = %out.display(), "rendered");
            println!(
                "rendered {} artifacts to {}",
                artifacts.len(),
                out.display()
            );
        }
        Command::Check {
            spec,
            audit,
            openclaw_bin,
        } => {
            let artifacts = render_all(&load(&spec)?)?;
            println!("{}: ok ({} artifacts)", spec.display(), artifacts.len());
            if audit {
                security_audit(&spec, &artifacts, openclaw_bin)?;
            }
        }
        Command::Schema => {
            let schema = schemars::schema_for!(Spec);
            println!("{}", serde_json::to_string_pretty(&schema)?);
        }
        Command::NixOptions => {
            let schema = serde_json::to_value(schemars::schema_for!(Spec))?;
            print!("{}", openclaw_render::nix_options::nix_options(&schema));
        }
        Command::Show { spec, artifact } => {
            let artifacts = render_all(&load(&spec)?)?;
            let a = artifacts
                .iter()
                .find(|a| a.path == artifact)
                .with_context(|| {
                    let names: Vec<&str> = artifacts.iter().map(|a| a.path.as_str()).collect();
                    format!("no artifact '{artifact}'; there are: {}", names.join(", "))
                })?;
            std::io::stdout().write_all(a.content.as_bytes())?;
        }
        Command::Bench { spec, iterations } => {
            let parsed = load(&spec)?;
            // The first render parses OpenClaw's schema once per process; report it apart.
            let t_schema = Instant::now();
            let _ = openclaw_render::openclaw_schema::validate(&serde_json::json!({}));
            let schema_load = t_schema.elapsed();
            let t0 = Instant::now();
            render_all(&parsed)?;
            let first = t0.elapsed();
            let mut times: Vec<f64> = (0..iterations.max(1))
                .map(|_| {
                    let t = Instant::now();
                    render_all(&parsed).map(|_| t.elapsed().as_secs_f64() * 1e3)
                })
                .collect::<Result<_, _>>()?;
            times.sort_by(|a, b| a.total_cmp(b));
            let median = times[times.len() / 2];
            println!(
                "{}",
                serde_json::json!({
                    "spec": spec.display().to_string(),
                    "iterations": times.len(),
                    "schema_load_ms": schema_load.as_secs_f64() * 1e3,
                    "first_render_ms": first.as_secs_f64() * 1e3,
                    "median_render_ms": median,
                    "max_render_ms": times[times.len() - 1],
                })
            );
        }
    }
    Ok(())
}
