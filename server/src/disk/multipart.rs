//! Resumable uploads of the [`DiskStore`]: parts written at their offsets into one staging file
//! under `uploads/{uploadId}/`, hashed in order as they become contiguous.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use fs_core::{
    FileSystem, FsError, OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions,
    StreamOptions, VPath,
};
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::{internal, is_absent, to_hex, too_large, unix_now, DiskStore};
use crate::multipart::{
    CompletedPart, MultipartIntent, MultipartStore, MultipartUpload, PartIntent, StoredPart,
    MAX_PART_NUMBER,
};
use crate::signature::SignatureError;
use crate::store::{SignedRequest, StoreError, StoreErrorKind};
use crate::BlobKey;

const MANIFEST: &str = "manifest.json";
/// The staging file every part is written into.
const DATA: &str = "data";
/// Bytes of a part gathered before one write to the staging file.
const WRITE_BATCH: usize = 1024 * 1024;

/// The manifest of a staged upload.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    key: String,
    content_type: Option<String>,
    content_length: u64,
    part_size: u64,
    created_at: u64,
}

impl Manifest {
    /// How many parts the upload has (an empty upload: one empty part).
    fn part_count(&self) -> u32 {
        self.content_length.div_ceil(self.part_size).max(1) as u32
    }

    /// Where part `number` (from 1) starts and how long it is.
    fn part(&self, number: u32) -> (u64, u64) {
        let offset = u64::from(number - 1) * self.part_size;
        (
            offset,
            self.part_size
                .min(self.content_length.saturating_sub(offset)),
        )
    }
}

/// How far an upload's staging file is hashed, and which of its parts are durable or being
/// written; shared by the requests of one upload in this process.
#[derive(Debug)]
pub(super) struct Progress {
    state: Mutex<ProgressState>,
    /// Woken whenever the hasher is put back.
    returned: tokio::sync::Notify,
}

#[derive(Debug)]
struct ProgressState {
    /// The SHA-256 of the file's first `hashed_to` bytes; `None` while a request hashes further.
    hasher: Option<Sha256>,
    hashed_to: u64,
    /// Bumped when bytes already hashed are written again: a hasher taken out before is stale.
    generation: u64,
    /// Parts whose bytes are durable in the staging file (their markers exist).
    durable: BTreeSet<u32>,
    /// Parts being written now.
    writing: HashSet<u32>,
}

impl ProgressState {
    /// Starts the hash again from the beginning of the file.
    fn hash_again(&mut self) {
        self.hasher = Some(Sha256::new());
        self.hashed_to = 0;
    }

    /// Bytes already hashed (or being hashed) are about to change: the hash starts again, and a
    /// hasher a request holds now is stale when it comes back.
    fn invalidate(&mut self) {
        self.generation += 1;
        if self.hasher.is_some() {
            self.hash_again();
        }
    }
}

/// Part `number` being written: released when dropped.
struct WritingClaim {
    progress: Arc<Progress>,
    number: u32,
}

impl Drop for WritingClaim {
    fn drop(&mut self) {
        self.progress
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .writing
            .remove(&self.number);
    }
}

fn no_upload(upload_id: &str) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotFound,
        format!("no resumable upload {upload_id:?} for this key (finished, aborted, expired or never created); start a new one"),
    )
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::BadRequest, message)
}

fn conflict(message: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::Conflict, message)
}

/// `true` for an id this store could have made: 32 lowercase hex digits.
fn valid_upload_id(id: &str) -> bool {
    is_hex(id, 32)
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Refuses part numbers outside `1..=MAX_PART_NUMBER`.
pub(crate) fn check_part_number(part_number: u32) -> Result<(), StoreError> {
    if (1..=MAX_PART_NUMBER).contains(&part_number) {
        Ok(())
    } else {
        Err(bad(format!(
            "part number {part_number} is outside 1..={MAX_PART_NUMBER}"
        )))
    }
}

/// The part number and tag of a part marker's name (`00002-{32 hex}`).
fn parse_marker(name: &str) -> Option<(u32, &str)> {
    let (number, tag) = name.split_once('-')?;
    if number.len() != 5 || !number.bytes().all(|b| b.is_ascii_digit()) || !is_hex(tag, 32) {
        return None;
    }
    let number: u32 = number.parse().ok()?;
    (1..=MAX_PART_NUMBER)
        .contains(&number)
        .then_some((number, tag))
}

fn storage(err: FsError) -> StoreError {
    if matches!(err.kind(), fs_core::ErrorKind::StorageFull) {
        StoreError::new(StoreErrorKind::Unavailable, "the server's disk is full")
    } else {
        tracing::error!(error = %err, "storage error in a resumable upload");
        internal(format!("storage error: {err}"))
    }
}

impl DiskStore {
    fn upload_dir(&self, upload_id: &str) -> Result<VPath, StoreError> {
        if !valid_upload_id(upload_id) {
            return Err(no_upload(upload_id));
        }
        self.inner.uploads.join(upload_id).map_err(internal)
    }

    async fn manifest(&self, dir: &VPath, upload_id: &str) -> Result<Manifest, StoreError> {
        let path = dir.join(MANIFEST).map_err(internal)?;
        match self.inner.fs.read_file(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(internal),
            Err(err) if is_absent(&err) => Err(no_upload(upload_id)),
            Err(err) => Err(storage(err)),
        }
    }

    /// The manifest of `upload_id` when it belongs to `key` (`NotFound` otherwise).
    async fn upload_of(
        &self,
        key: &BlobKey,
        upload_id: &str,
    ) -> Result<(VPath, Manifest), StoreError> {
        let dir = self.upload_dir(upload_id)?;
        let manifest = self.manifest(&dir, upload_id).await?;
        if manifest.key != key.as_str() {
            return Err(no_upload(upload_id));
        }
        Ok((dir, manifest))
    }

    /// The markers of the upload in `dir`: each durable part's number and tag, with the marker's
    /// path.
    async fn markers(&self, dir: &VPath) -> Result<BTreeMap<u32, (String, VPath)>, StoreError> {
        let entries = self
            .inner
            .fs
            .read_dir(dir, ReadDirOptions::default())
            .await
            .map_err(storage)?;
        let mut markers = BTreeMap::new();
        for entry in entries {
            if let Some((number, tag)) = parse_marker(&entry.relative) {
                markers.insert(number, (tag.to_owned(), entry.path.clone()));
            }
        }
        Ok(markers)
    }

    /// The progress of `upload_id`: the one this process keeps, or a new one from its markers
    /// (after a restart: nothing hashed yet).
    async fn progress_of(&self, dir: &VPath, upload_id: &str) -> Result<Arc<Progress>, StoreError> {
        if let Some(progress) = self.known_progress(upload_id) {
            return Ok(progress);
        }
        let durable = self.markers(dir).await?.into_keys().collect();
        let fresh = Arc::new(Progress {
            state: Mutex::new(ProgressState {
                hasher: Some(Sha256::new()),
                hashed_to: 0,
                generation: 0,
                durable,
                writing: HashSet::new(),
            }),
            returned: tokio::sync::Notify::new(),
        });
        let mut all = self
            .inner
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(all.entry(upload_id.to_owned()).or_insert(fresh).clone())
    }

    fn known_progress(&self, upload_id: &str) -> Option<Arc<Progress>> {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(upload_id)
            .cloned()
    }

    fn forget_progress(&self, upload_id: &str) {
        self.inner
            .progress
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(upload_id);
    }

    /// Hashes the staging file further while the next part in order is durable and not being
    /// written. Returns at once when another request holds the hasher (it goes on as far as it
    /// can).
    async fn catch_up(
        &self,
        dir: &VPath,
        manifest: &Manifest,
        progress: &Progress,
    ) -> Result<(), StoreError> {
        let data = dir.join(DATA).map_err(internal)?;
        loop {
            let (mut hasher, offset, len, generation) = {
                let mut state = progress
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if state.hashed_to >= manifest.content_length {
                    return Ok(());
                }
                let next = (state.hashed_to / manifest.part_size) as u32 + 1;
                if !state.durable.contains(&next) || state.writing.contains(&next) {
                    return Ok(());
                }
                let Some(hasher) = state.hasher.take() else {
                    return Ok(());
                };
                let (offset, len) = manifest.part(next);
                (hasher, offset, len, state.generation)
            };
            let read = self.hash_range(&data, offset, len, &mut hasher).await;
            {
                let mut state = progress
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match &read {
                    Ok(()) if state.generation == generation => {
                        state.hasher = Some(hasher);
                        state.hashed_to = offset + len;
                    }
                    // Bytes were written again meanwhile (this hasher is stale), or the read
                    // failed: start again from the beginning.
                    _ => state.hash_again(),
                }
            }
            progress.returned.notify_waiters();
            read?;
        }
    }

    /// Feeds `len` bytes of `path` from `offset` to `hasher`.
    async fn hash_range(
        &self,
        path: &VPath,
        offset: u64,
        len: u64,
        hasher: &mut Sha256,
    ) -> Result<(), StoreError> {
        let options = StreamOptions {
            chunk_size: WRITE_BATCH,
            offset,
            length: Some(len),
        };
        let mut stream = self
            .inner
            .fs
            .read_stream(path, options)
            .await
            .map_err(storage)?;
        let mut read = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(storage)?;
            read += chunk.len() as u64;
            hasher.update(&chunk);
        }
        if read != len {
            return Err(internal(format!(
                "the staging file holds {read} bytes at {offset}, not {len}"
            )));
        }
        Ok(())
    }

    /// The SHA-256 of the whole staging file: waits for the requests hashing it, then hashes what
    /// is left (everything, after a restart).
    async fn whole_hash(
        &self,
        dir: &VPath,
        manifest: &Manifest,
        progress: &Progress,
    ) -> Result<String, StoreError> {
        loop {
            let returned = progress.returned.notified();
            self.catch_up(dir, manifest, progress).await?;
            {
                let state = progress
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(hasher) = &state.hasher {
                    if state.hashed_to >= manifest.content_length {
                        return Ok(to_hex(&hasher.clone().finalize()));
                    }
                    return Err(internal(format!(
                        "the staging file is hashed to {} of {} bytes: a part is missing",
                        state.hashed_to, manifest.content_length
                    )));
                }
            }
            // Another request holds the hasher: wait until it puts it back.
            returned.await;
        }
    }

    /// The upload a part URL names, checked against the URL's signature now.
    pub(crate) async fn verify_part(
        &self,
        upload_id: &str,
        part_number: u32,
        exp: u64,
        sig: &str,
    ) -> Result<Result<BlobKey, SignatureError>, StoreError> {
        check_part_number(part_number)?;
        let dir = self.upload_dir(upload_id)?;
        let manifest = self.manifest(&dir, upload_id).await?;
        let key = BlobKey::parse(&manifest.key).map_err(internal)?;
        Ok(self
            .inner
            .options
            .signer
            .verify_part(&key, upload_id, part_number, exp, sig, unix_now())
            .map(|()| key))
    }

    /// Writes `body`, part `part_number` of `upload_id` (whose URL was verified for `key`), at
    /// its offset in the staging file; returns the part's tag (its ETag). The body must be exactly
    /// the part's size (every part but the last is the part size): `TooLarge` or `BadRequest`
    /// otherwise. The part is listed only once its bytes are durable; one request at a time may
    /// write a part (`Conflict`).
    pub(crate) async fn put_part<S, E>(
        &self,
        key: &BlobKey,
        upload_id: &str,
        part_number: u32,
        body: S,
    ) -> Result<String, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        check_part_number(part_number)?;
        let (dir, manifest) = self.upload_of(key, upload_id).await?;
        let count = manifest.part_count();
        if part_number > count {
            return Err(bad(format!(
                "part {part_number} is past the last part ({count}) of an upload of {} bytes in parts of {}",
                manifest.content_length, manifest.part_size
            )));
        }
        let (offset, expected) = manifest.part(part_number);
        let progress = self.progress_of(&dir, upload_id).await?;
        let claim = self
            .claim_part(&dir, &progress, part_number, offset)
            .await?;
        let data = dir.join(DATA).map_err(internal)?;
        let fs = &self.inner.fs;
        let mut file = fs
            .open(&data, OpenOptions::flag(OpenFlag::ReadWrite))
            .await
            .map_err(|err| read_as_missing(err, upload_id))?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(storage)?;
        let mut batch = BytesMut::with_capacity(WRITE_BATCH.min(expected as usize));
        let mut size: u64 = 0;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| {
                bad(format!(
                    "the part body ended with an error: {err}; the part was not stored"
                ))
            })?;
            size += chunk.len() as u64;
            if size > expected {
                return Err(StoreError::new(
                    StoreErrorKind::TooLarge,
                    format!("part {part_number} must be {expected} bytes; more were sent"),
                ));
            }
            batch.extend_from_slice(&chunk);
            if batch.len() >= WRITE_BATCH {
                file.write_all(&batch).await.map_err(storage)?;
                batch.clear();
            }
        }
        if size != expected {
            return Err(bad(format!(
                "part {part_number} must be {expected} bytes, not {size} (every part but the last \
                 is the upload's part size); the part was not stored"
            )));
        }
        file.write_all(&batch).await.map_err(storage)?;
        file.sync().await.map_err(storage)?;
        drop(file);
        let tag = random_hex()?;
        let marker = dir
            .join(&format!("{part_number:05}-{tag}"))
            .map_err(internal)?;
        fs.write_file(&marker, Bytes::new(), OpenOptions::write())
            .await
            .map_err(|err| read_as_missing(err, upload_id))?;
        progress
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .durable
            .insert(part_number);
        drop(claim);
        self.catch_up(&dir, &manifest, &progress).await?;
        Ok(tag)
    }

    /// Claims part `number` for writing: `Conflict` when another request writes it; a part
    /// written before loses its marker first (and the hash restarts when its bytes were hashed).
    async fn claim_part(
        &self,
        dir: &VPath,
        progress: &Arc<Progress>,
        number: u32,
        offset: u64,
    ) -> Result<WritingClaim, StoreError> {
        let written_before = {
            let mut state = progress
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !state.writing.insert(number) {
                return Err(conflict(format!(
                    "part {number} is being uploaded by another request; wait for it or list the parts"
                )));
            }
            let before = state.durable.remove(&number);
            let hashing_it = state.hashed_to == offset && state.hasher.is_none();
            if before && (state.hashed_to > offset || hashing_it) {
                state.invalidate();
            }
            before
        };
        let claim = WritingClaim {
            progress: progress.clone(),
            number,
        };
        if written_before {
            for (n, (_, path)) in self.markers(dir).await? {
                if n == number {
                    self.inner
                        .fs
                        .remove(&path, RemoveOptions::default())
                        .await
                        .map_err(storage)?;
                }
            }
        }
        Ok(claim)
    }

    /// Removes staged uploads created more than `max_age` before `now` (and staging folders without
    /// a readable manifest whose folder is that old); returns how many were removed. Called at
    /// [`DiskStore::open`] and periodically; tests may call it with any clock.
    pub async fn sweep_expired_uploads(
        &self,
        now: SystemTime,
        max_age: Duration,
    ) -> Result<usize, StoreError> {
        let fs = &self.inner.fs;
        let entries = fs
            .read_dir(&self.inner.uploads, ReadDirOptions::default())
            .await
            .map_err(storage)?;
        let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut removed = 0;
        for entry in entries {
            let created = match self.manifest(&entry.path, &entry.relative).await {
                Ok(manifest) => Some(manifest.created_at),
                Err(_) => match fs.stat(&entry.path).await {
                    Ok(info) => info
                        .mtime
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map(|d| d.as_secs()),
                    Err(_) => None,
                },
            };
            let Some(created) = created else { continue };
            if now_secs.saturating_sub(created) > max_age.as_secs() {
                let all = RemoveOptions {
                    recursive: true,
                    force: true,
                };
                match fs.remove(&entry.path, all).await {
                    Ok(()) => removed += 1,
                    Err(err) => {
                        tracing::warn!(upload = entry.relative, error = %err, "cannot sweep an expired upload")
                    }
                }
            }
        }
        if removed > 0 {
            tracing::info!(removed, "swept expired resumable uploads");
        }
        Ok(removed)
    }

    /// Sweeps once now, then every so often from a task that holds only a weak reference.
    pub(super) async fn start_sweeper(&self) {
        let max_age = self.inner.options.upload_max_age;
        if let Err(err) = self.sweep_expired_uploads(SystemTime::now(), max_age).await {
            tracing::warn!(error = %err, "the start-up sweep of expired uploads failed");
        }
        let period = (max_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(inner) = weak.upgrade() else { break };
                let store = DiskStore { inner };
                if let Err(err) = store
                    .sweep_expired_uploads(SystemTime::now(), max_age)
                    .await
                {
                    tracing::warn!(error = %err, "the periodic sweep of expired uploads failed");
                }
            }
        });
    }
}

/// Marks an upload as being completed or aborted until dropped, so a second `complete` or `abort`
/// of it meanwhile is refused (`Conflict`) instead of racing the first.
struct Finishing<'a> {
    inner: &'a super::Inner,
    upload_id: String,
}

impl<'a> Finishing<'a> {
    fn start(inner: &'a super::Inner, upload_id: &str) -> Result<Finishing<'a>, StoreError> {
        let mut set = inner
            .finishing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !set.insert(upload_id.to_owned()) {
            return Err(StoreError::new(
                StoreErrorKind::Conflict,
                format!(
                    "the upload {upload_id:?} is being completed or aborted by another request"
                ),
            ));
        }
        Ok(Finishing {
            inner,
            upload_id: upload_id.to_owned(),
        })
    }
}

impl Drop for Finishing<'_> {
    fn drop(&mut self) {
        self.inner
            .finishing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.upload_id);
    }
}

/// An error creating or committing a file of an upload: the folder gone means the upload is gone.
fn read_as_missing(err: FsError, upload_id: &str) -> StoreError {
    if is_absent(&err) {
        no_upload(upload_id)
    } else {
        storage(err)
    }
}

fn random_hex() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| internal(format!("no randomness: {err}")))?;
    Ok(to_hex(&bytes))
}

#[async_trait]
impl MultipartStore for DiskStore {
    async fn create(
        &self,
        key: &BlobKey,
        intent: &MultipartIntent,
    ) -> Result<MultipartUpload, StoreError> {
        let options = &self.inner.options;
        if intent.content_length > options.max_upload_bytes {
            return Err(too_large(options.max_upload_bytes));
        }
        let part_size = options.part_size;
        if intent.content_length.div_ceil(part_size) > u64::from(MAX_PART_NUMBER) {
            return Err(bad(format!(
                "{} bytes need more than {MAX_PART_NUMBER} parts of {part_size} bytes",
                intent.content_length
            )));
        }
        let upload_id = random_hex()?;
        let dir = self.upload_dir(&upload_id)?;
        let fs = &self.inner.fs;
        fs.make_dir(&dir, fs_core::MakeDirOptions::default())
            .await
            .map_err(storage)?;
        let created_at = unix_now();
        let manifest = Manifest {
            key: key.as_str().to_owned(),
            content_type: intent.content_type.clone(),
            content_length: intent.content_length,
            part_size,
            created_at,
        };
        let manifest = serde_json::to_vec(&manifest).map_err(internal)?;
        let path = dir.join(MANIFEST).map_err(internal)?;
        let mut sink = fs
            .write_sink(&path, SinkOptions::default())
            .await
            .map_err(storage)?;
        if let Err(err) = sink.write(Bytes::from(manifest)).await {
            let _ = sink.abort().await;
            return Err(storage(err));
        }
        sink.close().await.map_err(storage)?;
        let data = dir.join(DATA).map_err(internal)?;
        fs.write_file(&data, Bytes::new(), OpenOptions::write())
            .await
            .map_err(storage)?;
        Ok(MultipartUpload {
            upload_id,
            part_size,
            expires_at: created_at + options.upload_max_age.as_secs(),
            checksum_parts: false,
        })
    }

    async fn sign_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        part: PartIntent<'_>,
        origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        // The bytes of the whole upload are checked at `complete`: a part's checksum is not needed.
        let part_number = part.part_number;
        check_part_number(part_number)?;
        self.upload_of(key, upload_id).await?;
        let options = &self.inner.options;
        let expires_at = unix_now() + options.url_ttl.as_secs();
        let sig = options
            .signer
            .sign_part(key, upload_id, part_number, expires_at);
        Ok(SignedRequest {
            method: "PUT",
            url: format!(
                "{origin}{}-parts/{upload_id}/{part_number}?exp={expires_at}&sig={sig}",
                options.files_base
            ),
            headers: BTreeMap::new(),
            expires_at,
        })
    }

    async fn list_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
    ) -> Result<Vec<StoredPart>, StoreError> {
        let (dir, manifest) = self.upload_of(key, upload_id).await?;
        Ok(self
            .markers(&dir)
            .await?
            .into_iter()
            .filter(|(number, _)| *number <= manifest.part_count())
            .map(|(part_number, (tag, _))| StoredPart {
                part_number,
                size: manifest.part(part_number).1,
                etag: format!("\"{tag}\""),
            })
            .collect())
    }

    async fn complete(
        &self,
        key: &BlobKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), StoreError> {
        let (dir, manifest) = self.upload_of(key, upload_id).await?;
        let _finishing = Finishing::start(&self.inner, upload_id)?;
        if parts.is_empty() {
            return Err(bad("complete needs at least one part"));
        }
        let markers = self.markers(&dir).await?;
        let mut previous = 0;
        for part in parts {
            check_part_number(part.part_number)?;
            if part.part_number <= previous {
                return Err(bad(
                    "the parts must be listed in ascending part-number order, each once",
                ));
            }
            previous = part.part_number;
            let (tag, _) = markers
                .get(&part.part_number)
                .ok_or_else(|| bad(format!("part {} was not uploaded", part.part_number)))?;
            if part.etag.trim_matches('"') != tag {
                return Err(bad(format!(
                    "the ETag of part {} does not match the uploaded part; list the parts and upload it again",
                    part.part_number
                )));
            }
        }
        let count = manifest.part_count();
        if parts.len() != count as usize || previous != count {
            let total: u64 = parts
                .iter()
                .filter(|p| p.part_number <= count)
                .map(|p| manifest.part(p.part_number).1)
                .sum();
            return Err(bad(format!(
                "the parts hold {total} bytes, not the {} bytes declared at create (parts 1 to {count} of {} bytes, the last one shorter)",
                manifest.content_length, manifest.part_size
            )));
        }
        let progress = self.progress_of(&dir, upload_id).await?;
        if !progress
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .writing
            .is_empty()
        {
            return Err(conflict(
                "a part of this upload is being uploaded again; complete once it is done",
            ));
        }
        // A content-addressed key already stored (of this length) holds these bytes: nothing is
        // hashed or moved; the staged bytes go.
        if key.content_hash().is_some()
            && self
                .stat(key)
                .await
                .is_ok_and(|info| info.size == manifest.content_length)
        {
            tracing::info!(
                key = key.as_str(),
                upload = upload_id,
                "already stored; the upload's bytes were not hashed or moved"
            );
            self.drop_upload(&dir, upload_id).await;
            return Ok(());
        }
        let sha256 = self.whole_hash(&dir, &manifest, &progress).await?;
        if let Some(expected) = key.content_hash() {
            if expected != sha256 {
                // Bytes that do not hash to the key can never complete: they go, so a refused
                // upload does not hold disk space until the sweep.
                self.drop_upload(&dir, upload_id).await;
                return Err(StoreError::new(
                    StoreErrorKind::HashMismatch,
                    format!(
                        "the uploaded bytes hash to {sha256}, not to the key's {expected}; the upload's parts were dropped: start a new upload"
                    ),
                ));
            }
        }
        let data = dir.join(DATA).map_err(internal)?;
        self.adopt(
            key,
            &data,
            manifest.content_type.clone(),
            manifest.content_length,
            &sha256,
        )
        .await?;
        self.drop_upload(&dir, upload_id).await;
        Ok(())
    }

    async fn abort(&self, key: &BlobKey, upload_id: &str) -> Result<(), StoreError> {
        let (dir, _) = self.upload_of(key, upload_id).await?;
        let _finishing = Finishing::start(&self.inner, upload_id)?;
        let all = RemoveOptions {
            recursive: true,
            force: true,
        };
        self.forget_progress(upload_id);
        self.inner
            .fs
            .remove(&dir, all)
            .await
            .map_err(|err| read_as_missing(err, upload_id))
    }
}

impl DiskStore {
    /// Removes a finished upload's folder and what this process knew of it (a failure is logged:
    /// the sweep removes it later).
    async fn drop_upload(&self, dir: &VPath, upload_id: &str) {
        self.forget_progress(upload_id);
        let all = RemoveOptions {
            recursive: true,
            force: true,
        };
        if let Err(err) = self.inner.fs.remove(dir, all).await {
            tracing::warn!(upload = upload_id, error = %err, "cannot remove a finished upload's folder");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_names() {
        let tag = "a".repeat(32);
        assert_eq!(
            parse_marker(&format!("00002-{tag}")),
            Some((2, tag.as_str()))
        );
        assert_eq!(parse_marker(&format!("00000-{tag}")), None);
        assert_eq!(parse_marker(&format!("00002-{tag}a")), None);
        assert_eq!(parse_marker(&format!(".00002-{tag}.fsync-tmp")), None);
        assert_eq!(parse_marker("manifest.json"), None);
        assert_eq!(parse_marker(DATA), None);
    }

    #[test]
    fn parts_cover_the_upload() {
        let manifest = |content_length| Manifest {
            key: "k".into(),
            content_type: None,
            content_length,
            part_size: 10,
            created_at: 0,
        };
        assert_eq!(manifest(25).part_count(), 3);
        assert_eq!(manifest(25).part(3), (20, 5));
        assert_eq!(manifest(20).part_count(), 2);
        assert_eq!(manifest(20).part(2), (10, 10));
        assert_eq!(manifest(0).part_count(), 1);
        assert_eq!(manifest(0).part(1), (0, 0));
    }

    use crate::{DiskStoreOptions, UrlSigner};

    const PART: u64 = crate::MIN_PART_BYTES;

    fn bytes(len: u64, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
            .collect()
    }

    async fn open(dir: &std::path::Path) -> DiskStore {
        let mut options =
            DiskStoreOptions::new(dir, UrlSigner::new(*b"unit tests, 16+ bytes").unwrap());
        options.part_size = PART;
        DiskStore::open(options).await.unwrap()
    }

    fn body(bytes: &[u8]) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
        let chunks: Vec<_> = bytes
            .chunks(100_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures::stream::iter(chunks)
    }

    /// An upload of `whole` to its content-addressed key: the key, the upload id, the parts.
    async fn start(store: &DiskStore, whole: &[u8]) -> (BlobKey, String, Vec<Vec<u8>>) {
        let key = BlobKey::parse(&format!("s/{}", to_hex(&Sha256::digest(whole)))).unwrap();
        let intent = MultipartIntent {
            content_type: None,
            content_length: whole.len() as u64,
        };
        let upload = store.create(&key, &intent).await.unwrap();
        let parts = whole.chunks(PART as usize).map(<[u8]>::to_vec).collect();
        (key, upload.upload_id, parts)
    }

    async fn put(store: &DiskStore, key: &BlobKey, id: &str, n: u32, part: &[u8]) -> CompletedPart {
        let etag = store.put_part(key, id, n, body(part)).await.unwrap();
        CompletedPart {
            part_number: n,
            etag,
        }
    }

    async fn stored(store: &DiskStore, key: &BlobKey) -> Vec<u8> {
        let info = store.stat(key).await.unwrap();
        let mut stream = store.read(key, 0, info.size).await.unwrap();
        let mut got = Vec::new();
        while let Some(chunk) = stream.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        got
    }

    #[tokio::test]
    async fn parts_out_of_order_and_at_once_hash_to_the_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        let whole = bytes(4 * PART + 77, 1);
        let (key, id, parts) = start(&store, &whole).await;
        // Part 3 first (nothing in order yet), then 1, 2 and 5 together, then 4.
        let third = put(&store, &key, &id, 3, &parts[2]).await;
        let (first, second, fifth) = tokio::join!(
            put(&store, &key, &id, 1, &parts[0]),
            put(&store, &key, &id, 2, &parts[1]),
            put(&store, &key, &id, 5, &parts[4]),
        );
        let fourth = put(&store, &key, &id, 4, &parts[3]).await;
        {
            let progress = store.known_progress(&id).unwrap();
            let state = progress.state.lock().unwrap();
            assert_eq!(
                state.hashed_to,
                whole.len() as u64,
                "hashed as the parts arrived"
            );
        }
        store
            .complete(&key, &id, &[first, second, third, fourth, fifth])
            .await
            .unwrap();
        assert!(stored(&store, &key).await == whole);
        assert!(store.known_progress(&id).is_none());
    }

    #[tokio::test]
    async fn a_store_opened_again_hashes_the_staged_bytes_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let whole = bytes(2 * PART + 5, 2);
        let (key, id, parts, first) = {
            let store = open(dir.path()).await;
            let (key, id, parts) = start(&store, &whole).await;
            let first = put(&store, &key, &id, 1, &parts[0]).await;
            (key, id, parts, first)
        };
        // As after a restart: this process knows nothing of the upload but its files.
        let store = open(dir.path()).await;
        let listed = store.list_parts(&key, &id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].etag, format!("\"{}\"", first.etag));
        let second = put(&store, &key, &id, 2, &parts[1]).await;
        let third = put(&store, &key, &id, 3, &parts[2]).await;
        store
            .complete(&key, &id, &[first, second, third])
            .await
            .unwrap();
        assert!(stored(&store, &key).await == whole);
    }

    #[tokio::test]
    async fn one_request_at_a_time_writes_a_part() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path()).await;
        let whole = bytes(PART, 3);
        let (key, id, parts) = start(&store, &whole).await;
        // A first request sends a few bytes of part 1 and then nothing.
        let (tx, rx) =
            futures::channel::mpsc::unbounded::<Result<Bytes, std::convert::Infallible>>();
        tx.unbounded_send(Ok(Bytes::from_static(b"abc"))).unwrap();
        let stalled = {
            let (store, key, id) = (store.clone(), key.clone(), id.clone());
            tokio::spawn(async move { store.put_part(&key, &id, 1, rx).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let err = store
            .put_part(&key, &id, 1, body(&parts[0]))
            .await
            .unwrap_err();
        assert_eq!(err.kind, StoreErrorKind::Conflict, "{err}");
        let err = store.complete(&key, &id, &[]).await.unwrap_err();
        assert_eq!(err.kind, StoreErrorKind::BadRequest);
        // The first request ends short: refused, and the part is free again.
        drop(tx);
        let err = stalled.await.unwrap().unwrap_err();
        assert_eq!(err.kind, StoreErrorKind::BadRequest, "{err}");
        let part = put(&store, &key, &id, 1, &parts[0]).await;
        store.complete(&key, &id, &[part]).await.unwrap();
        assert!(stored(&store, &key).await == whole);
    }

    #[test]
    fn upload_ids() {
        assert!(valid_upload_id(&"0f".repeat(16)));
        assert!(!valid_upload_id("../x"));
        assert!(!valid_upload_id(&"0F".repeat(16)));
    }
}
