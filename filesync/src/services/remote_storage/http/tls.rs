//! TLS for [`HttpRemote`](super::HttpRemote): rustls with the aws-lc-rs provider (or the
//! process's default provider when the program installed one), the platform's trust store plus
//! [`HttpRemoteOptions::extra_roots`](super::HttpRemoteOptions::extra_roots), and what a failed
//! handshake means.
//!
//! The trust store is read when a client is made (on Linux from the files of the
//! `ca-certificates` package, or `SSL_CERT_FILE` / `SSL_CERT_DIR`; on macOS and Windows the
//! system verifies). A machine without any root certificate still gets a client: `http://` works
//! and every `https://` call fails, saying so.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use super::config_error;
use crate::services::remote_storage::RemoteResult;

/// A certificate trusted as a root in addition to the platform's, e.g. the private certificate
/// authority of a self-hosted server (see
/// [`HttpRemoteOptions::extra_roots`](super::HttpRemoteOptions::extra_roots)).
#[derive(Clone, PartialEq, Eq)]
pub struct RootCertificate(CertificateDer<'static>);

impl RootCertificate {
    /// Every certificate of a PEM text (the `-----BEGIN CERTIFICATE-----` blocks of a `.pem` or
    /// `.crt` file; other blocks, such as keys, are skipped). Fails (`Rejected`) when a block
    /// cannot be read or there is none.
    pub fn from_pem(pem: &[u8]) -> RemoteResult<Vec<RootCertificate>> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .map(|cert| cert.map(RootCertificate))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| config_error(format!("cannot read the PEM certificates: {err}")))?;
        if certs.is_empty() {
            return Err(config_error(
                "the PEM text holds no CERTIFICATE block (for a binary .der/.cer file use RootCertificate::from_der)",
            ));
        }
        Ok(certs)
    }

    /// One certificate in DER (binary) form; checked when the client is made.
    pub fn from_der(der: impl Into<Vec<u8>>) -> RootCertificate {
        RootCertificate(CertificateDer::from(der.into()))
    }
}

impl std::fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootCertificate({} bytes of DER)", self.0.len())
    }
}

/// The rustls configuration of a client trusting the platform's roots and `extra`. Fails
/// (`Rejected`) when one of `extra` is not a usable certificate.
pub(super) fn client_config(extra: &[RootCertificate]) -> RemoteResult<rustls::ClientConfig> {
    for (i, cert) in extra.iter().enumerate() {
        rustls::RootCertStore::empty()
            .add(cert.0.clone())
            .map_err(|err| {
                config_error(format!(
                    "HttpRemoteOptions::extra_roots[{i}] is not a usable root certificate: {err}"
                ))
            })?;
    }
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let roots = extra.iter().map(|cert| cert.0.clone());
    let verifier: Arc<dyn ServerCertVerifier> =
        match rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone()) {
            Ok(verifier) => Arc::new(verifier),
            // Only when the platform has no root at all and `extra` is empty (the Linux verifier
            // refuses to start then): keep plain http working, refuse every certificate.
            Err(err) => Arc::new(NoRoots {
                provider: provider.clone(),
                why: err.to_string(),
            }),
        };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| config_error(format!("cannot set up TLS: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// The verifier of a machine without root certificates: every certificate is refused, saying why.
#[derive(Debug)]
struct NoRoots {
    provider: Arc<CryptoProvider>,
    /// Why the platform's verifier could not start.
    why: String,
}

/// The refusal of [`NoRoots`], recognized by [`explain`].
#[derive(Debug)]
struct NoRootsError(String);

impl std::fmt::Display for NoRootsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for NoRootsError {}

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refusal = NoRootsError(self.why.clone());
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(refusal)),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls error in the source chain of `err`, if any. rustls errors reach reqwest wrapped in
/// `io::Error`s (twice: tokio-rustls, then hyper-rustls), whose `source()` skips what they wrap, so
/// each `io::Error` of the chain is looked into as well.
pub(super) fn rustls_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    fn within<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)?;
        within(inner)
    }
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(tls) = within(err) {
            return Some(tls);
        }
        next = err.source();
    }
    None
}

/// What a failed handshake means, for messages: `what happened (rustls's words); what to do`.
pub(super) fn explain(err: &rustls::Error) -> String {
    const TRUST: &str = "if the server's certificate comes from a private certificate authority, add that authority to HttpRemoteOptions::extra_roots or to the system's trust store";
    let (what, hint) = match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => (
                "the server's certificate was refused: its issuer is unknown (not an authority this client trusts)",
                TRUST,
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
                "the server's certificate was refused: it is not valid for the host name of the URL",
                "use the host name the certificate was issued for (in the base URL, and in the server's public URL), or give the server a certificate for this name",
            ),
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => (
                "the server's certificate was refused: it is expired or not yet valid",
                "renew the server's certificate, and check this machine's clock",
            ),
            CertificateError::Other(OtherError(other)) => {
                if let Some(none) = other.downcast_ref::<NoRootsError>() {
                    return format!(
                        "the server's certificate was refused: no root certificate is trusted ({none}); install the ca-certificates package (or point SSL_CERT_FILE at a PEM bundle), or add the server's authority to HttpRemoteOptions::extra_roots"
                    );
                }
                ("the server's certificate was refused", TRUST)
            }
            _ => ("the server's certificate was refused", TRUST),
        },
        _ => (
            "the TLS handshake failed",
            "check that the server speaks https on this port (a plain http server answers an https URL like this)",
        ),
    };
    format!("{what} ({err}); {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `localhost`, as PEM.
    fn pem() -> String {
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .unwrap()
            .cert
            .pem()
    }

    #[test]
    fn pem_and_der_certificates_are_read() {
        let pem = pem();
        let one = RootCertificate::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(one.len(), 1);
        let der = one[0].0.to_vec();
        assert_eq!(RootCertificate::from_der(der.clone()), one[0]);
        assert_eq!(
            format!("{:?}", one[0]),
            format!("RootCertificate({} bytes of DER)", der.len())
        );
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let two = RootCertificate::from_pem(format!("{pem}{key}\n{pem}").as_bytes()).unwrap();
        assert_eq!(two, vec![one[0].clone(), one[0].clone()]);
        assert!(client_config(&two).is_ok());

        let none = RootCertificate::from_pem(&der).unwrap_err();
        assert!(none.message.contains("from_der"), "{}", none.message);
        let broken = pem.replacen("MII", "M!I", 1);
        let err = RootCertificate::from_pem(broken.as_bytes()).unwrap_err();
        assert!(err.message.contains("cannot read"), "{}", err.message);
    }

    #[test]
    fn unusable_roots_are_refused_when_the_client_is_made() {
        let good = RootCertificate::from_pem(pem().as_bytes())
            .unwrap()
            .remove(0);
        let err =
            client_config(&[good, RootCertificate::from_der(b"not DER".to_vec())]).unwrap_err();
        assert_eq!(
            err.kind,
            crate::services::remote_storage::RemoteErrorKind::Rejected
        );
        assert!(err.message.contains("extra_roots[1]"), "{}", err.message);
    }

    /// An error whose source is `inner`, as hyper's and reqwest's wrap what they got.
    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("error sending request")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn rustls_errors_are_found_inside_io_errors_and_explained() {
        let refused = rustls::Error::InvalidCertificate(CertificateError::Expired);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, refused.clone());
        let err = Wrapper(std::io::Error::other(io));
        assert_eq!(rustls_error(&err), Some(&refused));
        let text = explain(&refused);
        assert!(text.contains("expired or not yet valid"), "{text}");
        assert!(
            text.contains("(invalid peer certificate: Expired)"),
            "{text}"
        );

        let plain = Wrapper(std::io::Error::other("connection refused"));
        assert_eq!(rustls_error(&plain), None);
        let text = explain(&rustls::Error::DecryptError);
        assert!(text.starts_with("the TLS handshake failed"), "{text}");
    }
}
