//! The rendered egress firewall against the real nft (1.0.6) and the real kernel.
//!
//! Everything happens inside network namespaces these tests create (names `ocnft-<pid>-<n>`,
//! deleted by a Drop guard even when a test panics). Addresses live only inside them; the
//! 198.51.100.0/24 and 2001:db8::/32 documentation ranges stand in for "public" hosts.
//! Needs root, `ip` on PATH and nft (`NFT_BIN`, else PATH).

mod support;

use std::fs::File;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use openclaw_render::render::nftables::{self, expected_verdict, Verdict};
use openclaw_render::spec::Protocol;
use openclaw_render::{render_all, Spec};

// ---------------------------------------------------------------------------------------------
// Real tools

fn find_bin(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{var}={} does not exist; run scripts/install-components.sh",
            p.display()
        );
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found ({var} unset, not on PATH); run scripts/install-components.sh")
        })
}

fn nft() -> PathBuf {
    find_bin("NFT_BIN", "nft")
}

fn ip_bin() -> PathBuf {
    find_bin("IP_BIN", "ip")
}

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "these tests create network namespaces and need root (CI runs them as root)"
    );
}

fn check(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}): {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

// ---------------------------------------------------------------------------------------------
// Network namespaces

const PREFIX: &str = "ocnft-";
static SEQ: AtomicUsize = AtomicUsize::new(0);
static REAP: Once = Once::new();

/// One network namespace, deleted on drop (its veth ends and rules go with it).
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        require_root();
        REAP.call_once(reap_stale);
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        check(
            Command::new(ip_bin())
                .args(["netns", "add", &name])
                .output()
                .unwrap(),
            "ip netns add",
        );
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) -> String {
        let out = Command::new(ip_bin())
            .args(["-n", &self.name])
            .args(args)
            .output()
            .unwrap();
        check(out, &format!("ip -n {} {}", self.name, args.join(" ")))
    }

    /// Runs a program inside the namespace (`ip netns exec`).
    fn exec(&self, prog: &Path, args: &[&str]) -> Output {
        Command::new(ip_bin())
            .args(["netns", "exec", &self.name])
            .arg(prog)
            .args(args)
            .output()
            .unwrap()
    }

    fn nft(&self, args: &[&str]) -> Output {
        self.exec(&nft(), args)
    }

    fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let out = self.exec(
            Path::new("/bin/sh"),
            &["-c", &format!("echo {value} > {path}")],
        );
        check(out, &format!("sysctl {key}={value}"));
    }

    /// Runs `f` on a thread that has entered this namespace; sockets it makes live here.
    /// `fsuid` makes those sockets belong to that uid (what `meta skuid` sees).
    fn run<T: Send + 'static>(
        &self,
        fsuid: Option<u32>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let path = Path::new("/run/netns").join(&self.name);
        std::thread::spawn(move || {
            let fd = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            // SAFETY: a valid namespace fd; setns only changes this thread's namespace.
            let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", io::Error::last_os_error());
            if let Some(uid) = fsuid {
                // SAFETY: setfsuid is per thread; calling it twice confirms it took effect.
                unsafe { libc::setfsuid(uid) };
                assert_eq!(unsafe { libc::setfsuid(uid) } as u32, uid, "setfsuid {uid}");
            }
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    fn load(&self, ruleset: &str) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), ruleset).unwrap();
        let path = file.path().to_str().unwrap();
        check(self.nft(&["-c", "-f", path]), "nft -c -f");
        check(self.nft(&["-f", path]), "nft -f");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(ip_bin())
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Deletes namespaces a killed earlier run of these tests left (their pid is gone).
fn reap_stale() {
    let out = Command::new(ip_bin())
        .args(["netns", "list"])
        .output()
        .unwrap();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty() && !Path::new("/proc").join(pid).exists() {
            let _ = Command::new(ip_bin()).args(["netns", "del", name]).status();
        }
    }
}

/// Joins two namespaces with a veth pair (`a_dev` in `a`, `b_dev` in `b`).
fn link(a: &Netns, a_dev: &str, a_addrs: &[&str], b: &Netns, b_dev: &str, b_addrs: &[&str]) {
    a.ip(&[
        "link", "add", a_dev, "type", "veth", "peer", "name", b_dev, "netns", &b.name,
    ]);
    for (ns, dev, addrs) in [(a, a_dev, a_addrs), (b, b_dev, b_addrs)] {
        for addr in addrs {
            if addr.contains(':') {
                // nodad: the address is usable at once, no 1-2 s of duplicate detection.
                ns.ip(&["addr", "add", addr, "dev", dev, "nodad"]);
            } else {
                ns.ip(&["addr", "add", addr, "dev", dev]);
            }
        }
        ns.ip(&["link", "set", dev, "up"]);
    }
}

// ---------------------------------------------------------------------------------------------
// Servers and probes

const C4: &str = "10.231.0.1";
const P4: &str = "10.231.0.2";
const C6: &str = "fd00:231::1";
const P6: &str = "fd00:231::2";
const PUB4_C: &str = "198.51.100.1";
const PUB4_P: &str = "198.51.100.2";
const PUB6_C: &str = "2001:db8:231::1";
const PUB6_P: &str = "2001:db8:231::2";

const TCP_PORTS: [u16; 4] = [53, 443, 8080, 18789];
const UDP_PORTS: [u16; 3] = [53, 9514, 9999];

/// TCP listeners (the kernel completes handshakes without accept) and UDP echo servers,
/// dual-stack on every address of a namespace; stopped and joined on drop.
struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _tcp: Vec<TcpListener>,
}

impl Servers {
    fn start(ns: &Netns, tcp_ports: &'static [u16], udp_ports: &'static [u16]) -> Servers {
        let (tcp, udp) = ns.run(None, move || {
            let tcp: Vec<_> = tcp_ports
                .iter()
                .map(|p| TcpListener::bind(("::", *p)).unwrap())
                .collect();
            let udp: Vec<_> = udp_ports
                .iter()
                .map(|p| UdpSocket::bind(("::", *p)).unwrap())
                .collect();
            (tcp, udp)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let threads = udp
            .into_iter()
            .map(|sock| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    sock.set_read_timeout(Some(Duration::from_millis(50)))
                        .unwrap();
                    let deadline = Instant::now() + Duration::from_secs(300);
                    let mut buf = [0u8; 512];
                    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                        if let Ok((n, from)) = sock.recv_from(&mut buf) {
                            let _ = sock.send_to(&buf[..n], from);
                        }
                    }
                })
            })
            .collect();
        Servers {
            stop,
            threads,
            _tcp: tcp,
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// What one connection attempt did.
#[derive(Debug)]
struct Outcome {
    verdict: Verdict,
    error: Option<io::Error>,
    elapsed: Duration,
}

impl Outcome {
    fn is_timeout(&self) -> bool {
        matches!(
            self.error.as_ref().map(|e| e.kind()),
            Some(ErrorKind::TimedOut | ErrorKind::WouldBlock)
        )
    }
}

/// A TCP connect, or a UDP datagram that must come back from the echo server.
fn probe(ns: &Netns, fsuid: Option<u32>, dst: IpAddr, port: u16, proto: Protocol) -> Outcome {
    ns.run(fsuid, move || {
        let addr = SocketAddr::new(dst, port);
        let start = Instant::now();
        let result = match proto {
            Protocol::Tcp => TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map(drop),
            Protocol::Udp => udp_echo(addr),
        };
        let elapsed = start.elapsed();
        match result {
            Ok(()) => Outcome {
                verdict: Verdict::Allow,
                error: None,
                elapsed,
            },
            Err(e) => Outcome {
                verdict: Verdict::Deny,
                error: Some(e),
                elapsed,
            },
        }
    })
}

fn udp_echo(addr: SocketAddr) -> io::Result<()> {
    let local = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = UdpSocket::bind(local)?;
    sock.connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    sock.send(b"openclaw-probe")?;
    let mut buf = [0u8; 64];
    let n = sock.recv(&mut buf)?;
    assert_eq!(&buf[..n], b"openclaw-probe");
    Ok(())
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Specs

fn lxc_example_text() -> String {
    std::fs::read_to_string(support::example("lxc-homelab.toml")).unwrap()
}

/// The lxc-homelab example, scoped to the service user (`nobody`, which exists everywhere:
/// nft resolves the name at load time) with a rootful Podman bridge.
fn service_variant() -> Spec {
    let text = lxc_example_text()
        .replace(
            "scope = \"host\"",
            "scope = \"service\"\ncontainer_interfaces = [\"podman1\"]",
        )
        .replace("service_user = \"openclaw\"", "service_user = \"nobody\"");
    let spec = Spec::from_toml(&text).unwrap();
    assert_eq!(spec.egress.container_interfaces, ["podman1"]);
    assert_eq!(spec.paths.service_user, "nobody");
    spec
}

/// The ruleset exactly as `render_all` delivers it (validated spec, real pipeline).
fn rendered(spec: &Spec) -> String {
    let artifacts = render_all(spec).expect("spec renders");
    let a = artifacts
        .iter()
        .find(|a| a.path == nftables::ARTIFACT_PATH)
        .expect("nftables artifact rendered");
    assert_eq!(a.mode, 0o644);
    assert_eq!(a.owner, "root");
    assert!(a
        .install_path
        .as_deref()
        .unwrap()
        .starts_with("/etc/nftables.d/"));
    a.content.clone()
}

const MINIMAL: &str = r#"
name = "nfttest"
[models]
base_url = "https://litellm.example/v1"
models = ["m"]
primary = "m"
[secrets.items.k]
"#;

/// The functional lab's policy: the peer's 443 (by rule), DNS to the peer, one UDP service,
/// web ports on "public" addresses; nothing else.
fn lab_spec(scope: &str, extra: &str) -> Spec {
    let text = format!(
        r#"{MINIMAL}
[gateway]
port = 18789
[egress]
scope = "{scope}"
dns_resolvers = ["{P4}", "{P6}"]
allow_public_web = true
{extra}
[[egress.allow]]
name = "peer-https"
to = "{P4}"
ports = [443]
allow_private = true
[[egress.allow]]
name = "peer-https-v6"
to = "{P6}"
ports = [443]
allow_private = true
[[egress.allow]]
name = "peer-syslog"
to = "{P4}"
ports = [9514]
protocol = "udp"
allow_private = true
[ingress]
allow_from = ["{P4}", "{P6}"]
[paths]
service_user = "nobody"
"#
    );
    Spec::from_toml(&text).unwrap()
}

fn ruleset_of(spec: &Spec) -> String {
    let arts = nftables::render(spec);
    assert_eq!(arts.len(), 1);
    arts[0].content.clone()
}

fn nobody_uid() -> u32 {
    // SAFETY: a static C string; getpwnam's result is read before any other call.
    let pw = unsafe { libc::getpwnam(c"nobody".as_ptr()) };
    assert!(!pw.is_null(), "the test needs the user 'nobody'");
    unsafe { (*pw).pw_uid }
}

// ---------------------------------------------------------------------------------------------
// (1) The rulesets load

#[test]
fn example_rulesets_pass_nft_check_and_load_in_a_fresh_namespace() {
    let lxc = Spec::from_toml(&lxc_example_text()).unwrap();
    let variant = service_variant();
    for (label, spec) in [("lxc-homelab", &lxc), ("service + podman1", &variant)] {
        let ns = Netns::new();
        let text = rendered(spec);
        ns.load(&text);
        // Loading again replaces the table instead of stacking a second copy of each rule.
        ns.load(&text);
        let table = nftables::table_name(spec);
        let listed = check(ns.nft(&["list", "table", "inet", &table]), "nft list table");
        for want in [
            "chain egress_policy",
            "type filter hook output priority filter; policy accept;",
            "type filter hook forward priority filter; policy accept;",
            "type filter hook input priority filter; policy accept;",
            "ct state established,related accept",
            "ip daddr 10.0.3.1 meta l4proto { tcp, udp } th dport 53 accept",
            "ip daddr @blocked_v4 counter packets 0 bytes 0 goto deny",
            "ip6 daddr @blocked_v6 counter packets 0 bytes 0 goto deny",
            "meta l4proto tcp reject with tcp reset",
            "reject with icmpx admin-prohibited",
            "tcp dport 18789 ip saddr { 10.0.3.2, 10.0.3.30 } accept",
            "ct status dnat ct original proto-dst 18789",
            "log prefix \"openclaw-egress-deny \"",
            "169.254.0.0/16",
            "fe80::/10",
        ] {
            assert!(listed.contains(want), "{label}: no '{want}' in:\n{listed}");
        }
        for rule in &spec.egress.allow {
            let c = format!("comment \"allow {}\"", rule.name);
            assert_eq!(
                listed.matches(&c).count(),
                1,
                "{label}: {c} once in:\n{listed}"
            );
        }
        assert!(
            !listed.contains("tcp dport { 80, 443 } accept"),
            "{label}: no public web"
        );
        if spec.egress.container_interfaces.is_empty() {
            assert!(
                listed.contains("\n\t\tjump egress_policy"),
                "{label}: host scope"
            );
            assert!(!listed.contains("iifname"), "{label}");
        } else {
            let skuid = format!("meta skuid {} jump egress_policy", nobody_uid());
            assert!(
                listed.contains(&skuid),
                "{label}: no '{skuid}' in:\n{listed}"
            );
            assert!(
                listed.contains("iifname \"podman1\" jump egress_policy"),
                "{label}"
            );
            assert!(listed.contains("oifname \"podman1\" meta l4proto tcp ct status dnat"));
        }
    }
}

#[test]
fn reloading_replaces_only_our_table_atomically() {
    let ns = Netns::new();
    // Someone else's table (Podman's, the host's own firewall) must survive our reloads.
    let other =
        "table inet someone_else {\n chain c {\n type filter hook output priority 10;\n }\n}\n";
    ns.load(other);
    let spec = Spec::from_toml(&lxc_example_text()).unwrap();
    ns.load(&rendered(&spec));

    let mut smaller = spec.clone();
    smaller.egress.allow.retain(|r| r.name != "litellm");
    ns.load(&ruleset_of(&smaller));

    let all = check(ns.nft(&["list", "ruleset"]), "nft list ruleset");
    assert!(all.contains("table inet someone_else"), "{all}");
    assert_eq!(
        all.matches("table inet openclaw_openclaw").count(),
        1,
        "{all}"
    );
    assert!(
        !all.contains("allow litellm"),
        "the removed rule is gone:\n{all}"
    );
    assert!(all.contains("allow synapse"), "{all}");
}

#[test]
fn a_ruleset_nft_rejects_changes_nothing() {
    let ns = Netns::new();
    let spec = Spec::from_toml(&lxc_example_text()).unwrap();
    ns.load(&rendered(&spec));
    // A missing service user makes nft fail the whole transaction: the old table stays.
    let mut broken = service_variant();
    broken.paths.service_user = "no-such-user-ocnft".into();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), ruleset_of(&broken)).unwrap();
    let out = ns.nft(&["-f", file.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-user-ocnft"),
        "nft names the user: {err}"
    );
    let listed = check(ns.nft(&["list", "ruleset"]), "nft list ruleset");
    assert!(
        listed.contains("allow litellm"),
        "previous rules still in force"
    );
}

// ---------------------------------------------------------------------------------------------
// (2) The rules do what the spec says

/// Every (destination, port, protocol) the lab probes, over the policy's branches.
fn lab_probes() -> Vec<(&'static str, u16, Protocol)> {
    use Protocol::{Tcp, Udp};
    vec![
        (P4, 443, Tcp),      // egress.allow
        (P4, 8080, Tcp),     // private, not allowed -> blocked set
        (P4, 53, Tcp),       // DNS over TCP to the resolver
        (P6, 443, Tcp),      // egress.allow (IPv6)
        (P6, 8080, Tcp),     // blocked set (ULA)
        (PUB4_P, 443, Tcp),  // public web
        (PUB4_P, 8080, Tcp), // final reject
        (PUB6_P, 443, Tcp),
        (PUB6_P, 8080, Tcp),
        (P4, 53, Udp),     // DNS to the resolver
        (P6, 53, Udp),     // DNS to the resolver (IPv6)
        (P4, 9514, Udp),   // UDP egress.allow
        (P4, 9999, Udp),   // UDP elsewhere on a private host
        (P6, 9999, Udp),   //   ... IPv6
        (PUB4_P, 53, Udp), // DNS to a non-resolver
        (PUB6_P, 9999, Udp),
    ]
}

/// Client and peer namespaces joined by a veth pair, the peer serving every probed port.
struct Lab {
    _servers: Servers,
    client: Netns,
    peer: Netns,
}

fn lab() -> Lab {
    let client = Netns::new();
    let peer = Netns::new();
    link(
        &client,
        "veth0",
        &[
            &format!("{C4}/24"),
            &format!("{C6}/64"),
            &format!("{PUB4_C}/24"),
            &format!("{PUB6_C}/64"),
        ],
        &peer,
        "veth1",
        &[
            &format!("{P4}/24"),
            &format!("{P6}/64"),
            &format!("{PUB4_P}/24"),
            &format!("{PUB6_P}/64"),
        ],
    );
    let servers = Servers::start(&peer, &TCP_PORTS, &UDP_PORTS);
    Lab {
        _servers: servers,
        client,
        peer,
    }
}

/// Probes everything from the client and checks the kernel agrees with `expected_verdict`,
/// and that every denial is an immediate error, not a timeout.
fn assert_policy(lab: &Lab, spec: &Spec, fsuid: Option<u32>) -> Vec<String> {
    let mut seen = Vec::new();
    for (dst, port, proto) in lab_probes() {
        let o = probe(&lab.client, fsuid, ip(dst), port, proto);
        let want = expected_verdict(spec, ip(dst), port, proto);
        assert_eq!(o.verdict, want, "{proto:?} {dst} port {port}: {o:?}");
        if o.verdict == Verdict::Deny {
            assert!(
                !o.is_timeout() && o.elapsed < Duration::from_millis(300),
                "{proto:?} {dst}:{port} must fail fast, got {o:?}"
            );
        }
        seen.push(format!(
            "{proto:?} {dst}:{port} -> {:?} {:?}",
            o.verdict, o.error
        ));
    }
    seen
}

#[test]
fn host_scope_allows_exactly_what_the_spec_says_and_rejects_fast() {
    let lab = lab();
    let spec = lab_spec("host", "");

    // Without rules every probe gets through: denials below are the firewall's doing.
    for (dst, port, proto) in lab_probes() {
        let o = probe(&lab.client, None, ip(dst), port, proto);
        assert_eq!(
            o.verdict,
            Verdict::Allow,
            "before loading: {dst}:{port} {o:?}"
        );
    }

    lab.client.load(&ruleset_of(&spec));
    let seen = assert_policy(&lab, &spec, None);
    eprintln!("{}", seen.join("\n"));

    // What the gateway sees on a reject: connect() fails with ECONNREFUSED (a reset, for
    // IPv4 and IPv6 alike), a UDP send() with EPERM.
    for dst in [P4, P6, PUB4_P, PUB6_P] {
        let o = probe(&lab.client, None, ip(dst), 8080, Protocol::Tcp);
        assert_eq!(
            o.error.unwrap().raw_os_error(),
            Some(libc::ECONNREFUSED),
            "{dst}"
        );
    }
    for dst in [P4, PUB6_P] {
        let o = probe(&lab.client, None, ip(dst), 9999, Protocol::Udp);
        assert_eq!(o.error.unwrap().raw_os_error(), Some(libc::EPERM), "{dst}");
    }

    // Denials are counted (and logged, rate limited) by the rules that made them: the
    // blocked ranges (private peer) and the final rule (non-web port on a public address).
    let listed = check(
        lab.client
            .nft(&["list", "chain", "inet", "openclaw_nfttest", "egress_policy"]),
        "nft list chain",
    );
    assert!(
        !listed.contains("counter packets 0 bytes 0 goto deny"),
        "every deny rule fired:\n{listed}"
    );
}

#[test]
fn service_scope_filters_only_the_service_user() {
    let lab = lab();
    let spec = lab_spec("service", "");
    lab.client.load(&ruleset_of(&spec));
    assert_policy(&lab, &spec, Some(nobody_uid()));
    // Other users (root here) are not the gateway: not filtered.
    for (dst, port, proto) in lab_probes() {
        let o = probe(&lab.client, None, ip(dst), port, proto);
        assert_eq!(o.verdict, Verdict::Allow, "root {dst}:{port} {o:?}");
    }
}

#[test]
fn gateway_port_is_reachable_only_from_allow_from_and_loopback() {
    let lab = lab();
    let spec = lab_spec("host", "");
    // The gateway (port 18789) and some other service (8080) listen in the client namespace.
    let _gateway = Servers::start(&lab.client, &[18789, 8080], &[]);
    lab.client.load(&ruleset_of(&spec));

    let from_peer = |dst: &str, port: u16| probe(&lab.peer, None, ip(dst), port, Protocol::Tcp);
    // The peer's 10.231.0.2 / fd00:231::2 are in ingress.allow_from ...
    assert_eq!(from_peer(C4, 18789).verdict, Verdict::Allow);
    assert_eq!(from_peer(C6, 18789).verdict, Verdict::Allow);
    // ... its documentation-range addresses are not: dropped, so the connect times out.
    for dst in [PUB4_C, PUB6_C] {
        let o = from_peer(dst, 18789);
        assert!(o.verdict == Verdict::Deny && o.is_timeout(), "{dst}: {o:?}");
    }
    // Other ports are none of this table's business.
    assert_eq!(from_peer(PUB4_C, 8080).verdict, Verdict::Allow);
    // Loopback always may.
    for dst in ["127.0.0.1", "::1"] {
        let o = probe(&lab.client, None, ip(dst), 18789, Protocol::Tcp);
        assert_eq!(o.verdict, Verdict::Allow, "{dst}: {o:?}");
    }
}

/// Rootful Podman: the gateway container's traffic is routed through the host, so it crosses
/// the forward hook (`egress.container_interfaces`), and its published port is DNAT'ed.
#[test]
fn container_traffic_is_filtered_in_forward_and_the_published_port_only_from_allow_from() {
    // container --(eth0 | podman1)-- host --(veth0 | veth1)-- peer
    let ctr = Netns::new();
    let host = Netns::new();
    let peer = Netns::new();
    link(
        &host,
        "podman1",
        &["10.232.0.1/24", "fd00:232::1/64"],
        &ctr,
        "eth0",
        &["10.232.0.2/24", "fd00:232::2/64"],
    );
    link(
        &host,
        "veth0",
        &[
            &format!("{C4}/24"),
            &format!("{C6}/64"),
            &format!("{PUB4_C}/24"),
        ],
        &peer,
        "veth1",
        &[
            &format!("{P4}/24"),
            &format!("{P6}/64"),
            &format!("{PUB4_P}/24"),
        ],
    );
    ctr.ip(&["route", "add", "default", "via", "10.232.0.1"]);
    ctr.ip(&["-6", "route", "add", "default", "via", "fd00:232::1"]);
    peer.ip(&["route", "add", "10.232.0.0/24", "via", C4]);
    peer.ip(&["-6", "route", "add", "fd00:232::/64", "via", C6]);
    host.sysctl("net.ipv4.ip_forward", "1");
    host.sysctl("net.ipv6.conf.all.forwarding", "1");
    // What netavark does for `-p 18789:3000`, by hand: after DNAT the port is 3000, so only
    // the conntrack original port still says "gateway port".
    host.load(
        "table ip podman_nat {\n chain pre {\n type nat hook prerouting priority dstnat;\n \
         tcp dport 18789 dnat to 10.232.0.2:3000\n }\n}\n",
    );
    let _peer_servers = Servers::start(&peer, &TCP_PORTS, &UDP_PORTS);
    let _gateway = Servers::start(&ctr, &[3000], &[]);

    let spec = lab_spec("service", "container_interfaces = [\"podman1\"]");
    host.load(&ruleset_of(&spec));

    use Protocol::{Tcp, Udp};
    for (dst, port, proto) in [
        (P4, 443, Tcp),
        (P4, 8080, Tcp),
        (P6, 443, Tcp),
        (P6, 8080, Tcp),
        (P4, 53, Udp),
        (P4, 9999, Udp),
    ] {
        let o = probe(&ctr, None, ip(dst), port, proto);
        assert_eq!(
            o.verdict,
            expected_verdict(&spec, ip(dst), port, proto),
            "{dst}:{port} {o:?}"
        );
        if o.verdict == Verdict::Deny {
            // The host's ICMP error reaches the container at once: no retransmission wait.
            assert!(
                !o.is_timeout() && o.elapsed < Duration::from_millis(300),
                "{o:?}"
            );
        }
    }

    // The published port: from an ingress.allow_from source it reaches the container ...
    let ok = probe(&peer, None, ip(C4), 18789, Tcp);
    assert_eq!(ok.verdict, Verdict::Allow, "{ok:?}");
    // ... from any other source the DNAT'ed connection is dropped in forward.
    let other = probe(&peer, None, ip(PUB4_C), 18789, Tcp);
    assert!(
        other.verdict == Verdict::Deny && other.is_timeout(),
        "{other:?}"
    );
}

/// `[litellm]`'s table: LiteLLM's user reaches its providers (the peer's 8080 here) and its
/// resolver, nothing else, refused at once; other users are not filtered by it.
#[test]
fn litellm_reaches_only_its_providers() {
    let lab = lab();
    let text = format!(
        r#"{MINIMAL}
[gateway]
port = 18789
token = "k"
[egress]
dns_resolvers = ["{P4}"]
[[egress.allow]]
name = "litellm"
to = "{P4}"
ports = [443]
allow_private = true
[container]
image = "localhost/openclaw-gateway@sha256:{zeros}"
[paths]
service_user = "olab-gw-test"
[litellm]
listen = "{P4}:443"
primary = "m"
[[litellm.providers]]
name = "provider"
model_group = "m"
model = "openai/m"
base_url = "http://{P6}:8080/v1"
api_key = "provider_key"
[litellm.egress]
dns_resolvers = ["{P4}"]
[[litellm.egress.allow]]
name = "provider"
to = "{P6}"
ports = [8080]
[litellm.paths]
service_user = "nobody"
[secrets]
backend = "files"
[secrets.items.k]
path = "/run/secrets/k"
min_length = 32
"#,
        zeros = "0".repeat(64),
    );
    let text = text.replace(
        "[models]\nbase_url = \"https://litellm.example/v1\"",
        &format!("[models]\nbase_url = \"http://{P4}:443/v1\"\napi_key = \"k\""),
    );
    let text = text.replace("[secrets.items.k]\n\n", "");
    let spec = Spec::from_toml(&text).unwrap_or_else(|e| panic!("{e}"));
    let arts = render_all(&spec).unwrap_or_else(|e| panic!("{e}"));
    let ruleset = &arts
        .iter()
        .find(|a| a.path == openclaw_render::render::litellm::NFT_PATH)
        .unwrap()
        .content;
    lab.client.load(ruleset);
    let nobody = Some(nobody_uid());
    for (dst, port, proto, want) in [
        (P6, 8080, Protocol::Tcp, Verdict::Allow),
        (P4, 53, Protocol::Udp, Verdict::Allow),
        (P4, 53, Protocol::Tcp, Verdict::Allow),
        (P4, 8080, Protocol::Tcp, Verdict::Deny),
        (P6, 443, Protocol::Tcp, Verdict::Deny),
        (PUB4_P, 443, Protocol::Tcp, Verdict::Deny),
        (PUB6_P, 8080, Protocol::Tcp, Verdict::Deny),
        (P4, 9999, Protocol::Udp, Verdict::Deny),
    ] {
        let o = probe(&lab.client, nobody, ip(dst), port, proto);
        assert_eq!(o.verdict, want, "litellm {proto:?} {dst}:{port}: {o:?}");
        if want == Verdict::Deny {
            assert!(
                !o.is_timeout() && o.elapsed < Duration::from_millis(300),
                "{proto:?} {dst}:{port} must fail fast, got {o:?}"
            );
        }
        // Root is not LiteLLM: this table leaves it alone.
        let o = probe(&lab.client, None, ip(dst), port, proto);
        assert_eq!(
            o.verdict,
            Verdict::Allow,
            "root {proto:?} {dst}:{port}: {o:?}"
        );
    }
}
