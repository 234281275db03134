//! Hosts as network namespaces, segments as bridges in a router namespace.
//!
//! Layout: `olab-router` holds one bridge per segment (with the router's address on it) and
//! forwards between them. Each host namespace `olab-<host>` gets a veth pair created *inside*
//! the router namespace with its peer moved straight into the host (`eth0`), so the host's
//! root namespace never sees a lab interface. `/etc/netns/olab-<host>/{hosts,resolv.conf}`
//! hold each host's names and resolver.
//!
//! Each host also has one persistent mount namespace (`/run/openclaw-lab-mnt/<ns>`), a slave
//! of the machine's, with those two files bound over `/etc/hosts` and `/etc/resolv.conf`:
//! every process of a host shares it, as on a real host. `ip netns exec` would give each
//! process a private one and remount `/sys`, which hides the cgroup hierarchy from rootful
//! Podman and the container's overlay mounts from the next `podman` command.
//!
//! Teardown kills whatever still runs in a lab namespace (`ip netns pids`) and deletes the
//! namespaces (which deletes their veths and bridges); it is idempotent and works after a
//! crash because it looks only at what exists, never at what a previous run remembered.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cmd::{run, run_quiet, wait_for};
use crate::topology::{self, Host, HOSTS, PREFIX, ROUTER, SEGMENTS};

/// Lab namespaces that currently exist.
pub fn existing() -> Vec<String> {
    run("ip", &["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(PREFIX))
        .map(str::to_string)
        .collect()
}

fn etc_dir(ns: &str) -> PathBuf {
    PathBuf::from("/etc/netns").join(ns)
}

fn ipn(ns: &str, args: &[&str]) -> Result<String> {
    let mut a = vec!["-n", ns];
    a.extend_from_slice(args);
    run("ip", &a)
}

fn sysctl(ns: &str, kv: &str) -> Result<()> {
    run("ip", &["netns", "exec", ns, "sysctl", "-qw", kv]).map(|_| ())
}

fn add_ns(ns: &str) -> Result<()> {
    run("ip", &["netns", "add", ns]).with_context(|| format!("creating namespace {ns}"))?;
    ipn(ns, &["link", "set", "lo", "up"])?;
    let etc = etc_dir(ns);
    std::fs::create_dir_all(&etc)?;
    std::fs::write(etc.join("hosts"), topology::hosts_file())?;
    std::fs::write(
        etc.join("resolv.conf"),
        format!("# openclaw-lab\nnameserver {}\n", topology::RESOLVER),
    )?;
    add_mount_ns(ns)
}

/// Where a host's mount namespace is pinned.
pub const MOUNT_NS_DIR: &str = "/run/openclaw-lab-mnt";

pub fn mount_ns(ns: &str) -> PathBuf {
    PathBuf::from(MOUNT_NS_DIR).join(ns)
}

/// The host's mount namespace: the machine's mounts (slave: nothing made inside leaks out)
/// plus the host's own /etc/hosts and /etc/resolv.conf.
fn add_mount_ns(ns: &str) -> Result<()> {
    let dir = PathBuf::from(MOUNT_NS_DIR);
    if !dir.exists() {
        std::fs::create_dir_all(&dir)?;
        // A namespace can only be pinned on a mount with private propagation.
        run("mount", &["--bind", MOUNT_NS_DIR, MOUNT_NS_DIR])?;
        run("mount", &["--make-private", MOUNT_NS_DIR])?;
    }
    let file = mount_ns(ns);
    std::fs::write(&file, b"")?;
    let etc = etc_dir(ns);
    let script = format!(
        "mount --bind {h} /etc/hosts && mount --bind {r} /etc/resolv.conf",
        h = etc.join("hosts").display(),
        r = etc.join("resolv.conf").display()
    );
    run(
        "unshare",
        &[
            &format!("--mount={}", file.display()),
            "--propagation",
            "slave",
            "sh",
            "-c",
            &script,
        ],
    )
    .with_context(|| format!("creating the mount namespace of {ns}"))?;
    Ok(())
}

/// Unpins every host's mount namespace (after their processes are gone).
fn remove_mount_namespaces() {
    if let Ok(rd) = std::fs::read_dir(MOUNT_NS_DIR) {
        for e in rd.flatten() {
            run_quiet("umount", &[&e.path().display().to_string()]);
            let _ = std::fs::remove_file(e.path());
        }
    }
    if std::path::Path::new(MOUNT_NS_DIR).exists() {
        run_quiet("umount", &[MOUNT_NS_DIR]);
        let _ = std::fs::remove_dir(MOUNT_NS_DIR);
    }
}

/// Creates the whole network. Fails if a lab namespace already exists (run `down` first).
pub fn create() -> Result<()> {
    let left = existing();
    anyhow::ensure!(
        left.is_empty(),
        "lab namespaces already exist ({}): run `openclaw-lab down` first",
        left.join(", ")
    );
    add_ns(ROUTER)?;
    sysctl(ROUTER, "net.ipv4.ip_forward=1")?;
    sysctl(ROUTER, "net.ipv6.conf.all.forwarding=1")?;
    for seg in SEGMENTS {
        ipn(ROUTER, &["link", "add", seg.bridge, "type", "bridge"])?;
        ipn(
            ROUTER,
            &[
                "addr",
                "add",
                &format!("{}/{}", seg.router_v4, seg.v4_prefix),
                "dev",
                seg.bridge,
            ],
        )?;
        ipn(
            ROUTER,
            &[
                "addr",
                "add",
                &format!("{}/{}", seg.router_v6, seg.v6_prefix),
                "dev",
                seg.bridge,
                "nodad",
            ],
        )?;
        ipn(ROUTER, &["link", "set", seg.bridge, "up"])?;
    }
    for h in HOSTS {
        add_host(&h)?;
    }
    Ok(())
}

fn add_host(h: &Host) -> Result<()> {
    let ns = h.netns();
    add_ns(&ns)?;
    // No DAD: addresses are unique by construction and DAD would delay the first connects.
    sysctl(&ns, "net.ipv6.conf.all.accept_dad=0")?;
    sysctl(&ns, "net.ipv6.conf.default.accept_dad=0")?;
    let veth = h.router_veth();
    ipn(
        ROUTER,
        &[
            "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ],
    )?;
    ipn(
        ROUTER,
        &["link", "set", &veth, "master", h.segment.bridge, "up"],
    )?;
    ipn(
        &ns,
        &[
            "addr",
            "add",
            &format!("{}/{}", h.v4, h.segment.v4_prefix),
            "dev",
            "eth0",
        ],
    )?;
    ipn(
        &ns,
        &[
            "addr",
            "add",
            &format!("{}/{}", h.v6, h.segment.v6_prefix),
            "dev",
            "eth0",
            "nodad",
        ],
    )?;
    for extra in h.extra_v4 {
        ipn(&ns, &["addr", "add", &format!("{extra}/32"), "dev", "eth0"])?;
        ipn(
            ROUTER,
            &[
                "route",
                "add",
                &format!("{extra}/32"),
                "via",
                &h.v4.to_string(),
            ],
        )?;
    }
    ipn(&ns, &["link", "set", "eth0", "up"])?;
    ipn(
        &ns,
        &[
            "route",
            "add",
            "default",
            "via",
            &h.segment.router_v4.to_string(),
        ],
    )?;
    ipn(
        &ns,
        &[
            "-6",
            "route",
            "add",
            "default",
            "via",
            &h.segment.router_v6.to_string(),
        ],
    )?;
    Ok(())
}

/// Pids of every process inside a namespace.
pub fn pids_in(ns: &str) -> Vec<i32> {
    run("ip", &["netns", "pids", ns])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kills everything in the lab namespaces (TERM, then KILL after 5 s) and deletes them,
/// with their /etc/netns files. Idempotent.
pub fn destroy() -> Result<()> {
    let all = existing();
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        for ns in &all {
            for pid in pids_in(ns) {
                // SAFETY: plain kill(2) on a pid the kernel just listed in our namespace.
                unsafe { libc::kill(pid, sig) };
            }
        }
        let gone = wait_for(Duration::from_secs(5), Duration::from_millis(50), || {
            all.iter().all(|ns| pids_in(ns).is_empty()).then_some(())
        });
        if gone.is_some() {
            break;
        }
    }
    for ns in &all {
        run_quiet("ip", &["netns", "delete", ns]);
    }
    remove_mount_namespaces();
    // Leftover /etc/netns dirs of namespaces deleted by someone else.
    if let Ok(rd) = std::fs::read_dir("/etc/netns") {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let left = existing();
    anyhow::ensure!(
        left.is_empty(),
        "namespaces left after teardown: {}",
        left.join(", ")
    );
    Ok(())
}

/// Addresses and link state of each lab namespace, for `status`.
pub fn describe() -> Vec<(String, String)> {
    existing()
        .into_iter()
        .map(|ns| {
            let a = ipn(&ns, &["-br", "addr"]).unwrap_or_default();
            (ns, a)
        })
        .collect()
}

/// Moves the calling thread into lab namespace `ns`'s network (setns is per thread: other
/// threads, and sockets made before, stay where they are).
pub fn enter_on_this_thread(ns: &str) -> Result<()> {
    use std::os::fd::AsRawFd;
    let path = format!("/run/netns/{ns}");
    let f =
        std::fs::File::open(&path).with_context(|| format!("opening {path}: is the lab up?"))?;
    // SAFETY: a plain syscall on a descriptor we just opened.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("joining {ns}"));
    }
    Ok(())
}
