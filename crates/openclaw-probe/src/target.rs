//! Where to probe: the gateway's plain-HTTP base URL and the TLS endpoint of the reverse proxy.

use std::str::FromStr;

use crate::Error;

/// `http://host:port[/base]` of the gateway as a local client meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// Host without IPv6 brackets (for resolving).
    pub host: String,
    pub port: u16,
    /// `host:port` as written (for the `Host` header).
    pub authority: String,
    /// Path prefix without a trailing slash, `""` at the root.
    pub base_path: String,
}

/// `https://host[:port]` whose served certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsTarget {
    pub host: String,
    pub port: u16,
    pub authority: String,
}

/// Never echoes a URL that may hold credentials.
fn bad(s: &str, why: impl Into<String>) -> Error {
    let shown = if s.contains('@') { "<redacted>" } else { s };
    Error::Url(shown.to_string(), why.into())
}

/// Splits `host[:port]` (IPv6 in brackets) and checks it.
fn host_port(orig: &str, authority: &str, default_port: u16) -> Result<(String, u16), Error> {
    if authority.is_empty() {
        return Err(bad(orig, "no host"));
    }
    if authority.contains('@') {
        // Credentials in a URL would sit in argv: the token comes from --token-file only.
        return Err(bad(
            orig,
            "credentials in the URL are not accepted (use --token-file)",
        ));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| bad(orig, "unclosed '[' in IPv6 host"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad(orig, "junk after IPv6 host"))?,
            ),
        };
        (h.to_string(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
        return Err(bad(orig, "bad host"));
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad(orig, "bad port")),
        },
    };
    Ok((host, port))
}

impl FromStr for HttpTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let rest = if let Some(r) = s.strip_prefix("http://") {
            r
        } else if s.starts_with("https://") {
            return Err(bad(
                s,
                "--url must be http:// (the gateway itself; check the proxy's certificate with --tls-url)",
            ));
        } else {
            return Err(bad(s, "must start with http://"));
        };
        if rest.contains(['?', '#']) {
            return Err(bad(s, "no query or fragment allowed"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (host, port) = host_port(s, authority, 80)?;
        Ok(HttpTarget {
            host,
            port,
            authority: authority.to_string(),
            base_path: path.trim_end_matches('/').to_string(),
        })
    }
}

impl HttpTarget {
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.base_path)
    }
    pub fn path(&self, p: &str) -> String {
        format!("{}{p}", self.base_path)
    }
    /// The gateway's WebSocket endpoint (the same listener, path `/`).
    pub fn ws_url(&self) -> String {
        format!("ws://{}{}/", self.authority, self.base_path)
    }
}

impl std::fmt::Display for HttpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url())
    }
}

impl FromStr for TlsTarget {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let rest = s
            .strip_prefix("https://")
            .ok_or_else(|| bad(s, "must start with https://"))?;
        // A path is allowed (and ignored): only the handshake matters.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (host, port) = host_port(s, authority, 443)?;
        Ok(TlsTarget {
            host,
            port,
            authority: authority.to_string(),
        })
    }
}

impl std::fmt::Display for TlsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "https://{}", self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_targets() {
        let t: HttpTarget = "http://127.0.0.1:18789".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 18789));
        assert_eq!(t.ws_url(), "ws://127.0.0.1:18789/");
        assert_eq!(t.path("/healthz"), "/healthz");
        let t: HttpTarget = "http://gw.lan/openclaw/".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("gw.lan", 80));
        assert_eq!(t.path("/readyz"), "/openclaw/readyz");
        assert_eq!(t.ws_url(), "ws://gw.lan/openclaw/");
        let t: HttpTarget = "http://[::1]:9".parse().unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str()),
            ("::1", 9, "[::1]:9")
        );
        for bad in [
            "127.0.0.1:18789",
            "https://gw:443",
            "http://",
            "http://:80",
            "http://h:0",
            "http://h:99999",
            "http://h:x",
            "http://user:secret@h:1",
            "http://h:1/?a=b",
            "http://[::1",
            "http://[::1]x",
        ] {
            assert!(
                bad.parse::<HttpTarget>().is_err(),
                "{bad} should be rejected"
            );
        }
        // The rejection never repeats URL credentials, and says where the token goes.
        let e = "http://u:pass-word@h"
            .parse::<HttpTarget>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--token-file") && !e.contains("pass-word"),
            "{e}"
        );
        let e = "https://u:pass-word@h"
            .parse::<HttpTarget>()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("pass-word"), "{e}");
    }

    #[test]
    fn tls_targets() {
        let t: TlsTarget = "https://openclaw.home.arpa".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("openclaw.home.arpa", 443));
        let t: TlsTarget = "https://10.0.0.1:8443/x".parse().unwrap();
        assert_eq!((t.host.as_str(), t.port), ("10.0.0.1", 8443));
        assert_eq!(t.to_string(), "https://10.0.0.1:8443");
        assert!("http://x".parse::<TlsTarget>().is_err());
    }
}
