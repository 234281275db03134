//! The egress (and gateway-port ingress) firewall: one self-contained nftables table per
//! deployment, deny by default.
//!
//! The table is replaced atomically on every `nft -f` (declare, delete, redeclare in one
//! transaction; nft 1.0.6 has no `destroy`), so reloading after a spec change never leaves a
//! window without rules and never stacks old rules under new ones.
//!
//! [`expected_verdict`] is the same policy as a pure function, so the lab's egress checks can
//! compute what the spec says must happen to a connection and compare with what the kernel did.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::Artifact;
use crate::net;
use crate::spec::{Cidr, EgressRule, EgressScope, Protocol, Runtime, Spec};

/// Where the artifact lands in the output directory.
pub const ARTIFACT_PATH: &str = "nftables/openclaw-egress.nft";
/// Prefix of the (rate-limited) kernel log line for each denied egress packet.
pub const LOG_PREFIX: &str = "openclaw-egress-deny ";
/// Ports `egress.allow_public_web` opens to non-blocked addresses.
pub const PUBLIC_WEB_PORTS: [u16; 2] = [80, 443];
/// Denied packets are rejected, never silently dropped, so the gateway fails at once instead
/// of hanging until its own timeout (a drop looks like a dead upstream). TCP gets a reset:
/// measured on Linux 6.18, an ICMPv6 error only fails connect() after one SYN retransmission
/// (about 1 s), a reset fails it at once (ECONNREFUSED) for IPv4 and IPv6 alike.
const DENY_CHAIN: &str = "deny";

/// What the rendered ruleset does with a new connection from the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
}

/// `openclaw_<name>`, with '-' made '_' so it is a plain nft identifier.
pub fn table_name(spec: &Spec) -> String {
    format!("openclaw_{}", spec.name.replace('-', "_"))
}

pub fn render(spec: &Spec) -> Vec<Artifact> {
    vec![Artifact::public(
        ARTIFACT_PATH,
        ruleset(spec),
        "nftables table: deny-by-default egress for the gateway, gateway port limited to ingress.allow_from",
    )
    .installed_at(format!("/etc/nftables.d/{}-egress.nft", spec.name))]
}

/// The verdict the ruleset gives a new connection the gateway opens to `dst:port`.
///
/// Mirrors the `egress_policy` chain rule by rule. Loopback destinations are always allowed
/// (they leave through `lo`, accepted before the policy). Not modelled: traffic to the host's
/// own non-loopback addresses (also routed through `lo`, so allowed) and, for
/// `scope = "service"`, processes of other users (not filtered at all).
pub fn expected_verdict(spec: &Spec, dst: IpAddr, port: u16, proto: Protocol) -> Verdict {
    let e = &spec.egress;
    if dst.is_loopback() {
        return Verdict::Allow;
    }
    let allowed_by_rule = e
        .allow
        .iter()
        .any(|r| r.protocol == proto && r.to.contains(dst) && r.ports.contains(&port));
    let dns = port == 53 && resolvers(spec).contains(&dst);
    if allowed_by_rule || dns {
        return Verdict::Allow;
    }
    if blocked_ranges(spec).iter().any(|(c, _)| c.contains(dst)) {
        return Verdict::Deny;
    }
    if e.allow_public_web && proto == Protocol::Tcp && PUBLIC_WEB_PORTS.contains(&port) {
        return Verdict::Allow;
    }
    Verdict::Deny
}

/// Resolver addresses; entries that are not addresses are skipped (validation rejects them).
fn resolvers(spec: &Spec) -> Vec<IpAddr> {
    spec.egress
        .dns_resolvers
        .iter()
        .filter_map(|d| d.trim().parse().ok())
        .collect()
}

/// Built-in plus extra blocked ranges with why each is blocked, sorted, and without ranges
/// covered by a wider one (nft refuses overlapping intervals in a set).
pub(crate) fn blocked_ranges(spec: &Spec) -> Vec<(Cidr, String)> {
    let mut all: Vec<(Cidr, String)> = net::ALWAYS_BLOCKED
        .iter()
        .filter_map(|(c, why)| Some((c.parse().ok()?, why.to_string())))
        .chain(
            spec.egress
                .extra_blocked
                .iter()
                .map(|c| (*c, "egress.extra_blocked".to_string())),
        )
        .chain(
            spec.egress
                .nat64_prefixes
                .iter()
                .map(|c| (*c, "egress.nat64_prefixes (reaches IPv4 space)".to_string())),
        )
        .collect();
    // Widest first, so a covered range always meets its cover among the kept ones.
    all.sort_by_key(|(c, _)| (!c.is_ipv4(), c.prefix(), *c));
    let mut kept: Vec<(Cidr, String)> = Vec::new();
    for (c, why) in all {
        if !kept.iter().any(|(k, _)| k.overlaps(&c)) {
            kept.push((c, why));
        }
    }
    kept.sort_by_key(|(c, _)| *c);
    kept
}

/// `ip` or `ip6`: the match keyword for an address family.
pub(crate) fn fam(v6: bool) -> &'static str {
    if v6 {
        "ip6"
    } else {
        "ip"
    }
}

/// One element bare, several as an anonymous set.
pub(crate) fn set_of(items: &[String]) -> String {
    match items {
        [one] => one.clone(),
        many => format!("{{ {} }}", many.join(", ")),
    }
}

/// A comment nft accepts: no double quotes, at most 128 bytes.
pub(crate) fn comment(text: &str) -> String {
    // nft has no escapes inside a quoted string: drop what could close or break it.
    let mut s: String = text
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
        .collect();
    while s.len() > 120 {
        s.pop();
    }
    format!("comment \"{s}\"")
}

fn ruleset(spec: &Spec) -> String {
    let table = table_name(spec);
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "#!/usr/sbin/nft -f");
    let _ = writeln!(
        w,
        "# Rendered by openclaw-render for deployment '{}'. Change the spec, not this file.",
        spec.name
    );
    let _ = writeln!(
        w,
        "# Deny-by-default egress for the OpenClaw gateway, and its port reachable only from\n\
         # ingress.allow_from and loopback. Load with `nft -f`: the next two lines make every\n\
         # load replace this table in one atomic transaction (other tables are untouched)."
    );
    let _ = writeln!(w, "table inet {table} {{}}");
    let _ = writeln!(w, "delete table inet {table}\n");
    let _ = writeln!(w, "table inet {table} {{");
    blocked_sets(w, spec);
    egress_policy_chain(w, spec);
    deny_chain(w, spec);
    output_chain(w, spec);
    forward_chain(w, spec);
    input_chain(w, spec);
    let _ = writeln!(w, "}}");
    out
}

fn blocked_sets(w: &mut String, spec: &Spec) {
    let ranges = blocked_ranges(spec);
    for v6 in [false, true] {
        let name = if v6 { "blocked_v6" } else { "blocked_v4" };
        let _ = writeln!(
            w,
            "    # Never reachable unless an egress.allow rule names it: LAN, metadata, multicast.\n\
             \x20   set {name} {{\n\
             \x20       type {}_addr\n\
             \x20       flags interval\n\
             \x20       elements = {{",
            if v6 { "ipv6" } else { "ipv4" }
        );
        let fam_ranges: Vec<_> = ranges.iter().filter(|(c, _)| c.is_ipv4() != v6).collect();
        for (i, (c, why)) in fam_ranges.iter().enumerate() {
            let sep = if i + 1 < fam_ranges.len() { "," } else { "" };
            let _ = writeln!(w, "            {c} {}{sep}", comment(why));
        }
        let _ = writeln!(w, "        }}\n    }}\n");
    }
}

fn egress_policy_chain(w: &mut String, spec: &Spec) {
    let e = &spec.egress;
    let _ = writeln!(
        w,
        "    # The egress policy, first match wins. Every packet jumped here gets a verdict.\n\
         \x20   chain egress_policy {{\n\
         \x20       ct state established,related accept {}\n\
         \x20       ct state invalid drop\n\
         \x20       # IPv6 neighbour discovery and MLD stay on the link; without them IPv6 breaks.\n\
         \x20       icmpv6 type {{ nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert }} ip6 hoplimit 255 accept\n\
         \x20       ip6 daddr ff02::/16 icmpv6 type {{ mld-listener-report, mld2-listener-report }} ip6 hoplimit 1 accept",
        comment("replies and ICMP errors of allowed flows")
    );
    if !e.allow.is_empty() {
        let _ = writeln!(
            w,
            "        # egress.allow: checked before the blocked ranges, so named LAN hosts work."
        );
    }
    for rule in &e.allow {
        let _ = writeln!(w, "        {}", allow_rule(rule));
    }
    let res = resolvers(spec);
    let _ = writeln!(
        w,
        "        # DNS only to egress.dns_resolvers: no tunnelling through other servers."
    );
    for v6 in [false, true] {
        let addrs: Vec<String> = res
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| a.to_string())
            .collect();
        if !addrs.is_empty() {
            let _ = writeln!(
                w,
                "        {} daddr {} meta l4proto {{ tcp, udp }} th dport 53 accept {}",
                fam(v6),
                set_of(&addrs),
                comment("dns")
            );
        }
    }
    let _ = writeln!(
        w,
        "        ip daddr @blocked_v4 counter goto {DENY_CHAIN}\n\
         \x20       ip6 daddr @blocked_v6 counter goto {DENY_CHAIN}"
    );
    if e.allow_public_web {
        let _ = writeln!(
            w,
            "        # egress.allow_public_web: web ports on public addresses.\n\
             \x20       tcp dport {{ 80, 443 }} accept"
        );
    }
    if spec.uses_egress_proxy() {
        let ports: Vec<String> = proxy_ports(spec).iter().map(u16::to_string).collect();
        let _ = writeln!(
            w,
            "        # egress.allow_domains: only the egress proxy's user reaches public addresses, on\n\
             \x20       # the listed ports; the proxy itself allows only the listed names.\n\
             \x20       meta skuid {} tcp dport {} accept {}",
            skuid(&e.proxy.user),
            set_of(&ports),
            comment("egress proxy (allow_domains)")
        );
    }
    let _ = writeln!(
        w,
        "        # Everything else.\n\
         \x20       counter goto {DENY_CHAIN}\n    }}\n"
    );
}

fn deny_chain(w: &mut String, spec: &Spec) {
    let _ = writeln!(
        w,
        "    # How a denial looks to the gateway: TCP connect() fails at once with ECONNREFUSED,\n\
         \x20   # a UDP send() with EPERM (ICMP unreachable for forwarded container traffic).\n\
         \x20   chain {DENY_CHAIN} {{"
    );
    if spec.egress.log_denied {
        let _ = writeln!(
            w,
            "        limit rate 10/minute burst 20 packets log prefix \"{LOG_PREFIX}\" level warn"
        );
    }
    let _ = writeln!(
        w,
        "        meta l4proto tcp reject with tcp reset\n\
         \x20       reject with icmpx admin-prohibited\n    }}\n"
    );
}

pub(crate) fn allow_rule(rule: &EgressRule) -> String {
    let mut ports = rule.ports.clone();
    ports.sort_unstable();
    ports.dedup();
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    let proto = match rule.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    format!(
        "{} daddr {} {proto} dport {} accept {}",
        fam(!rule.to.is_ipv4()),
        rule.to,
        set_of(&ports),
        comment(&format!("allow {}", rule.name))
    )
}

fn container_ifaces(spec: &Spec) -> Option<String> {
    let names: Vec<String> = spec
        .egress
        .container_interfaces
        .iter()
        .map(|i| format!("\"{}\"", i.replace('"', "")))
        .collect();
    (!names.is_empty()).then(|| set_of(&names))
}

fn output_chain(w: &mut String, spec: &Spec) {
    let port = spec.gateway.port;
    let _ = writeln!(
        w,
        "    # Locally generated traffic.\n\
         \x20   chain output {{\n\
         \x20       type filter hook output priority filter; policy accept;\n\
         \x20       oif lo accept {}",
        comment("the host's own services")
    );
    if let Some(ifaces) = container_ifaces(spec) {
        let _ = writeln!(
            w,
            "        # Local clients (probes) of the published gateway port, DNAT'ed to the container.\n\
             \x20       oifname {ifaces} meta l4proto tcp ct status dnat ct original proto-dst {port} accept"
        );
    }
    match spec.egress.scope {
        EgressScope::Host => {
            let _ = writeln!(
                w,
                "        # egress.scope = host: everything this host sends.\n\
                 \x20       jump egress_policy"
            );
        }
        EgressScope::Service => {
            let _ = writeln!(
                w,
                "        # egress.scope = service: only the gateway's user (a name must exist when\n\
                 \x20       # this file is loaded: nft resolves it to a uid then).\n\
                 \x20       meta skuid {} jump egress_policy",
                skuid(&spec.paths.service_user)
            );
            if spec.uses_egress_proxy() {
                let _ = writeln!(
                    w,
                    "        # The egress proxy is held to the same policy (blocked ranges included).\n\
                     \x20       meta skuid {} jump egress_policy",
                    skuid(&spec.egress.proxy.user)
                );
            }
        }
    }
    let _ = writeln!(w, "    }}\n");
}

/// The user quoted: nft looks the name up when the file is loaded.
fn skuid(user: &str) -> String {
    format!("\"{}\"", user.replace('"', ""))
}

/// The gateway port: `allow_from` sources accepted, the rest dropped. `keyword` is how the
/// chain matches the port (plain `tcp dport`, or the pre-DNAT port for published containers).
fn gateway_port_rules(w: &mut String, spec: &Spec, keyword: &str) {
    for v6 in [false, true] {
        let srcs: Vec<String> = spec
            .ingress
            .allow_from
            .iter()
            .filter(|c| c.is_ipv4() != v6)
            .map(Cidr::to_string)
            .collect();
        if !srcs.is_empty() {
            let _ = writeln!(
                w,
                "        {keyword} {} saddr {} accept {}",
                fam(v6),
                set_of(&srcs),
                comment("ingress.allow_from")
            );
        }
    }
    let _ = writeln!(
        w,
        "        {keyword} counter drop {}",
        comment("gateway port: anyone else")
    );
}

fn forward_chain(w: &mut String, spec: &Spec) {
    let port = spec.gateway.port;
    let _ = writeln!(
        w,
        "    # Routed traffic: rootful container traffic crosses forward, not output.\n\
         \x20   chain forward {{\n\
         \x20       type filter hook forward priority filter; policy accept;\n\
         \x20       ct state established,related accept\n\
         \x20       # Published gateway port: matched on the port before DNAT."
    );
    gateway_port_rules(
        w,
        spec,
        &format!("meta l4proto tcp ct status dnat ct original proto-dst {port}"),
    );
    if spec.runtime == Runtime::Container {
        let c = &spec.container;
        let _ = writeln!(
            w,
            "        # The gateway container's egress, by its network's pinned subnet (container.subnet)."
        );
        for (family, net) in [("ip", Some(c.subnet)), ("ip6", c.subnet6)] {
            if let Some(n) = net {
                let _ = writeln!(
                    w,
                    "        {family} saddr {}/{} jump egress_policy",
                    n.addr(),
                    n.prefix()
                );
            }
        }
    }
    if let Some(ifaces) = container_ifaces(spec) {
        let _ = writeln!(
            w,
            "        # egress.container_interfaces: the gateway container's own egress.\n\
             \x20       iifname {ifaces} jump egress_policy"
        );
    }
    let _ = writeln!(w, "    }}\n");
}

fn input_chain(w: &mut String, spec: &Spec) {
    let port = spec.gateway.port;
    let _ = writeln!(
        w,
        "    # Ingress: the gateway port only from ingress.allow_from and loopback.\n\
         \x20   chain input {{\n\
         \x20       type filter hook input priority filter; policy accept;\n\
         \x20       ct state established,related accept\n\
         \x20       iif lo accept"
    );
    gateway_port_rules(w, spec, &format!("tcp dport {port}"));
    if spec.uses_egress_proxy() {
        proxy_port_rules(w, spec);
    }
    let _ = writeln!(w, "    }}");
}

/// Ports the egress proxy may connect to on public addresses: those of `allow_domains`.
pub fn proxy_ports(spec: &Spec) -> Vec<u16> {
    crate::domains::by_port(&spec.egress.allow_domains)
        .into_iter()
        .map(|(p, _)| p)
        .collect()
}

/// The proxy's port: loopback (accepted above) and the gateway container's network only, so
/// no other host can use it as a relay.
fn proxy_port_rules(w: &mut String, spec: &Spec) {
    let port = spec.egress.proxy.port;
    if spec.runtime == Runtime::Container {
        let c = &spec.container;
        for (family, net) in [("ip", Some(c.subnet)), ("ip6", c.subnet6)] {
            if let Some(n) = net {
                let _ = writeln!(
                    w,
                    "        tcp dport {port} {family} saddr {}/{} accept {}",
                    n.addr(),
                    n.prefix(),
                    comment("egress proxy: the gateway container")
                );
            }
        }
    }
    let _ = writeln!(
        w,
        "        tcp dport {port} counter drop {}",
        comment("egress proxy: anyone else")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        [models]
        base_url = "https://litellm.home.example/v1"
        models = ["m"]
        primary = "m"
        [secrets.items.k]
    "#;

    fn spec(extra: &str) -> Spec {
        Spec::from_toml(&format!("{BASE}\n{extra}")).unwrap()
    }

    fn v(spec: &Spec, ip: &str, port: u16, proto: Protocol) -> Verdict {
        expected_verdict(spec, ip.parse().unwrap(), port, proto)
    }

    const LAB: &str = r#"
        [egress]
        dns_resolvers = ["10.0.3.1", "fd00::53"]
        extra_blocked = ["203.0.113.0/24", "10.9.0.0/16"]
        [[egress.allow]]
        name = "litellm"
        to = "10.0.3.10"
        ports = [443, 8443]
        allow_private = true
        [[egress.allow]]
        name = "syslog"
        to = "fd00::514"
        ports = [514]
        protocol = "udp"
        allow_private = true
        [[egress.allow]]
        name = "doc-net"
        to = "203.0.113.7"
        ports = [22]
    "#;

    #[test]
    fn allow_rules_beat_the_blocked_ranges_but_only_for_their_ports_and_protocol() {
        let s = spec(LAB);
        assert_eq!(v(&s, "10.0.3.10", 443, Protocol::Tcp), Verdict::Allow);
        assert_eq!(v(&s, "10.0.3.10", 8443, Protocol::Tcp), Verdict::Allow);
        assert_eq!(v(&s, "10.0.3.10", 8080, Protocol::Tcp), Verdict::Deny);
        assert_eq!(v(&s, "10.0.3.10", 443, Protocol::Udp), Verdict::Deny);
        assert_eq!(v(&s, "fd00::514", 514, Protocol::Udp), Verdict::Allow);
        assert_eq!(v(&s, "fd00::514", 514, Protocol::Tcp), Verdict::Deny);
        // An allow inside an extra-blocked range still wins: allows come first.
        assert_eq!(v(&s, "203.0.113.7", 22, Protocol::Tcp), Verdict::Allow);
        assert_eq!(v(&s, "203.0.113.8", 22, Protocol::Tcp), Verdict::Deny);
    }

    #[test]
    fn dns_only_to_the_listed_resolvers_over_udp_and_tcp() {
        let s = spec(LAB);
        for p in [Protocol::Udp, Protocol::Tcp] {
            assert_eq!(v(&s, "10.0.3.1", 53, p), Verdict::Allow);
            assert_eq!(v(&s, "fd00::53", 53, p), Verdict::Allow);
            assert_eq!(v(&s, "10.0.3.2", 53, p), Verdict::Deny);
            assert_eq!(v(&s, "1.1.1.1", 53, p), Verdict::Deny, "public resolver");
        }
        assert_eq!(v(&s, "10.0.3.1", 80, Protocol::Tcp), Verdict::Deny);
    }

    #[test]
    fn lan_metadata_and_mapped_addresses_are_denied_even_with_public_web() {
        let s = spec(&format!("{LAB}\n"));
        let mut web = s.clone();
        web.egress.allow_public_web = true;
        for spec in [&s, &web] {
            for ip in [
                "169.254.169.254",
                "192.168.1.1",
                "172.16.0.1",
                "100.64.0.1",
                "10.9.1.1",
                "fe80::1",
                "fd12::1",
                "::ffff:10.0.0.1",
                "64:ff9b::a00:1",
                "ff02::1",
            ] {
                assert_eq!(v(spec, ip, 443, Protocol::Tcp), Verdict::Deny, "{ip}");
            }
        }
    }

    #[test]
    fn public_web_opens_only_tcp_80_and_443_on_public_addresses() {
        let mut s = spec(LAB);
        assert_eq!(v(&s, "93.184.215.14", 443, Protocol::Tcp), Verdict::Deny);
        s.egress.allow_public_web = true;
        assert_eq!(v(&s, "93.184.215.14", 443, Protocol::Tcp), Verdict::Allow);
        assert_eq!(v(&s, "2001:db8::1", 80, Protocol::Tcp), Verdict::Allow);
        assert_eq!(
            v(&s, "93.184.215.14", 443, Protocol::Udp),
            Verdict::Deny,
            "QUIC"
        );
        assert_eq!(v(&s, "93.184.215.14", 22, Protocol::Tcp), Verdict::Deny);
        assert_eq!(
            v(&s, "203.0.113.9", 443, Protocol::Tcp),
            Verdict::Deny,
            "extra_blocked"
        );
    }

    #[test]
    fn loopback_is_always_allowed() {
        let s = spec(LAB);
        assert_eq!(v(&s, "127.0.0.1", 4000, Protocol::Tcp), Verdict::Allow);
        assert_eq!(v(&s, "::1", 4000, Protocol::Udp), Verdict::Allow);
    }

    #[test]
    fn covered_extra_ranges_are_merged_so_nft_sees_no_overlap() {
        let s = spec(LAB);
        let text = ruleset(&s);
        assert!(!text.contains("10.9.0.0/16"), "covered by 10.0.0.0/8");
        assert!(text.contains("203.0.113.0/24 comment \"egress.extra_blocked\""));
    }

    #[test]
    fn rendering_is_deterministic_and_names_every_rule() {
        let s = spec(LAB);
        let a = ruleset(&s);
        assert_eq!(a, ruleset(&s));
        assert!(a.contains(
            "ip daddr 10.0.3.10 tcp dport { 443, 8443 } accept comment \"allow litellm\""
        ));
        assert!(a.contains("ip6 daddr fd00::514 udp dport 514 accept comment \"allow syslog\""));
        assert!(a.contains("ip daddr 10.0.3.1 meta l4proto { tcp, udp } th dport 53 accept"));
        assert!(a.contains("ip6 daddr fd00::53 meta l4proto { tcp, udp } th dport 53 accept"));
        // Allows come before the blocked ranges, the web ports (if any) after them.
        let allow = a.find("allow litellm").unwrap();
        let blocked = a.find("ip daddr @blocked_v4").unwrap();
        assert!(allow < blocked);
        assert!(a.starts_with("#!/usr/sbin/nft -f"));
        assert!(
            a.contains("table inet openclaw_openclaw {}\ndelete table inet openclaw_openclaw\n")
        );
    }

    #[test]
    fn service_scope_filters_only_the_service_user_and_containers_cross_forward() {
        let s = spec(
            r#"
            [egress]
            scope = "service"
            container_interfaces = ["podman1", "podman2"]
            [paths]
            service_user = "claw"
            "#,
        );
        let a = ruleset(&s);
        assert!(a.contains("meta skuid \"claw\" jump egress_policy"));
        assert!(!a.contains("\n        jump egress_policy"));
        assert!(a.contains("iifname { \"podman1\", \"podman2\" } jump egress_policy"));
        let host = ruleset(&spec(""));
        assert!(host.contains("\n        jump egress_policy"));
        assert!(!host.contains("iifname"));
    }
}
