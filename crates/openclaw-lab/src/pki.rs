//! The lab's PKI, made with `openssl` (EC P-256): a root, an intermediate that step-ca signs
//! with, and leaf certificates. The first machine certificate of the gateway is minted here
//! straight from the intermediate (standing for cloud-init provisioning it); every later one
//! comes from step-ca's `/renew` endpoint.
//!
//! Keys are 0600 root; certificates 0644.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::cmd::run;
use crate::state::{mkdir, write_file};

pub struct Pki {
    pub dir: PathBuf,
}

/// A leaf certificate request.
pub struct Leaf<'a> {
    pub cn: &'a str,
    pub dns: &'a [&'a str],
    pub ips: &'a [String],
    pub server: bool,
    pub client: bool,
    pub lifetime: Duration,
}

impl<'a> Leaf<'a> {
    /// A TLS server certificate for the lab's week (longer than any lab run).
    pub fn server(cn: &'a str, dns: &'a [&'a str], ips: &'a [String]) -> Self {
        Leaf {
            cn,
            dns,
            ips,
            server: true,
            client: false,
            lifetime: Duration::from_secs(7 * 86400),
        }
    }
}

fn p(path: &Path) -> &str {
    path.to_str().expect("lab paths are UTF-8")
}

/// `YYMMDDHHMMSSZ` (UTCTime), what `openssl ca -startdate/-enddate` takes.
fn utctime(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        y % 100,
        m,
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

impl Pki {
    pub fn new(dir: PathBuf) -> Self {
        Pki { dir }
    }
    pub fn root_crt(&self) -> PathBuf {
        self.dir.join("root_ca.crt")
    }
    pub fn int_crt(&self) -> PathBuf {
        self.dir.join("intermediate_ca.crt")
    }
    pub fn int_key(&self) -> PathBuf {
        self.dir.join("intermediate_ca.key")
    }

    fn genkey(&self, out: &Path) -> Result<()> {
        let pem = run(
            "openssl",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ],
        )?;
        write_file(out, pem.as_bytes(), 0o600)
    }

    /// Root (10 years) and intermediate (1 year, pathlen 0), plus the `openssl ca` database.
    pub fn create(&self) -> Result<()> {
        mkdir(&self.dir, 0o755)?;
        let root_key = self.dir.join("root_ca.key");
        self.genkey(&root_key)?;
        run(
            "openssl",
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                p(&root_key),
                "-sha256",
                "-days",
                "3650",
                "-subj",
                "/O=openclaw-lab/CN=openclaw-lab Root CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                p(&self.root_crt()),
            ],
        )?;
        self.genkey(&self.int_key())?;
        let csr = self.dir.join("intermediate_ca.csr");
        run(
            "openssl",
            &[
                "req",
                "-new",
                "-key",
                p(&self.int_key()),
                "-subj",
                "/O=openclaw-lab/CN=openclaw-lab Intermediate CA",
                "-out",
                p(&csr),
            ],
        )?;
        let ext = self.dir.join("intermediate.ext");
        std::fs::write(
            &ext,
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
        )?;
        run(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                p(&csr),
                "-CA",
                p(&self.root_crt()),
                "-CAkey",
                p(&root_key),
                "-CAcreateserial",
                "-days",
                "365",
                "-sha256",
                "-extfile",
                p(&ext),
                "-out",
                p(&self.int_crt()),
            ],
        )?;
        // Database for `openssl ca`, which (unlike `x509 -req`) takes exact validity times.
        let db = self.dir.join("db");
        mkdir(&db.join("new"), 0o700)?;
        std::fs::write(db.join("index.txt"), "")?;
        std::fs::write(db.join("serial"), "1000\n")?;
        std::fs::write(
            self.dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = lab\n[lab]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}/new\nserial = {d}/serial\n\
                 default_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\n[any]\ncommonName = supplied\n",
                d = p(&db)
            ),
        )?;
        Ok(())
    }

    /// Issues a leaf from the intermediate. The certificate file holds leaf + intermediate
    /// (what clients must present for chain verification). Returns (cert, key) paths.
    pub fn issue(&self, leaf: &Leaf, cert: &Path, key: &Path) -> Result<()> {
        self.genkey(key)?;
        let tmp = tempdir_in(&self.dir)?;
        let csr = tmp.join("leaf.csr");
        run(
            "openssl",
            &[
                "req",
                "-new",
                "-key",
                p(key),
                "-subj",
                &format!("/CN={}", leaf.cn),
                "-out",
                p(&csr),
            ],
        )?;
        let mut ext = String::from("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        let mut eku = Vec::new();
        if leaf.server {
            eku.push("serverAuth");
        }
        if leaf.client {
            eku.push("clientAuth");
        }
        let _ = writeln!(ext, "extendedKeyUsage={}", eku.join(","));
        let mut sans: Vec<String> = leaf.dns.iter().map(|d| format!("DNS:{d}")).collect();
        sans.extend(leaf.ips.iter().map(|i| format!("IP:{i}")));
        if !sans.is_empty() {
            let _ = writeln!(ext, "subjectAltName={}", sans.join(","));
        }
        let extf = tmp.join("leaf.ext");
        std::fs::write(&extf, ext)?;
        let now = SystemTime::now();
        // Backdated a minute against clock skew between the lab's tools.
        let start = utctime(now - Duration::from_secs(60));
        let end = utctime(now + leaf.lifetime);
        let out = tmp.join("leaf.crt");
        run(
            "openssl",
            &[
                "ca",
                "-batch",
                "-notext",
                "-config",
                p(&self.dir.join("ca.cnf")),
                "-cert",
                p(&self.int_crt()),
                "-keyfile",
                p(&self.int_key()),
                "-in",
                p(&csr),
                "-out",
                p(&out),
                "-startdate",
                &start,
                "-enddate",
                &end,
                "-extfile",
                p(&extf),
            ],
        )
        .with_context(|| format!("issuing the certificate for {}", leaf.cn))?;
        let mut chain = std::fs::read_to_string(&out)?;
        chain.push_str(&std::fs::read_to_string(self.int_crt())?);
        write_file(cert, chain.as_bytes(), 0o644)?;
        let _ = std::fs::remove_dir_all(&tmp);
        Ok(())
    }
}

fn tempdir_in(dir: &Path) -> Result<PathBuf> {
    let t = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)?
            .as_nanos()
    ));
    mkdir(&t, 0o700)?;
    Ok(t)
}

/// Seconds of validity left on the first certificate in `cert` (negative when expired).
pub fn seconds_left(cert: &Path) -> Result<i64> {
    let out = run("openssl", &["x509", "-noout", "-enddate", "-in", p(cert)])?;
    let date = out
        .trim()
        .strip_prefix("notAfter=")
        .context("openssl -enddate output")?;
    let end = parse_openssl_date(date).with_context(|| format!("parsing `{date}`"))?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs() as i64;
    Ok(end - now)
}

/// `Nov 23 10:04:05 2026 GMT` to Unix seconds.
fn parse_openssl_date(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let name = it.next()?;
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == name)? as i64
        + 1;
    let day: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|x| x.parse::<i64>());
    let (h, mi, se) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    let y: i64 = it.next()?.parse().ok()?;
    // Days from civil.
    let (y2, m2) = if mon <= 2 {
        (y - 1, mon + 9)
    } else {
        (y, mon - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + h * 3600 + mi * 60 + se)
}

/// The serial number of the first certificate in `cert` (to tell renewals apart).
pub fn serial(cert: &Path) -> Result<String> {
    Ok(
        run("openssl", &["x509", "-noout", "-serial", "-in", p(cert)])?
            .trim()
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let u = utctime(t);
        assert_eq!(u, "261118110640Z");
        assert_eq!(
            parse_openssl_date("Nov 18 11:06:40 2026 GMT"),
            Some(1_795_000_000)
        );
    }

    #[test]
    fn issues_a_short_lived_client_and_server_cert() {
        let d = tempfile::tempdir().unwrap();
        let pki = Pki::new(d.path().join("pki"));
        pki.create().unwrap();
        let (c, k) = (d.path().join("m.crt"), d.path().join("m.key"));
        pki.issue(
            &Leaf {
                cn: "gw",
                dns: &["gw.test"],
                ips: &["10.0.0.1".into()],
                server: true,
                client: true,
                lifetime: Duration::from_secs(300),
            },
            &c,
            &k,
        )
        .unwrap();
        let left = seconds_left(&c).unwrap();
        assert!((250..=301).contains(&left), "{left}");
        let v = run(
            "openssl",
            &[
                "verify",
                "-CAfile",
                p(&pki.root_crt()),
                "-untrusted",
                p(&pki.int_crt()),
                p(&c),
            ],
        )
        .unwrap();
        assert!(v.contains("OK"));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
