//! Resumable uploads of the [`DiskStore`]: parts staged under `uploads/{uploadId}/`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    FileSystem, FsError, ReadDirOptions, RemoveOptions, SinkOptions, StreamOptions, VPath,
};
use fs_native::NativeFs;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
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

/// A staged part file.
struct PartFile {
    path: VPath,
    size: u64,
    sha256: String,
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

/// `true` for an id this store could have made: 32 lowercase hex digits.
fn valid_upload_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
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

/// The part number and hash of a committed part file name (`00002-{sha256}`).
fn parse_part_name(name: &str) -> Option<(u32, &str)> {
    let (number, sha) = name.split_once('-')?;
    if number.len() != 5 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let number: u32 = number.parse().ok()?;
    (1..=MAX_PART_NUMBER)
        .contains(&number)
        .then_some((number, sha))
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

    /// The committed parts of the upload in `dir`, the newest file per number.
    async fn part_files(&self, dir: &VPath) -> Result<BTreeMap<u32, PartFile>, StoreError> {
        let fs = &self.inner.fs;
        let entries = fs
            .read_dir(dir, ReadDirOptions::default())
            .await
            .map_err(storage)?;
        let mut parts: BTreeMap<u32, (Option<SystemTime>, PartFile)> = BTreeMap::new();
        for entry in entries {
            let Some((number, sha)) = parse_part_name(&entry.relative) else {
                continue;
            };
            let info = match fs.stat(&entry.path).await {
                Ok(info) if info.is_file() => info,
                Ok(_) => continue,
                Err(err) if is_absent(&err) => continue,
                Err(err) => return Err(storage(err)),
            };
            let part = PartFile {
                path: entry.path.clone(),
                size: info.size,
                sha256: sha.to_owned(),
            };
            match parts.get(&number) {
                Some((mtime, _)) if *mtime > info.mtime => {}
                _ => {
                    parts.insert(number, (info.mtime, part));
                }
            }
        }
        Ok(parts.into_iter().map(|(n, (_, p))| (n, p)).collect())
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

    /// Streams `body` into part `part_number` of `upload_id` (whose URL was verified for `key`);
    /// returns the part's SHA-256. A part larger than the upload's part size is refused (`TooLarge`);
    /// the part becomes visible to `list` only once whole.
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
        let fs = &self.inner.fs;
        let max = manifest.part_size.min(self.inner.options.max_upload_bytes);
        let incoming = dir
            .join(&format!("incoming-{part_number:05}-{}", random_hex()?))
            .map_err(internal)?;
        let mut sink = fs
            .write_sink(&incoming, SinkOptions::default())
            .await
            .map_err(|err| read_as_missing(err, upload_id))?;
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let failure = match chunk {
                Err(err) => Some(bad(format!(
                    "the part body ended with an error: {err}; the part was not stored"
                ))),
                Ok(chunk) => {
                    size += chunk.len() as u64;
                    if size > max {
                        Some(too_large(max))
                    } else {
                        hasher.update(&chunk);
                        sink.write(chunk).await.err().map(storage)
                    }
                }
            };
            if let Some(err) = failure {
                let _ = sink.abort().await;
                return Err(err);
            }
        }
        let sha256 = to_hex(&hasher.finalize());
        sink.close()
            .await
            .map_err(|err| read_as_missing(err, upload_id))?;
        let committed = dir
            .join(&format!("{part_number:05}-{sha256}"))
            .map_err(internal)?;
        if let Err(err) = fs.rename(&incoming, &committed).await {
            fs.remove_detached(&incoming);
            return Err(read_as_missing(err, upload_id));
        }
        // Older uploads of the same part number are superseded.
        if let Ok(entries) = fs.read_dir(&dir, ReadDirOptions::default()).await {
            for entry in entries {
                if let Some((number, sha)) = parse_part_name(&entry.relative) {
                    if number == part_number && sha != sha256 {
                        fs.remove_detached(&entry.path);
                    }
                }
            }
        }
        Ok(sha256)
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

/// The bytes of the files at `paths`, one after the other, opening each only when reached.
fn concatenated(fs: NativeFs, paths: Vec<VPath>) -> BoxStream<'static, Result<Bytes, FsError>> {
    futures::stream::iter(paths)
        .then(move |path| {
            let fs = fs.clone();
            async move { fs.read_stream(&path, StreamOptions::default()).await }
        })
        .try_flatten()
        .boxed()
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
        // The part route hashes every part anyway (its ETag): a checksum sent here is not needed.
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
        let (dir, _) = self.upload_of(key, upload_id).await?;
        Ok(self
            .part_files(&dir)
            .await?
            .into_iter()
            .map(|(part_number, part)| StoredPart {
                part_number,
                size: part.size,
                etag: format!("\"{}\"", part.sha256),
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
        let staged = self.part_files(&dir).await?;
        let mut previous = 0;
        let mut total: u64 = 0;
        let mut paths = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            check_part_number(part.part_number)?;
            if part.part_number <= previous {
                return Err(bad(
                    "the parts must be listed in ascending part-number order, each once",
                ));
            }
            previous = part.part_number;
            let file = staged
                .get(&part.part_number)
                .ok_or_else(|| bad(format!("part {} was not uploaded", part.part_number)))?;
            if part.etag.trim_matches('"') != file.sha256 {
                return Err(bad(format!(
                    "the ETag of part {} does not match the uploaded part; list the parts and upload it again",
                    part.part_number
                )));
            }
            let last = index + 1 == parts.len();
            if !last && file.size != manifest.part_size {
                return Err(bad(format!(
                    "part {} is {} bytes; every part but the last must be {} bytes",
                    part.part_number, file.size, manifest.part_size
                )));
            }
            total += file.size;
            paths.push(file.path.clone());
        }
        if total != manifest.content_length {
            return Err(bad(format!(
                "the parts hold {total} bytes, not the {} bytes declared at create",
                manifest.content_length
            )));
        }
        let all = RemoveOptions {
            recursive: true,
            force: true,
        };
        // A content-addressed key already stored (of this length) holds these bytes: nothing is
        // read, hashed or rewritten; the parts go.
        if key.content_hash().is_some()
            && self
                .stat(key)
                .await
                .is_ok_and(|info| info.size == manifest.content_length)
        {
            tracing::info!(
                key = key.as_str(),
                upload = upload_id,
                "already stored; the upload's parts were not assembled"
            );
            if let Err(err) = self.inner.fs.remove(&dir, all).await {
                tracing::warn!(upload = upload_id, error = %err, "cannot remove the parts of a completed upload");
            }
            return Ok(());
        }
        let body = concatenated(self.inner.fs.clone(), paths);
        match self.put(key, manifest.content_type.clone(), body).await {
            Ok(_) => {}
            // Parts whose whole does not hash to the key can never complete: they go, so a
            // refused upload does not hold disk space until the sweep.
            Err(err) if err.kind == StoreErrorKind::HashMismatch => {
                if let Err(remove) = self.inner.fs.remove(&dir, all).await {
                    tracing::warn!(upload = upload_id, error = %remove, "cannot remove the parts of a refused upload");
                }
                return Err(StoreError::new(
                    err.kind,
                    format!(
                        "{}; the upload's parts were dropped: start a new upload",
                        err.message
                    ),
                ));
            }
            Err(err) => return Err(err),
        }
        if let Err(err) = self.inner.fs.remove(&dir, all).await {
            tracing::warn!(upload = upload_id, error = %err, "cannot remove the parts of a completed upload");
        }
        Ok(())
    }

    async fn abort(&self, key: &BlobKey, upload_id: &str) -> Result<(), StoreError> {
        let (dir, _) = self.upload_of(key, upload_id).await?;
        let _finishing = Finishing::start(&self.inner, upload_id)?;
        let all = RemoveOptions {
            recursive: true,
            force: true,
        };
        self.inner
            .fs
            .remove(&dir, all)
            .await
            .map_err(|err| read_as_missing(err, upload_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names() {
        let sha = "a".repeat(64);
        assert_eq!(
            parse_part_name(&format!("00002-{sha}")),
            Some((2, sha.as_str()))
        );
        assert_eq!(parse_part_name(&format!("00000-{sha}")), None);
        assert_eq!(parse_part_name(&format!("incoming-00002-{sha}")), None);
        assert_eq!(parse_part_name(&format!(".00002-{sha}.fsync-tmp")), None);
        assert_eq!(parse_part_name("manifest.json"), None);
    }

    #[test]
    fn upload_ids() {
        assert!(valid_upload_id(&"0f".repeat(16)));
        assert!(!valid_upload_id("../x"));
        assert!(!valid_upload_id(&"0F".repeat(16)));
    }
}
