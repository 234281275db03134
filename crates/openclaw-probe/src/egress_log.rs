//! Refused egress attempts, counted from the egress proxy's access log (Squid, in the line
//! format openclaw-render renders: `... TCP_DENIED/403 CONNECT host:port -`). Only verdict
//! tags are read; host names stay in the log.

use std::path::Path;

use serde::Serialize;

/// Squid's verdict tag for a refused request.
const DENIED_TAG: &str = "TCP_DENIED/";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressCounts {
    /// The access log read.
    pub log: String,
    /// Requests the proxy logged.
    pub requests: u64,
    /// Of those, refused by the proxy's rules.
    pub denied: u64,
}

impl EgressCounts {
    pub fn from_text(log: &str, text: &str) -> EgressCounts {
        let lines = text.lines().filter(|l| !l.trim().is_empty());
        let (mut requests, mut denied) = (0, 0);
        for l in lines {
            requests += 1;
            if l.contains(DENIED_TAG) {
                denied += 1;
            }
        }
        EgressCounts {
            log: log.to_string(),
            requests,
            denied,
        }
    }

    /// Reads the log; a log that does not exist yet means nothing was requested.
    pub fn read(path: &Path) -> std::io::Result<EgressCounts> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e),
        };
        Ok(Self::from_text(&path.display().to_string(), &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_lines_are_counted_among_all_requests() {
        let c = EgressCounts::from_text(
            "x",
            "1.0 10.89.42.30 TCP_TUNNEL/200 CONNECT api.example.com:443 1.2.3.4\n\
             1.1 10.89.42.30 TCP_DENIED/403 CONNECT evil.example:443 -\n\n",
        );
        assert_eq!((c.requests, c.denied), (2, 1));
    }
}
