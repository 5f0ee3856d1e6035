//! `filesync serve`: zero-config start, flags and `FILESYNC_*` variables, graceful shutdown, and
//! S3 mode (`--s3-bucket`: blobs in an S3-compatible bucket, URLs presigned at it).
//!
//! With no flags it listens on 127.0.0.1:8787 only, keeps everything in `./filesync-data`, creates a
//! signing secret (`secret`) and a development token (`dev-token`) there on first start (mode 0600,
//! reused afterwards), grants that token every key, and prints the URL, the token and a curl example.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use filesync_server::{
    router, serve, signer_router, BlobStore, CorsOrigins, DiskStore, DiskStoreOptions, S3Store,
    ServerConfig, TokenGrant, TokenTable, UrlSigner, DEFAULT_API_BASE, DEFAULT_BODY_IDLE_TIMEOUT,
    DEFAULT_FILES_BASE, DEFAULT_MAX_UPLOAD_BYTES,
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

    /// JSON file of tokens: {"tokens": [{"token": "...", "prefixes": ["store-a/"]}]} (prefixes []
    /// grant every key; `filesync tokens create` adds entries). Default: the data dir's
    /// tokens.json when it exists, else a development token in the data dir that grants every
    /// key. Changes to the file apply within a second, without a restart.
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

    /// Path of the Prometheus metrics ("" turns them off). They hold counts only, no token or
    /// key; keep them off the public internet anyway.
    #[arg(long, env = "FILESYNC_METRICS_PATH", default_value = filesync_server::DEFAULT_METRICS_PATH)]
    metrics_path: String,

    #[command(flatten)]
    s3: crate::storage::S3Args,
}

/// Where blobs are kept.
enum Storage {
    /// The data dir, served by this server's blob routes.
    Disk(DiskStore),
    /// An S3-compatible bucket.
    S3(std::sync::Arc<S3Store>),
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

    // Tokens: the file the flag or variable names, else the data dir's tokens.json when it
    // exists, else the development token. A file is reloaded when it changes.
    let default_file = crate::tokens::tokens_path(None, &args.data_dir);
    let tokens_file = match &args.tokens_file {
        Some(path) => Some(path.clone()),
        None => default_file.exists().then_some(default_file),
    };
    let (tokens, dev_token) = match &tokens_file {
        Some(path) => {
            let file = crate::tokens::TokensFile::load(path)?;
            if file.tokens.is_empty() {
                return Err(format!(
                    "the tokens file {} lists no tokens; add one with `filesync tokens create`",
                    path.display()
                ));
            }
            let table = file.table()?;
            crate::tokens::watch(path.clone(), table.clone(), Duration::from_secs(1));
            (table, None)
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
    config.metrics_path = match args.metrics_path.trim() {
        "" => None,
        path if path.starts_with('/') && path != api_base && path != files_base => {
            Some(path.to_owned())
        }
        other => {
            return Err(format!(
                "--metrics-path must be a path such as /metrics, apart from the API and blob bases (got {other:?})"
            ))
        }
    };
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
    let _ = writeln!(out, "  readiness:   {url}{api_base}/ready");
    if let Some(path) = &config.metrics_path {
        let _ = writeln!(out, "  metrics:     {url}{path}");
    }
    if let Some(token) = &dev_token {
        let _ = writeln!(out, "  development token (every key): {token}");
        let _ = writeln!(
            out,
            "  try: curl -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' -d '{{\"key\":\"demo/hello.txt\"}}' {url}{api_base}/v1/sign/upload"
        );
    }
    let _ = writeln!(out, "  Ctrl-C stops it.");
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
    crate::output::write_private(path, &format!("{value}\n"))
        .map_err(|err| format!("cannot write the {what} to {}: {err}", path.display()))?;
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
