//! `openclaw-lab`: see the crate docs. Also a multi-call binary: invoked as `systemctl` it is
//! the lab's stand-in for `systemctl try-restart` (what the OpenBao agent's promote runs).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use openclaw_lab::container_host::GatewayMode;
use openclaw_lab::{checks, fixtures, lab, renew, state, units};

#[derive(Parser)]
#[command(
    name = "openclaw-lab",
    version,
    about = "The hardened OpenClaw homelab in network namespaces, with real components"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Bring the lab up from a spec (default examples/lab.toml).
    Up {
        #[arg(long, default_value = "examples/lab.toml")]
        spec: PathBuf,
        /// How the gateway host runs the gateway.
        #[arg(long, value_enum, default_value_t)]
        gateway: GatewayMode,
    },
    /// Remove every namespace, process, user and file the lab made (idempotent).
    Down,
    /// The hostile-model suite against the running lab: the LLM fixture calls tools as a
    /// prompt-injected model would; a table of scenario, layer, expected and observed.
    Hostile {
        /// Also the controls: the layers turned off one after another (the gateway restarts
        /// twice; everything is restored afterwards).
        #[arg(long)]
        controls: bool,
        #[arg(long)]
        json: bool,
        /// Instead: deploy this multi-agent or sandboxed spec (health-gated), attack its
        /// agents, deploy its control (the spec's layers switched off), then `--back`.
        #[arg(long)]
        variant: Option<PathBuf>,
        /// The spec deployed after a `--variant` run.
        #[arg(long, default_value = "examples/lab.toml")]
        back: PathBuf,
    },
    /// A table: hosts with their addresses and services, the gateway's health, certificate
    /// expiry, last rotation, denied egress.
    Status {
        /// The raw facts as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Apply a new spec to the running lab, gated on the gateway's health: rolls back to the
    /// running spec by itself when the gateway is not started with auth enforced in time.
    Deploy {
        #[arg(long)]
        spec: PathBuf,
        /// How long the new deployment has to pass the gate.
        #[arg(long, default_value = "90s", value_parser = openclaw_probe::parse_duration)]
        within: Duration,
        #[arg(long)]
        json: bool,
    },
    /// Approve the browser pairing request the Control UI shows (`openclaw devices approve ID`
    /// run as the gateway, on the gateway host).
    Approve {
        /// The request id on the page.
        request: String,
    },
    /// Run one check on this host (inside a lab namespace or a VM).
    Check {
        #[arg(value_enum)]
        which: checks::Which,
        /// Spec to check against (default: the running lab's effective spec).
        #[arg(long)]
        spec: Option<PathBuf>,
        /// User to run the connections as (default: the spec's service user).
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
        /// egress: probe from inside the running gateway container's network namespace (the
        /// forward path its packets take), not from this host's own processes.
        #[arg(long)]
        from_container: bool,
        /// Run it on this lab host (`gateway` is `olab-gateway`), from the machine's root.
        #[arg(long)]
        host: Option<String>,
        /// This is a NixOS test VM whose own network carries the lab's addresses.
        #[arg(long)]
        vm: bool,
        /// browser: where the screenshots go (default: the lab state's browser/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Bring the lab up, run every check from the right hosts, tear it down.
    Test {
        #[arg(long, default_value = "examples/lab.toml")]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        gateway: GatewayMode,
        /// Leave the lab up afterwards.
        #[arg(long)]
        keep: bool,
    },
    /// Renew the machine certificate through step-ca when due.
    Renew {
        #[arg(long)]
        spec: PathBuf,
        /// Check every machine_cert.check_interval instead of once.
        #[arg(long = "loop")]
        repeat: bool,
        #[arg(long)]
        force: bool,
        /// LiteLLM's certificate (`litellm.openbao.cert`/`.key`) instead of the gateway's;
        /// its agent is restarted after a renewal, as the rendered unit does.
        #[arg(long)]
        litellm: bool,
    },
    /// Run a fixture server (inside a namespace).
    #[command(subcommand)]
    Serve(Serve),
    /// Supervise one unit file (the lab's stand-in for systemd).
    #[command(hide = true)]
    Supervise {
        #[arg(long)]
        unit: PathBuf,
    },
    /// Run a oneshot unit on a timer's schedule (the lab's stand-in for systemd timers).
    #[command(hide = true)]
    Timer {
        #[arg(long)]
        service: PathBuf,
        #[arg(long)]
        timer: PathBuf,
    },
    /// Benchmarks as JSON: rotation, cold start vs plain `openclaw gateway run`, probe cost
    /// vs `openclaw health --json`, RSS of the gateway and each sidecar, LiteLLM (added
    /// latency, RSS, primary 503 through LiteLLM vs OpenClaw's own fallback). Brings the lab
    /// up when it is not (and down again afterwards).
    Bench {
        #[arg(long, default_value = "examples/lab.toml")]
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        gateway: GatewayMode,
        /// Only these sections (rss, probe_cost, rotation, egress_proxy, litellm, cold_start).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Write the JSON here too.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Serve {
    Canary {
        #[arg(long, value_delimiter = ',')]
        tcp: Vec<u16>,
        #[arg(long, value_delimiter = ',')]
        udp: Vec<u16>,
        #[arg(long)]
        record: PathBuf,
    },
    /// The OpenAI-compatible LLM fixture (the lab's stand-in for LiteLLM).
    Llm {
        #[arg(long)]
        listen: String,
        #[arg(long = "model")]
        models: Vec<String>,
        #[arg(long)]
        key_file: Option<PathBuf>,
        #[arg(long)]
        mode_file: Option<PathBuf>,
        /// Append every tool result the gateway returns for a scripted call (JSON lines).
        #[arg(long)]
        tool_results: Option<PathBuf>,
        /// Put this name into the reply (one of several fixture "providers").
        #[arg(long)]
        name: Option<String>,
    },
    /// The forward_auth identity fixture (the lab's stand-in for Keycloak).
    Identity {
        #[arg(long)]
        listen: String,
    },
    /// Publish a lab address on this machine's loopback (started in the machine's own
    /// network namespace; joins `--netns` after binding).
    Forward {
        #[arg(long = "listen", required = true)]
        listen: Vec<std::net::SocketAddr>,
        #[arg(long)]
        netns: String,
        #[arg(long)]
        to: std::net::SocketAddr,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPENCLAW_LAB_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let argv0 = std::env::args().next().unwrap_or_default();
    let res = if argv0.rsplit('/').next() == Some("systemctl") {
        systemctl_shim(std::env::args().skip(1).collect())
    } else {
        run(Cli::parse())
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("openclaw-lab: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.cmd {
        Cmd::Up { spec, gateway } => {
            match lab::up(&spec, gateway) {
                Ok(u) => {
                    openclaw_lab::owner::mark_kept(&u.state)?;
                    lab::print_up(&u)
                }
                Err(e) => {
                    eprintln!("openclaw-lab up failed: {e:#}\nthe partial lab is left for inspection: `openclaw-lab status`, logs in {}/logs; `openclaw-lab down` removes it", state::state_dir().display());
                    return Ok(1);
                }
            }
            Ok(0)
        }
        Cmd::Down => {
            lab::down()?;
            println!("openclaw-lab is down: no lab namespace, process or state left");
            Ok(0)
        }
        Cmd::Hostile {
            controls,
            json,
            variant,
            back,
        } => {
            lab::require_root()?;
            openclaw_lab::owner::ensure_free(
                &openclaw_lab::state::state_dir(),
                "the hostile suite",
            )?;
            let report = match variant {
                Some(v) => openclaw_lab::hostile_agents::run_variant(&v, &back)?,
                None => {
                    let spec = lab::load_effective_spec()?;
                    openclaw_lab::hostile::run(&spec, &openclaw_lab::state::state_dir(), controls)?
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
        Cmd::Status { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&lab::status()?)?);
            } else {
                print!("{}", openclaw_lab::status::table()?);
            }
            Ok(0)
        }
        Cmd::Deploy { spec, within, json } => {
            let o = openclaw_lab::deploy::deploy(&spec, within)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&o)?);
            } else {
                print!("{}", o.to_text());
            }
            // 0: deployed; 3: rolled back (the previous deployment serves).
            Ok(if o.deployed { 0 } else { 3 })
        }
        Cmd::Approve { request } => {
            lab::require_root()?;
            checks::browser::approve_device(&lab::load_effective_spec()?, &request)?;
            println!("approved {request}: the page connects on its own");
            Ok(0)
        }
        Cmd::Check {
            which,
            spec,
            user,
            json,
            from_container,
            host,
            vm,
            out,
        } => {
            if let Some(h) = host {
                return on_lab_host(&h);
            }
            if which == checks::Which::Browser {
                // A browser on this machine, through the loopback the lab publishes on.
                let st = state::state_dir();
                let spec = lab::load_effective_spec()?;
                let out = out.unwrap_or_else(|| checks::browser::default_out(&st));
                let report = checks::browser::run(&spec, &st, &out)?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{}", report.to_text());
                }
                return Ok(if report.ok() { 0 } else { 1 });
            }
            checks::location::ensure(&format!("{which:?}").to_lowercase(), vm)?;
            if from_container {
                return checks::egress::rerun_in_container(spec.as_deref(), user.as_deref(), json);
            }
            let spec = match spec {
                Some(p) => openclaw_render::Spec::from_path(&p)
                    .with_context(|| format!("loading {}", p.display()))?,
                None => lab::load_effective_spec()?,
            };
            let report = checks::run(which, &spec, user.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(if report.ok() { 0 } else { 1 })
        }
        Cmd::Test {
            spec,
            gateway,
            keep,
        } => checks::suite::run(&spec, keep, gateway),
        Cmd::Renew {
            spec,
            repeat,
            force,
            litellm,
        } => {
            let spec = openclaw_render::Spec::from_path(&spec)?;
            let m = spec
                .machine_cert
                .as_ref()
                .context("the spec has no [machine_cert]")?;
            let (cert, key, agent) = if litellm {
                let lb = spec
                    .litellm
                    .as_ref()
                    .and_then(|l| l.openbao.as_ref())
                    .context("--litellm: the spec has no [litellm.openbao]")?;
                let agent = openclaw_render::render::litellm::agent_unit_name(&spec);
                (lb.cert.as_str(), lb.key.as_str(), Some(agent))
            } else {
                (m.cert.as_str(), m.key.as_str(), None)
            };
            let r = renew::Renewal {
                ca_url: &m.ca_url,
                root_ca: m.root_ca.as_ref(),
                cert: cert.as_ref(),
                key: key.as_ref(),
                renew_before: Duration::from_secs(m.renew_before.as_secs()),
            };
            loop {
                match renew::renew_if_due(&r, force) {
                    Ok(o) => {
                        eprintln!("{o:?}");
                        // The rendered unit's ExecStartPost: the agent logs in again at once.
                        if let (renew::Outcome::Renewed { .. }, Some(u)) = (&o, &agent) {
                            systemctl_shim(vec!["try-restart".into(), u.clone()])?;
                        }
                    }
                    Err(e) if repeat => eprintln!("renewal failed, retrying next interval: {e:#}"),
                    Err(e) => return Err(e),
                }
                if !repeat {
                    return Ok(0);
                }
                std::thread::sleep(Duration::from_secs(m.check_interval.as_secs().max(1)));
            }
        }
        Cmd::Serve(s) => {
            match s {
                Serve::Canary { tcp, udp, record } => fixtures::canary::run(&tcp, &udp, &record)?,
                Serve::Llm {
                    listen,
                    models,
                    key_file,
                    mode_file,
                    tool_results,
                    name,
                } => fixtures::llm::run(&listen, models, key_file, mode_file, name, tool_results)?,
                Serve::Identity { listen } => fixtures::identity::run(&listen)?,
                Serve::Forward { listen, netns, to } => {
                    fixtures::forward::run(&listen, &netns, to)?
                }
            }
            Ok(0)
        }
        Cmd::Timer { service, timer } => {
            let st = state::state_dir();
            openclaw_lab::timer::run(&service, &timer, &state::base_path(&st), &st)?;
            Ok(0)
        }
        Cmd::Bench {
            spec,
            gateway,
            out,
            only,
        } => {
            let (report, ok) = openclaw_lab::bench::run(&spec, gateway, &only)?;
            let text = serde_json::to_string_pretty(&report)?;
            println!("{text}");
            if let Some(p) = out {
                std::fs::write(&p, format!("{text}\n"))
                    .with_context(|| format!("writing {}", p.display()))?;
            }
            Ok(if ok { 0 } else { 1 })
        }
        Cmd::Supervise { unit } => {
            let u = units::Unit::from_file(&unit)?;
            let st = state::state_dir();
            let status = st.join("units").join(format!("{}.json", u.name));
            units::supervise(&u, &state::base_path(&st), &status)?;
            Ok(0)
        }
    }
}

/// `check ... --host NAME`: the same command line, minus `--host`, on that lab host (its
/// namespaces and Podman configuration).
fn on_lab_host(name: &str) -> Result<u8> {
    let h = openclaw_lab::topology::host(name).with_context(|| {
        format!(
            "--host {name}: no such lab host (hosts: {})",
            openclaw_lab::topology::HOSTS.map(|h| h.name).join(", ")
        )
    })?;
    if !openclaw_lab::netns::existing().contains(&h.netns()) {
        bail!("--host {name}: the lab is not up (`bash scripts/lab.sh up`)");
    }
    let mut argv: Vec<String> = vec![std::env::current_exe()?.display().to_string()];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--host" {
            args.next();
        } else if !a.starts_with("--host=") {
            argv.push(a);
        }
    }
    let st = state::state_dir();
    let status = state::netns_command(&h.netns(), None, &argv)
        .env(
            "CONTAINERS_CONF",
            openclaw_lab::container_host::containers_conf(&st),
        )
        .status()
        .with_context(|| format!("running the check on {}", h.netns()))?;
    Ok(if status.success() { 0 } else { 1 })
}

/// `systemctl try-restart|restart UNIT...`: SIGHUP to the lab's supervisor of each unit.
fn systemctl_shim(args: Vec<String>) -> Result<u8> {
    let st = state::state_dir();
    let (verb, units) = args.split_first().context("systemctl: no command")?;
    match verb.as_str() {
        "try-restart" | "restart" | "reload-or-restart" => {
            for u in units {
                match state::read_pid(&st, &format!("unit-{u}")).filter(|p| state::alive(*p)) {
                    // SAFETY: kill(2) on the pid of the lab's supervisor of that unit.
                    Some(pid) => unsafe {
                        libc::kill(pid, libc::SIGHUP);
                    },
                    None if verb == "try-restart" => {}
                    None => bail!("systemctl (openclaw-lab): unit {u} is not running"),
                }
                eprintln!("systemctl (openclaw-lab stand-in): {verb} {u}");
            }
            Ok(0)
        }
        // A timer-driven oneshot (the probe) runs now; anything else is already running.
        "start" => {
            for u in units {
                let running = state::read_pid(&st, &format!("unit-{u}")).is_some_and(state::alive);
                if !running && !openclaw_lab::timer::trigger(&st, u) {
                    bail!("systemctl (openclaw-lab): unit {u} is not known");
                }
            }
            Ok(0)
        }
        "is-active" => {
            let active = units
                .iter()
                .all(|u| lab::unit_status(&st, u).is_some_and(|s| s.state == "running"));
            println!("{}", if active { "active" } else { "inactive" });
            Ok(if active { 0 } else { 3 })
        }
        other => bail!("systemctl (openclaw-lab stand-in): `{other}` is not emulated"),
    }
}
