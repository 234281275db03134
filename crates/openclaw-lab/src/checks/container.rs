//! The running gateway container, checked from the host as root (`podman` as the host
//! configures it): the hardening the quadlet unit asks for is in force on the live process,
//! not only written in the unit: its uid, no capabilities, no-new-privileges, seccomp, a
//! read-only root (a write outside the volumes fails), the pids, memory and open-file limits,
//! and no secret value in `podman inspect`, the container's argv or its environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::spec::{Runtime, Spec};
use serde_json::{json, Value};

use super::secrets::secret_values;
use super::Report;
use crate::cmd::output_within;

fn podman(args: &[&str]) -> Result<std::process::Output> {
    let mut c = Command::new("podman");
    c.args(args);
    output_within(&mut c, Duration::from_secs(60))
}

fn inspect(name: &str) -> Result<Value> {
    let out = podman(&["inspect", name])?;
    if !out.status.success() {
        bail!(
            "podman inspect {name}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).context("podman inspect output")?;
    v.get(0).cloned().context("podman inspect: no container")
}

/// `Key:\tvalue` from /proc/<pid>/status.
fn status_field(status: &str, key: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The file of a cgroup controller for the process: v1 (`<ctrl>/<path>/<file>`) or v2.
fn cgroup_file(pid: i32, controller: &str, v1: &str, v2: &str) -> Option<PathBuf> {
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    for line in cg.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
        if ctrls.split(',').any(|c| c == controller) {
            return Some(
                Path::new("/sys/fs/cgroup")
                    .join(controller)
                    .join(path.trim_start_matches('/'))
                    .join(v1),
            );
        }
    }
    cg.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| {
            Path::new("/sys/fs/cgroup")
                .join(p.trim_start_matches('/'))
                .join(v2)
        })
        .filter(|p| p.exists())
}

fn read_trim(p: &Path) -> String {
    std::fs::read_to_string(p)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|e| format!("unreadable ({e})"))
}

/// Whether a write as the container's user at `path` inside the container succeeds.
fn write_inside(name: &str, user: &str, path: &str) -> (bool, String) {
    let js = format!(
        "try{{require('fs').writeFileSync({p:?},'x');require('fs').unlinkSync({p:?});console.log('written')}}catch(e){{console.log(e.code);process.exit(1)}}",
        p = path
    );
    match podman(&[
        "exec",
        &format!("--user={user}"),
        name,
        "/bin/node",
        "-e",
        &js,
    ]) {
        Ok(o) => (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        ),
        Err(e) => (false, format!("{e:#}")),
    }
}

pub fn run(spec: &Spec) -> Result<Report> {
    let mut r = Report::new("container");
    if spec.runtime != Runtime::Container {
        bail!("the spec's runtime is native: there is no gateway container to check");
    }
    let c = &spec.container;
    let v = inspect(&spec.name)?;
    let running = v["State"]["Running"].as_bool() == Some(true);
    r.push(
        "container running",
        "running",
        v["State"]["Status"].to_string(),
        running,
    );
    let pid = v["State"]["Pid"].as_i64().unwrap_or(0) as i32;
    if !running || pid <= 0 {
        return Ok(r);
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let (uid, gid) = c.ids();
    let want_uid = [uid; 4].join(" ");
    let want_gid = [gid; 4].join(" ");
    let seen_uid = status_field(&status, "Uid");
    r.push(
        "runs as container.user's uid",
        &want_uid,
        &seen_uid,
        seen_uid == want_uid,
    );
    let seen_gid = status_field(&status, "Gid");
    r.push(
        "runs as container.user's gid",
        &want_gid,
        &seen_gid,
        seen_gid == want_gid,
    );
    for cap in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] {
        let seen = status_field(&status, cap);
        r.push(
            format!("{cap} (no capabilities)"),
            "0000000000000000",
            &seen,
            seen == "0000000000000000",
        );
    }
    let nnp = status_field(&status, "NoNewPrivs");
    r.push("no-new-privileges", "1", &nnp, nnp == "1");
    let seccomp = status_field(&status, "Seccomp");
    r.push("seccomp filter on", "2", &seccomp, seccomp == "2");

    let (ok, seen) = write_inside(&spec.name, &c.user, "/probe-write");
    r.push(
        "write to the root filesystem",
        "EROFS",
        &seen,
        !ok && seen == "EROFS",
    );
    let (ok, seen) = write_inside(&spec.name, &c.user, "/tmp/probe-write");
    r.push("write to /tmp (tmpfs)", "written", &seen, ok);
    let state_probe = format!(
        "{}/.probe-write",
        spec.paths.state_dir.trim_end_matches('/')
    );
    let (ok, seen) = write_inside(&spec.name, &c.user, &state_probe);
    r.push("write to the state volume", "written", &seen, ok);
    let (ok, seen) = write_inside(
        &spec.name,
        &c.user,
        &format!("{}/.probe-write", spec.secrets.dir.trim_end_matches('/')),
    );
    r.push(
        "write to the secrets volume",
        "EROFS",
        &seen,
        !ok && seen == "EROFS",
    );

    let pids = cgroup_file(pid, "pids", "pids.max", "pids.max")
        .map(|p| read_trim(&p))
        .unwrap_or_else(|| "no pids cgroup".into());
    r.push(
        "pids limit (cgroup)",
        c.pids_limit.to_string(),
        &pids,
        pids == c.pids_limit.to_string(),
    );
    let mem_want = (c.memory_max.as_mib() * 1024 * 1024).to_string();
    let mem = cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max")
        .map(|p| read_trim(&p))
        .unwrap_or_else(|| "no memory cgroup".into());
    r.push("memory limit (cgroup)", &mem_want, &mem, mem == mem_want);
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let nofile = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .map(|l| {
            l.split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join(":")
        })
        .unwrap_or_default();
    let want = format!("{0}:{0}", c.ulimit_nofile);
    r.push("open files limit (rlimit)", &want, &nofile, nofile == want);
    let ro = v["HostConfig"]["ReadonlyRootfs"].as_bool() == Some(true);
    r.push("podman inspect: ReadonlyRootfs", "true", ro.to_string(), ro);

    // Secrets reach the container as read-only files only.
    let inspect_text = v.to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let values = secret_values(spec);
    let mut leaks = Vec::new();
    for (what, val) in &values {
        if inspect_text.contains(val.as_str()) {
            leaks.push(format!("{what} in podman inspect"));
        }
        for (name, bytes) in [("argv", &cmdline), ("environment", &environ)] {
            if bytes.windows(val.len()).any(|w| w == val.as_bytes()) {
                leaks.push(format!("{what} in the container's {name}"));
            }
        }
    }
    r.push(
        format!(
            "no secret value in podman inspect, argv or environment ({} values)",
            values.len()
        ),
        "0 hits",
        if leaks.is_empty() {
            "0 hits".into()
        } else {
            leaks.join(", ")
        },
        leaks.is_empty() && !values.is_empty(),
    );
    r.counts.insert("pid".into(), json!(pid));
    Ok(r)
}
