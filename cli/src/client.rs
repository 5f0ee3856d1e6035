//! The client commands: `put`, `get`, `rm`, `stat`, through a server's signer API with a token
//! (the engine's own client, `HttpRemote`: resumable uploads, ranged GETs).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use filesync::{
    hash_file, Hasher, HttpRemote, HttpRemoteOptions, OpenAt, RemoteError, RemoteErrorKind,
    RemoteStorage, UploadRequest,
};
use fs_core::{FileSystem, StreamOptions, VPath};
use fs_native::NativeFs;
use futures::StreamExt;

use crate::output::{CmdResult, Exit, Failure, Out};

/// Where the server is and the token to use.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Server")]
pub struct ClientArgs {
    /// The signer API's base URL.
    #[arg(
        long,
        env = "FILESYNC_SERVER",
        default_value = "http://127.0.0.1:8787/api"
    )]
    server: String,

    /// The Bearer token (default: the development token in ./filesync-data/dev-token, as
    /// `filesync serve` creates it).
    #[arg(long, env = "FILESYNC_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl ClientArgs {
    fn remote(&self) -> Result<HttpRemote, Failure> {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => std::fs::read_to_string("filesync-data/dev-token")
                .map(|t| t.trim().to_owned())
                .map_err(|_| {
                    Failure::failed(
                        "no token: pass --token or set FILESYNC_TOKEN (or run where `filesync serve` keeps ./filesync-data/dev-token)",
                    )
                })?,
        };
        HttpRemote::new(HttpRemoteOptions::new(self.server.clone()).with_token(token))
            .map_err(|err| Failure::failed(format!("--server {:?}: {err}", self.server)))
    }
}

/// The exit code and message for a remote failure.
fn remote_failure(err: RemoteError) -> Failure {
    let exit = match err.kind {
        RemoteErrorKind::NotFound => Exit::NotFound,
        RemoteErrorKind::Unauthorized | RemoteErrorKind::Forbidden => Exit::Refused,
        RemoteErrorKind::Offline => Exit::Unreachable,
        RemoteErrorKind::Corrupt => Exit::Mismatch,
        _ => Exit::Failed,
    };
    let hint = match err.kind {
        RemoteErrorKind::Unauthorized => " (check --token / FILESYNC_TOKEN)",
        RemoteErrorKind::Forbidden => " (the token's prefixes do not cover this key)",
        RemoteErrorKind::Offline => " (is the server running? check --server / FILESYNC_SERVER)",
        _ => "",
    };
    Failure::new(exit, format!("{err}{hint}"))
}

/// The file at `path` as a `NativeFs` rooted at its folder and its path there.
fn rooted(path: &Path) -> Result<(NativeFs, VPath), Failure> {
    let absolute = std::path::absolute(path)
        .map_err(|err| Failure::failed(format!("{}: {err}", path.display())))?;
    let (Some(dir), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err(Failure::failed(format!("{} is not a file", path.display())));
    };
    let vpath = VPath::new(&format!("/{}", name.to_string_lossy()))
        .map_err(|err| Failure::failed(format!("{}: {err}", path.display())))?;
    Ok((NativeFs::new(dir), vpath))
}

/// `filesync put <file>`.
#[derive(Debug, clap::Args)]
pub struct PutArgs {
    /// The file to upload.
    file: PathBuf,
    /// The key prefix (the store id): the key is `{prefix}/{sha256 of the file}`.
    #[arg(long, default_value = "cli")]
    prefix: String,
    /// The whole key instead (then no hash is part of it, and none is checked).
    #[arg(long, conflicts_with = "prefix")]
    key: Option<String>,
    /// The content type the blob is served with.
    #[arg(long)]
    content_type: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

/// Uploads a file; prints its key.
pub async fn put(args: PutArgs, out: Out) -> CmdResult {
    let (fs, path) = rooted(&args.file)?;
    let info = fs.stat(&path).await.map_err(|err| {
        Failure::new(
            Exit::NotFound,
            format!("cannot read {}: {err}", args.file.display()),
        )
    })?;
    if !info.is_file() {
        return Err(Failure::failed(format!(
            "{} is not a file",
            args.file.display()
        )));
    }
    let hash = hash_file(&fs, &path)
        .await
        .map_err(|err| Failure::failed(format!("cannot read {}: {err}", args.file.display())))?;
    let key = match &args.key {
        Some(key) => key.clone(),
        None => format!("{}/{}", args.prefix.trim_end_matches('/'), hash.to_hex()),
    };
    let remote = args.client.remote()?;
    let bar = out.bytes_bar(info.size, "put");
    let open: OpenAt = {
        let (fs, path) = (fs.clone(), path.clone());
        Arc::new(move |offset| {
            let (fs, path) = (fs.clone(), path.clone());
            Box::pin(async move {
                let options = StreamOptions {
                    offset,
                    chunk_size: 256 * 1024,
                    ..StreamOptions::default()
                };
                fs.read_stream(&path, options).await
            })
        })
    };
    let progress_bar = bar.clone();
    let request = UploadRequest {
        key: key.clone(),
        size: info.size,
        content_type: args.content_type.clone(),
        open,
        progress: Arc::new(move |sent, _| progress_bar.set_position(sent)),
        resume: None,
        on_resume: Arc::new(|_| {}),
    };
    let result = remote.upload(request).await;
    bar.finish_and_clear();
    result.map_err(remote_failure)?;
    out.result(
        || key.clone(),
        || serde_json::json!({"key": key, "size": info.size, "sha256": hash.to_hex()}),
    );
    Ok(())
}

/// `filesync get <key>`.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The key to download.
    key: String,
    /// Where to write it (`-`: standard output); default: the key's last segment here. An
    /// interrupted download resumes from `{output}.filesync-part`.
    #[arg(short, long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    client: ClientArgs,
}

/// The SHA-256 a content-addressed key names (its last segment, 64 lowercase hex digits).
fn key_hash(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next()?;
    (name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(name)
}

/// Downloads a key into a file (durably: fsynced, then renamed into place) or to stdout; a
/// content-addressed key's bytes are checked.
pub async fn get(args: GetArgs, out: Out) -> CmdResult {
    let remote = args.client.remote()?;
    let to_stdout = args.output.as_deref() == Some(Path::new("-"));
    let target = match &args.output {
        Some(path) => path.clone(),
        None => PathBuf::from(args.key.rsplit('/').next().unwrap_or("download")),
    };
    let partial = PathBuf::from(format!("{}.filesync-part", target.display()));
    let mut hasher = Hasher::new();
    // Resume from what an interrupted download left.
    let mut offset = 0u64;
    if !to_stdout {
        if let Ok(mut file) = std::fs::File::open(&partial) {
            use std::io::Read;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf).map_err(|err| {
                    Failure::failed(format!("cannot read {}: {err}", partial.display()))
                })?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                offset += n as u64;
            }
        }
    }
    let download = remote
        .download(&args.key, offset)
        .await
        .map_err(remote_failure)?;
    let total = download.total_size.unwrap_or(0);
    let bar = out.bytes_bar(total, "get");
    bar.set_position(download.offset);
    let mut sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)
            .map_err(|err| Failure::failed(format!("cannot write {}: {err}", partial.display())))?;
        Box::new(std::io::BufWriter::with_capacity(1 << 20, file))
    };
    let mut written = download.offset;
    let mut body = download.body.into_bytes();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(remote_failure)?;
        hasher.update(&chunk);
        sink.write_all(&chunk)
            .map_err(|err| Failure::failed(format!("cannot write {}: {err}", target.display())))?;
        written += chunk.len() as u64;
        bar.set_position(written);
    }
    sink.flush()
        .map_err(|err| Failure::failed(format!("cannot write {}: {err}", target.display())))?;
    drop(sink);
    bar.finish_and_clear();
    let sha256 = hasher.finalize().to_hex();
    if let Some(expected) = key_hash(&args.key) {
        if expected != sha256 {
            if !to_stdout {
                let _ = std::fs::remove_file(&partial);
            }
            return Err(Failure::new(
                Exit::Mismatch,
                format!("the downloaded bytes hash to {sha256}, not to the key's {expected}; nothing was kept"),
            ));
        }
    }
    if !to_stdout {
        let file = std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&partial, &target));
        file.map_err(|err| Failure::failed(format!("cannot write {}: {err}", target.display())))?;
        out.result(
            || format!("{} ({written} bytes)", target.display()),
            || serde_json::json!({"key": args.key, "file": target, "size": written, "sha256": sha256}),
        );
    }
    Ok(())
}

/// `filesync rm <key>` and `filesync stat <key>`.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// The key.
    key: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Deletes a key (a missing key is not an error).
pub async fn rm(args: KeyArgs, out: Out) -> CmdResult {
    args.client
        .remote()?
        .delete(&args.key)
        .await
        .map_err(remote_failure)?;
    out.result(
        || format!("deleted {}", args.key),
        || serde_json::json!({"key": args.key, "deleted": true}),
    );
    Ok(())
}

/// Prints a key's size and content type (exit 3 when it does not exist).
pub async fn stat(args: KeyArgs, out: Out) -> CmdResult {
    let download = args
        .client
        .remote()?
        .download(&args.key, 0)
        .await
        .map_err(remote_failure)?;
    // Only the answer's headers are wanted: the body is dropped unread.
    drop(download.body);
    let content_type = download.content_type.unwrap_or_default();
    let size = download.total_size;
    out.result(
        || {
            format!(
                "{}  {} bytes  {}",
                args.key,
                size.map_or("?".to_owned(), |s| s.to_string()),
                content_type
            )
        },
        || serde_json::json!({"key": args.key, "size": size, "contentType": content_type, "sha256": key_hash(&args.key)}),
    );
    Ok(())
}
