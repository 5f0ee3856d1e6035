//! [`DiskStore`]: blobs on the local disk, through [`fs_native::NativeFs`].
//!
//! Layout under the data directory: `blobs/{key}` holds the bytes and `meta/{key}` a small JSON
//! sidecar (`{"contentType", "size", "sha256", "ino"}`). The two trees are separate, so no key can
//! name a sidecar. Uploads stream into a `NativeFs` sink (a hidden temporary sibling, fsynced and
//! renamed over the key on commit): a killed server never leaves a visible partial blob, only a
//! hidden `.*.fsync-tmp` file that no key can name, and the next [`DiskStore::open`] removes it in the
//! background once nothing has touched it for [`STALE_TEMP_AGE`]. The
//! blob and its sidecar are committed under a per-key lock, so concurrent uploads of one key leave
//! one whole upload with its own sidecar. The blob is committed first, then the sidecar naming the
//! blob's inode: after a crash between the two, the old sidecar names another inode (or size) and
//! is ignored (the blob is served as `application/octet-stream`, without a hash) until the next
//! upload of the key.
//!
//! Resumable uploads (see [`crate::MultipartStore`]) are staged under `uploads/{uploadId}/`: a
//! `manifest.json` (key, content type, length, part size, creation time), one staging file `data`
//! that every part is written into at its own offset, and one empty marker per durable part,
//! `{partNumber:05}-{tag}` (32 hex digits; the tag is the part's ETag and names that write of
//! it). A part's bytes are fsynced before its marker is made, so a listed part is always whole.
//! The staging file is hashed in order as its parts become contiguous, so `complete` checks the
//! hash, renames the file into `blobs/` and writes the sidecar, without a second pass over the
//! bytes (after a restart, or a part sent again over bytes already hashed, the hash starts again
//! from the beginning of the file). Unfinished uploads older than [`DiskStoreOptions::upload_max_age`] are swept at
//! [`DiskStore::open`] and then periodically by a task that ends when the last clone of the store
//! is dropped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    ByteStream, ErrorKind, FileSystem, FileType, FsError, MakeDirOptions, OpenOptions,
    ReadDirOptions, RemoveOptions, SinkOptions, StreamOptions, VPath,
};
use fs_native::NativeFs;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use crate::content_type::DEFAULT_CONTENT_TYPE;
use crate::signature::SignatureError;
use crate::store::{
    BlobStore, BlobStream, ListedBlob, SignedRequest, StoreError, StoreErrorKind, UploadIntent,
};
use crate::{BlobKey, UrlSigner};

mod multipart;

/// The default lifetime of signed URLs: 900 s.
pub const DEFAULT_URL_TTL: Duration = Duration::from_secs(900);
/// The default path of the blob routes.
pub const DEFAULT_FILES_BASE: &str = "/livestore-filesync-files";
/// The default maximum upload size: 5 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// The default age after which unfinished resumable uploads are discarded: 24 h.
pub const DEFAULT_UPLOAD_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// How long a temporary file must have been left untouched before the sweep at
/// [`DiskStore::open`] removes it: 15 minutes.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(15 * 60);

/// How many locks the keys are spread over (commits of different keys rarely wait for each other).
const LOCK_STRIPES: usize = 64;

/// Settings of a [`DiskStore`].
#[derive(Debug, Clone)]
pub struct DiskStoreOptions {
    /// The data directory (created if missing); blobs go to `blobs/`, sidecars to `meta/`.
    pub data_dir: std::path::PathBuf,
    /// Signs and verifies blob URLs.
    pub signer: UrlSigner,
    /// The path of the blob routes, without a trailing `/` (default [`DEFAULT_FILES_BASE`]).
    pub files_base: String,
    /// How long signed URLs work (default [`DEFAULT_URL_TTL`]).
    pub url_ttl: Duration,
    /// The largest upload accepted, in bytes (default [`DEFAULT_MAX_UPLOAD_BYTES`]); also the largest
    /// resumable upload.
    pub max_upload_bytes: u64,
    /// The part size of resumable uploads (default [`crate::DEFAULT_PART_BYTES`], at least
    /// [`crate::MIN_PART_BYTES`]).
    pub part_size: u64,
    /// How long an unfinished resumable upload is kept (default [`DEFAULT_UPLOAD_MAX_AGE`]).
    pub upload_max_age: Duration,
}

impl DiskStoreOptions {
    /// The defaults for `data_dir` and `signer`.
    pub fn new(data_dir: impl Into<std::path::PathBuf>, signer: UrlSigner) -> DiskStoreOptions {
        DiskStoreOptions {
            data_dir: data_dir.into(),
            signer,
            files_base: DEFAULT_FILES_BASE.to_owned(),
            url_ttl: DEFAULT_URL_TTL,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            part_size: crate::DEFAULT_PART_BYTES,
            upload_max_age: DEFAULT_UPLOAD_MAX_AGE,
        }
    }
}

/// Blob storage on the local disk; cloning is cheap (clones share everything).
#[derive(Debug, Clone)]
pub struct DiskStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fs: NativeFs,
    blobs: VPath,
    meta: VPath,
    uploads: VPath,
    options: DiskStoreOptions,
    locks: Vec<tokio::sync::Mutex<()>>,
    /// The resumable uploads being completed or aborted right now.
    finishing: std::sync::Mutex<std::collections::HashSet<String>>,
    /// How far each resumable upload's bytes are hashed, in order (uploads this process saw).
    progress: std::sync::Mutex<std::collections::HashMap<String, Arc<multipart::Progress>>>,
}

/// Whether `name` is a temporary sibling that `fs-native` stages atomic writes in
/// (`.{name}.{16 hex}.fsync-tmp`).
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(crate::key::TEMP_SUFFIX)
}

/// The sidecar of a blob.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sidecar {
    content_type: String,
    size: u64,
    sha256: String,
    /// The inode of the blob it describes. The blob is committed first (a rename: a new inode),
    /// then its sidecar, so after a crash between the two the old sidecar names another inode and
    /// is ignored. Absent in sidecars written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ino: Option<u64>,
    /// The blob's modification time, in nanoseconds since the epoch: a copy of the data dir that
    /// keeps times (a restored backup) has new inodes but the same times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mtime_ns: Option<u64>,
}

/// `time` in nanoseconds since the epoch.
fn epoch_ns(time: Option<SystemTime>) -> Option<u64> {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| u64::try_from(d.as_nanos()).ok())
}

/// What a stored blob is, as the blob routes serve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its size in bytes.
    pub size: u64,
    /// The content type it was uploaded with (or `application/octet-stream`).
    pub content_type: String,
    /// Its SHA-256 (lowercase hex), when known.
    pub sha256: Option<String>,
}

/// The result of a successful upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Bytes stored.
    pub size: u64,
    /// Their SHA-256, lowercase hex.
    pub sha256: String,
}

impl DiskStore {
    /// Opens (creating when missing) the data directory and its `blobs/`, `meta/` and `uploads/`
    /// trees, sweeps expired resumable uploads, and spawns the periodic sweep on the current Tokio
    /// runtime (call it within one); the sweep task ends once every clone of the store is dropped.
    pub async fn open(options: DiskStoreOptions) -> Result<DiskStore, StoreError> {
        std::fs::create_dir_all(&options.data_dir).map_err(|err| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                format!(
                    "cannot create the data directory {}: {err}",
                    options.data_dir.display()
                ),
            )
        })?;
        let fs = NativeFs::new(&options.data_dir);
        let tree = |name: &str| VPath::root().join(name).map_err(internal);
        if options.part_size < crate::MIN_PART_BYTES {
            return Err(StoreError::new(
                StoreErrorKind::BadRequest,
                format!(
                    "the part size {} is below the minimum of {} bytes",
                    options.part_size,
                    crate::MIN_PART_BYTES
                ),
            ));
        }
        let (blobs, meta, uploads) = (tree("blobs")?, tree("meta")?, tree("uploads")?);
        let recursive = MakeDirOptions {
            recursive: true,
            ..MakeDirOptions::default()
        };
        for dir in [&blobs, &meta, &uploads] {
            fs.make_dir(dir, recursive).await.map_err(|err| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("cannot prepare the data directory: {err}"),
                )
            })?;
        }
        let locks = (0..LOCK_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        let store = DiskStore {
            inner: Arc::new(Inner {
                fs,
                blobs,
                meta,
                uploads,
                options,
                locks,
                finishing: std::sync::Mutex::default(),
                progress: std::sync::Mutex::default(),
            }),
        };
        let sweeping = store.clone();
        tokio::spawn(async move {
            sweeping.sweep_stale_temp_files(STALE_TEMP_AGE).await;
        });
        store.start_sweeper().await;
        Ok(store)
    }

    /// Removes the temporary files (`.{name}.{16 hex}.fsync-tmp`) that a killed server left in
    /// `blobs/`, `meta/` and `uploads/` and that nothing touched for `older_than`: nothing names
    /// them, and a live write touches its file far more often (an upload that sends nothing for
    /// the body idle timeout is cut off). So a sweep is safe beside a running server, and
    /// [`DiskStore::open`] runs one in the background with [`STALE_TEMP_AGE`]. Answers how many
    /// went; a file that cannot be removed is logged and left.
    pub async fn sweep_stale_temp_files(&self, older_than: Duration) -> usize {
        let fs = &self.inner.fs;
        let now = SystemTime::now();
        let mut removed = 0;
        for tree in [&self.inner.blobs, &self.inner.meta, &self.inner.uploads] {
            let entries = match fs.read_dir(tree, ReadDirOptions { recursive: true }).await {
                Ok(entries) => entries,
                Err(err) => {
                    tracing::warn!(tree = %tree, error = %err, "cannot list the data directory for stale temporary files");
                    continue;
                }
            };
            for entry in entries {
                let name = entry.relative.rsplit('/').next().unwrap_or_default();
                if !(entry.file_type == FileType::File && is_temp_name(name)) {
                    continue;
                }
                let idle = match fs.stat(&entry.path).await {
                    Ok(info) => info
                        .mtime
                        .and_then(|t| now.duration_since(t).ok())
                        .unwrap_or_default(),
                    Err(_) => continue,
                };
                if idle < older_than {
                    continue;
                }
                match fs.remove(&entry.path, RemoveOptions::default()).await {
                    Ok(()) => removed += 1,
                    Err(err) => {
                        tracing::warn!(path = %entry.path, error = %err, "cannot remove a stale temporary file")
                    }
                }
            }
        }
        if removed > 0 {
            tracing::info!(
                removed,
                "removed temporary files a stopped server left behind"
            );
        }
        removed
    }

    /// The path of the blob routes (`/livestore-filesync-files`).
    pub fn files_base(&self) -> &str {
        &self.inner.options.files_base
    }

    /// The largest upload accepted, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.inner.options.max_upload_bytes
    }

    /// Checks a blob URL's signature for `method` (`PUT`, `GET` or `HEAD`) now.
    pub fn verify(
        &self,
        method: &str,
        key: &BlobKey,
        exp: u64,
        sig: &str,
    ) -> Result<(), SignatureError> {
        self.inner
            .options
            .signer
            .verify(method, key, exp, sig, unix_now())
    }

    fn lock_for(&self, key: &BlobKey) -> &tokio::sync::Mutex<()> {
        let digest = Sha256::digest(key.as_str().as_bytes());
        &self.inner.locks[usize::from(digest[0]) % LOCK_STRIPES]
    }

    fn paths(&self, key: &BlobKey) -> Result<(VPath, VPath), StoreError> {
        let bad = |why: String| StoreError::new(StoreErrorKind::BadRequest, why);
        Ok((
            key.under(&self.inner.blobs).map_err(bad)?,
            key.under(&self.inner.meta).map_err(bad)?,
        ))
    }

    /// Streams `body` into the blob at `key`. Nothing is visible until every byte arrived, the size
    /// stayed within the maximum (`TooLarge`) and, for a content-addressed key, the bytes hashed to
    /// the key (`HashMismatch`); on any failure the old blob (or none) stays.
    pub async fn put<S, E>(
        &self,
        key: &BlobKey,
        content_type: Option<String>,
        body: S,
    ) -> Result<StoredBlob, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let (blob_path, meta_path) = self.paths(key)?;
        let fs = &self.inner.fs;
        self.make_parents(key, &[&blob_path, &meta_path]).await?;
        let mut sink = fs
            .write_sink(&blob_path, SinkOptions::default())
            .await
            .map_err(|err| fs_error(key, err))?;
        let max = self.inner.options.max_upload_bytes;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let failure = match chunk {
                Err(err) => Some(StoreError::new(
                    StoreErrorKind::BadRequest,
                    format!("the upload body ended with an error: {err}; nothing was stored"),
                )),
                Ok(chunk) => {
                    size += chunk.len() as u64;
                    if size > max {
                        Some(too_large(max))
                    } else {
                        hasher.update(&chunk);
                        sink.write(chunk).await.err().map(|err| fs_error(key, err))
                    }
                }
            };
            if let Some(err) = failure {
                let _ = sink.abort().await;
                return Err(err);
            }
        }
        let sha256 = to_hex(&hasher.finalize());
        if let Some(expected) = key.content_hash() {
            if expected != sha256 {
                let _ = sink.abort().await;
                return Err(StoreError::new(
                    StoreErrorKind::HashMismatch,
                    format!(
                        "the uploaded bytes hash to {sha256}, not to the key's {expected}; nothing was stored"
                    ),
                ));
            }
        }
        let _guard = self.lock_for(key).lock().await;
        sink.close().await.map_err(|err| fs_error(key, err))?;
        self.write_sidecar(key, &blob_path, &meta_path, content_type, size, &sha256)
            .await?;
        Ok(StoredBlob { size, sha256 })
    }

    /// Makes the durable file at `staged` (on the data directory's file system) the blob at `key`:
    /// renamed over it under the key's lock, then its sidecar written. `size` and `sha256` must be
    /// what the file holds.
    async fn adopt(
        &self,
        key: &BlobKey,
        staged: &VPath,
        content_type: Option<String>,
        size: u64,
        sha256: &str,
    ) -> Result<(), StoreError> {
        let (blob_path, meta_path) = self.paths(key)?;
        self.make_parents(key, &[&blob_path, &meta_path]).await?;
        let _guard = self.lock_for(key).lock().await;
        self.inner
            .fs
            .rename(staged, &blob_path)
            .await
            .map_err(|err| fs_error(key, err))?;
        self.write_sidecar(key, &blob_path, &meta_path, content_type, size, sha256)
            .await
    }

    async fn make_parents(&self, key: &BlobKey, paths: &[&VPath]) -> Result<(), StoreError> {
        for path in paths {
            if let Some(parent) = path.parent() {
                let recursive = MakeDirOptions {
                    recursive: true,
                    ..MakeDirOptions::default()
                };
                self.inner
                    .fs
                    .make_dir(&parent, recursive)
                    .await
                    .map_err(|err| fs_error(key, err))?;
            }
        }
        Ok(())
    }

    /// Writes the sidecar of the blob just committed at `blob_path` (naming its inode). Called
    /// under the key's lock.
    async fn write_sidecar(
        &self,
        key: &BlobKey,
        blob_path: &VPath,
        meta_path: &VPath,
        content_type: Option<String>,
        size: u64,
        sha256: &str,
    ) -> Result<(), StoreError> {
        let fs = &self.inner.fs;
        let stat = fs.stat(blob_path).await.ok();
        let sidecar = Sidecar {
            content_type: content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            size,
            sha256: sha256.to_owned(),
            ino: stat.as_ref().and_then(|info| info.ino),
            mtime_ns: epoch_ns(stat.and_then(|info| info.mtime)),
        };
        let sidecar = serde_json::to_vec(&sidecar).map_err(internal)?;
        fs.write_file(meta_path, Bytes::from(sidecar), OpenOptions::write())
            .await
            .map_err(|err| fs_error(key, err))
    }

    /// Every blob whose key starts with `prefix` (`""`: all), sorted by key. Files being written
    /// (temporary siblings) are not blobs.
    pub async fn list_blobs(&self, prefix: &str) -> Result<Vec<ListedBlob>, StoreError> {
        let fs = &self.inner.fs;
        let entries = fs
            .read_dir(&self.inner.blobs, ReadDirOptions { recursive: true })
            .await
            .map_err(|err| internal(format!("cannot list the blobs: {err}")))?;
        let mut blobs = Vec::new();
        for entry in entries {
            if entry.file_type != FileType::File
                || !entry.relative.starts_with(prefix)
                || entry.relative.rsplit('/').next().is_some_and(is_temp_name)
            {
                continue;
            }
            match fs.stat(&entry.path).await {
                Ok(info) => blobs.push(ListedBlob {
                    key: entry.relative.clone(),
                    size: info.size,
                    modified: info.mtime,
                }),
                // Removed since the listing.
                Err(err) if err.kind() == ErrorKind::NotFound => {}
                Err(err) => return Err(internal(format!("cannot stat {}: {err}", entry.relative))),
            }
        }
        blobs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(blobs)
    }

    /// All the bytes of the blob at `key`.
    pub async fn read_all(&self, key: &BlobKey) -> Result<BlobStream, StoreError> {
        let (blob_path, _) = self.paths(key)?;
        let key = key.clone();
        let stream = self
            .inner
            .fs
            .read_stream(
                &blob_path,
                StreamOptions {
                    chunk_size: 1024 * 1024,
                    ..StreamOptions::default()
                },
            )
            .await
            .map_err(|err| read_error(&key, err))?;
        Ok(stream
            .map(move |chunk| chunk.map_err(|err| read_error(&key, err)))
            .boxed())
    }

    /// What the blob at `key` is (`NotFound` when there is none).
    pub async fn stat(&self, key: &BlobKey) -> Result<BlobInfo, StoreError> {
        let (blob_path, meta_path) = self.paths(key)?;
        let fs = &self.inner.fs;
        let info = fs
            .stat(&blob_path)
            .await
            .map_err(|err| read_error(key, err))?;
        if !info.is_file() {
            return Err(not_found(key));
        }
        let sidecar = match fs.read_file(&meta_path).await {
            Ok(bytes) => serde_json::from_slice::<Sidecar>(&bytes).ok(),
            Err(_) => None,
        };
        // A sidecar of another size, or of another inode and another modification time, belongs
        // to another upload (a crash between the two commits). A restored copy of the data dir
        // has new inodes but, copied with its times, the same modification times.
        let sidecar = sidecar.filter(|s| {
            s.size == info.size
                && (s.ino.is_none()
                    || s.ino == info.ino
                    || (s.mtime_ns.is_some() && s.mtime_ns == epoch_ns(info.mtime)))
        });
        Ok(BlobInfo {
            size: info.size,
            content_type: sidecar.as_ref().map_or_else(
                || DEFAULT_CONTENT_TYPE.to_owned(),
                |s| s.content_type.clone(),
            ),
            sha256: match key.content_hash() {
                Some(hash) => Some(hash.to_owned()),
                None => sidecar.map(|s| s.sha256),
            },
        })
    }

    /// Streams `length` bytes of the blob at `key` from `offset`.
    pub async fn read(
        &self,
        key: &BlobKey,
        offset: u64,
        length: u64,
    ) -> Result<ByteStream, StoreError> {
        let (blob_path, _) = self.paths(key)?;
        self.inner
            .fs
            .read_stream(
                &blob_path,
                StreamOptions {
                    offset,
                    length: Some(length),
                    ..StreamOptions::default()
                },
            )
            .await
            .map_err(|err| read_error(key, err))
    }

    fn signed(&self, method: &'static str, key: &BlobKey, origin: &str) -> SignedRequest {
        let options = &self.inner.options;
        let expires_at = unix_now() + options.url_ttl.as_secs();
        let sig = options.signer.sign(method, key, expires_at);
        SignedRequest {
            method,
            url: format!(
                "{origin}{}/{}?exp={expires_at}&sig={sig}",
                options.files_base,
                key.to_url_path()
            ),
            headers: BTreeMap::new(),
            expires_at,
        }
    }
}

#[async_trait]
impl BlobStore for DiskStore {
    async fn health(&self) -> Result<(), StoreError> {
        match self.inner.fs.stat(&self.inner.blobs).await {
            Ok(info) if info.is_dir() => Ok(()),
            Ok(_) => Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "the data directory's blobs/ is not a directory",
            )),
            Err(err) => Err(StoreError::new(
                StoreErrorKind::Unavailable,
                format!("the data directory is not reachable: {err}"),
            )),
        }
    }

    async fn stored_size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError> {
        match self.stat(key).await {
            Ok(info) => Ok(Some(info.size)),
            Err(err) if err.kind == StoreErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Writes (durably) and removes a probe file in `uploads/`: a full or read-only disk is not
    /// ready.
    async fn ready(&self) -> Result<(), StoreError> {
        self.health().await?;
        let probe = self.inner.uploads.join(".ready-probe").map_err(internal)?;
        let fs = &self.inner.fs;
        fs.write_file(&probe, Bytes::from_static(b"ready"), OpenOptions::write())
            .await
            .map_err(|err| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("the data directory does not take writes: {err}"),
                )
            })?;
        let _ = fs.remove(&probe, RemoveOptions::default()).await;
        Ok(())
    }

    async fn sign_upload(
        &self,
        key: &BlobKey,
        upload: &UploadIntent,
        origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        let max = self.inner.options.max_upload_bytes;
        if upload.content_length.is_some_and(|len| len > max) {
            return Err(too_large(max));
        }
        let mut signed = self.signed("PUT", key, origin);
        if let Some(content_type) = &upload.content_type {
            signed
                .headers
                .insert("Content-Type".to_owned(), content_type.clone());
        }
        Ok(signed)
    }

    async fn sign_download(
        &self,
        key: &BlobKey,
        origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        Ok(self.signed("GET", key, origin))
    }

    fn multipart(&self) -> Option<&dyn crate::MultipartStore> {
        Some(self)
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError> {
        let (blob_path, meta_path) = self.paths(key)?;
        let fs = &self.inner.fs;
        let _guard = self.lock_for(key).lock().await;
        match fs.stat(&blob_path).await {
            Ok(info) if info.is_file() => {}
            // A folder of other keys, or nothing: no blob at this key.
            Ok(_) => return Ok(()),
            Err(err) if is_absent(&err) => return Ok(()),
            Err(err) => return Err(fs_error(key, err)),
        }
        let force = RemoveOptions {
            force: true,
            ..RemoveOptions::default()
        };
        for path in [&blob_path, &meta_path] {
            fs.remove(path, force)
                .await
                .map_err(|err| fs_error(key, err))?;
        }
        Ok(())
    }
}

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn too_large(max: u64) -> StoreError {
    StoreError::new(
        StoreErrorKind::TooLarge,
        format!("the upload is larger than this server's limit of {max} bytes; nothing was stored"),
    )
}

fn not_found(key: &BlobKey) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotFound,
        format!("no blob at key {key:?}", key = key.as_str()),
    )
}

fn internal(err: impl std::fmt::Display) -> StoreError {
    StoreError::new(StoreErrorKind::Internal, err.to_string())
}

/// A missing path, or a file where a folder of the path should be (`ENOTDIR` is `BadResource`).
fn is_absent(err: &FsError) -> bool {
    matches!(err.kind(), ErrorKind::NotFound | ErrorKind::BadResource)
}

/// Maps an error of a read of `key`: anything that means "no blob there" is `NotFound`.
fn read_error(key: &BlobKey, err: FsError) -> StoreError {
    if is_absent(&err) {
        not_found(key)
    } else {
        fs_error(key, err)
    }
}

/// Maps a file system error on `key` to what the client should hear.
fn fs_error(key: &BlobKey, err: FsError) -> StoreError {
    match err.kind() {
        ErrorKind::NotFound => not_found(key),
        ErrorKind::AlreadyExists | ErrorKind::BadResource | ErrorKind::DirectoryNotEmpty => {
            StoreError::new(
                StoreErrorKind::Conflict,
                format!(
                    "the key {:?} collides with another key (one names a folder of the other); use keys that are not prefixes of each other by whole segments",
                    key.as_str()
                ),
            )
        }
        ErrorKind::StorageFull => StoreError::new(
            StoreErrorKind::Unavailable,
            "the server's disk is full; nothing was stored",
        ),
        _ => {
            tracing::error!(key = key.as_str(), error = %err, "storage error");
            internal(format!("storage error: {err}"))
        }
    }
}
