//! What the cases share: content, keys, the local side of an upload that records what was read,
//! what an upload reported, whole downloads, and error checks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use fs_core::{ByteStream, ErrorKind, FsError};
use futures::StreamExt;

use super::RemoteHarness;
use crate::services::hash::hash_bytes;
use crate::services::remote_storage::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, RemoteStorage, UploadRequest,
};

/// The chunk size of [`Source`]: chunks end at multiples of it (counted from the object's start),
/// so a part that starts at a multiple of it is read without touching the next part.
pub(crate) const CHUNK: u64 = 64 * 1024;

/// Deterministic pseudo-random bytes (xorshift64), different for each `seed`.
pub(crate) fn data(len: u64, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len as usize + 8);
    while (out.len() as u64) < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len as usize);
    out.into()
}

/// A key prefix for one case: `{prefix}{case}-{random}/`, never used before on this remote.
pub(crate) fn namespace(h: &dyn RemoteHarness, case: &str) -> String {
    namespace_under(h, &h.key_prefix(), case)
}

/// [`namespace`] under another prefix.
pub(crate) fn namespace_under(h: &dyn RemoteHarness, prefix: &str, case: &str) -> String {
    format!("{prefix}{case}-{:016x}/", h.runtime().random_u64())
}

/// The content-addressed key of `bytes` under `ns`.
pub(crate) fn key_of(ns: &str, bytes: &[u8]) -> String {
    format!("{ns}{}", hash_bytes(bytes).to_hex())
}

/// The local side of an upload: serves `data` from any offset in chunks that end at multiples of
/// [`CHUNK`], records the offsets it was opened at and the bytes it handed out, and fails once the
/// read position reaches `fail_at`.
pub(crate) struct Source {
    data: Bytes,
    fail_at: Option<u64>,
    opens: Mutex<Vec<u64>>,
    read: Mutex<u64>,
}

impl Source {
    /// A source of `data`.
    pub(crate) fn new(data: Bytes) -> Arc<Source> {
        Source::failing(data, None)
    }

    /// A source of `data` whose reads fail at `fail_at` (the bytes before it are served).
    pub(crate) fn failing(data: Bytes, fail_at: Option<u64>) -> Arc<Source> {
        Arc::new(Source {
            data,
            fail_at,
            opens: Mutex::new(Vec::new()),
            read: Mutex::new(0),
        })
    }

    /// The offsets it was opened at, in ascending order (the parts of a resumable upload may go
    /// several at a time, so the order they open in is not part of the contract).
    pub(crate) fn opens(&self) -> Vec<u64> {
        let mut opens = self.opens.lock().unwrap_or_else(|p| p.into_inner()).clone();
        opens.sort_unstable();
        opens
    }

    /// The bytes it handed out, over every open.
    pub(crate) fn read(&self) -> u64 {
        *self.read.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stream_from(self: &Arc<Self>, offset: u64) -> ByteStream {
        self.opens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(offset);
        let source = self.clone();
        let len = self.data.len() as u64;
        Box::pin(futures::stream::unfold(Some(offset), move |pos| {
            let source = source.clone();
            async move {
                let pos = pos?;
                if pos >= len {
                    return None;
                }
                if source.fail_at.is_some_and(|at| pos >= at) {
                    let err = FsError::new(
                        ErrorKind::Unknown,
                        "readStream",
                        "the local disk failed (remote suite)",
                    );
                    return Some((Err(err), None));
                }
                let mut end = ((pos / CHUNK + 1) * CHUNK).min(len);
                if let Some(at) = source.fail_at {
                    end = end.min(at);
                }
                *source.read.lock().unwrap_or_else(|p| p.into_inner()) += end - pos;
                Some((Ok(source.data.slice(pos as usize..end as usize)), Some(end)))
            }
        }))
    }
}

/// What an upload reported through its callbacks.
#[derive(Default)]
pub(crate) struct Reports {
    progress: Mutex<Vec<(u64, u64)>>,
    tokens: Mutex<Vec<Option<String>>>,
}

impl Reports {
    /// Every `(done, total)` progress report, in order.
    pub(crate) fn progress(&self) -> Vec<(u64, u64)> {
        self.progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every resume token reported (`None`: nothing to resume), in order.
    pub(crate) fn tokens(&self) -> Vec<Option<String>> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Checks that progress went from `first` to `(size, size)` without going backwards, each
    /// report with the total `size`.
    pub(crate) fn assert_progress(&self, what: &str, first: u64, size: u64) {
        let progress = self.progress();
        assert_eq!(
            progress.first().copied(),
            Some((first, size)),
            "{what}: the first progress report (all: {progress:?})"
        );
        assert_eq!(
            progress.last().copied(),
            Some((size, size)),
            "{what}: the last progress report (all: {progress:?})"
        );
        assert!(
            progress
                .windows(2)
                .all(|w| w[0].0 <= w[1].0 && w[1].1 == size),
            "{what}: progress went backwards or changed its total: {progress:?}"
        );
    }
}

/// An upload of `source`'s bytes under `key`, and what it will report.
pub(crate) fn request(
    key: &str,
    source: &Arc<Source>,
    content_type: Option<&str>,
    resume: Option<String>,
) -> (UploadRequest, Arc<Reports>) {
    let size = source.data.len() as u64;
    sized_request(key, source, size, content_type, resume)
}

/// [`request`] declaring `size` bytes (more than the source has: its bytes end early).
pub(crate) fn sized_request(
    key: &str,
    source: &Arc<Source>,
    size: u64,
    content_type: Option<&str>,
    resume: Option<String>,
) -> (UploadRequest, Arc<Reports>) {
    let reports = Arc::new(Reports::default());
    let (progress, tokens) = (reports.clone(), reports.clone());
    let opener = source.clone();
    let req = UploadRequest {
        key: key.to_owned(),
        size,
        content_type: content_type.map(str::to_owned),
        #[cfg(target_arch = "wasm32")]
        blob: None,
        open: Arc::new(move |offset| {
            let stream = opener.stream_from(offset);
            Box::pin(async move { Ok(stream) })
        }),
        progress: Arc::new(move |done, total| {
            progress
                .progress
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((done, total));
        }),
        resume,
        on_resume: Arc::new(move |token| {
            tokens
                .tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(token);
        }),
    };
    (req, reports)
}

/// Uploads `bytes` under `key` (which must succeed).
pub(crate) async fn put(
    remote: &dyn RemoteStorage,
    what: &str,
    key: &str,
    bytes: &Bytes,
    content_type: Option<&str>,
) {
    let (req, _) = request(key, &Source::new(bytes.clone()), content_type, None);
    if let Err(err) = remote.upload(req).await {
        panic!("{what}: the upload of {key} failed: {err}");
    }
}

/// A download's start offset, total size, content type and whole body.
pub(crate) struct Got {
    pub(crate) offset: u64,
    pub(crate) total_size: Option<u64>,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Reads a download's whole body.
pub(crate) async fn read_all(download: Download) -> RemoteResult<Got> {
    let Download {
        offset,
        total_size,
        content_type,
        body,
    } = download;
    let mut body = body.into_bytes();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk?);
    }
    Ok(Got {
        offset,
        total_size,
        content_type,
        body: bytes,
    })
}

/// Downloads `key` from `offset` (which must succeed) with its whole body.
pub(crate) async fn get(remote: &dyn RemoteStorage, what: &str, key: &str, offset: u64) -> Got {
    let download = match remote.download(key, offset).await {
        Ok(download) => download,
        Err(err) => panic!("{what}: the download of {key} from {offset} failed: {err}"),
    };
    match read_all(download).await {
        Ok(got) => got,
        Err(err) => panic!("{what}: the body of {key} from {offset} failed: {err}"),
    }
}

/// Checks that `bytes` (a body) equals `want`, without printing megabytes when it does not.
pub(crate) fn assert_bytes(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: got {} bytes, expected {} (first difference at {first:?})",
            got.len(),
            want.len()
        );
    }
}

/// Checks that `result` failed with `kind` and, when `key` is given, names that key.
pub(crate) fn assert_error<T>(
    what: &str,
    result: RemoteResult<T>,
    kind: RemoteErrorKind,
    key: Option<&str>,
) -> RemoteError {
    let err = match result {
        Ok(_) => panic!("{what}: succeeded; expected {kind:?}"),
        Err(err) => err,
    };
    assert_eq!(err.kind, kind, "{what}: the error's kind ({err})");
    if let Some(key) = key {
        assert_eq!(
            err.key.as_deref(),
            Some(key),
            "{what}: the error's key ({err})"
        );
    }
    err
}

/// Checks that nothing is stored under `key` (a download is `NotFound`).
pub(crate) async fn assert_absent(remote: &dyn RemoteStorage, what: &str, key: &str) {
    let result = remote.download(key, 0).await;
    assert_error(
        &format!("{what}: a download of {key} afterwards"),
        result.map(|_| ()),
        RemoteErrorKind::NotFound,
        Some(key),
    );
}

/// Sleeps on the harness's runtime until its clock reaches `at_ms` (panics when that is more than
/// `limit` away: the remote's expiry cannot be that far).
pub(crate) async fn sleep_until(h: &dyn RemoteHarness, at_ms: i64, limit: Duration) {
    let runtime = h.runtime();
    let start = runtime.now_ms();
    assert!(
        at_ms - start <= limit.as_millis() as i64,
        "waiting until {at_ms} is {} ms away, more than {limit:?}",
        at_ms - start
    );
    loop {
        let now = runtime.now_ms();
        if now >= at_ms {
            return;
        }
        let step = (at_ms - now).clamp(1, 100) as u64;
        runtime.sleep(Duration::from_millis(step)).await;
    }
}
