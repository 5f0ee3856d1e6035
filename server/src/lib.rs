//! `filesync-server`: the livestore-filesync server as an axum library.
//!
//! It implements the remote protocol of livestore-filesync (compatible with the TypeScript package
//! `@livestore-filesync/core`): a **signer API** that hands out short-lived signed URLs, and, for blobs
//! stored on the local disk ([`DiskStore`]), the **blob routes** those URLs point at.
//!
//! | request | answer |
//! |---|---|
//! | `GET {api}/health` | 200 `{"status":"ok"}` when the storage is reachable (no token needed) |
//! | `GET {api}/ready` | 200 `{"status":"ready"}` when the storage takes writes (disk: a probe file written and removed; S3: the bucket answers), else 503 with the reason (no token needed) |
//! | `GET /metrics` | Prometheus metrics: requests by route, method and status, latency, errors, bytes, uploads in flight, storage readiness ([`ServerConfig::metrics_path`]) |
//! | `POST {api}/v1/sign/upload` `{key, contentType?, contentLength?, skipIfStored?}` | `{method:"PUT", url, headers?, expiresAt}`, or `{alreadyStored: true}` |
//! | `POST {api}/v1/sign/download` `{key}` | `{url, headers?, expiresAt}` |
//! | `POST {api}/v1/delete` `{key}` | 204 (also when nothing was there) |
//! | `PUT\|GET\|HEAD {files}/{key}?exp=<unix>&sig=<b64url>` | the blob (GET supports one `Range`) |
//! | `POST {api}/v1/multipart/create` `{key, contentType?, contentLength, skipIfStored?}` | `{uploadId, partSize, expiresAt, partChecksum?}`, or `{alreadyStored: true}` |
//! | `POST {api}/v1/multipart/sign-part` `{key, uploadId, partNumber, checksumSha256?}` | `{method:"PUT", url, headers?, expiresAt}` |
//! | `POST {api}/v1/multipart/list` `{key, uploadId}` | `{parts:[{partNumber, size, etag}]}` |
//! | `POST {api}/v1/multipart/complete` `{key, uploadId, parts:[{partNumber, etag}]}` | 204 |
//! | `POST {api}/v1/multipart/abort` `{key, uploadId}` | 204 |
//! | `PUT {files}-parts/{uploadId}/{partNumber}?exp=<unix>&sig=<b64url>` | 200, `ETag: "<sha256>"` |
//!
//! Signer calls need `Authorization: Bearer <token>` (401 without a known token, 403 for a key outside
//! the token's prefixes). `expiresAt` is ISO-8601 UTC. Errors are JSON `{"error": "..."}`. Signed URLs
//! are absolute: built from [`ServerConfig::public_base_url`] when set, otherwise from `http://` + the
//! request's `Host` header (set a public base URL behind a proxy or for HTTPS). Blob signatures are
//! `base64url_nopad(HMAC-SHA256(secret, "{METHOD}\n{key}\n{exp}"))`; HEAD accepts a HEAD or a GET
//! signature. Uploads to a content-addressed key (last segment = 64 lowercase hex) must hash to it
//! (422 otherwise); nothing is stored on any failure. A PUT to a content-addressed key already
//! stored (of the declared length) is answered 200 without hashing or writing its body: the blob
//! is not rewritten. An upload that sends nothing for [`ServerConfig::body_idle_timeout`] is cut off
//! with 408.
//!
//! **Resumable uploads** ([`MultipartStore`]; the disk store implements them, other stores may not:
//! 501) split a blob into parts of `partSize` bytes (8 MiB by default, at least 5 MiB; only the last
//! part may be smaller), numbered 1..=10000. Each part goes to its own signed URL, whose signature
//! (`base64url_nopad(HMAC-SHA256(secret, "PUT-PART\n{uploadId}\n{partNumber}\n{exp}\n{key}"))`) binds
//! the key, the upload and the part number. A part must be exactly its size (the part size, the
//! last one what is left: 400 or 413 otherwise, nothing stored), and one request at a time may
//! send a part (409); its answer's `ETag` is a quoted tag that names this write of the part. A
//! client that lost track calls `list`, uploads what is missing and calls `complete`, which checks
//! the listed parts (every part, ascending, their ETags: 400 otherwise) and, for a
//! content-addressed key, the whole object's hash (422, and the parts are dropped: start a new
//! upload); the blob appears only then. A content-addressed key already stored completes without
//! its parts being assembled (nothing is rewritten). An `uploadId`
//! belongs to the key it was created for (404 for any other key) and to nobody after `complete` or
//! `abort`; unfinished uploads are discarded after [`DiskStoreOptions::upload_max_age`] (24 h).
//!
//! **Skipping what is stored**: a client that sends `skipIfStored: true` to `sign/upload` or
//! `multipart/create` for a content-addressed key of `contentLength` bytes may get
//! `{"alreadyStored": true}` instead of a URL or an upload: the store holds those bytes (a blob of
//! that key and length, whose bytes were checked against the key when they were stored), so
//! nothing needs to be sent. Clients that do not send it (the TypeScript package) always get a URL.
//!
//! **Part checksums** (S3 mode, [`S3Store`]): when `create` answers `partChecksum: "SHA256"`, every
//! `sign-part` must carry the part's `checksumSha256`, the standard base64 of its 32-byte SHA-256
//! (400 without it), and the signed request's `headers` include `x-amz-checksum-sha256`: the bucket
//! refuses a part whose bytes differ. A client hashes each part before it sends it. Without
//! `partChecksum` (disk mode), the checksum may be sent and is ignored; 400 when it is not 32 bytes
//! of base64.
//!
//! Embedding: [`router`] returns a plain [`axum::Router`]; merge it into your app
//! (`app.merge(router)`), don't nest it (the bases in the config are the full paths).
//!
//! ```no_run
//! use filesync_server::{router, serve, DiskStore, DiskStoreOptions, ServerConfig, TokenGrant,
//!     TokenTable, UrlSigner};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = UrlSigner::new(*b"a secret of 16+ random bytes")?;
//! let store = DiskStore::open(DiskStoreOptions::new("./filesync-data", signer)).await?;
//! let tokens = TokenTable::new([TokenGrant { token: "dev".into(), prefixes: vec![] }])?;
//! let app = router(ServerConfig::new(tokens), store);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! serve(listener, app, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod api_error;
mod auth;
mod content_type;
mod disk;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod key;
mod metrics;
mod multipart;
mod range;
mod routes;
mod s3;
mod signature;
mod store;

use std::future::Future;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use api_error::ApiError;
pub use auth::{AuthError, TokenGrant, TokenTable};
pub use content_type::{is_active_content, validate_content_type, DEFAULT_CONTENT_TYPE};
pub use disk::{
    BlobInfo, DiskStore, DiskStoreOptions, StoredBlob, DEFAULT_FILES_BASE,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_UPLOAD_MAX_AGE, DEFAULT_URL_TTL, STALE_TEMP_AGE,
};
pub use key::{BlobKey, MAX_KEY_BYTES};
pub use multipart::{
    CompletedPart, MultipartIntent, MultipartStore, MultipartUpload, PartIntent, StoredPart,
    DEFAULT_PART_BYTES, MAX_PART_NUMBER, MIN_PART_BYTES,
};
pub use range::{parse_range, RangeRequest};
pub use s3::{S3Store, S3StoreOptions};
pub use signature::{SignatureError, UrlSigner, MIN_SECRET_BYTES};
pub use store::{
    BlobStore, BlobStream, ListedBlob, SignedRequest, StoreError, StoreErrorKind, UploadIntent,
};

/// The default path of the signer API.
pub const DEFAULT_API_BASE: &str = "/api";

/// Which origins browsers may call the server from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any origin (`Access-Control-Allow-Origin: *`; the API uses Bearer tokens, not cookies).
    #[default]
    Any,
    /// Only these origins (`https://app.example.com`).
    List(Vec<String>),
}

/// Settings of the signer API and the HTTP layer (the storage has its own, e.g. [`DiskStoreOptions`]).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The path of the signer API, without a trailing `/` (default `/api`).
    pub api_base: String,
    /// The URL clients reach this server at (`https://files.example.com`), used to build signed URLs;
    /// `None`: `http://` + the request's `Host` header.
    pub public_base_url: Option<String>,
    /// The accepted Bearer tokens and their key prefixes.
    pub tokens: TokenTable,
    /// CORS origins (default: any).
    pub cors_origins: CorsOrigins,
    /// An upload (a blob or a part) whose client sends no byte for this long is cut off with 408,
    /// and nothing is stored (default [`DEFAULT_BODY_IDLE_TIMEOUT`]).
    pub body_idle_timeout: std::time::Duration,
    /// Where Prometheus metrics are served, outside the API base (default `/metrics`; `None`: not
    /// served). They carry no token or key, only counts; keep them from the public anyway.
    pub metrics_path: Option<String>,
}

/// The default path of the Prometheus metrics.
pub const DEFAULT_METRICS_PATH: &str = "/metrics";

/// How long an upload may send nothing before it is cut off: 60 s.
pub const DEFAULT_BODY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl ServerConfig {
    /// The defaults with `tokens`.
    pub fn new(tokens: TokenTable) -> ServerConfig {
        ServerConfig {
            api_base: DEFAULT_API_BASE.to_owned(),
            public_base_url: None,
            tokens,
            cors_origins: CorsOrigins::Any,
            body_idle_timeout: DEFAULT_BODY_IDLE_TIMEOUT,
            metrics_path: Some(DEFAULT_METRICS_PATH.to_owned()),
        }
    }
}

/// The state of the signer routes.
pub(crate) struct AppState {
    config: ServerConfig,
    store: Arc<dyn BlobStore>,
    metrics: Arc<metrics::Metrics>,
}

impl AppState {
    fn authorize(&self, headers: &HeaderMap, key: Option<&BlobKey>) -> Result<(), ApiError> {
        self.config
            .tokens
            .authorize(routes::signer::authorization(headers), key)
            .map_err(ApiError::from)
    }

    /// The origin signed URLs start with.
    fn origin(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if let Some(base) = &self.config.public_base_url {
            return Ok(base.trim_end_matches('/').to_owned());
        }
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .ok_or_else(|| {
                ApiError::bad_request(
                    "the request has no usable Host header; send one or configure a public base URL",
                )
            })?;
        Ok(format!("http://{host}"))
    }
}

/// The signer API and the blob routes over a [`DiskStore`], with CORS and metrics.
pub fn router(config: ServerConfig, store: DiskStore) -> Router {
    let files = format!("{}/{{*key}}", store.files_base());
    let parts = format!("{}-parts/{{*part}}", store.files_base());
    let blobs = Router::new()
        .route(&files, any(routes::blobs::blob))
        .route(&parts, any(routes::multipart::put_part))
        .with_state(Arc::new(routes::blobs::BlobState {
            store: store.clone(),
            body_idle_timeout: config.body_idle_timeout,
        }));
    let cors = cors_layer(&config.cors_origins);
    let metrics = metrics::Metrics::new();
    let metrics_path = config.metrics_path.clone();
    finish(
        signer_routes(config, Arc::new(store), metrics.clone()).merge(blobs),
        cors,
        metrics,
        metrics_path,
    )
}

/// The signer API alone, over any [`BlobStore`] whose URLs point elsewhere (an [`S3Store`]'s
/// bucket), with CORS and metrics.
pub fn signer_router(config: ServerConfig, store: Arc<dyn BlobStore>) -> Router {
    let cors = cors_layer(&config.cors_origins);
    let metrics = metrics::Metrics::new();
    let metrics_path = config.metrics_path.clone();
    finish(
        signer_routes(config, store, metrics.clone()),
        cors,
        metrics,
        metrics_path,
    )
}

fn signer_routes(
    config: ServerConfig,
    store: Arc<dyn BlobStore>,
    metrics: Arc<metrics::Metrics>,
) -> Router {
    let base = config.api_base.trim_end_matches('/').to_owned();
    Router::new()
        .route(&format!("{base}/health"), get(routes::signer::health))
        .route(&format!("{base}/ready"), get(routes::signer::ready))
        .route(
            &format!("{base}/v1/sign/upload"),
            post(routes::signer::sign_upload),
        )
        .route(
            &format!("{base}/v1/sign/download"),
            post(routes::signer::sign_download),
        )
        .route(&format!("{base}/v1/delete"), post(routes::signer::delete))
        .route(
            &format!("{base}/v1/multipart/create"),
            post(routes::multipart::create),
        )
        .route(
            &format!("{base}/v1/multipart/sign-part"),
            post(routes::multipart::sign_part),
        )
        .route(
            &format!("{base}/v1/multipart/list"),
            post(routes::multipart::list),
        )
        .route(
            &format!("{base}/v1/multipart/complete"),
            post(routes::multipart::complete),
        )
        .route(
            &format!("{base}/v1/multipart/abort"),
            post(routes::multipart::abort),
        )
        .with_state(Arc::new(AppState {
            config,
            store,
            metrics,
        }))
}

/// Metrics on every route (and at `metrics_path`), JSON answers for unknown routes and methods,
/// and CORS on every response.
fn finish(
    routes: Router,
    cors: CorsLayer,
    metrics: Arc<metrics::Metrics>,
    metrics_path: Option<String>,
) -> Router {
    let routes = match metrics_path {
        Some(path) => routes.route(&path, get(metrics::serve).with_state(metrics.clone())),
        None => routes,
    };
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::record,
        ))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method",
            )
        })
        .layer(cors)
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::POST,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::RANGE,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::ETAG,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            HeaderName::from_static("content-disposition"),
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
