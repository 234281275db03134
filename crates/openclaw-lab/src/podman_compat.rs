//! What the lab's container runtime cannot run of a unit that Podman 5's quadlet generated, and
//! what stands in for it.
//!
//! The lab runs the real quadlet generator (Podman 5.4, as on NixOS 25.05) over the rendered
//! `.container`, but the runtime here is Debian 12's Podman 4.3.1 without systemd as PID 1.
//! The unit file on disk stays exactly as quadlet wrote it; only the `podman run` argv is
//! adapted when the lab's unit runner starts it, and every adaptation is reported in the
//! unit's status (`podman_compat`), so nothing is changed silently:
//! - `--cgroups=split` is dropped: it needs a cgroup systemd delegated to the unit.
//! - `--sdnotify=healthy` (Podman >= 5.1) becomes `--sdnotify=conmon`, and the unit runner
//!   itself holds the unit in "starting" until `podman healthcheck run` passes: the same
//!   "ready once healthy" contract, checked by a stand-in.
//! - Health checks: Podman schedules them as transient systemd timers, which cannot exist
//!   here; the unit runner runs `podman healthcheck run` on the container's interval instead
//!   (Podman itself then applies `--health-on-failure`).
//! - `--cidfile=`: Podman 4.3's `podman rm --cidfile` (the unit's ExecStopPost) leaves the
//!   file behind, and the next `podman run` refuses to start over it; the unit runner removes a
//!   leftover before each start (Podman 5 removes it itself).
//! - `podman network create --ignore` (Podman >= 4.4): `--ignore` is dropped; the lab's
//!   network directory is new on every `up`, so the network never exists yet.

use std::path::Path;
use std::time::Duration;

/// The health check the unit runner drives for a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub container: String,
    pub interval: Duration,
    /// `--sdnotify=healthy` was asked for: not ready before the first passing check.
    pub gate_ready: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Adapted {
    pub argv: Vec<String>,
    /// One line per adaptation, for the unit's status.
    pub notes: Vec<String>,
    pub health: Option<Health>,
    /// `--cidfile=` of a `podman run`, removed before each start when left over.
    pub cidfile: Option<std::path::PathBuf>,
}

/// `podman SUBCOMMAND...` with these words right after the program.
fn is_podman(argv: &[String], sub: &[&str]) -> bool {
    argv.len() > sub.len()
        && Path::new(&argv[0])
            .file_name()
            .is_some_and(|n| n == "podman")
        && argv[1..=sub.len()].iter().zip(sub).all(|(a, b)| a == b)
}

/// `30s`, `1m`, `1m30s`, `500ms` (Go durations, as podman takes them).
fn go_duration(s: &str) -> Option<Duration> {
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            unit.push(chars.next()?);
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
    }
    num.is_empty().then(|| Duration::from_secs_f64(total))
}

/// Adapts a unit's ExecStart argv; anything but `podman run` comes back unchanged.
pub fn adapt(argv: &[String]) -> Adapted {
    if is_podman(argv, &["network", "create"]) && argv.iter().any(|a| a == "--ignore") {
        return Adapted {
            argv: argv.iter().filter(|a| *a != "--ignore").cloned().collect(),
            notes: vec![
                "dropped --ignore from `podman network create` (Podman 4.3 lacks it; the lab's network directory is new on every up)".into(),
            ],
            health: None,
            cidfile: None,
        };
    }
    if !is_podman(argv, &["run"]) {
        return Adapted {
            argv: argv.to_vec(),
            ..Default::default()
        };
    }
    let mut out = Adapted::default();
    let (mut name, mut interval, mut has_health, mut gate) = (None, None, false, false);
    let mut it = argv.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--cgroups=split" => {
                out.notes.push(
                    "dropped --cgroups=split (needs a systemd-delegated cgroup; systemd is not PID 1 here)"
                        .into(),
                );
                continue;
            }
            "--sdnotify=healthy" => {
                out.notes.push(
                    "--sdnotify=healthy -> --sdnotify=conmon (Podman 4.3 lacks it); the unit runner reports ready only after `podman healthcheck run` passes"
                        .into(),
                );
                gate = true;
                out.argv.push("--sdnotify=conmon".into());
                continue;
            }
            "--name" => {
                name = it.peek().map(|s| s.to_string());
            }
            _ => {}
        }
        if let Some(n) = a.strip_prefix("--name=") {
            name = Some(n.to_string());
        }
        if a.starts_with("--health-cmd") {
            has_health = true;
        }
        if let Some(f) = a.strip_prefix("--cidfile=") {
            out.cidfile = Some(f.into());
            out.notes.push(format!(
                "removes a leftover {f} before each start (Podman 4.3's `rm --cidfile` keeps it)"
            ));
        }
        if let Some(i) = a.strip_prefix("--health-interval=") {
            interval = go_duration(i);
        }
        out.argv.push(a.clone());
    }
    if has_health {
        if let Some(container) = name {
            out.notes.push(
                "health checks run by the unit runner (`podman healthcheck run` on the container's interval; Podman's systemd timers cannot exist here)"
                    .into(),
            );
            out.health = Some(Health {
                container,
                interval: interval.unwrap_or(Duration::from_secs(30)),
                gate_ready: gate,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn quadlet_5_flags_are_adapted_and_reported() {
        let a = adapt(&v(
            "/usr/bin/podman run --name openclaw --cidfile=/run/openclaw.cid --replace --rm --cgroups=split --sdnotify=healthy -d --health-cmd=x --health-interval=1m30s img",
        ));
        assert_eq!(
            a.argv,
            v("/usr/bin/podman run --name openclaw --cidfile=/run/openclaw.cid --replace --rm --sdnotify=conmon -d --health-cmd=x --health-interval=1m30s img")
        );
        assert_eq!(a.notes.len(), 4);
        assert_eq!(a.cidfile, Some("/run/openclaw.cid".into()));
        assert_eq!(
            a.health,
            Some(Health {
                container: "openclaw".into(),
                interval: Duration::from_secs(90),
                gate_ready: true
            })
        );
    }

    #[test]
    fn other_commands_are_left_alone() {
        let net = adapt(&v(
            "/usr/bin/podman network create --ignore systemd-openclaw",
        ));
        assert_eq!(
            net.argv,
            v("/usr/bin/podman network create systemd-openclaw")
        );
        assert_eq!(net.notes.len(), 1);
        let argv = v("/usr/bin/podman ps --all");
        assert_eq!(adapt(&argv).argv, argv);
        assert!(adapt(&argv).notes.is_empty());
        assert_eq!(adapt(&v("/bin/node x")).health, None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(go_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(go_duration("x"), None);
    }
}
