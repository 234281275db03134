//! Certificate validity: parse (PEM or DER), days left, verdict against thresholds.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::report::Status;
use crate::time::{human_secs, rfc3339, Threshold};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub not_before: i64,
    pub not_after: i64,
    pub subject: String,
    pub issuer: String,
}

pub fn parse_der(der: &[u8]) -> Result<CertInfo, String> {
    let (_, c) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let v = c.validity();
    Ok(CertInfo {
        not_before: v.not_before.timestamp(),
        not_after: v.not_after.timestamp(),
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
    })
}

/// The first certificate of a PEM file (the leaf of a chain file) or a DER file.
pub fn read_cert_file(path: &Path) -> Result<CertInfo, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > 1 << 20 {
        return Err("larger than 1 MiB: not a certificate file".into());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let der = CertificateDer::pem_slice_iter(&bytes)
            .next()
            .ok_or("no CERTIFICATE block in the PEM file")?
            .map_err(|e| format!("bad PEM: {e:?}"))?;
        parse_der(der.as_ref())
    } else {
        parse_der(&bytes)
    }
}

/// Status, message and days left of `info` at `now` (Unix seconds).
pub fn evaluate(
    info: &CertInfo,
    now: f64,
    warn: Threshold,
    crit: Threshold,
) -> (Status, String, f64) {
    let left = info.not_after as f64 - now;
    let days = left / 86400.0;
    let lifetime = (info.not_after - info.not_before) as f64;
    let until = format!("notAfter {}", rfc3339(info.not_after));
    if now < info.not_before as f64 {
        return (
            Status::Critical,
            format!(
                "not valid before {} (clock skew?), {until}",
                rfc3339(info.not_before)
            ),
            days,
        );
    }
    if left <= 0.0 {
        return (
            Status::Critical,
            format!("EXPIRED {} ago ({until})", human_secs(left)),
            days,
        );
    }
    let crit_s = crit.seconds(lifetime);
    let warn_s = warn.seconds(lifetime);
    let base = format!("{} left ({days:.2} days, {until}", human_secs(left));
    if left < crit_s {
        (
            Status::Critical,
            format!("{base}; critical below {crit})"),
            days,
        )
    } else if left < warn_s {
        (
            Status::Warning,
            format!("{base}; warning below {warn}: renewal overdue?)"),
            days,
        )
    } else {
        (Status::Ok, format!("{base})"), days)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn info(nb: i64, na: i64) -> CertInfo {
        CertInfo {
            not_before: nb,
            not_after: na,
            subject: "CN=x".into(),
            issuer: "CN=ca".into(),
        }
    }

    #[test]
    fn verdicts() {
        let day = 86400;
        let pct = |p| Threshold::Percent(p);
        // 90-day certificate, 60 days left: fine; 20 left: warning; 5 left: critical.
        let c = info(0, 90 * day);
        assert_eq!(
            evaluate(&c, (30 * day) as f64, pct(33.0), pct(10.0)).0,
            Status::Ok
        );
        assert_eq!(
            evaluate(&c, (70 * day) as f64, pct(33.0), pct(10.0)).0,
            Status::Warning
        );
        let (s, msg, d) = evaluate(&c, (85 * day) as f64, pct(33.0), pct(10.0));
        assert_eq!(s, Status::Critical);
        assert!(
            (d - 5.0).abs() < 1e-9 && msg.contains("5d 0h left"),
            "{msg}"
        );
        // 24 h step-ca machine certificate, 12 h left: fine with the same shares.
        let m = info(0, day);
        assert_eq!(
            evaluate(&m, (12 * 3600) as f64, pct(33.0), pct(10.0)).0,
            Status::Ok
        );
        // Absolute thresholds.
        let abs = |s| Threshold::Left(Duration::from_secs(s));
        assert_eq!(
            evaluate(&m, (12 * 3600) as f64, abs(14 * day as u64), abs(3600)).0,
            Status::Warning
        );
        // Expired and not yet valid.
        let (s, msg, d) = evaluate(&m, (day + 7200) as f64, pct(33.0), pct(10.0));
        assert!(
            s == Status::Critical && msg.starts_with("EXPIRED 2h 0m ago") && d < 0.0,
            "{msg}"
        );
        assert_eq!(
            evaluate(&info(1000, 2000), 10.0, pct(33.0), pct(10.0)).0,
            Status::Critical
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_der(b"not a cert").is_err());
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.pem");
        std::fs::write(
            &p,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        assert!(read_cert_file(&p).unwrap_err().contains("no CERTIFICATE"));
        assert!(read_cert_file(&d.path().join("missing")).is_err());
    }
}
