//! `HttpRemote` over https against the real `filesync-server`, put behind TLS here (tokio-rustls and
//! hyper-util) on 127.0.0.1 with a certificate authority made by the test (rcgen). The server hands
//! out https signed URLs through its public base URL.

#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use filesync::hash_bytes;
use filesync::{
    HttpRemote, HttpRemoteOptions, RemoteError, RemoteErrorKind, RemoteStorage, RootCertificate,
    UploadRequest,
};
use filesync_server::{
    router, DiskStore, DiskStoreOptions, ServerConfig, TokenGrant, TokenTable, UrlSigner,
    MIN_PART_BYTES,
};
use fs_core::ByteStream;
use futures::StreamExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const TOKEN: &str = "tls-token";

/// A certificate authority of the test, and a server certificate it issued for `localhost`.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    /// The authority's certificate as PEM, as a user would put it in a file.
    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (host names or IP addresses) with its chain, and its key.
    fn server_cert(
        &self,
        names: &[&str],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "filesync test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone(), self.issuer.der().clone()], key)
    }
}

/// `filesync-server` behind TLS on 127.0.0.1, serving the certificate `ca` issued for `localhost`;
/// its signed URLs start with `https://localhost:{port}`. Stopped by [`TlsServer::stop`], or
/// aborted when dropped (and with the test's runtime in any case).
struct TlsServer {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

async fn start(ca: &Ca) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let signer = UrlSigner::new(*b"tls tests, a secret of 16+ bytes").unwrap();
    let mut options = DiskStoreOptions::new(dir.path(), signer);
    options.part_size = MIN_PART_BYTES;
    let store = DiskStore::open(options).await.unwrap();
    let tokens = TokenTable::new([TokenGrant {
        token: TOKEN.into(),
        prefixes: vec![],
    }])
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ServerConfig::new(tokens);
    // Without it the server would sign `http://` + Host URLs, which this TLS-only port cannot serve.
    config.public_base_url = Some(format!("https://localhost:{}", addr.port()));
    let app = router(config, store);

    let (chain, key) = ca.server_cert(&["localhost"]);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Dropped with this task: every connection ends with the server.
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let (acceptor, app) = (acceptor.clone(), app.clone());
                    connections.spawn(async move {
                        // A client that refuses the certificate ends the handshake here.
                        let Ok(stream) = acceptor.accept(tcp).await else { return };
                        let _ = auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    TlsServer {
        addr,
        _dir: dir,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TlsServer {
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A client of `https://{host}:{port}/api` trusting `roots` besides the platform's.
    fn remote(&self, host: &str, roots: Vec<RootCertificate>) -> HttpRemote {
        let mut options =
            HttpRemoteOptions::new(format!("https://{host}:{}/api", self.port())).with_token(TOKEN);
        options.extra_roots = roots;
        options.multipart_threshold = 64 * 1024;
        HttpRemote::new(options).unwrap()
    }

    /// Stops accepting, ends every connection and returns once the port is closed.
    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn key_of(bytes: &[u8]) -> String {
    format!("store/{}", hash_bytes(bytes).to_hex())
}

/// An upload of `bytes` under their key, in 16 KiB chunks from any offset.
fn upload_of(bytes: &Bytes) -> UploadRequest {
    let source = bytes.clone();
    UploadRequest {
        key: key_of(bytes),
        size: bytes.len() as u64,
        content_type: Some("application/octet-stream".into()),
        open: Arc::new(move |offset| {
            let rest = source.slice(usize::try_from(offset).unwrap()..);
            let chunks: Vec<_> = rest
                .chunks(16 * 1024)
                .map(|c| Ok(rest.slice_ref(c)))
                .collect();
            Box::pin(async move { Ok(Box::pin(futures::stream::iter(chunks)) as ByteStream) })
        }),
        progress: Arc::new(|_, _| {}),
        resume: None,
        on_resume: Arc::new(|_| {}),
    }
}

async fn download(remote: &HttpRemote, key: &str) -> Vec<u8> {
    let mut body = remote.download(key, 0).await.unwrap().body.into_bytes();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    bytes
}

fn assert_refused(err: &RemoteError, parts: &[&str]) {
    assert_eq!(err.kind, RemoteErrorKind::Rejected, "{err}");
    for part in parts {
        assert!(err.message.contains(part), "no {part:?} in: {err}");
    }
}

#[tokio::test]
async fn uploads_and_downloads_round_trip_over_https_with_the_ca_trusted() {
    let ca = Ca::new("filesync test CA");
    let server = start(&ca).await;
    let roots = RootCertificate::from_pem(ca.pem().as_bytes()).unwrap();
    let remote = server.remote("localhost", roots);
    remote.health().await.unwrap();

    // One PUT (below the threshold), then the resumable protocol (two parts).
    for (len, seed) in [(40 * 1024, 1), (MIN_PART_BYTES as usize + 1000, 2)] {
        let bytes = support::data(len, seed);
        remote.upload(upload_of(&bytes)).await.unwrap();
        assert_eq!(download(&remote, &key_of(&bytes)).await, bytes);
    }
    let signed = remote
        .download_url(&key_of(&support::data(40 * 1024, 1)))
        .await
        .unwrap();
    assert!(
        signed
            .url
            .starts_with(&format!("https://localhost:{}/", server.port())),
        "{}",
        signed.url
    );

    let addr = server.addr;
    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the server still accepts connections"
    );
}

#[tokio::test]
async fn a_certificate_of_an_untrusted_authority_is_refused_naming_the_cause() {
    let ca = Ca::new("filesync test CA");
    let server = start(&ca).await;
    // Neither the platform's roots nor another authority know the server's issuer.
    let other = Ca::new("another CA");
    let other_der = RootCertificate::from_der(other.issuer.der().to_vec());
    for roots in [vec![], vec![other_der]] {
        let remote = server.remote("localhost", roots);
        let expected = [
            "GET https://localhost:",
            "its issuer is unknown",
            "HttpRemoteOptions::extra_roots",
            "invalid peer certificate: UnknownIssuer",
        ];
        assert_refused(&remote.health().await.unwrap_err(), &expected);
        let bytes = support::data(1000, 3);
        let err = remote.upload(upload_of(&bytes)).await.unwrap_err();
        assert_refused(&err, &["POST https://localhost:", "its issuer is unknown"]);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_certificate_for_another_host_name_is_refused() {
    let ca = Ca::new("filesync test CA");
    let server = start(&ca).await;
    let roots = RootCertificate::from_pem(ca.pem().as_bytes()).unwrap();
    // The certificate names `localhost`, not the address.
    let remote = server.remote("127.0.0.1", roots);
    let err = remote.health().await.unwrap_err();
    assert_refused(
        &err,
        &[
            "not valid for the host name",
            "certificate not valid for name \"127.0.0.1\"",
        ],
    );
    server.stop().await;
}

#[tokio::test]
async fn https_to_a_plain_http_server_fails_the_handshake() {
    // Answers whatever comes in as plain HTTP would (a 400), then closes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plain = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
        }
    });
    let remote = HttpRemote::new(HttpRemoteOptions::new(format!("https://{addr}/api"))).unwrap();
    let err = remote.health().await.unwrap_err();
    assert_refused(&err, &["the TLS handshake failed", "speaks https"]);
    plain.abort();
}

/// Runs [`child_without_system_roots`] in a new process of this test binary that sees no root
/// certificate on the system (`SSL_CERT_FILE` / `SSL_CERT_DIR` point at empty places; they
/// steer the trust store on Linux only).
#[cfg(target_os = "linux")]
#[test]
fn a_machine_without_root_certificates_still_makes_clients() {
    let empty = tempfile::tempdir().unwrap();
    let file = empty.path().join("none.pem");
    std::fs::write(&file, "").unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_without_system_roots",
            "--ignored",
            "--nocapture",
        ])
        .env("FILESYNC_TLS_TEST_CHILD", "1")
        .env("SSL_CERT_FILE", &file)
        .env("SSL_CERT_DIR", empty.path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(text.contains("child: checked"), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

/// The part of [`a_machine_without_root_certificates_still_makes_clients`] that runs in the
/// child (ignored otherwise; does nothing outside the child).
#[cfg(target_os = "linux")]
#[tokio::test]
#[ignore = "run by a_machine_without_root_certificates_still_makes_clients in a child process"]
async fn child_without_system_roots() {
    if std::env::var_os("FILESYNC_TLS_TEST_CHILD").is_none() {
        return;
    }
    let ca = Ca::new("filesync test CA");
    let server = start(&ca).await;
    // Made without complaint; every certificate is refused, saying why.
    let remote = server.remote("localhost", vec![]);
    assert_refused(
        &remote.health().await.unwrap_err(),
        &[
            "no root certificate is trusted",
            "No CA certificates were loaded from the system",
            "ca-certificates",
            "extra_roots",
        ],
    );
    // The extra roots alone are enough.
    let roots = RootCertificate::from_pem(ca.pem().as_bytes()).unwrap();
    server.remote("localhost", roots).health().await.unwrap();
    server.stop().await;
    println!("child: checked");
}
