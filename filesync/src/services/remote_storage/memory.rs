//! [`MemoryRemote`]: an in-memory remote with fault injection.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, RemoteStorage, SignedUrl, UploadRequest,
};
use crate::runtime::SharedRuntime;
use crate::services::hash::{hash_bytes, ContentHash};

/// A fault to inject into a [`MemoryRemote`] (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `n` calls (of any kind except `health`) fail with a server error.
    FailNext(u32),
    /// The next `n` downloads deliver their bytes with one byte flipped.
    CorruptNextDownloads(u32),
    /// The next upload stops after `after` bytes (kept as a resumable partial upload) and fails
    /// as if the connection dropped.
    CutNextUpload {
        /// Bytes received before the cut.
        after: u64,
    },
    /// The next download's body fails after `after` bytes.
    CutNextDownload {
        /// Bytes delivered before the cut.
        after: u64,
    },
    /// Downloads of this key answer 404 (until [`MemoryRemote::clear_faults`]) even when it exists.
    NotFound(String),
}

/// Calls made to a [`MemoryRemote`], by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// `health` calls.
    pub health: u64,
    /// `upload` calls.
    pub upload: u64,
    /// `download` calls.
    pub download: u64,
    /// `delete` calls.
    pub delete: u64,
    /// `download_url` calls.
    pub download_url: u64,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, (Bytes, Option<String>)>,
    partial: BTreeMap<String, (String, BytesMut)>,
    offline: bool,
    delay: Duration,
    fail_next: u32,
    corrupt_next: u32,
    cut_upload: Option<u64>,
    cut_download: Option<u64>,
    not_found: BTreeSet<String>,
    calls: CallCounts,
    next_upload_id: u64,
}

/// An in-memory remote. With the `test-util` feature it injects faults (offline, fail the next N
/// calls, delay, corrupt bytes, cut transfers, 404 for a key). Uploads to content-addressed keys (last segment 64 hex) are
/// checked against their hash like the real server does. Clones share the same objects.
#[derive(Clone)]
pub struct MemoryRemote {
    state: Arc<Mutex<State>>,
    runtime: SharedRuntime,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryRemote {
    /// An empty, healthy remote; delays sleep on `runtime`.
    pub fn new(runtime: SharedRuntime) -> Self {
        MemoryRemote {
            state: Arc::new(Mutex::new(State::default())),
            runtime,
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Takes the remote off the network (every call fails with `Offline`) or back on.
    pub fn set_offline(&self, offline: bool) {
        lock(&self.state).offline = offline;
    }

    /// Whether the remote is offline.
    pub fn is_offline(&self) -> bool {
        lock(&self.state).offline
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Delays every call by `delay` (on the runtime's clock).
    pub fn set_delay(&self, delay: Duration) {
        lock(&self.state).delay = delay;
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        let mut s = lock(&self.state);
        match fault {
            Fault::FailNext(n) => s.fail_next += n,
            Fault::CorruptNextDownloads(n) => s.corrupt_next += n,
            Fault::CutNextUpload { after } => s.cut_upload = Some(after),
            Fault::CutNextDownload { after } => s.cut_download = Some(after),
            Fault::NotFound(key) => {
                s.not_found.insert(key);
            }
        }
    }

    #[cfg(any(test, feature = "test-util"))]
    /// Removes every pending fault (not the offline switch or the delay).
    pub fn clear_faults(&self) {
        let mut s = lock(&self.state);
        s.fail_next = 0;
        s.corrupt_next = 0;
        s.cut_upload = None;
        s.cut_download = None;
        s.not_found.clear();
    }

    /// Stores an object directly (no fault applies).
    pub fn insert(&self, key: &str, bytes: Bytes, content_type: Option<&str>) {
        lock(&self.state)
            .objects
            .insert(key.to_owned(), (bytes, content_type.map(str::to_owned)));
    }

    /// Removes an object directly (as an operator or another client would).
    pub fn remove(&self, key: &str) -> bool {
        lock(&self.state).objects.remove(key).is_some()
    }

    /// An object's bytes.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        lock(&self.state).objects.get(key).map(|(b, _)| b.clone())
    }

    /// An object's content type.
    pub fn content_type(&self, key: &str) -> Option<String> {
        lock(&self.state)
            .objects
            .get(key)
            .and_then(|(_, t)| t.clone())
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.state).objects.keys().cloned().collect()
    }

    /// The calls made so far.
    pub fn calls(&self) -> CallCounts {
        lock(&self.state).calls
    }

    /// How many partial (interrupted, resumable) uploads are held.
    pub fn partial_uploads(&self) -> usize {
        lock(&self.state).partial.len()
    }

    /// Common start of every call: delay, offline, injected failures.
    async fn enter(&self, count: impl FnOnce(&mut CallCounts), fallible: bool) -> RemoteResult<()> {
        let delay = {
            let mut s = lock(&self.state);
            count(&mut s.calls);
            s.delay
        };
        if !delay.is_zero() {
            self.runtime.sleep(delay).await;
        }
        let mut s = lock(&self.state);
        if s.offline {
            return Err(RemoteError::new(
                RemoteErrorKind::Offline,
                "memory remote is offline",
            ));
        }
        if fallible && s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(RemoteError::new(
                RemoteErrorKind::Server,
                "HTTP 503: injected failure",
            ));
        }
        Ok(())
    }
}

/// The hash a content-addressed key names (its last segment is 64 lowercase hex), if any.
fn key_hash(key: &str) -> Option<ContentHash> {
    let last = key.rsplit('/').next()?;
    ContentHash::parse(last).ok()
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl RemoteStorage for MemoryRemote {
    async fn health(&self) -> RemoteResult<()> {
        self.enter(|c| c.health += 1, false).await
    }

    async fn upload(&self, req: UploadRequest) -> RemoteResult<()> {
        self.enter(|c| c.upload += 1, true).await?;
        // Resume: the partial upload named by the token continues where it stopped.
        let (upload_id, mut buf) = {
            let mut s = lock(&self.state);
            match req.resume.as_ref().and_then(|id| {
                let p = s.partial.get(&req.key)?;
                (&p.0 == id).then(|| p.clone())
            }) {
                Some(p) => p,
                None => {
                    s.next_upload_id += 1;
                    (format!("mem-{}", s.next_upload_id), BytesMut::new())
                }
            }
        };
        let offset = buf.len() as u64;
        let mut stream = (req.open)(offset)
            .await
            .map_err(|e| RemoteError::new(RemoteErrorKind::Local, e.to_string()))?;
        let cut = lock(&self.state).cut_upload.take();
        (req.progress)(offset, req.size);
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| RemoteError::new(RemoteErrorKind::Local, e.to_string()))?;
            let mut chunk = &chunk[..];
            if let Some(after) = cut {
                let room = after.saturating_sub(buf.len() as u64) as usize;
                if chunk.len() >= room {
                    chunk = &chunk[..room];
                    buf.extend_from_slice(chunk);
                    lock(&self.state)
                        .partial
                        .insert(req.key.clone(), (upload_id.clone(), buf));
                    (req.on_resume)(Some(upload_id));
                    return Err(RemoteError::new(
                        RemoteErrorKind::Offline,
                        "connection dropped during upload (injected)",
                    ));
                }
            }
            buf.extend_from_slice(chunk);
            (req.progress)(buf.len() as u64, req.size);
        }
        let bytes = buf.freeze();
        if bytes.len() as u64 != req.size {
            return Err(RemoteError::new(
                RemoteErrorKind::Rejected,
                format!("declared {} bytes, received {}", req.size, bytes.len()),
            ));
        }
        if let Some(want) = key_hash(&req.key) {
            let got = hash_bytes(&bytes);
            if got != want {
                lock(&self.state).partial.remove(&req.key);
                (req.on_resume)(None);
                return Err(RemoteError::new(
                    RemoteErrorKind::Rejected,
                    format!("HTTP 422: content hashes to {got}, not to the key's {want}"),
                ));
            }
        }
        let mut s = lock(&self.state);
        s.partial.remove(&req.key);
        s.objects
            .insert(req.key.clone(), (bytes, req.content_type.clone()));
        drop(s);
        (req.on_resume)(None);
        Ok(())
    }

    async fn download(&self, key: &str, offset: u64) -> RemoteResult<Download> {
        self.enter(|c| c.download += 1, true).await?;
        let mut s = lock(&self.state);
        let not_found = || RemoteError::new(RemoteErrorKind::NotFound, format!("HTTP 404: {key}"));
        if s.not_found.contains(key) {
            return Err(not_found());
        }
        let (bytes, content_type) = s.objects.get(key).cloned().ok_or_else(not_found)?;
        let total = bytes.len() as u64;
        if offset > total {
            return Err(RemoteError::new(
                RemoteErrorKind::Rejected,
                format!("HTTP 416: range start {offset} beyond {total} bytes"),
            )
            .with_status(416));
        }
        let mut body = bytes.slice(offset as usize..);
        if s.corrupt_next > 0 && !body.is_empty() {
            s.corrupt_next -= 1;
            let mut v = body.to_vec();
            let i = v.len() / 2;
            v[i] ^= 0x5a;
            body = Bytes::from(v);
        }
        let cut = s.cut_download.take();
        drop(s);
        // Deliver in 64 KiB chunks; a cut ends the body with an error.
        let mut chunks: Vec<RemoteResult<Bytes>> = Vec::new();
        let mut pos = 0usize;
        let limit = cut.map(|c| c.min(body.len() as u64) as usize);
        let end = limit.unwrap_or(body.len());
        while pos < end {
            let next = (pos + 64 * 1024).min(end);
            chunks.push(Ok(body.slice(pos..next)));
            pos = next;
        }
        if limit.is_some() {
            chunks.push(Err(RemoteError::new(
                RemoteErrorKind::Offline,
                "connection dropped during download (injected)",
            )));
        }
        Ok(Download {
            offset,
            total_size: Some(total),
            content_type,
            body: Box::pin(futures::stream::iter(chunks)),
        })
    }

    async fn delete(&self, key: &str) -> RemoteResult<()> {
        self.enter(|c| c.delete += 1, true).await?;
        lock(&self.state).objects.remove(key);
        Ok(())
    }

    async fn download_url(&self, key: &str) -> RemoteResult<SignedUrl> {
        self.enter(|c| c.download_url += 1, true).await?;
        Ok(SignedUrl {
            url: format!("memory://{key}"),
            headers: Vec::new(),
            expires_at_ms: self.runtime.now_ms() + 900_000,
        })
    }
}
