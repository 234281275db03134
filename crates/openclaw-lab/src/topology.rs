//! The lab's network: which hosts exist, on which segment, with which addresses.
//!
//! Every address lives only inside the lab's network namespaces; nothing here is ever routed
//! off the box. The "internet" segment uses documentation ranges (203.0.113.0/24,
//! 2001:db8::/32), so it is not private in the egress policy's eyes yet can never collide with
//! a real public host. `examples/lab.toml` must use these same addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Prefix of every namespace, veth and state file the lab makes.
pub const PREFIX: &str = "olab-";
/// The namespace holding the segment bridges and routing between them.
pub const ROUTER: &str = "olab-router";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub name: &'static str,
    /// Bridge inside the router namespace.
    pub bridge: &'static str,
    /// The router's own address on the segment (hosts' default route), with the prefix length.
    pub router_v4: Ipv4Addr,
    pub v4_prefix: u8,
    pub router_v6: Ipv6Addr,
    pub v6_prefix: u8,
}

pub const SERVICES: Segment = Segment {
    name: "services",
    bridge: "br-svc",
    router_v4: Ipv4Addr::new(10, 231, 1, 1),
    v4_prefix: 24,
    router_v6: Ipv6Addr::new(0xfd00, 0x231, 1, 0, 0, 0, 0, 1),
    v6_prefix: 64,
};
pub const LAN: Segment = Segment {
    name: "lan",
    bridge: "br-lan",
    router_v4: Ipv4Addr::new(10, 231, 2, 1),
    v4_prefix: 24,
    router_v6: Ipv6Addr::new(0xfd00, 0x231, 2, 0, 0, 0, 0, 1),
    v6_prefix: 64,
};
pub const INTERNET: Segment = Segment {
    name: "internet",
    bridge: "br-inet",
    router_v4: Ipv4Addr::new(203, 0, 113, 1),
    v4_prefix: 24,
    router_v6: Ipv6Addr::new(0x2001, 0xdb8, 0x113, 0, 0, 0, 0, 1),
    v6_prefix: 64,
};
pub const SEGMENTS: [Segment; 3] = [SERVICES, LAN, INTERNET];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// Short name: `gateway`; the namespace is `olab-gateway`.
    pub name: &'static str,
    pub segment: Segment,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
    /// Extra /32 addresses on the host (the internet canary also plays the metadata service).
    pub extra_v4: &'static [Ipv4Addr],
    /// DNS name in every namespace's /etc/hosts (`gateway.olab.test`).
    pub dns: &'static str,
}

impl Host {
    pub fn netns(&self) -> String {
        format!("{PREFIX}{}", self.name)
    }
    /// The veth end inside the router namespace.
    pub fn router_veth(&self) -> String {
        format!("v-{}", self.name)
    }
}

/// A services host: `10.231.1.<last>` and `fd00:231:1::<last6>`, where `last6` reads like the
/// IPv4 octet (`.10` is `::10`), so the two families are easy to match up in the spec.
const fn svc(name: &'static str, last: u8, last6: u16, dns: &'static str) -> Host {
    Host {
        name,
        segment: SERVICES,
        v4: Ipv4Addr::new(10, 231, 1, last),
        v6: Ipv6Addr::new(0xfd00, 0x231, 1, 0, 0, 0, 0, last6),
        extra_v4: &[],
        dns,
    }
}

pub const GATEWAY: Host = svc("gateway", 20, 0x20, "gateway.olab.test");
pub const PROXY: Host = svc("proxy", 2, 0x2, "openclaw.olab.test");
pub const LLM: Host = svc("llm", 10, 0x10, "llm.olab.test");
pub const VAULT: Host = svc("vault", 12, 0x12, "vault.olab.test");
pub const CA: Host = svc("ca", 13, 0x13, "ca.olab.test");
pub const LAN_CANARY: Host = Host {
    name: "lan",
    segment: LAN,
    v4: Ipv4Addr::new(10, 231, 2, 50),
    v6: Ipv6Addr::new(0xfd00, 0x231, 2, 0, 0, 0, 0, 0x50),
    extra_v4: &[],
    dns: "nas.olab.test",
};
/// The cloud metadata address, served by the internet canary so a leak would be recorded.
pub const METADATA: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
pub const INTERNET_CANARY: Host = Host {
    name: "internet",
    segment: INTERNET,
    v4: Ipv4Addr::new(203, 0, 113, 10),
    v6: Ipv6Addr::new(0x2001, 0xdb8, 0x113, 0, 0, 0, 0, 0x10),
    extra_v4: &[METADATA],
    dns: "example.olab.test",
};

/// A cloud API's edge on the internet segment: Caddy with TLS for several names (one
/// address, as a CDN has), in front of provider A. The egress proxy's allowed name.
pub const CLOUD: Host = inet("cloud", 20, 0x20, "api.cloud.olab.test");

/// An internet host of the lab: one address per family on the internet segment.
const fn inet(name: &'static str, last: u8, last6: u16, dns: &'static str) -> Host {
    Host {
        name,
        segment: INTERNET,
        v4: Ipv4Addr::new(203, 0, 113, last),
        v6: Ipv6Addr::new(0x2001, 0xdb8, 0x113, 0, 0, 0, 0, last6),
        extra_v4: &[],
        dns,
    }
}

/// Two model providers on the internet segment (LLM fixtures standing in for cloud LLM
/// APIs), reached only by LiteLLM on the llm host; A is the primary, B the fallback.
pub const PROVIDER_A: Host = inet("provider-a", 21, 0x21, "provider-a.olab.test");
pub const PROVIDER_B: Host = inet("provider-b", 22, 0x22, "provider-b.olab.test");
pub const PROVIDERS: [Host; 2] = [PROVIDER_A, PROVIDER_B];

pub const HOSTS: [Host; 10] = [
    GATEWAY,
    PROXY,
    LLM,
    VAULT,
    CA,
    LAN_CANARY,
    INTERNET_CANARY,
    CLOUD,
    PROVIDER_A,
    PROVIDER_B,
];

/// Names for egress by host name (`egress.allow_domains` in examples/lab.toml allows
/// `api.cloud.olab.test` and `*.docs.olab.test`): what each is for and where it points.
pub const EGRESS_NAMES: &[(&str, Host, &str)] = &[
    ("api.cloud.olab.test", CLOUD, "allowed by name"),
    (
        "other.cloud.olab.test",
        CLOUD,
        "same address as an allowed name, not listed",
    ),
    ("www.docs.olab.test", CLOUD, "allowed by the wildcard"),
    ("docs.olab.test", CLOUD, "the wildcard's apex, not listed"),
    (
        "rebind.docs.olab.test",
        LAN_CANARY,
        "allowed by the wildcard, resolves to the LAN",
    ),
];

/// The lab's DNS resolver address (a canary in the router namespace answering on port 53).
pub const RESOLVER: IpAddr = IpAddr::V4(SERVICES.router_v4);

pub fn host(name: &str) -> Option<Host> {
    HOSTS.iter().copied().find(|h| h.name == name)
}

/// `/etc/hosts` for every lab namespace (bind-mounted by `ip netns exec` from /etc/netns).
pub fn hosts_file() -> String {
    let mut s = String::from("# openclaw-lab: names inside the lab's namespaces only\n127.0.0.1 localhost\n::1 localhost\n");
    for h in HOSTS {
        s.push_str(&format!("{} {}\n{} {}\n", h.v4, h.dns, h.v6, h.dns));
    }
    for (name, h, _) in EGRESS_NAMES {
        if *name != h.dns {
            s.push_str(&format!("{} {name}\n{} {name}\n", h.v4, h.v6));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_interface_limits_and_addresses_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for h in HOSTS {
            assert!(h.router_veth().len() <= 15, "{}", h.router_veth());
            assert!(seen.insert(IpAddr::V4(h.v4)));
            assert!(seen.insert(IpAddr::V6(h.v6)));
        }
        assert!(!INTERNET_CANARY.v4.is_private());
        assert!(GATEWAY.v4.is_private() && LAN_CANARY.v4.is_private());
        assert_eq!(LLM.v6.to_string(), "fd00:231:1::10");
        assert_eq!(GATEWAY.v6.to_string(), "fd00:231:1::20");
    }
}
