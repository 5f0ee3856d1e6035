//! The admin commands, run where the storage is (no network admin API): `ls`, `verify`, `gc`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use filesync::Hasher;
use filesync_server::{BlobKey, ListedBlob};
use futures::StreamExt;

use crate::output::{CmdResult, Exit, Failure, Out};
use crate::storage::{parse_duration, Storage, StorageArgs};

fn storage_failure(err: filesync_server::StoreError) -> Failure {
    let exit = match err.kind {
        filesync_server::StoreErrorKind::NotFound => Exit::NotFound,
        filesync_server::StoreErrorKind::Unavailable => Exit::Unreachable,
        _ => Exit::Failed,
    };
    Failure::new(exit, err.message)
}

fn seconds(time: Option<SystemTime>) -> Option<u64> {
    time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

fn listed_json(blob: &ListedBlob) -> serde_json::Value {
    serde_json::json!({"key": blob.key, "size": blob.size, "modified": seconds(blob.modified)})
}

/// `filesync ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Only keys starting with this (e.g. a store id and `/`).
    #[arg(long, default_value = "")]
    prefix: String,
    #[command(flatten)]
    storage: StorageArgs,
}

/// Lists the stored blobs: key, size, modification time (Unix seconds).
pub async fn ls(args: LsArgs, out: Out) -> CmdResult {
    let storage = args.storage.open().await?;
    let blobs = storage.list(&args.prefix).await.map_err(storage_failure)?;
    let total: u64 = blobs.iter().map(|b| b.size).sum();
    for blob in &blobs {
        out.result(
            || {
                format!(
                    "{}  {}  {}",
                    blob.key,
                    blob.size,
                    seconds(blob.modified).map_or("-".to_owned(), |s| s.to_string())
                )
            },
            || listed_json(blob),
        );
    }
    if !out.json {
        eprintln!(
            "{} blob(s), {total} bytes, in {}",
            blobs.len(),
            storage.describe()
        );
    }
    Ok(())
}

/// `filesync verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Only keys starting with this.
    #[arg(long, default_value = "")]
    prefix: String,
    #[command(flatten)]
    storage: StorageArgs,
}

/// Re-hashes every stored blob: a content-addressed key's bytes against the key, others against
/// the SHA-256 recorded at upload (disk mode); exit 6 when one does not match.
pub async fn verify(args: VerifyArgs, out: Out) -> CmdResult {
    let storage = args.storage.open().await?;
    let blobs = storage.list(&args.prefix).await.map_err(storage_failure)?;
    let total: u64 = blobs.iter().map(|b| b.size).sum();
    let bar = out.bytes_bar(total, "verify");
    let (mut ok, mut unchecked, mut bad) = (0usize, 0usize, Vec::new());
    for blob in &blobs {
        let Ok(key) = BlobKey::parse(&blob.key) else {
            unchecked += 1;
            continue;
        };
        let expected = match key.content_hash() {
            Some(hash) => Some(hash.to_owned()),
            None => storage.recorded_sha256(&key).await,
        };
        let Some(expected) = expected else {
            unchecked += 1;
            bar.inc(blob.size);
            continue;
        };
        let got = hash_blob(&storage, &key, &bar).await;
        match got {
            Ok((sha256, _)) if sha256 == expected => ok += 1,
            Ok((sha256, size)) => {
                bar.suspend(|| {
                    out.result(
                        || format!("MISMATCH {}: hashes to {sha256}, expected {expected}", blob.key),
                        || serde_json::json!({"key": blob.key, "ok": false, "sha256": sha256, "expected": expected, "size": size}),
                    )
                });
                bad.push(blob.key.clone());
            }
            Err(err) => {
                bar.suspend(|| {
                    out.result(
                        || format!("UNREADABLE {}: {}", blob.key, err.message),
                        || serde_json::json!({"key": blob.key, "ok": false, "error": err.message}),
                    )
                });
                bad.push(blob.key.clone());
            }
        }
    }
    bar.finish_and_clear();
    out.result(
        || {
            format!(
                "{} blob(s) in {}: {ok} match, {} do not, {unchecked} have no hash to check",
                blobs.len(),
                storage.describe(),
                bad.len()
            )
        },
        || serde_json::json!({"blobs": blobs.len(), "ok": ok, "mismatched": bad, "unchecked": unchecked}),
    );
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(
            Exit::Mismatch,
            format!(
                "{} blob(s) do not match their hash; clients refuse them, so delete them and let the clients that hold the files upload them again",
                bad.len()
            ),
        ))
    }
}

async fn hash_blob(
    storage: &Storage,
    key: &BlobKey,
    bar: &indicatif::ProgressBar,
) -> Result<(String, u64), filesync_server::StoreError> {
    let mut stream = storage.read_all(key).await?;
    let mut hasher = Hasher::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        bar.inc(chunk.len() as u64);
        hasher.update(&chunk);
    }
    Ok((hasher.finalize().to_hex(), size))
}

/// `filesync gc`.
#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// The keys still in use: a JSON array of strings (what the npm package's
    /// `listLiveRemoteKeys()` answers) or one key per line.
    #[arg(long)]
    live_keys: PathBuf,
    /// Only blobs under this prefix are candidates (the store the live keys come from, e.g.
    /// `store-a/`). Required: live keys of one store say nothing about another's blobs.
    #[arg(long)]
    prefix: String,
    /// Blobs written more recently than this are kept (an upload whose row has not reached the
    /// live keys yet): e.g. 30m, 24h, 7d.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    grace: Duration,
    /// Delete the candidates. Without it, nothing is deleted: the candidates are only listed.
    #[arg(long)]
    delete: bool,
    /// Go on when no live key is under the prefix (every blob under it is then a candidate).
    #[arg(long)]
    allow_empty_live_set: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

/// Reads a live keys file: a JSON array of strings, or one key per line.
fn read_live_keys(path: &PathBuf) -> Result<HashSet<String>, Failure> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Failure::new(
            Exit::NotFound,
            format!("cannot read the live keys {}: {err}", path.display()),
        )
    })?;
    if text.trim_start().starts_with('[') {
        let keys: Vec<String> = serde_json::from_str(&text).map_err(|err| {
            Failure::failed(format!(
                "{} is not a JSON array of keys ({err}); write one with JSON.stringify(fileSync.listLiveRemoteKeys())",
                path.display()
            ))
        })?;
        return Ok(keys.into_iter().collect());
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Deletes (with `--delete`; else lists) the blobs under the prefix that no live key names and
/// that are older than the grace period.
pub async fn gc(args: GcArgs, out: Out) -> CmdResult {
    if args.prefix.is_empty() {
        return Err(Failure::failed(
            "--prefix must name the store the live keys come from (e.g. store-a/)",
        ));
    }
    let live = read_live_keys(&args.live_keys)?;
    let storage = args.storage.open().await?;
    let blobs = storage.list(&args.prefix).await.map_err(storage_failure)?;
    let live_here = live.iter().filter(|k| k.starts_with(&args.prefix)).count();
    if live_here == 0 && !blobs.is_empty() && !args.allow_empty_live_set {
        return Err(Failure::failed(format!(
            "none of the {} live keys is under {:?}, so all {} blob(s) there would go: check --prefix and --live-keys, or pass --allow-empty-live-set",
            live.len(),
            args.prefix,
            blobs.len()
        )));
    }
    let now = SystemTime::now();
    let mut candidates = Vec::new();
    let (mut kept_live, mut kept_recent) = (0usize, 0usize);
    for blob in blobs {
        if live.contains(&blob.key) {
            kept_live += 1;
            continue;
        }
        let age = blob.modified.and_then(|m| now.duration_since(m).ok());
        match age {
            Some(age) if age >= args.grace => candidates.push(blob),
            // Recent, or of unknown age: kept.
            _ => kept_recent += 1,
        }
    }
    let mut deleted = 0usize;
    let mut freed = 0u64;
    for blob in &candidates {
        if args.delete {
            let key = BlobKey::parse(&blob.key).map_err(Failure::failed)?;
            storage.delete(&key).await.map_err(storage_failure)?;
            deleted += 1;
        }
        freed += blob.size;
        out.result(
            || {
                format!(
                    "{} {} ({} bytes)",
                    if args.delete {
                        "deleted"
                    } else {
                        "would delete"
                    },
                    blob.key,
                    blob.size
                )
            },
            || serde_json::json!({"key": blob.key, "size": blob.size, "deleted": args.delete}),
        );
    }
    out.result(
        || {
            format!(
                "{}: {} candidate(s), {freed} bytes; kept {kept_live} live and {kept_recent} within the grace period{}",
                storage.describe(),
                candidates.len(),
                if args.delete { String::new() } else { "; nothing deleted (pass --delete)".to_owned() }
            )
        },
        || serde_json::json!({"candidates": candidates.len(), "deleted": deleted, "bytes": freed, "keptLive": kept_live, "keptRecent": kept_recent}),
    );
    Ok(())
}
