//! The egress matrix, run on the gateway host as the gateway's user: real TCP connects and
//! UDP exchanges (IPv4 and IPv6) to what the spec allows and to what it must not reach,
//! compared with `openclaw_render::render::nftables::expected_verdict`.
//!
//! Every destination probed must have a listener (the lab puts canaries on all of them), so
//! "reached" means allowed and anything else (reset, EPERM, timeout) means denied; an
//! allowed destination that cannot be reached counts as unexpected too.

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::render::nftables::{expected_verdict, Verdict};
use openclaw_render::spec::{Protocol, Spec};
use serde_json::json;

use super::Report;
use crate::lab::{CANARY_TCP, CANARY_UDP, LLM_OTHER_PORT, PROVIDER_PORT};
use crate::topology::{CLOUD, INTERNET_CANARY, LAN_CANARY, LLM, METADATA, PROVIDERS};

#[derive(Debug, Clone)]
pub struct Target {
    pub what: String,
    pub ip: IpAddr,
    pub port: u16,
    pub proto: Protocol,
}

fn t(what: &str, ip: IpAddr, port: u16, proto: Protocol) -> Target {
    Target {
        what: what.into(),
        ip,
        port,
        proto,
    }
}

/// The lab's forbidden destinations: LAN and internet canaries (both families, TCP and UDP),
/// the metadata address, the model providers directly, another port on the LLM host, DNS to
/// servers other than the resolver.
pub fn lab_targets() -> Vec<Target> {
    let mut v = Vec::new();
    for h in [LAN_CANARY, INTERNET_CANARY] {
        for ip in [IpAddr::V4(h.v4), IpAddr::V6(h.v6)] {
            for &p in CANARY_TCP {
                v.push(t(&format!("{} canary", h.name), ip, p, Protocol::Tcp));
            }
            for &p in CANARY_UDP {
                v.push(t(&format!("{} canary", h.name), ip, p, Protocol::Udp));
            }
        }
    }
    v.push(t(
        "metadata service",
        IpAddr::V4(METADATA),
        80,
        Protocol::Tcp,
    ));
    v.push(t(
        "metadata service",
        IpAddr::V4(METADATA),
        443,
        Protocol::Tcp,
    ));
    for ip in [IpAddr::V4(CLOUD.v4), IpAddr::V6(CLOUD.v6)] {
        v.push(t(
            "cloud edge, direct (bypassing the proxy)",
            ip,
            443,
            Protocol::Tcp,
        ));
    }
    // The model providers: only LiteLLM (on the llm host) may reach them.
    for p in PROVIDERS {
        for ip in [IpAddr::V4(p.v4), IpAddr::V6(p.v6)] {
            v.push(t(
                &format!("{}, direct (bypassing LiteLLM)", p.name),
                ip,
                PROVIDER_PORT,
                Protocol::Tcp,
            ));
        }
    }
    v.push(t(
        "llm host, other port",
        IpAddr::V4(LLM.v4),
        LLM_OTHER_PORT,
        Protocol::Tcp,
    ));
    v
}

/// What the spec itself names: each allow rule's ports and the DNS resolvers.
pub fn spec_targets(spec: &Spec) -> Vec<Target> {
    let mut v = Vec::new();
    for r in &spec.egress.allow {
        for &p in &r.ports {
            v.push(t(&format!("allow {}", r.name), r.to.addr(), p, r.protocol));
        }
    }
    for d in &spec.egress.dns_resolvers {
        if let Ok(ip) = d.parse() {
            v.push(t("dns resolver", ip, 53, Protocol::Udp));
            v.push(t("dns resolver", ip, 53, Protocol::Tcp));
        }
    }
    v
}

/// Drops to `user` for good (groups, gid, uid), so the kernel sees the gateway's user.
pub fn become_user(user: &str) -> Result<()> {
    // SAFETY: plain libc calls; getpwnam's result is used before any other passwd call.
    unsafe {
        if libc::geteuid() != 0 {
            return Ok(());
        }
        let name = std::ffi::CString::new(user)?;
        let pw = libc::getpwnam(name.as_ptr());
        if pw.is_null() {
            bail!("user {user} does not exist (paths.service_user)");
        }
        let (uid, gid) = ((*pw).pw_uid, (*pw).pw_gid);
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            bail!(
                "dropping privileges to {user}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(())
}

/// Tries the destination; returns (reached, detail).
pub fn attempt(tg: &Target) -> (bool, String) {
    let addr = SocketAddr::new(tg.ip, tg.port);
    match tg.proto {
        Protocol::Tcp => match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(mut s) => {
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut b = [0u8; 1];
                let _ = s.read(&mut b);
                (true, "connected".into())
            }
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => (false, "refused".into()),
            Err(e) if e.kind() == ErrorKind::TimedOut || e.kind() == ErrorKind::WouldBlock => {
                (false, "timeout".into())
            }
            Err(e) => (false, e.to_string()),
        },
        Protocol::Udp => {
            let bind: SocketAddr = if tg.ip.is_ipv4() {
                "0.0.0.0:0".parse().unwrap()
            } else {
                "[::]:0".parse().unwrap()
            };
            let s = match UdpSocket::bind(bind) {
                Ok(s) => s,
                Err(e) => return (false, format!("bind: {e}")),
            };
            let _ = s.set_read_timeout(Some(Duration::from_millis(800)));
            if let Err(e) = s.connect(addr) {
                return (false, format!("connect: {e}"));
            }
            // A DNS-shaped query, so a real resolver would answer too.
            let q = b"\x4f\x4c\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x04test\x00\x00\x01\x00\x01";
            if let Err(e) = s.send(q) {
                return (false, format!("send: {e}"));
            }
            let mut buf = [0u8; 512];
            match s.recv(&mut buf) {
                Ok(_) => (true, "reply".into()),
                Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    (false, "no reply".into())
                }
                Err(e) => (false, e.to_string()),
            }
        }
    }
}

pub fn run(
    spec: &Spec,
    user: &str,
    extra: &[Target],
    names: &[super::egress_names::NameTarget],
) -> Result<Report> {
    become_user(user).context("the egress check runs as the gateway's user")?;
    let mut targets = spec_targets(spec);
    targets.extend(extra.iter().cloned());
    let mut r = Report::new("egress");
    let (mut allowed, mut denied, mut unexpected) = (0u32, 0u32, 0u32);
    for tg in &targets {
        let want = expected_verdict(spec, tg.ip, tg.port, tg.proto);
        let (reached, detail) = attempt(tg);
        let ok = reached == (want == Verdict::Allow);
        if !ok {
            unexpected += 1;
        } else if reached {
            allowed += 1;
        } else {
            denied += 1;
        }
        let proto = if tg.proto == Protocol::Tcp {
            "tcp"
        } else {
            "udp"
        };
        r.push(
            format!("{} {}/{}", tg.what, SocketAddr::new(tg.ip, tg.port), proto),
            if want == Verdict::Allow {
                "allow"
            } else {
                "deny"
            },
            if reached {
                format!("allow ({detail})")
            } else {
                format!("deny ({detail})")
            },
            ok,
        );
    }
    if spec.uses_egress_proxy() {
        let (a, d, u) = super::egress_names::run(spec, names, &mut r);
        allowed += a;
        denied += d;
        unexpected += u;
    }
    r.counts.insert("allowed".into(), json!(allowed));
    r.counts.insert("denied".into(), json!(denied));
    r.counts.insert("unexpected".into(), json!(unexpected));
    r.counts.insert("user".into(), json!(user));
    Ok(r)
}

/// `check egress --from-container`: the same check, re-run inside the gateway container's
/// network namespace (found with `podman inspect`), as the container's uid. The container's
/// packets then cross the host's forward hook, exactly as the gateway's own do.
pub fn rerun_in_container(
    spec: Option<&std::path::Path>,
    user: Option<&str>,
    json: bool,
) -> Result<u8> {
    let loaded = match spec {
        Some(p) => Spec::from_path(p)?,
        None => crate::lab::load_effective_spec()?,
    };
    let mut c = std::process::Command::new("podman");
    c.args(["inspect", "--format", "{{.State.Pid}}", &loaded.name]);
    let out = crate::cmd::output_within(&mut c, Duration::from_secs(30))?;
    let pid: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .with_context(|| {
            format!(
                "the gateway container {} is not running: {}",
                loaded.name,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let me = std::env::current_exe()?;
    let mut c = std::process::Command::new("nsenter");
    c.arg(format!("--net=/proc/{pid}/ns/net"))
        .arg(me)
        .args(["check", "egress"])
        .env(super::location::IN_CONTAINER_ENV, &loaded.name);
    if let Some(p) = spec {
        c.arg("--spec").arg(p);
    }
    if let Some(u) = user {
        c.args(["--user", u]);
    }
    if json {
        c.arg("--json");
    }
    let status = c
        .status()
        .context("nsenter into the container's network namespace")?;
    Ok(if status.success() { 0 } else { 1 })
}
