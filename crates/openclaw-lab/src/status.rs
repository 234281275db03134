//! `openclaw-lab status`: the running lab as a person reads it: each host with its addresses
//! and services, then the gateway's health as the rendered probe last saw it, the machine
//! certificate's expiry, when the secrets were last rendered (rotation) and how much egress
//! the proxy refused. `--json` has the raw facts.
//!
//! Which host a process belongs to comes from its network namespace (`/proc/PID/ns/net`
//! against `/run/netns/olab-*`), not from a list kept next to `up`: a new lab host shows up here
//! without touching this file.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::SystemTime;

use anyhow::Result;
use openclaw_render::spec::{SecretLocation, Spec};

use crate::state;

/// The host a process runs on: the lab namespace's short name, or `machine`.
fn host_of(pid: i32, namespaces: &BTreeMap<u64, String>) -> String {
    std::fs::metadata(format!("/proc/{pid}/ns/net"))
        .ok()
        .and_then(|m| namespaces.get(&m.ino()).cloned())
        .unwrap_or_else(|| "machine".into())
}

fn namespace_inodes() -> BTreeMap<u64, String> {
    crate::netns::existing()
        .into_iter()
        .filter_map(|ns| {
            let ino = std::fs::metadata(format!("/run/netns/{ns}")).ok()?.ino();
            Some((
                ino,
                ns.trim_start_matches(crate::topology::PREFIX).to_string(),
            ))
        })
        .collect()
}

/// "3 min 5 s" for a duration in seconds (negative: "-…", i.e. past).
pub fn human(secs: i64) -> String {
    let (sign, s) = if secs < 0 { ("-", -secs) } else { ("", secs) };
    match s {
        0..=119 => format!("{sign}{s} s"),
        120..=7199 => format!("{sign}{} min {} s", s / 60, s % 60),
        7200..=172_799 => format!("{sign}{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{sign}{} d", s / 86_400),
    }
}

fn age(path: &Path) -> Option<i64> {
    let m = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(SystemTime::now().duration_since(m).ok()?.as_secs() as i64)
}

/// A metric's value from the probe's textfile (the first series with that name).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.strip_prefix(name)
                .is_some_and(|r| r.starts_with(' ') || r.starts_with('{'))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn services(st: &Path) -> BTreeMap<String, Vec<String>> {
    let inodes = namespace_inodes();
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, pid, alive) in state::processes(st) {
        // A forwarder listens on the machine's loopback but lives in the lab namespace it
        // forwards into (see fixtures/forward.rs): where a person reaches it is the machine.
        let host = if name.starts_with("publish-") {
            "machine".into()
        } else {
            pid.filter(|_| alive)
                .map(|p| host_of(p, &inodes))
                .unwrap_or_else(|| "?".into())
        };
        let shown = match name.strip_prefix("unit-") {
            Some(unit) if unit.ends_with(".timer") => {
                format!("{unit} ({})", if alive { "waiting" } else { "DOWN" })
            }
            Some(unit) => {
                let s = crate::lab::unit_status(st, unit);
                let state = s.as_ref().map(|s| s.state.as_str()).unwrap_or("?");
                let health = s
                    .as_ref()
                    .and_then(|s| s.health.as_deref())
                    .map(|h| format!(", {h}"))
                    .unwrap_or_default();
                format!("{unit} ({state}{health})")
            }
            None => format!("{name} ({})", if alive { "up" } else { "DOWN" }),
        };
        // A dead process's namespace is unknown: it is listed under `?`.
        by_host.entry(host).or_default().push(shown);
    }
    by_host
}

/// The table `status` prints.
pub fn table() -> Result<String> {
    let st = state::state_dir();
    if crate::netns::existing().is_empty() {
        return Ok("the lab is not up (bash scripts/lab.sh up)\n".into());
    }
    let mut out = format!("openclaw-lab status (state {})\n\n", st.display());
    let addrs: BTreeMap<String, String> = crate::netns::describe()
        .into_iter()
        .map(|(ns, a)| {
            let a: Vec<&str> = a
                .split_whitespace()
                .filter(|w| {
                    w.contains('/')
                        && !w.starts_with("fe80")
                        && !w.starts_with("127.")
                        && *w != "::1/128"
                })
                .collect();
            (
                ns.trim_start_matches(crate::topology::PREFIX).to_string(),
                a.join(" "),
            )
        })
        .collect();
    let services = services(&st);
    out.push_str(&format!(
        "{:<10} {:<44} {}\n",
        "HOST", "ADDRESSES", "SERVICES"
    ));
    let mut hosts: Vec<&String> = addrs.keys().chain(services.keys()).collect();
    hosts.sort();
    hosts.dedup();
    for h in hosts {
        let a = addrs
            .get(h)
            .map(String::as_str)
            .unwrap_or(match h.as_str() {
                "machine" => "127.0.0.1, ::1 (published ports)",
                _ => "",
            });
        let s = services
            .get(h)
            .map(|v| v.join(", "))
            .unwrap_or_else(|| "-".into());
        out.push_str(&format!("{h:<10} {a:<44} {s}\n"));
    }
    if let Ok(spec) = crate::lab::load_effective_spec() {
        out.push('\n');
        out.push_str(&gateway_rows(&spec));
    }
    Ok(out)
}

fn gateway_rows(spec: &Spec) -> String {
    let mut rows: Vec<(String, String)> = Vec::new();
    let textfile = spec
        .observability
        .prometheus
        .as_ref()
        .map(|p| p.probe_textfile.clone());
    let text = textfile
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let m = |n: &str| metric(&text, n);
    let yes = |v: Option<f64>, y: &str, n: &str| match v {
        Some(x) if x >= 1.0 => y.to_string(),
        Some(_) => n.to_string(),
        None => "?".into(),
    };
    let last_run = m("openclaw_probe_last_run_timestamp_seconds").map(|t| {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        human((now - t) as i64)
    });
    rows.push((
        "health".into(),
        match last_run {
            Some(ago) => format!(
                "{}, {}, {}, {} (openclaw-probe, {ago} ago)",
                yes(m("openclaw_probe_up"), "up", "DOWN"),
                yes(m("openclaw_probe_ready"), "ready", "NOT READY"),
                yes(
                    m("openclaw_probe_auth_enforced"),
                    "auth enforced",
                    "AUTH NOT ENFORCED"
                ),
                yes(
                    m("openclaw_probe_token_accepted"),
                    "token accepted",
                    "TOKEN REFUSED"
                ),
            ),
            None => "no probe run yet".into(),
        },
    ));
    if let Some(mc) = &spec.machine_cert {
        let cert = Path::new(&mc.cert);
        let left = crate::pki::seconds_left(cert)
            .map(|s| format!("expires in {}", human(s)))
            .unwrap_or_else(|e| format!("? ({e})"));
        let renewed = age(cert)
            .map(|a| format!(", issued {} ago", human(a)))
            .unwrap_or_default();
        rows.push(("machine cert".into(), format!("{left}{renewed}")));
    }
    let rendered: Vec<(String, i64)> = spec
        .secrets
        .items
        .keys()
        .filter_map(|n| match spec.secret_location(n)? {
            SecretLocation::File { path } => Some((n.clone(), age(Path::new(&path))?)),
            _ => None,
        })
        .collect();
    if let Some((name, newest)) = rendered.iter().min_by_key(|(_, a)| *a) {
        rows.push((
            "last rotation".into(),
            format!(
                "{} ago ({name}; {} secrets rendered by the OpenBao agent)",
                human(*newest),
                rendered.len()
            ),
        ));
    }
    match (
        m("openclaw_probe_egress_denied"),
        m("openclaw_probe_egress_requests"),
    ) {
        (Some(d), Some(r)) => rows.push((
            "egress denied".into(),
            format!("{d:.0} of {r:.0} proxied requests (the egress proxy's log)"),
        )),
        _ => rows.push((
            "egress denied".into(),
            "? (no egress proxy log counted)".into(),
        )),
    }
    if let Ok(url) = crate::publish::webchat_url(spec) {
        rows.push((
            "WebChat".into(),
            format!("{url} on this machine's loopback (`openclaw-lab up` says how to open it)"),
        ));
    }
    let mut s = format!("GATEWAY ({}, {:?})\n", spec.gateway_unit(), spec.runtime);
    for (k, v) in rows {
        s.push_str(&format!("  {k:<14} {v}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_person_writes_them() {
        assert_eq!(human(5), "5 s");
        assert_eq!(human(185), "3 min 5 s");
        assert_eq!(human(7260), "2 h 1 min");
        assert_eq!(human(-30), "-30 s");
        assert_eq!(human(3 * 86_400), "3 d");
    }

    #[test]
    fn metric_takes_the_named_series_only() {
        let t = "# HELP x\nopenclaw_probe_up{gateway=\"g\"} 1\nopenclaw_probe_up_total 7\nopenclaw_probe_egress_denied{log=\"l\"} 3\n";
        assert_eq!(metric(t, "openclaw_probe_up"), Some(1.0));
        assert_eq!(metric(t, "openclaw_probe_egress_denied"), Some(3.0));
        assert_eq!(metric(t, "openclaw_probe_ready"), None);
    }
}
