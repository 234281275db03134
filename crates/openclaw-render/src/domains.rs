//! `egress.allow_domains`: host names the gateway may reach through the egress proxy.
//!
//! An entry is `name[:port]` with the port defaulting to 443. `*.example.com` matches every
//! name below `example.com` at any depth but not `example.com` itself (as OpenClaw's
//! `ssrfPolicy` wildcards and Smokescreen's globs do): list the apex separately. Names are
//! lowercase ASCII (IDNs in their `xn--` form), so what the proxy compares is what DNS sees.

use std::fmt;

/// Default port of an entry without one: HTTPS.
pub const DEFAULT_PORT: u16 = 443;

/// One parsed `egress.allow_domains` entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainRule {
    /// The name without `*.` (for a wildcard, the parent of every matched name).
    pub name: String,
    pub wildcard: bool,
    pub port: u16,
}

impl fmt::Display for DomainRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = if self.wildcard { "*." } else { "" };
        write!(f, "{star}{}:{}", self.name, self.port)
    }
}

/// Why an entry is refused and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDomain {
    pub message: String,
    pub fix: String,
}

fn bad(message: impl Into<String>, fix: impl Into<String>) -> Result<DomainRule, BadDomain> {
    Err(BadDomain {
        message: message.into(),
        fix: fix.into(),
    })
}

impl DomainRule {
    /// Parses one entry, refusing anything the proxy could read another way than people do.
    pub fn parse(entry: &str) -> Result<DomainRule, BadDomain> {
        if entry.is_empty() {
            return bad("is empty", "write a host name such as api.example.com");
        }
        if !entry.is_ascii() {
            return bad(
                "is not ASCII (an internationalised name)",
                "write its IDNA form (xn--...), as DNS carries it",
            );
        }
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) => {
                let port: u16 = p.parse().ok().filter(|p| *p != 0).ok_or(BadDomain {
                    message: format!("has port '{p}', which is not a port number"),
                    fix: "write a port from 1 to 65535 after the colon, or none for 443".into(),
                })?;
                (h, port)
            }
            None => (entry, DEFAULT_PORT),
        };
        if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() || all_numeric(host) {
            return bad(
                "is an IP address",
                "allow_domains takes host names; give an address an egress.allow rule instead",
            );
        }
        if host.chars().any(|c| c.is_ascii_uppercase()) {
            return bad(
                "has uppercase letters",
                format!("write it in lowercase: '{}'", entry.to_ascii_lowercase()),
            );
        }
        if host.ends_with('.') {
            return bad(
                "ends with a dot",
                format!(
                    "write it without the trailing dot: '{}'",
                    host.trim_end_matches('.')
                ),
            );
        }
        let (wildcard, name) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        if name.contains('*') || host == "*" {
            return bad(
                "has a '*' other than a leading '*.'",
                "allow one name, or every name below one with '*.example.com'",
            );
        }
        if name.len() > 253 {
            return bad("is longer than 253 characters", "DNS names are at most 253");
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return bad(
                if wildcard {
                    "is a wildcard over a top-level domain"
                } else {
                    "is a single label, not a fully qualified name"
                },
                "write the full name, e.g. api.example.com or *.example.com",
            );
        }
        for l in &labels {
            let ok_chars = l
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if l.is_empty() || l.len() > 63 || !ok_chars || l.starts_with('-') || l.ends_with('-') {
                return bad(
                    format!("has the label '{l}', which is not a DNS label"),
                    "use labels of 1-63 letters, digits and inner hyphens, separated by single dots",
                );
            }
        }
        if labels.last().is_some_and(|tld| all_numeric(tld)) {
            return bad(
                "ends in a numeric label",
                "write a host name; give an address an egress.allow rule instead",
            );
        }
        Ok(DomainRule {
            name: name.to_string(),
            wildcard,
            port,
        })
    }

    /// Whether a request for `host:port` is allowed by this rule (case and one trailing dot
    /// ignored, as resolvers do).
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        port == self.port
            && if self.wildcard {
                h.len() > self.name.len() + 1
                    && h.ends_with(&self.name)
                    && h.as_bytes()[h.len() - self.name.len() - 1] == b'.'
            } else {
                h == self.name
            }
    }

    /// The rule as a POSIX extended regex over the whole host name (Squid `dstdom_regex`).
    pub fn regex(&self) -> String {
        let escaped = self.name.replace('.', "\\.");
        if self.wildcard {
            format!("^([a-z0-9-]+\\.)+{escaped}$")
        } else {
            format!("^{escaped}$")
        }
    }
}

fn all_numeric(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Every entry parsed, in order; errors carry the entry's index.
pub fn parse_all(entries: &[String]) -> Vec<Result<DomainRule, (usize, BadDomain)>> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| DomainRule::parse(e).map_err(|b| (i, b)))
        .collect()
}

/// The valid rules, grouped by port (sorted), for renderers.
pub fn by_port(entries: &[String]) -> Vec<(u16, Vec<DomainRule>)> {
    let mut map: std::collections::BTreeMap<u16, Vec<DomainRule>> = Default::default();
    for r in entries.iter().filter_map(|e| DomainRule::parse(e).ok()) {
        let rules = map.entry(r.port).or_default();
        if !rules.contains(&r) {
            rules.push(r);
        }
    }
    map.into_iter().collect()
}

/// Whether any rule allows `host:port`.
pub fn allowed(entries: &[String], host: &str, port: u16) -> bool {
    entries
        .iter()
        .filter_map(|e| DomainRule::parse(e).ok())
        .any(|r| r.matches(host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<DomainRule, String> {
        DomainRule::parse(s).map_err(|b| b.message)
    }

    #[test]
    fn exact_and_wildcard_entries_parse_with_their_ports() {
        assert_eq!(
            p("api.example.com").unwrap().to_string(),
            "api.example.com:443"
        );
        assert_eq!(
            p("*.example.com:8443").unwrap().to_string(),
            "*.example.com:8443"
        );
        assert_eq!(p("xn--bcher-kva.example").unwrap().port, 443);
    }

    #[test]
    fn entries_people_misread_are_refused_with_the_reason() {
        for (entry, why) in [
            ("*", "'*'"),
            ("*.com", "top-level"),
            ("localhost", "single label"),
            ("10.0.0.1", "IP address"),
            ("[::1]:443", "IP address"),
            ("2130706433", "IP address"),
            ("example.123", "numeric"),
            ("API.example.com", "uppercase"),
            ("api.example.com.", "dot"),
            ("bücher.example", "ASCII"),
            ("a.*.example.com", "'*'"),
            ("api.example.com:0", "port"),
            ("api.example.com:https", "port"),
            ("-a.example.com", "label"),
            ("a..example.com", "label"),
            ("", "empty"),
        ] {
            let msg = p(entry).expect_err(entry);
            assert!(msg.contains(why), "{entry}: {msg}");
        }
    }

    #[test]
    fn wildcards_match_below_the_name_but_not_the_apex_or_a_lookalike() {
        let w = DomainRule::parse("*.example.com").unwrap();
        assert!(w.matches("a.example.com", 443));
        assert!(w.matches("b.a.EXAMPLE.com.", 443));
        assert!(!w.matches("example.com", 443));
        assert!(!w.matches("badexample.com", 443));
        assert!(!w.matches("a.example.com", 80));
        let e = DomainRule::parse("api.example.com").unwrap();
        assert!(e.matches("api.example.com", 443) && !e.matches("x.api.example.com", 443));
    }

    #[test]
    fn the_regex_says_what_matches_says() {
        assert_eq!(
            DomainRule::parse("*.example.com").unwrap().regex(),
            "^([a-z0-9-]+\\.)+example\\.com$"
        );
        assert_eq!(
            DomainRule::parse("api.example.com").unwrap().regex(),
            "^api\\.example\\.com$"
        );
    }
}
