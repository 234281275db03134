//! Durations on the command line (`2s`, `500ms`, `7d`), certificate thresholds (a duration or
//! a share of the certificate's lifetime), and UTC timestamps for humans.

use std::str::FromStr;
use std::time::Duration;

use crate::Error;

/// `500ms`, `2s`, `1.5s`, `5m`, `12h`, `7d`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, Error> {
    let t = s.trim();
    let bad = |why| Error::Duration(s.to_string(), why);
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return Err(bad("expected a number followed by ms, s, m, h or d"));
    }
    let n: f64 = num.parse().map_err(|_| bad("not a number"))?;
    let mult = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return Err(bad("unknown unit (use ms, s, m, h or d)")),
    };
    let secs = n * mult;
    if !secs.is_finite() || secs > 100.0 * 365.0 * 86400.0 {
        return Err(bad("out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// When a certificate counts as expiring: an absolute time left (`7d`, `8h`) or a share of
/// its whole lifetime (`33%`). Shares suit both a 90-day ACME certificate and a 24-hour
/// step-ca machine certificate with the same defaults; renewal clients renew at 2/3.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Left(Duration),
    Percent(f64),
}

impl Threshold {
    /// Seconds left below which the threshold is crossed, for a certificate of this lifetime.
    pub fn seconds(&self, lifetime_secs: f64) -> f64 {
        match self {
            Threshold::Left(d) => d.as_secs_f64(),
            Threshold::Percent(p) => lifetime_secs.max(0.0) * p / 100.0,
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threshold::Left(d) => write!(f, "{}", human_secs(d.as_secs_f64())),
            Threshold::Percent(p) => write!(f, "{p}% of lifetime"),
        }
    }
}

impl FromStr for Threshold {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| Error::Threshold(s.to_string(), "not a percentage"))?;
            if !(0.0..=100.0).contains(&v) {
                return Err(Error::Threshold(
                    s.to_string(),
                    "percentage must be 0..=100",
                ));
            }
            return Ok(Threshold::Percent(v));
        }
        parse_duration(t).map(Threshold::Left).map_err(|_| {
            Error::Threshold(
                s.to_string(),
                "expected a duration (7d, 8h) or a percentage (33%)",
            )
        })
    }
}

/// `3d 4h`, `5h 12m`, `42s`: coarse, for messages.
pub fn human_secs(secs: f64) -> String {
    let s = secs.abs().round() as u64;
    let (d, h, m) = (s / 86400, (s % 86400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {}s", s % 60)
    } else {
        format!("{s}s")
    }
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, days-from-civil inverse).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86400);
    let sod = unix.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

pub fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("12h").unwrap(), Duration::from_secs(43200));
        assert_eq!(parse_duration(" 7d ").unwrap(), Duration::from_secs(604800));
        for bad in ["", "s", "2x", "-1s", "1e9d", "1.2.3s", "2 weeks"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn thresholds() {
        assert_eq!(
            "33%".parse::<Threshold>().unwrap(),
            Threshold::Percent(33.0)
        );
        assert_eq!(
            "8h".parse::<Threshold>().unwrap(),
            Threshold::Left(Duration::from_secs(28800))
        );
        assert!("120%".parse::<Threshold>().is_err());
        assert!("abc".parse::<Threshold>().is_err());
        // 33% of a 24 h certificate is about 8 h; of 90 days about 30 days.
        let day = 86400.0;
        assert!((Threshold::Percent(33.0).seconds(day) - 28512.0).abs() < 1.0);
        assert!((Threshold::Percent(33.0).seconds(90.0 * day) - 29.7 * day).abs() < 1.0);
        assert_eq!(Threshold::Left(Duration::from_secs(60)).seconds(day), 60.0);
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_394_116), "2026-11-23T00:35:16Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn human() {
        assert_eq!(human_secs(42.0), "42s");
        assert_eq!(human_secs(3661.0), "1h 1m");
        assert_eq!(human_secs(2.0 * 86400.0 + 7200.0), "2d 2h");
    }
}
