//! Egress by host name: requests through the egress proxy (Squid) as the gateway's user,
//! with real curl, compared with what `egress.allow_domains` says. Part of `check egress`
//! (so `--from-container` runs it from inside the container too).
//!
//! A name is expected to pass when a rule lists it on that port and it resolves outside the
//! always-blocked ranges; IP literals and anything but CONNECT never pass. "Passed" means the
//! proxy opened the tunnel (CONNECT answered 200) and TLS to the destination worked.

use std::net::{IpAddr, ToSocketAddrs};
use std::process::Command;
use std::time::Duration;

use openclaw_render::domains;
use openclaw_render::net;
use openclaw_render::spec::Spec;

use super::Report;
use crate::topology::{CLOUD, EGRESS_NAMES};

/// One request to try through the proxy.
#[derive(Debug, Clone)]
pub struct NameTarget {
    pub what: String,
    pub url: String,
}

/// The lab's cases: every name of the topology's table, an IP literal, plain HTTP and an
/// allowed name on an unlisted port.
pub fn lab_targets() -> Vec<NameTarget> {
    let mut v: Vec<NameTarget> = EGRESS_NAMES
        .iter()
        .map(|(name, _, what)| NameTarget {
            what: format!("{name} ({what})"),
            url: format!("https://{name}/v1/models"),
        })
        .collect();
    v.push(NameTarget {
        what: "IP literal of the allowed name's address".into(),
        url: format!("https://{}/v1/models", CLOUD.v4),
    });
    v.push(NameTarget {
        what: "allowed name, plain HTTP (not CONNECT)".into(),
        url: format!("http://{}/v1/models", CLOUD.dns),
    });
    v.push(NameTarget {
        what: "allowed name, unlisted port".into(),
        url: format!("https://{}:8443/v1/models", CLOUD.dns),
    });
    v
}

/// `(https, host, port)` of a URL this module built.
fn parts(url: &str) -> (bool, String, u16) {
    let https = url.starts_with("https://");
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_string(), p.parse().unwrap_or(0)),
        _ => (authority.to_string(), if https { 443 } else { 80 }),
    };
    (https, host, port)
}

/// What the spec says must happen to `url`.
pub fn expected(spec: &Spec, url: &str) -> bool {
    let (https, host, port) = parts(url);
    if !https || host.parse::<IpAddr>().is_ok() {
        return false;
    }
    if !domains::allowed(&spec.egress.allow_domains, &host, port) {
        return false;
    }
    // Resolved as the proxy resolves it (this host's resolver and hosts file).
    let addrs: Vec<IpAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map(|a| a.map(|s| s.ip()).collect())
        .unwrap_or_default();
    !addrs.is_empty()
        && addrs
            .iter()
            .all(|a| net::blocked_range_of_addr(*a).is_none())
}

/// Tries `url` through the proxy with curl.
fn attempt(spec: &Spec, url: &str) -> (Outcome, String) {
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{http_connect} %{http_code}",
    ])
    .args(["--max-time", "8", "--proxy", &spec.egress_proxy_url()])
    .arg(url);
    if let Some(ca) = &spec.gateway.extra_ca_certs {
        c.args(["--cacert", ca]);
    }
    let out = match crate::cmd::output_within(&mut c, Duration::from_secs(15)) {
        Ok(o) => o,
        Err(e) => return (Outcome::Broken, format!("curl: {e:#}")),
    };
    let codes = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (connect, http) = codes.split_once(' ').unwrap_or((&codes, ""));
    let err = String::from_utf8_lossy(&out.stderr);
    let err = err.lines().next().unwrap_or("").trim().to_string();
    let outcome = if url.starts_with("https://") {
        match connect {
            "200" if out.status.success() => Outcome::Reached,
            "403" => Outcome::Refused,
            _ => Outcome::Broken,
        }
    } else {
        // A plain request the proxy forwarded would carry the origin's status, not Squid's 403.
        match http {
            "403" => Outcome::Refused,
            "000" => Outcome::Broken,
            _ => Outcome::Reached,
        }
    };
    let detail = format!(
        "{outcome:?} (connect {connect}, http {http}){}",
        if err.is_empty() {
            String::new()
        } else {
            format!(": {err}")
        }
    );
    (outcome, detail)
}

/// What happened to a request. A denial counts only when the proxy itself refused it: a
/// proxy that cannot be reached proves nothing about its rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Reached,
    Refused,
    Broken,
}

/// Adds the by-name cases to the egress report; returns (allowed, denied, unexpected).
pub fn run(spec: &Spec, targets: &[NameTarget], r: &mut Report) -> (u32, u32, u32) {
    let (mut allowed, mut denied, mut unexpected) = (0, 0, 0);
    for tg in targets {
        let want = expected(spec, &tg.url);
        let (outcome, detail) = attempt(spec, &tg.url);
        let ok = outcome
            == if want {
                Outcome::Reached
            } else {
                Outcome::Refused
            };
        match (ok, outcome) {
            (false, _) => unexpected += 1,
            (true, Outcome::Reached) => allowed += 1,
            (true, _) => denied += 1,
        }
        r.push(
            format!("by name via proxy: {} {}", tg.what, tg.url),
            if want { "allow" } else { "deny" },
            detail,
            ok,
        );
    }
    (allowed, denied, unexpected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_host_and_port() {
        assert_eq!(parts("https://a.b/x"), (true, "a.b".into(), 443));
        assert_eq!(parts("http://a.b/x"), (false, "a.b".into(), 80));
        assert_eq!(parts("https://a.b:8443/x"), (true, "a.b".into(), 8443));
    }
}
