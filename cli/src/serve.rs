//! `filesync serve`: zero-config start, flags and `FILESYNC_*` variables, graceful shutdown, and
//! S3 mode (`--s3-bucket`: blobs in an S3-compatible bucket, URLs presigned at it).
//!
//! With no flags it listens on 127.0.0.1:8787 only, keeps everything in `./filesync-data`, creates a
//! signing secret (`secret`) and a development token (`dev-token`) there on first start (mode 0600,
//! reused afterwards), grants that token every key, and prints the URL, the token and a curl example.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use filesync_server::{
    router, serve, signer_router, BlobStore, CorsOrigins, DiskStore, DiskStoreOptions, S3Store,
    S3StoreOptions, ServerConfig, TokenGrant, TokenTable, UrlSigner, DEFAULT_API_BASE,
    DEFAULT_BODY_IDLE_TIMEOUT, DEFAULT_FILES_BASE, DEFAULT_MAX_UPLOAD_BYTES,
};

/// The options of `filesync serve`; each flag also reads a `FILESYNC_*` variable.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. The default accepts connections from this machine only; use
    /// 0.0.0.0:8787 (behind TLS) to serve others.
    #[arg(long, env = "FILESYNC_LISTEN", default_value = "127.0.0.1:8787")]
    listen: SocketAddr,

    /// Directory for blobs, the signing secret and the development token (created if missing; in
    /// S3 mode it keeps only the development token).
    #[arg(long, env = "FILESYNC_DATA_DIR", default_value = "./filesync-data")]
    data_dir: PathBuf,

    /// JSON file of tokens: {"tokens": [{"token": "...", "prefixes": ["store-a/"]}]}; prefixes []
    /// grant every key. Without it, a development token in the data dir grants every key.
    #[arg(long, env = "FILESYNC_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,

    /// Secret that signs blob URLs (at least 16 bytes). Without it, a random secret is kept in
    /// the data dir's `secret` file. Not used in S3 mode.
    #[arg(long, env = "FILESYNC_SIGNING_SECRET", hide_env_values = true)]
    signing_secret: Option<String>,

    /// Origins browsers may call from (comma-separated or repeated); default: any origin.
    #[arg(
        long = "cors-origin",
        env = "FILESYNC_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,

    /// Largest upload accepted, in bytes.
    #[arg(long, env = "FILESYNC_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    max_upload_bytes: u64,

    /// Path of the blob routes.
    #[arg(long, env = "FILESYNC_FILES_BASE", default_value = DEFAULT_FILES_BASE)]
    files_base: String,

    /// Path of the signer API.
    #[arg(long, env = "FILESYNC_API_BASE", default_value = DEFAULT_API_BASE)]
    api_base: String,

    /// URL clients reach this server at (e.g. https://files.example.com), used in signed URLs;
    /// default: http:// + the request's Host header.
    #[arg(long, env = "FILESYNC_PUBLIC_URL")]
    public_url: Option<String>,

    /// Lifetime of signed URLs, in seconds.
    #[arg(long, env = "FILESYNC_URL_TTL_SECS", default_value_t = 900)]
    url_ttl_secs: u64,

    /// Seconds an upload may send nothing before it is cut off (408; nothing is stored).
    #[arg(long, env = "FILESYNC_UPLOAD_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_BODY_IDLE_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    upload_idle_timeout_secs: u64,

    #[command(flatten)]
    s3: S3Args,
}

/// Where blobs go in S3 mode: any S3-compatible bucket. Without `--s3-bucket`, blobs stay in the
/// data dir.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "S3 mode (blobs in an S3-compatible bucket instead of the data dir)")]
pub struct S3Args {
    /// Bucket to keep blobs in (it must exist). Setting it turns S3 mode on: clients send and
    /// fetch bytes straight to and from the bucket with URLs this server presigns.
    #[arg(long, env = "FILESYNC_S3_BUCKET")]
    s3_bucket: Option<String>,

    /// S3 endpoint URL (MinIO, Garage, R2, …); default: AWS, https://s3.{region}.amazonaws.com.
    #[arg(long, env = "FILESYNC_S3_ENDPOINT", requires = "s3_bucket")]
    s3_endpoint: Option<String>,

    /// Region signatures name (us-east-1 for most S3-compatible servers, auto for R2).
    #[arg(long, env = "FILESYNC_S3_REGION", default_value = "us-east-1")]
    s3_region: String,

    /// Access key id of the bucket's credentials.
    #[arg(long, env = "FILESYNC_S3_ACCESS_KEY_ID", requires = "s3_bucket")]
    s3_access_key_id: Option<String>,

    /// Secret access key of the bucket's credentials (prefer the environment variable).
    #[arg(
        long,
        env = "FILESYNC_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "s3_bucket"
    )]
    s3_secret_access_key: Option<String>,

    /// Path-style URLs ({endpoint}/{bucket}/{key}), needed by MinIO and Garage; always used when
    /// the endpoint is an IP address or localhost.
    #[arg(long, env = "FILESYNC_S3_PATH_STYLE")]
    s3_path_style: bool,
}

impl S3Args {
    /// The S3 store these flags describe, or `None` without `--s3-bucket`.
    pub fn store(
        &self,
        url_ttl: Duration,
        max_upload_bytes: u64,
    ) -> Result<Option<S3Store>, String> {
        let Some(bucket) = &self.s3_bucket else {
            return Ok(None);
        };
        let (Some(key_id), Some(secret)) = (&self.s3_access_key_id, &self.s3_secret_access_key)
        else {
            return Err("S3 mode needs credentials: set FILESYNC_S3_ACCESS_KEY_ID and FILESYNC_S3_SECRET_ACCESS_KEY (or --s3-access-key-id and --s3-secret-access-key)".into());
        };
        let endpoint = self
            .s3_endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.s3_region));
        let host_is_address = endpoint
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .is_some_and(|host| {
                host == "localhost"
                    || host.starts_with('[')
                    || host.parse::<std::net::IpAddr>().is_ok()
            });
        let mut options = S3StoreOptions::new(endpoint, bucket, &self.s3_region, key_id, secret);
        options.path_style = self.s3_path_style || host_is_address;
        options.url_ttl = url_ttl;
        options.max_upload_bytes = max_upload_bytes;
        S3Store::new(options)
            .map(Some)
            .map_err(|err| format!("{err} (S3 mode)"))
    }
}

/// Where blobs are kept.
enum Storage {
    /// The data dir, served by this server's blob routes.
    Disk(DiskStore),
    /// An S3-compatible bucket.
    S3(std::sync::Arc<S3Store>),
}

#[derive(serde::Deserialize)]
struct TokensFile {
    tokens: Vec<TokenGrant>,
}

/// Runs the server until Ctrl-C or SIGTERM; returns a message that says what to do on failure.
pub async fn run(args: ServeArgs) -> Result<(), String> {
    let base_path = |name: &str, value: &str| -> Result<String, String> {
        let trimmed = value.trim_end_matches('/');
        if !trimmed.starts_with('/') || trimmed.contains(['?', '#', ' ']) {
            return Err(format!(
                "--{name} must be a path such as /api (got {value:?})"
            ));
        }
        Ok(trimmed.to_owned())
    };
    let api_base = base_path("api-base", &args.api_base)?;
    let files_base = base_path("files-base", &args.files_base)?;
    if api_base == files_base {
        return Err("--api-base and --files-base must differ".into());
    }
    // Only this user may read the blobs, the secret and the token.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&args.data_dir)
        .map_err(|err| {
            format!(
                "cannot create the data directory {}: {err}",
                args.data_dir.display()
            )
        })?;

    let url_ttl = Duration::from_secs(args.url_ttl_secs);
    let s3 = args.s3.store(url_ttl, args.max_upload_bytes)?;

    let (tokens, dev_token) = match &args.tokens_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read the tokens file {}: {err}", path.display()))?;
            let file: TokensFile = serde_json::from_str(&text).map_err(|err| {
                format!(
                    "the tokens file {} is not valid ({err}); expected {{\"tokens\": [{{\"token\": \"...\", \"prefixes\": [\"store-a/\"]}}]}}",
                    path.display()
                )
            })?;
            if file.tokens.is_empty() {
                return Err(format!(
                    "the tokens file {} lists no tokens",
                    path.display()
                ));
            }
            (TokenTable::new(file.tokens)?, None)
        }
        None => {
            let token =
                read_or_create_secret(&args.data_dir.join("dev-token"), "development token")?;
            let table = TokenTable::new([TokenGrant {
                token: token.clone(),
                prefixes: vec![],
            }])?;
            (table, Some(token))
        }
    };

    // Disk mode signs URLs of its own blob routes; S3 mode presigns at the bucket.
    let storage = match s3 {
        Some(s3) => Storage::S3(std::sync::Arc::new(s3)),
        None => {
            let secret = match &args.signing_secret {
                Some(secret) => secret.clone().into_bytes(),
                None => read_or_create_secret(&args.data_dir.join("secret"), "signing secret")?
                    .into_bytes(),
            };
            let mut options = DiskStoreOptions::new(&args.data_dir, UrlSigner::new(secret)?);
            options.files_base = files_base.clone();
            options.max_upload_bytes = args.max_upload_bytes;
            options.url_ttl = url_ttl;
            Storage::Disk(
                DiskStore::open(options)
                    .await
                    .map_err(|err| err.to_string())?,
            )
        }
    };

    let mut config = ServerConfig::new(tokens);
    config.api_base = api_base.clone();
    config.public_base_url = args.public_url.clone();
    config.body_idle_timeout = Duration::from_secs(args.upload_idle_timeout_secs);
    if !args.cors_origins.is_empty() {
        config.cors_origins = CorsOrigins::List(args.cors_origins.clone());
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| {
            format!(
                "cannot listen on {}: {err}; pick another address with --listen or FILESYNC_LISTEN",
                args.listen
            )
        })?;
    let addr = listener
        .local_addr()
        .map_err(|err| format!("cannot read the listening address: {err}"))?;
    let url = format!("http://{addr}");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "filesync serve: listening on {url}");
    let _ = writeln!(out, "  signer API:  {url}{api_base}");
    match &storage {
        Storage::S3(store) => {
            let options = store.options();
            let _ = writeln!(
                out,
                "  S3 bucket:   {} at {} ({})",
                options.bucket,
                options.endpoint,
                match store.health().await {
                    Ok(()) => "reachable".to_owned(),
                    Err(err) => format!("NOT reachable: {err}"),
                }
            );
        }
        Storage::Disk(_) => {
            let _ = writeln!(out, "  blob routes: {url}{files_base}/{{key}}");
        }
    }
    let _ = writeln!(out, "  data dir:    {}", args.data_dir.display());
    if let Some(token) = &dev_token {
        let _ = writeln!(out, "  development token (every key): {token}");
        let _ = writeln!(
            out,
            "  try: curl -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{{\"key\":\"demo/hello.txt\"}}' {url}{api_base}/v1/sign/upload"
        );
    }
    let _ = out.flush();
    drop(out);
    tracing::info!(%addr, "serving");
    let app = match storage {
        Storage::Disk(disk) => router(config, disk),
        Storage::S3(s3) => signer_router(config, s3),
    };
    serve(listener, app, shutdown_signal())
        .await
        .map_err(|err| format!("the server stopped: {err}"))?;
    tracing::info!("stopped");
    Ok(())
}

/// Reads a secret kept in `path`, or creates one (32 random bytes as hex, mode 0600) on first start.
fn read_or_create_secret(path: &Path, what: &str) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let value = text.trim().to_owned();
            if value.len() < 32 {
                return Err(format!(
                    "the {what} in {} is too short; delete the file to create a new one",
                    path.display()
                ));
            }
            let mode = std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o077)
                .unwrap_or(0);
            if mode != 0 {
                tracing::warn!(path = %path.display(), "the {what} file is readable by others; chmod 600 it");
            }
            return Ok(value);
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => {
            return Err(format!(
                "cannot read the {what} in {}: {err}",
                path.display()
            ))
        }
    }
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|err| format!("cannot get random bytes: {err}"))?;
    let value: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    // Written to a temporary file and renamed, so a crash never leaves a truncated secret.
    let temp = path.with_extension("tmp");
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(format!("{value}\n").as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    written.map_err(|err| format!("cannot write the {what} to {}: {err}", path.display()))?;
    Ok(value)
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}
