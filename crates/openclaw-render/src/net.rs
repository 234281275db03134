//! Address ranges the gateway must never reach unless a rule names them explicitly.
//!
//! These are the destinations a prompt-injected agent would use to pivot into the homelab or
//! the cloud metadata service: private, shared, link-local, multicast and reserved space.

use crate::spec::Cidr;

/// (range, why) pairs, IPv4 then IPv6.
pub const ALWAYS_BLOCKED: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "RFC 1918 private"),
    ("100.64.0.0/10", "CGNAT shared space (RFC 6598)"),
    ("127.0.0.0/8", "loopback (other than the host's own lo)"),
    (
        "169.254.0.0/16",
        "link-local incl. cloud metadata 169.254.169.254",
    ),
    ("172.16.0.0/12", "RFC 1918 private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.168.0.0/16", "RFC 1918 private"),
    ("198.18.0.0/15", "benchmarking"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved and broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback (other than the host's own lo)"),
    ("::ffff:0:0/96", "IPv4-mapped (would bypass the IPv4 list)"),
    ("64:ff9b::/96", "NAT64 (would reach IPv4 space)"),
    (
        "64:ff9b:1::/48",
        "local-use NAT64 (RFC 8215; would reach IPv4 space)",
    ),
    (
        "::/96",
        "IPv4-compatible (deprecated; would reach IPv4 space)",
    ),
    ("2002::/16", "6to4 (embeds an IPv4 address)"),
    ("2001::/32", "Teredo (embeds an IPv4 address)"),
    ("100::/64", "discard-only"),
    ("fc00::/7", "unique local (ULA)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
];

/// Cloud metadata services: never reachable, whatever a rule says (AWS/GCP/Azure/OpenStack,
/// AWS ECS task metadata, Alibaba, the AWS IPv6 endpoint).
pub const METADATA: &[&str] = &[
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "fd00:ec2::254",
];

pub fn metadata_addrs() -> Vec<std::net::IpAddr> {
    METADATA
        .iter()
        .map(|a| a.parse().expect("built-in address"))
        .collect()
}

/// The IPv4 address an IPv6 address embeds in its low 32 bits when it lies in a /96
/// translation prefix (IPv4-mapped, IPv4-compatible, NAT64 well-known, or `extra` NAT64).
pub fn embedded_ipv4(ip: std::net::IpAddr, extra: &[Cidr]) -> Option<std::net::Ipv4Addr> {
    let std::net::IpAddr::V6(v6) = ip else {
        return None;
    };
    let prefixes = ["::ffff:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48"];
    let inside = prefixes
        .iter()
        .map(|p| p.parse::<Cidr>().expect("built-in prefix"))
        .chain(extra.iter().copied())
        .any(|p| p.contains(ip));
    inside.then(|| std::net::Ipv4Addr::from((u128::from(v6) & 0xffff_ffff) as u32))
}

/// The built-in blocked ranges, parsed.
pub fn always_blocked() -> Vec<Cidr> {
    ALWAYS_BLOCKED
        .iter()
        .map(|(c, _)| c.parse().expect("built-in range is valid"))
        .collect()
}

/// Every built-in blocked range a network overlaps.
pub fn blocked_ranges_of(net: &Cidr) -> Vec<(Cidr, &'static str)> {
    ALWAYS_BLOCKED
        .iter()
        .filter_map(|(c, why)| {
            let r: Cidr = c.parse().expect("built-in range is valid");
            r.overlaps(net).then_some((r, *why))
        })
        .collect()
}

/// The first built-in blocked range a network overlaps, with the reason it is blocked.
pub fn blocked_range_of(net: &Cidr) -> Option<(Cidr, &'static str)> {
    ALWAYS_BLOCKED.iter().find_map(|(c, why)| {
        let r: Cidr = c.parse().expect("built-in range is valid");
        r.overlaps(net).then_some((r, *why))
    })
}

/// The built-in blocked range one address falls in (private, loopback, metadata, ...).
pub fn blocked_range_of_addr(ip: std::net::IpAddr) -> Option<(Cidr, &'static str)> {
    let host = Cidr::new(ip, if ip.is_ipv4() { 32 } else { 128 }).expect("host prefix");
    blocked_range_of(&host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_private_ranges_are_blocked() {
        for ip in [
            "169.254.169.254",
            "10.1.2.3",
            "192.168.1.1",
            "100.64.0.1",
            "fd12::1",
            "fe80::1",
            "64:ff9b:1::a9fe:a9fe",
            "::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            let c: Cidr = ip.parse().unwrap();
            assert!(blocked_range_of(&c).is_some(), "{ip} should be blocked");
        }
        for ip in ["203.0.113.5", "2001:db8::1", "1.1.1.1"] {
            let c: Cidr = ip.parse().unwrap();
            assert!(blocked_range_of(&c).is_none(), "{ip} should not be blocked");
        }
    }
}
