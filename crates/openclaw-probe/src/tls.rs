//! The certificate a TLS endpoint (the reverse proxy) serves: one handshake, no request.
//!
//! The verifier records the leaf and whether it verifies against the trust anchors, then
//! lets the handshake finish either way, so an expired or untrusted certificate is still
//! reported with its dates. Nothing is sent over the connection, so accepting it is safe.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::http::{self, Deadline, NetError};
use crate::target::TlsTarget;

/// System bundles, in the order distributions place them (NixOS and Debian share the first).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// Trust anchors: `--ca-file` (a private CA such as step-ca's root), else `SSL_CERT_FILE`,
/// else the system bundle. The second value says why verification cannot succeed, if so.
pub fn load_roots(ca_file: Option<&Path>) -> (RootCertStore, Option<String>) {
    let mut roots = RootCertStore::empty();
    let path = match ca_file {
        Some(p) => p.to_path_buf(),
        None => {
            let env = std::env::var_os("SSL_CERT_FILE").map(std::path::PathBuf::from);
            match env
                .into_iter()
                .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => {
                    return (
                        roots,
                        Some("no system CA bundle found (pass --ca-file)".into()),
                    )
                }
            }
        }
    };
    let certs = match CertificateDer::pem_file_iter(&path) {
        Ok(it) => it.filter_map(Result::ok).collect::<Vec<_>>(),
        Err(e) => return (roots, Some(format!("CA file {}: {e:?}", path.display()))),
    };
    let (added, _ignored) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return (
            roots,
            Some(format!("CA file {}: no usable certificate", path.display())),
        );
    }
    (roots, None)
}

#[derive(Debug, Clone)]
pub struct Served {
    /// DER of the leaf, if the server got as far as sending it.
    pub leaf: Option<Vec<u8>>,
    /// Why the chain does not verify for this host name, if it does not.
    pub verify_error: Option<String>,
    /// Why the handshake did not complete, if it did not.
    pub handshake_error: Option<String>,
}

#[derive(Debug)]
struct Recorder {
    inner: Option<Arc<WebPkiServerVerifier>>,
    no_roots: Option<String>,
    algs: WebPkiSupportedAlgorithms,
    seen: Mutex<Option<(Vec<u8>, Option<String>)>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = match &self.inner {
            Some(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                .err()
                .map(|e| e.to_string()),
            None => Some(
                self.no_roots
                    .clone()
                    .unwrap_or_else(|| "no trust anchors".into()),
            ),
        };
        if let Ok(mut s) = self.seen.lock() {
            *s = Some((end_entity.to_vec(), verdict));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

pub fn served_cert(
    target: &TlsTarget,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<Served, NetError> {
    let deadline = Deadline::after(timeout);
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let (roots, mut no_roots) = load_roots(ca_file);
    let inner = if roots.is_empty() {
        None
    } else {
        match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()
        {
            Ok(v) => Some(v),
            Err(e) => {
                no_roots = Some(format!("trust anchors: {e}"));
                None
            }
        }
    };
    let rec = Arc::new(Recorder {
        inner,
        no_roots,
        algs: provider.signature_verification_algorithms,
        seen: Mutex::new(None),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Other(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(rec.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(target.host.clone())
        .map_err(|e| NetError::Other(format!("TLS server name {}: {e}", target.host)))?;
    let mut conn = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| NetError::Other(format!("TLS setup: {e}")))?;
    let mut sock = http::connect(&target.host, target.port, deadline)?;
    let mut handshake_error = None;
    while conn.is_handshaking() {
        let step = "in the TLS handshake";
        let left = match deadline.left(step) {
            Ok(l) => l,
            Err(e) => {
                handshake_error = Some(e.to_string());
                break;
            }
        };
        let _ = sock.set_read_timeout(Some(left));
        let _ = sock.set_write_timeout(Some(left));
        if let Err(e) = conn.complete_io(&mut sock) {
            handshake_error = Some(match NetError::from_io(&e, step) {
                NetError::Other(_) => format!("TLS handshake: {e}"),
                n => n.to_string(),
            });
            break;
        }
    }
    if handshake_error.is_none() {
        conn.send_close_notify();
        let _ = conn.write_tls(&mut sock);
    }
    let seen = rec.seen.lock().ok().and_then(|mut s| s.take());
    let (leaf, verify_error) = match seen {
        Some((l, v)) => (Some(l), v),
        None => (None, None),
    };
    tracing::debug!(target = %target, got_leaf = leaf.is_some(), verified = verify_error.is_none(), "tls");
    Ok(Served {
        leaf,
        verify_error,
        handshake_error,
    })
}
