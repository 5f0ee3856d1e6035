//! `s3-local`: a real S3 implementation on loopback for tests, benchmarks and demos.
//!
//! It serves [`s3s_fs`] (objects as files under a directory, SigV4 signatures and presigned URLs
//! checked, multipart uploads, `x-amz-checksum-sha256` on single PUTs enforced) through
//! [`s3s`], behind a CORS layer that answers browser preflights (the plain `s3s-fs` binary does
//! not). It listens on `127.0.0.1` only and stops when its [`S3Local`] is dropped.
//!
//! s3s-fs alone writes an object before it compares its `x-amz-checksum-sha256` and ignores the
//! checksums of parts; here both are checked as AWS S3 and Garage check them (a mismatch answers
//! `BadDigest` and stores nothing). What it still does not do, unlike AWS S3 or Garage: check the
//! ETags named in `CompleteMultipartUpload`, or answer ETags in `ListParts`. The extended tests
//! run against Garage as well.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let dir = std::env::temp_dir().join("s3-local-example");
//! let s3 = s3_local::S3Local::start(&dir, "files").await?;
//! println!("{} bucket {}", s3.endpoint(), s3.bucket());
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::error_handling::HandleError;
use axum::http::{header, HeaderName, Method, StatusCode};
use axum::Router;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

mod strict;

/// The region the server answers for (SigV4 signatures name it).
pub const REGION: &str = "us-east-1";

/// A running S3 server on `127.0.0.1`, with one bucket; it stops when dropped.
#[derive(Debug)]
pub struct S3Local {
    addr: SocketAddr,
    bucket: String,
    access_key_id: String,
    secret_access_key: String,
    root: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl S3Local {
    /// Starts a server keeping its objects under `root` (created if missing) with the bucket
    /// `bucket` (created if missing), on a free port, with fresh random credentials. Needs a tokio
    /// runtime.
    pub async fn start(root: &Path, bucket: &str) -> std::io::Result<S3Local> {
        Self::start_on(
            root,
            bucket,
            "127.0.0.1:0".parse().expect("a socket address"),
            None,
        )
        .await
    }

    /// As [`S3Local::start`], on `addr` (its IP must be a loopback one) and with the given
    /// credentials (`(access key id, secret access key)`) instead of random ones.
    pub async fn start_on(
        root: &Path,
        bucket: &str,
        addr: SocketAddr,
        credentials: Option<(String, String)>,
    ) -> std::io::Result<S3Local> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("s3-local listens on loopback addresses only, not {addr}"),
            ));
        }
        std::fs::create_dir_all(root.join(bucket))?;
        let (access_key_id, secret_access_key) = match credentials {
            Some(pair) => pair,
            None => (random_hex(10).to_uppercase(), random_hex(20)),
        };
        let fs = s3s_fs::FileSystem::new(root).map_err(|err| {
            std::io::Error::other(format!(
                "cannot open {} for s3s-fs: {err:?}",
                root.display()
            ))
        })?;
        let mut builder = s3s::service::S3ServiceBuilder::new(strict::Strict(fs));
        builder.set_auth(s3s::auth::SimpleAuth::from_single(
            access_key_id.clone(),
            secret_access_key.clone(),
        ));
        let service = HandleError::new(builder.build(), |err: s3s::HttpError| async move {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("s3s: {err:?}"))
        });
        let app = Router::new().fallback_service(service).layer(cors());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        Ok(S3Local {
            addr,
            bucket: bucket.to_owned(),
            access_key_id,
            secret_access_key,
            root: root.to_owned(),
            stop: Some(stop),
        })
    }

    /// The endpoint URL, `http://127.0.0.1:{port}` (path-style requests).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The access key id requests must be signed with.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key requests must be signed with.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// Where the object stored at `key` lives on disk.
    pub fn object_path(&self, key: &str) -> PathBuf {
        self.root.join(&self.bucket).join(key)
    }
}

impl Drop for S3Local {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What a browser app needs of a bucket: every origin, the methods of uploads and downloads, any
/// request header (the signed `x-amz-checksum-sha256`, `Range`), and the answer's headers a client
/// reads.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::ETAG,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            HeaderName::from_static("content-disposition"),
        ])
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the system's random number generator");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The variables that name an external S3 bucket for the tests (`scripts/garage run` writes them).
pub const ENV_ENDPOINT: &str = "FILESYNC_TEST_S3_ENDPOINT";
/// See [`ENV_ENDPOINT`].
pub const ENV_BUCKET: &str = "FILESYNC_TEST_S3_BUCKET";
/// See [`ENV_ENDPOINT`].
pub const ENV_ACCESS_KEY_ID: &str = "FILESYNC_TEST_S3_ACCESS_KEY_ID";
/// See [`ENV_ENDPOINT`].
pub const ENV_SECRET_ACCESS_KEY: &str = "FILESYNC_TEST_S3_SECRET_ACCESS_KEY";

/// A bucket of an S3 server that runs elsewhere (Garage in the extended command), path-style, in
/// region [`REGION`].
#[derive(Debug, Clone)]
pub struct External {
    /// The endpoint URL.
    pub endpoint: String,
    /// The bucket.
    pub bucket: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl External {
    /// The bucket the `FILESYNC_TEST_S3_*` variables name, when all four are set.
    pub fn from_env() -> Option<External> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(External {
            endpoint: var(ENV_ENDPOINT)?,
            bucket: var(ENV_BUCKET)?,
            access_key_id: var(ENV_ACCESS_KEY_ID)?,
            secret_access_key: var(ENV_SECRET_ACCESS_KEY)?,
        })
    }
}

/// The bucket a test uses: the external one the `FILESYNC_TEST_S3_*` variables name, or else a new
/// [`S3Local`].
#[derive(Debug)]
pub enum TestBucket {
    /// An [`S3Local`] this process runs.
    Local(S3Local),
    /// A bucket of a server that runs elsewhere.
    External(External),
}

impl TestBucket {
    /// The external bucket when the variables name one, else an [`S3Local`] over `root` with the
    /// bucket `bucket`.
    pub async fn start(root: &Path, bucket: &str) -> std::io::Result<TestBucket> {
        match External::from_env() {
            Some(external) => Ok(TestBucket::External(external)),
            None => Ok(TestBucket::Local(S3Local::start(root, bucket).await?)),
        }
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        match self {
            TestBucket::Local(s3) => s3.endpoint(),
            TestBucket::External(e) => e.endpoint.clone(),
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        match self {
            TestBucket::Local(s3) => s3.bucket(),
            TestBucket::External(e) => &e.bucket,
        }
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        match self {
            TestBucket::Local(s3) => s3.access_key_id(),
            TestBucket::External(e) => &e.access_key_id,
        }
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        match self {
            TestBucket::Local(s3) => s3.secret_access_key(),
            TestBucket::External(e) => &e.secret_access_key,
        }
    }

    /// What it is, for messages: `s3s-fs` or the external endpoint.
    pub fn describe(&self) -> String {
        match self {
            TestBucket::Local(_) => "s3s-fs (s3-local)".to_owned(),
            TestBucket::External(e) => format!("the S3 server at {}", e.endpoint),
        }
    }
}
