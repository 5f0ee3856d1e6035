//! Content-addressed blobs of one store over any [`FileSystem`] (DESIGN §4, §5).
//!
//! Layout under the backend's root:
//!
//! - `/livestore-filesync-files/{storeId}/{sha256hex}`: the blobs; their names are pure hashes, so a
//!   listing (the orphan sweep) can tell them from everything else;
//! - `/livestore-filesync-files/{storeId}/.meta/{sha256hex}.json`: the MIME sidecar, `{"mime": …}`;
//! - `/livestore-filesync-files/{storeId}/.tmp-…`: a write in progress (ignored by [`LocalFileStorage::list`]).
//!
//! Writes stream into a temporary file while hashing, then the temporary file is renamed to its hash:
//! a blob is visible only once complete and verified, and no file passes whole through memory.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use fs_core::{
    random_name, ByteStream, ErrorKind, FileSystem, FileType, FsError, FsResult, MakeDirOptions,
    OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions, SinkMode, SinkOptions, StreamOptions,
    VPath,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::model::{sanitize_store_id, LOCAL_ROOT};
use crate::services::hash::{hash_stream, ContentHash, Hasher};

#[cfg(test)]
mod tests;

/// Name of the sidecar directory inside a store's directory.
const META_DIR: &str = ".meta";
/// Prefix of temporary files inside a store's directory.
const TMP_PREFIX: &str = ".tmp-";
/// Prefix of partial downloads inside a store's directory.
const PART_PREFIX: &str = ".part-";

/// A blob that was stored: its hash and size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFile {
    /// The SHA-256 of the content, which is also its name.
    pub hash: ContentHash,
    /// The size in bytes.
    pub size: u64,
}

#[derive(Serialize, Deserialize)]
struct Sidecar {
    mime: String,
}

/// Opens a stored file as a `Blob` the browser reads from disk (wasm32): given the file's path,
/// answers a Blob of its current bytes. Uploads then send the Blob itself, so the bytes never pass
/// through wasm memory or the JS heap.
#[cfg(target_arch = "wasm32")]
pub type BlobOpener =
    Arc<dyn Fn(VPath) -> fs_core::MaybeSendBoxFuture<'static, FsResult<web_sys::Blob>>>;

/// Appends a download's body to its partial file outside the engine (wasm32: the package's worker,
/// with OPFS sync access handles), hashing the whole partial file on the way, so the body's chunks
/// never enter wasm memory and the engine's thread does not hash them. See [`SaveChunks`].
#[cfg(target_arch = "wasm32")]
pub type ChunkSaver = Arc<
    dyn Fn(
        SaveChunks,
    ) -> fs_core::MaybeSendBoxFuture<'static, Result<SavedChunks, SaveChunksError>>,
>;

/// One body for a [`ChunkSaver`] (wasm32).
#[cfg(target_arch = "wasm32")]
pub struct SaveChunks {
    /// The partial file, a path of the storage's transfer file system (its directory exists).
    pub path: VPath,
    /// Where the body starts. `0`: the partial file is created or emptied first; otherwise the
    /// partial file must hold exactly `start` bytes (they are hashed first), and the body follows
    /// them.
    pub start: u64,
    /// The body.
    pub chunks: crate::services::remote_storage::JsChunks,
    /// Called with the partial file's size as chunks arrive.
    pub progress: Box<dyn Fn(u64)>,
}

/// What a [`ChunkSaver`] wrote (wasm32): the partial file's size and the SHA-256 of all its bytes.
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedChunks {
    /// The partial file's size.
    pub size: u64,
    /// The SHA-256 of the partial file's bytes.
    pub hash: ContentHash,
}

/// Why a [`ChunkSaver`] stopped (wasm32). The bytes written so far stay in the partial file in
/// either case, for a resume.
#[cfg(target_arch = "wasm32")]
#[derive(Debug)]
pub enum SaveChunksError {
    /// The body failed (the connection broke or stalled).
    Body(crate::services::remote_storage::RemoteError),
    /// Reading or writing the partial file failed.
    Local(FsError),
}

#[cfg(target_arch = "wasm32")]
impl std::fmt::Display for SaveChunksError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveChunksError::Body(e) => e.fmt(f),
            SaveChunksError::Local(e) => e.fmt(f),
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl std::error::Error for SaveChunksError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SaveChunksError::Body(e) => Some(e),
            SaveChunksError::Local(e) => Some(e),
        }
    }
}

/// Content-addressed storage of one store's blobs on a [`FileSystem`].
#[derive(Clone)]
pub struct LocalFileStorage {
    fs: Arc<dyn FileSystem>,
    /// Where partial downloads are written, renamed and removed (`fs` unless
    /// [`LocalFileStorage::with_transfer_fs`] set another view of the same storage).
    transfer_fs: Arc<dyn FileSystem>,
    dir: VPath,
    web_crypto: bool,
    #[cfg(target_arch = "wasm32")]
    blob_opener: Option<BlobOpener>,
    #[cfg(target_arch = "wasm32")]
    chunk_saver: Option<ChunkSaver>,
}

/// The directory name of a store: the sanitized id, with names a path cannot hold (empty, `.`, `..`)
/// replaced by underscores.
fn store_dir_name(store_id: &str) -> String {
    let name = sanitize_store_id(store_id);
    match name.as_str() {
        "" => "_".to_owned(),
        "." | ".." => "_".repeat(name.len()),
        _ => name,
    }
}

impl LocalFileStorage {
    /// Storage of `store_id`'s blobs on `fs`. The store id is sanitized as in DESIGN §4; an id whose
    /// sanitized form is too long for a path segment is `BadArgument`.
    pub fn new(fs: Arc<dyn FileSystem>, store_id: &str) -> FsResult<Self> {
        let dir = VPath::root()
            .join(LOCAL_ROOT)?
            .join(&store_dir_name(store_id))
            .map_err(|e| e.in_method("LocalFileStorage.new"))?;
        Ok(LocalFileStorage {
            transfer_fs: fs.clone(),
            fs,
            dir,
            web_crypto: false,
            #[cfg(target_arch = "wasm32")]
            blob_opener: None,
            #[cfg(target_arch = "wasm32")]
            chunk_saver: None,
        })
    }

    /// Writes partial downloads through `fs`: another view of the same storage (the same files
    /// under the same paths), for example OPFS through a dedicated worker's sync access handles
    /// while everything else uses OPFS on the page. Where `fs` has random-access writes, a
    /// partial download is written straight into its file, so the bytes that arrived survive a
    /// reload or a crash and the download resumes after them.
    pub fn with_transfer_fs(mut self, fs: Arc<dyn FileSystem>) -> Self {
        self.transfer_fs = fs;
        self
    }

    /// Lets uploads send the stored file as a `Blob` opened by `opener` (wasm32), instead of
    /// chunks read into memory: the browser streams it from disk.
    #[cfg(target_arch = "wasm32")]
    pub fn with_blob_opener(mut self, opener: BlobOpener) -> Self {
        self.blob_opener = Some(opener);
        self
    }

    /// Lets downloads whose body arrives as JavaScript arrays be written (and hashed) by `saver`
    /// (wasm32), in the transfer file system's partial files.
    #[cfg(target_arch = "wasm32")]
    pub fn with_chunk_saver(mut self, saver: ChunkSaver) -> Self {
        self.chunk_saver = Some(saver);
        self
    }

    /// The [`ChunkSaver`], when one was given (wasm32).
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn chunk_saver(&self) -> Option<&ChunkSaver> {
        self.chunk_saver.as_ref()
    }

    /// The partial download's path, its directory created (for a [`ChunkSaver`]).
    #[cfg(target_arch = "wasm32")]
    pub(crate) async fn prepare_partial(&self, hash: &ContentHash) -> FsResult<VPath> {
        Self::ensure_dir(self.transfer_fs.as_ref(), &self.dir).await?;
        Ok(self.partial_path(hash))
    }

    /// Opens the stored blob `hash` as a `Blob` (wasm32), when a [`BlobOpener`] was given.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn blob_of(
        &self,
        hash: &ContentHash,
    ) -> Option<crate::services::remote_storage::OpenBlob> {
        let opener = self.blob_opener.clone()?;
        let path = self.path_for(hash);
        Some(Arc::new(move || opener(path.clone())))
    }

    /// Lets in-memory saves be hashed with WebCrypto (wasm32, up to 8 MiB). Only for an engine
    /// whose tasks the JavaScript event loop drives ([`crate::Runtime::js_event_loop`]): it awaits
    /// a JavaScript Promise.
    pub fn with_web_crypto(mut self, on: bool) -> Self {
        self.web_crypto = on;
        self
    }

    /// The store's directory, `/livestore-filesync-files/{storeId}`.
    pub fn dir(&self) -> &VPath {
        &self.dir
    }

    /// The file system the blobs live on.
    pub fn fs(&self) -> &Arc<dyn FileSystem> {
        &self.fs
    }

    /// The path of a blob: `/livestore-filesync-files/{storeId}/{sha256hex}`.
    pub fn path_for(&self, hash: &ContentHash) -> VPath {
        // A hash is 64 hex characters, always a valid segment.
        self.dir
            .join(&hash.to_hex())
            .unwrap_or_else(|_| self.dir.clone())
    }

    fn meta_dir(&self) -> FsResult<VPath> {
        self.dir.join(META_DIR)
    }

    fn sidecar_path(&self, hash: &ContentHash) -> FsResult<VPath> {
        self.meta_dir()?.join(&format!("{hash}.json"))
    }

    async fn ensure_dir(fs: &dyn FileSystem, dir: &VPath) -> FsResult<()> {
        let recursive = MakeDirOptions {
            recursive: true,
            mode: None,
        };
        fs.make_dir(dir, recursive).await
    }

    /// Streams `stream` into the store. The content is hashed while it is written to a temporary file,
    /// which is renamed to its hash once complete. When `expected` is given and the content hashes to
    /// something else, nothing is kept and the error is `InvalidData`. Content already stored is
    /// replaced by the same bytes (atomically). A `mime` given is recorded in the sidecar.
    pub async fn write_stream(
        &self,
        mut stream: ByteStream,
        expected: Option<&ContentHash>,
        mime: Option<&str>,
    ) -> FsResult<StoredFile> {
        Self::ensure_dir(self.fs.as_ref(), &self.dir).await?;
        let tmp = self.dir.join(&random_name(Some(TMP_PREFIX)))?;
        let mut out = Writer::open(self.fs.as_ref(), &tmp, SinkMode::CreateNew).await?;
        let mut hasher = Hasher::new();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => {
                    out.discard(self.fs.as_ref(), &tmp).await;
                    return Err(e);
                }
            };
            hasher.update(&chunk);
            if let Err(e) = out.write(chunk).await {
                out.discard(self.fs.as_ref(), &tmp).await;
                return Err(e);
            }
        }
        let size = hasher.bytes_hashed();
        let hash = hasher.finalize();
        if let Some(want) = expected {
            if *want != hash {
                out.discard(self.fs.as_ref(), &tmp).await;
                return Err(FsError::new(
                    ErrorKind::InvalidData,
                    "LocalFileStorage.writeStream",
                    format!("content hash mismatch: expected {want}, got {hash}"),
                ));
            }
        }
        if let Err(e) = out.finish().await {
            let _ = self.fs.remove(&tmp, force()).await;
            return Err(e);
        }
        let target = self.path_for(&hash);
        // Content already stored is replaced by the same bytes: the blob then carries a fresh
        // modification time, which keeps it out of an orphan sweep racing with this save.
        if let Err(e) = self.fs.rename(&tmp, &target).await {
            let _ = self.fs.remove(&tmp, force()).await;
            return Err(e);
        }
        if let Some(mime) = mime {
            self.write_mime(&hash, mime).await?;
        }
        Ok(StoredFile { hash, size })
    }

    /// [`LocalFileStorage::write_stream`] for bytes already in memory (no expected hash). Where
    /// whole-file writes are atomic ([`fs_core::Capabilities::atomic_write_file`]: OPFS,
    /// `MemoryFs`) the bytes are hashed first (WebCrypto where there is one) and written in place.
    pub async fn write_bytes(&self, data: Bytes, mime: Option<&str>) -> FsResult<StoredFile> {
        let caps = self.fs.capabilities();
        if caps.random_access_write && !caps.atomic_write_file {
            let stream: ByteStream = Box::pin(futures::stream::iter([Ok(data)]));
            return self.write_stream(stream, None, mime).await;
        }
        let hash = crate::services::hash::digest(&data, self.web_crypto).await;
        let size = data.len() as u64;
        Self::ensure_dir(self.fs.as_ref(), &self.dir).await?;
        if caps.atomic_write_file {
            // One whole-file write in place (OPFS: a writable stream, committed on close): no
            // temporary file, no rename.
            self.fs
                .write_file(&self.path_for(&hash), data, OpenOptions::write())
                .await?;
            if let Some(mime) = mime {
                self.write_mime(&hash, mime).await?;
            }
            return Ok(StoredFile { hash, size });
        }
        // Without file handles (OPFS on the page) one whole-file write of the temporary file is
        // fewer calls than a sink, which writes through a hidden temporary file of its own.
        let tmp = self.dir.join(&random_name(Some(TMP_PREFIX)))?;
        if let Err(e) = self.fs.write_file(&tmp, data, OpenOptions::write()).await {
            let _ = self.fs.remove(&tmp, force()).await;
            return Err(e);
        }
        if let Err(e) = self.fs.rename(&tmp, &self.path_for(&hash)).await {
            let _ = self.fs.remove(&tmp, force()).await;
            return Err(e);
        }
        if let Some(mime) = mime {
            self.write_mime(&hash, mime).await?;
        }
        Ok(StoredFile { hash, size })
    }

    async fn write_mime(&self, hash: &ContentHash, mime: &str) -> FsResult<()> {
        let meta = self.meta_dir()?;
        Self::ensure_dir(self.fs.as_ref(), &meta).await?;
        let json = serde_json::to_vec(&Sidecar {
            mime: mime.to_owned(),
        })
        .map_err(|e| {
            FsError::new(
                ErrorKind::InvalidData,
                "LocalFileStorage.writeMime",
                e.to_string(),
            )
        })?;
        // A whole-file write replaces atomically on every backend (and costs fewer calls than a sink).
        self.fs
            .write_file(
                &self.sidecar_path(hash)?,
                Bytes::from(json),
                OpenOptions::write(),
            )
            .await
    }

    /// The MIME type recorded for a blob: our sidecar (`.meta/{hash}.json`), else the one
    /// `@livestore-filesync/core` 0.8.0 writes next to the blob (`{hash}.meta.json`, its `type`),
    /// else `None`.
    pub async fn mime_of(&self, hash: &ContentHash) -> FsResult<Option<String>> {
        let path = self.sidecar_path(hash)?;
        if let Some(data) = self.read_if_there(&path).await? {
            let sidecar: Sidecar = serde_json::from_slice(&data).map_err(|e| {
                FsError::new(
                    ErrorKind::InvalidData,
                    "LocalFileStorage.mimeOf",
                    e.to_string(),
                )
                .with_path(&path)
            })?;
            return Ok(Some(sidecar.mime));
        }
        // 0.8.0's sidecar: a malformed one is the other package's business, not an error here.
        let theirs = self.their_sidecar_path(hash)?;
        let Some(data) = self.read_if_there(&theirs).await? else {
            return Ok(None);
        };
        Ok(serde_json::from_slice::<serde_json::Value>(&data)
            .ok()
            .and_then(|v| v.get("type")?.as_str().map(str::to_owned))
            .filter(|m| !m.is_empty()))
    }

    /// A whole small file, `None` when it does not exist.
    async fn read_if_there(&self, path: &VPath) -> FsResult<Option<Bytes>> {
        match self.fs.read_file(path).await {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Streams a blob (a missing blob is `NotFound`).
    pub async fn read_stream(
        &self,
        hash: &ContentHash,
        options: StreamOptions,
    ) -> FsResult<ByteStream> {
        self.fs.read_stream(&self.path_for(hash), options).await
    }

    /// The blob's size when it is stored, `None` when it is not.
    pub async fn exists(&self, hash: &ContentHash) -> FsResult<Option<u64>> {
        match self.fs.stat(&self.path_for(hash)).await {
            Ok(info) if info.file_type == FileType::File => Ok(Some(info.size)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes a blob and its sidecar; a missing one is not an error.
    pub async fn remove(&self, hash: &ContentHash) -> FsResult<()> {
        self.fs.remove(&self.path_for(hash), force()).await?;
        self.fs.remove(&self.sidecar_path(hash)?, force()).await?;
        // The sidecar `@livestore-filesync/core` 0.8.0 left beside the blob (an upgraded app's).
        self.fs
            .remove(&self.their_sidecar_path(hash)?, force())
            .await
    }

    /// Where 0.8.0 keeps a blob's metadata: `{hash}.meta.json` beside it.
    fn their_sidecar_path(&self, hash: &ContentHash) -> FsResult<VPath> {
        self.dir.join(&format!("{hash}.meta.json"))
    }

    /// Every stored blob with its size, sorted by hash. Temporary files, sidecars and any name that
    /// is not a hash are left out.
    pub async fn list(&self) -> FsResult<Vec<(ContentHash, u64)>> {
        let entries = match self.fs.read_dir(&self.dir, ReadDirOptions::default()).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            if entry.file_type != FileType::File {
                continue;
            }
            let Ok(hash) = ContentHash::parse(&entry.relative) else {
                continue;
            };
            match self.fs.stat(&entry.path).await {
                Ok(info) => out.push((hash, info.size)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes temporary files left by writes that never finished (a crash between writing and
    /// renaming) and returns how many. Call it only while no write of this store is in progress (at
    /// startup): it cannot tell a stale temporary file from one being written.
    pub async fn remove_stale_temp_files(&self) -> FsResult<usize> {
        let entries = match self.fs.read_dir(&self.dir, ReadDirOptions::default()).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            if entry.file_type == FileType::File && entry.relative.starts_with(TMP_PREFIX) {
                self.fs.remove(&entry.path, force()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The path of a blob's partial download (kept across restarts so a download can resume).
    pub fn partial_path(&self, hash: &ContentHash) -> VPath {
        self.dir
            .join(&format!("{PART_PREFIX}{hash}"))
            .expect("a prefix and 64 hex digits form a valid name")
    }

    /// The size of a blob's partial download, `None` when there is none.
    pub async fn partial_size(&self, hash: &ContentHash) -> FsResult<Option<u64>> {
        match self.transfer_fs.stat(&self.partial_path(hash)).await {
            Ok(info) if info.file_type == FileType::File => Ok(Some(info.size)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A hasher that has already consumed the partial download's bytes (for a resumed download).
    pub async fn hash_partial(&self, hash: &ContentHash) -> FsResult<Hasher> {
        let mut stream = self
            .transfer_fs
            .read_stream(&self.partial_path(hash), StreamOptions::default())
            .await?;
        let mut hasher = Hasher::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk?);
        }
        Ok(hasher)
    }

    /// A writer into the partial download: `append` continues after its bytes, otherwise it
    /// starts over. With random-access writes (see [`LocalFileStorage::with_transfer_fs`]) the
    /// bytes go into the partial file as they come (gathered into writes of up to 1 MiB), so they
    /// survive an interruption without a `close`; otherwise through an atomic sink, where what is
    /// written becomes part of the partial file at `close`.
    pub async fn partial_writer(
        &self,
        hash: &ContentHash,
        append: bool,
    ) -> FsResult<PartialWriter> {
        let fs = self.transfer_fs.as_ref();
        Self::ensure_dir(fs, &self.dir).await?;
        let mode = if append {
            SinkMode::Append
        } else {
            SinkMode::Replace
        };
        Ok(PartialWriter {
            writer: Writer::open(fs, &self.partial_path(hash), mode).await?,
            pending: BytesMut::new(),
        })
    }

    /// Makes a complete, verified partial download the blob (a rename), recording `mime` if given.
    /// The caller has checked that its bytes hash to `hash`. When a blob that hashes to `hash` is
    /// already there (a save of the same content finished during the download), the partial goes
    /// and the blob stays as it is: replacing it would change nothing but break what reads it now
    /// (a browser `File` of the old one, behind an object URL, fails once its file is replaced). A
    /// blob there that is not that content (truncated, damaged) is replaced.
    pub async fn commit_partial(&self, hash: &ContentHash, mime: Option<&str>) -> FsResult<()> {
        let target = self.path_for(hash);
        if self.holds_intact(hash).await? {
            self.transfer_fs
                .remove(&self.partial_path(hash), force())
                .await?;
        } else {
            self.transfer_fs
                .rename(&self.partial_path(hash), &target)
                .await?;
        }
        if let Some(mime) = mime {
            self.write_mime(hash, mime).await?;
        }
        Ok(())
    }

    /// Whether the blob of `hash` is there, of the partial's size, and hashes to `hash` (read
    /// only when the sizes match: a race with a save of the same content, rare).
    async fn holds_intact(&self, hash: &ContentHash) -> FsResult<bool> {
        let size = |fs: &Arc<dyn FileSystem>, path: VPath| {
            let fs = fs.clone();
            async move {
                match fs.stat(&path).await {
                    Ok(info) => Ok(Some(info.size)),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
        };
        let blob = size(&self.transfer_fs, self.path_for(hash)).await?;
        let partial = size(&self.transfer_fs, self.partial_path(hash)).await?;
        if blob.is_none() || blob != partial {
            return Ok(false);
        }
        let stream = self
            .transfer_fs
            .read_stream(&self.path_for(hash), StreamOptions::default())
            .await?;
        Ok(hash_stream(stream).await? == *hash)
    }

    /// Removes a partial download; a missing one is not an error.
    pub async fn remove_partial(&self, hash: &ContentHash) -> FsResult<()> {
        self.transfer_fs
            .remove(&self.partial_path(hash), force())
            .await
    }

    /// True when the stored blob still hashes to its name (re-hashed through a stream); a missing blob
    /// is `NotFound`.
    pub async fn verify(&self, hash: &ContentHash) -> FsResult<bool> {
        let stream = self.read_stream(hash, StreamOptions::default()).await?;
        Ok(hash_stream(stream).await? == *hash)
    }
}

/// The size a [`PartialWriter`] gathers before writing to a file (fewer, larger writes: through a
/// worker bridge each write is a round trip).
const PARTIAL_WRITE_BYTES: usize = 1 << 20;

/// Where a partial download's bytes go: straight into the partial file (random-access writes,
/// gathered into writes of up to 1 MiB), or into an atomic sink committed at close.
pub struct PartialWriter {
    writer: Writer,
    /// Bytes gathered for the file's next write.
    pending: BytesMut,
}

impl PartialWriter {
    /// Whether bytes go straight into the partial file (and so survive without a `close`).
    pub fn writes_in_place(&self) -> bool {
        matches!(self.writer, Writer::File(_))
    }

    /// Writes `chunk` (a file writer gathers up to 1 MiB first).
    pub async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        if !self.writes_in_place() {
            return self.writer.write(chunk).await;
        }
        self.pending.extend_from_slice(&chunk);
        if self.pending.len() < PARTIAL_WRITE_BYTES {
            return Ok(());
        }
        let gathered = self.pending.split().freeze();
        self.writer.write(gathered).await
    }

    /// Keeps everything written (durably, as far as the backend is): the partial file then holds it.
    pub async fn close(mut self) -> FsResult<()> {
        if !self.pending.is_empty() {
            let rest = self.pending.split().freeze();
            self.writer.write(rest).await?;
        }
        self.writer.finish().await
    }

    /// Stops writing. A sink drops what it was given; a file keeps what it already wrote (the
    /// caller removes the partial file when none of it is wanted): its bytes are still a prefix
    /// of the download, which a resume re-hashes.
    pub async fn abort(self) -> FsResult<()> {
        self.writer.stop().await
    }
}

/// A file being written: a file handle where the backend has random-access writes (native disks,
/// OPFS in a worker: bytes land as they are written, one fsync at the end), otherwise an atomic
/// sink (OPFS on the page: nothing lands before `finish`).
enum Writer {
    File(Box<dyn fs_core::File>),
    Sink(Box<dyn fs_core::WriteSink>),
}

impl Writer {
    /// Opens `path` on `fs`: `mode` says whether it must be new, is replaced, or is appended to.
    async fn open(fs: &dyn FileSystem, path: &VPath, mode: SinkMode) -> FsResult<Writer> {
        if fs.capabilities().random_access_write {
            let flag = match mode {
                SinkMode::CreateNew => OpenFlag::WriteExclusive,
                SinkMode::Replace => OpenFlag::Write,
                SinkMode::Append => OpenFlag::Append,
            };
            Ok(Writer::File(fs.open(path, OpenOptions::flag(flag)).await?))
        } else {
            let options = SinkOptions {
                mode,
                permissions: None,
            };
            Ok(Writer::Sink(fs.write_sink(path, options).await?))
        }
    }

    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        match self {
            Writer::File(f) => f.write_all(&chunk).await,
            Writer::Sink(s) => s.write(chunk).await,
        }
    }

    /// Makes the written bytes durable (as far as the backend is) and closes.
    async fn finish(self) -> FsResult<()> {
        match self {
            Writer::File(mut f) => {
                f.sync().await?;
                f.close().await
            }
            Writer::Sink(s) => s.close().await,
        }
    }

    /// Stops writing: a file keeps what reached it, a sink drops everything.
    async fn stop(self) -> FsResult<()> {
        match self {
            Writer::File(f) => f.close().await,
            Writer::Sink(s) => s.abort().await,
        }
    }

    /// Drops a temporary file being written at `tmp`: nothing stays behind.
    async fn discard(self, fs: &dyn FileSystem, tmp: &VPath) {
        let in_place = matches!(self, Writer::File(_));
        let _ = self.stop().await;
        if in_place {
            let _ = fs.remove(tmp, force()).await;
        }
    }
}

fn force() -> RemoveOptions {
    RemoveOptions {
        recursive: false,
        force: true,
    }
}
