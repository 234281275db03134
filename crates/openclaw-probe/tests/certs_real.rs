//! Certificates and secret files: a private CA and certificates made by the real `openssl`,
//! served by a real `openssl s_server`; the exposition text checked by the real `promtool`.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// A private CA (like step-ca's root), a 2-day server certificate for localhost/127.0.0.1,
/// and one that expired in 2020 (signed with `openssl ca`, which accepts explicit dates).
fn make_pki(d: &Path) {
    let ext = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    std::fs::write(d.join("san.ext"), ext).unwrap();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=Probe Test Root CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.ext",
            "-out",
            "srv.pem",
        ],
    );
    openssl(
        d,
        &[
            "x509", "-in", "srv.pem", "-outform", "DER", "-out", "srv.der",
        ],
    );
    // Trusted, valid, but for another name.
    std::fs::write(d.join("other.ext"), "subjectAltName=DNS:other.example\n").unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "other.ext",
            "-out",
            "other.pem",
        ],
    );
    // Leaf first, then the CA: a chain file (the probe reads the first certificate).
    let chain = std::fs::read_to_string(d.join("srv.pem")).unwrap()
        + &std::fs::read_to_string(d.join("ca.pem")).unwrap();
    std::fs::write(d.join("chain.pem"), chain).unwrap();
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\n\
         default_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("serial"), "1000\n").unwrap();
    openssl(
        d,
        &[
            "req",
            "-new",
            "-key",
            "srv.key",
            "-out",
            "old.csr",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
    );
    openssl(
        d,
        &[
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-cert",
            "ca.pem",
            "-keyfile",
            "ca.key",
            "-in",
            "old.csr",
            "-out",
            "expired.pem",
            "-notext",
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ],
    );
}

struct TlsServer {
    child: Child,
    port: u16,
}

impl TlsServer {
    fn start(d: &Path, cert: &str) -> TlsServer {
        let port = free_port();
        let child = Command::new(openssl_bin())
            .current_dir(d)
            .args([
                "s_server",
                "-quiet",
                "-www",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                cert,
                "-key",
                "srv.key",
            ])
            .stdin(Stdio::piped()) // s_server exits on stdin EOF otherwise
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_for(
            "openssl s_server",
            Duration::from_secs(10),
            Duration::from_millis(50),
            || std::net::TcpStream::connect(("127.0.0.1", port)).ok(),
        );
        TlsServer { child, port }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn days_left(r: &serde_json::Value, name: &str) -> f64 {
    check(r, name)["days_left"].as_f64().unwrap()
}

#[test]
fn served_and_file_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_pki(d);
    let ca = d.join("ca.pem");
    let ca = ca.to_str().unwrap();

    let good = TlsServer::start(d, "srv.pem");
    let url = format!("https://localhost:{}", good.port);
    let (code, out, err) = probe(&["--no-gateway", "--tls-url", &url, "--ca-file", ca, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = json(&out);
    let c = check(&r, "tls_cert");
    assert_eq!(c["status"], "ok", "{out}");
    assert!(
        c["detail"].as_str().unwrap().starts_with("verified;"),
        "{out}"
    );
    let left = days_left(&r, "tls_cert");
    assert!((1.9..=2.01).contains(&left), "{left}");
    assert_eq!(c["subject"], format!("localhost:{}", good.port));
    // By IP (IP SAN) too.
    let (code, out, _) = probe(&[
        "--no-gateway",
        "--tls-url",
        &format!("https://127.0.0.1:{}", good.port),
        "--ca-file",
        ca,
    ]);
    assert_eq!(code, 0, "{out}");
    // An absolute threshold above the 2 days left: warning.
    let (code, out, _) = probe(&[
        "--no-gateway",
        "--tls-url",
        &url,
        "--ca-file",
        ca,
        "--cert-warn",
        "7d",
        "--cert-crit",
        "1h",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("WARNING"), "{out}");
    let (code, _, _) = probe(&[
        "--no-gateway",
        "--tls-url",
        &url,
        "--ca-file",
        ca,
        "--cert-warn",
        "7d",
        "--cert-crit",
        "3d",
    ]);
    assert_eq!(code, 2);
    // Not signed by a trusted CA (system bundle only): critical, dates still reported.
    let (code, out, _) = probe_env(
        &["--no-gateway", "--tls-url", &url, "--json"],
        &[("SSL_CERT_FILE", "/nonexistent")],
    );
    assert_eq!(code, 2, "{out}");
    let r = json(&out);
    assert!(
        check(&r, "tls_cert")["detail"]
            .as_str()
            .unwrap()
            .contains("NOT TRUSTED"),
        "{out}"
    );
    assert!(days_left(&r, "tls_cert") > 1.9);
    drop(good);

    let other = TlsServer::start(d, "other.pem");
    let url = format!("https://localhost:{}", other.port);
    let (code, out, _) = probe(&["--no-gateway", "--tls-url", &url, "--ca-file", ca]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("NOT TRUSTED") && out.contains("not valid for name"),
        "{out}"
    );
    drop(other);

    let expired = TlsServer::start(d, "expired.pem");
    let url = format!("https://localhost:{}", expired.port);
    let (code, out, _) = probe(&["--no-gateway", "--tls-url", &url, "--ca-file", ca, "--json"]);
    assert_eq!(code, 2, "{out}");
    let r = json(&out);
    assert!(
        check(&r, "tls_cert")["detail"]
            .as_str()
            .unwrap()
            .contains("EXPIRED"),
        "{out}"
    );
    assert!(days_left(&r, "tls_cert") < -365.0);
    drop(expired);

    // Nothing listening: critical, fast.
    let t = std::time::Instant::now();
    let (code, out, _) = probe(&[
        "--no-gateway",
        "--tls-url",
        &format!("https://127.0.0.1:{}", free_port()),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("connection refused"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(1));

    // Certificate files: PEM, DER, a chain (leaf first), an expired one, garbage.
    for (f, want) in [
        ("srv.pem", 0),
        ("srv.der", 0),
        ("chain.pem", 0),
        ("expired.pem", 2),
        ("srv.key", 2),
        ("missing.pem", 2),
    ] {
        let p = d.join(f);
        let (code, out, _) = probe(&["--no-gateway", "--cert-file", p.to_str().unwrap(), "--json"]);
        assert_eq!(code, want, "{f}: {out}");
        if want == 0 {
            let left = days_left(&json(&out), "cert_file");
            assert!((1.9..=2.01).contains(&left), "{f}: {left}");
        }
    }

    // Prometheus text for both kinds, valid for promtool.
    let (code, prom, _) = probe(&[
        "--no-gateway",
        "--cert-file",
        d.join("srv.pem").to_str().unwrap(),
        "--prometheus",
    ]);
    assert_eq!(code, 0);
    promtool_check(&prom);
    assert!(
        prom.contains("openclaw_probe_cert_days_left{check=\"cert_file\",subject=\""),
        "{prom}"
    );
    assert!(
        prom.contains("openclaw_probe_cert_not_after_timestamp_seconds{check=\"cert_file\""),
        "{prom}"
    );
}

#[test]
fn secret_file_ages() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("gateway-token");
    let old = dir.path().join("model-api-key");
    write_private(&fresh, "x");
    write_private(&old, "y");
    let f = std::fs::File::options().write(true).open(&old).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(3 * 3600))
        .unwrap();
    let (fs, os) = (fresh.to_str().unwrap(), old.to_str().unwrap());

    let (code, out, _) = probe(&[
        "--no-gateway",
        "--secret-file",
        fs,
        "--secret-file",
        os,
        "--json",
    ]);
    assert_eq!(
        code, 0,
        "ages are reported, not judged, without --max-secret-age: {out}"
    );
    let (code, out, _) = probe(&[
        "--no-gateway",
        "--secret-file",
        fs,
        "--secret-file",
        os,
        "--max-secret-age",
        "1h",
        "--json",
    ]);
    assert_eq!(code, 1, "{out}");
    let r = json(&out);
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["status"], "ok");
    assert_eq!(checks[1]["status"], "warning");
    assert!(checks[1]["age_seconds"].as_f64().unwrap() >= 3.0 * 3600.0 - 5.0);
    let missing = dir.path().join("never-rendered");
    let (code, _, _) = probe(&[
        "--no-gateway",
        "--secret-file",
        fs,
        "--secret-file",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);

    // node_exporter textfile: atomic, 0644, valid; the secrets' contents are never read.
    let tf = dir.path().join("openclaw_probe.prom");
    let (code, out, _) = probe(&[
        "--no-gateway",
        "--secret-file",
        fs,
        "--secret-file",
        os,
        "--max-secret-age",
        "1h",
        "--quiet",
        "--textfile",
        tf.to_str().unwrap(),
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    let text = std::fs::read_to_string(&tf).unwrap();
    promtool_check(&text);
    assert!(
        text.contains(&format!(
            "openclaw_probe_secret_age_seconds{{path=\"{os}\"}}"
        )),
        "{text}"
    );
    assert!(text.contains("openclaw_probe_status 1\n"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&tf).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // An unwritable textfile location is a probe failure (3), not a silent stale file.
    let (code, _, err) = probe(&[
        "--no-gateway",
        "--secret-file",
        fs,
        "--textfile",
        "/nonexistent-dir/x.prom",
    ]);
    assert_eq!(code, 3, "{err}");
}
