//! [`MemoryRemote`]: an in-memory remote with fault injection.
//!
//! It answers like `filesync-server` seen through the HTTP clients (the shared behaviour suite,
//! `filesync::remote_suite`, holds all three to that): the same error kinds in the same order
//! (offline, then credentials, then the key's validity, then its prefix, then the request), the
//! server's limits (upload size, content types, keys), content-addressed keys checked against their
//! hash, `application/octet-stream` for uploads without a type, 416 past the end, resumable uploads
//! in parts above a threshold (only whole parts survive an interruption), and signed URLs with an
//! expiry that [`MemoryRemote::fetch_url`] enforces.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use super::protocol::options::DEFAULT_MULTIPART_THRESHOLD;
use super::{
    Body, Download, RemoteError, RemoteErrorKind, RemoteResult, RemoteStorage, SignedUrl,
    UploadRequest,
};
use crate::runtime::SharedRuntime;
use crate::services::hash::{hash_bytes, ContentHash};

/// The part size of resumable uploads by default: 8 MiB, the server's default.
const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// The largest upload accepted by default: 5 GiB, the server's default.
const DEFAULT_MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// How long signed URLs work by default: 900 s, the server's default.
const DEFAULT_URL_TTL: Duration = Duration::from_secs(900);
/// The type an object uploaded without one is served with (as the server does).
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
/// The longest key accepted, in bytes (as the server).
const MAX_KEY_BYTES: usize = 1024;
/// Key segments may not end with the suffix of the server's temporary files.
const TEMP_SUFFIX: &str = ".fsync-tmp";
/// The scheme of this remote's signed URLs.
const URL_SCHEME: &str = "memory://";

/// A fault to inject into a [`MemoryRemote`] (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `n` calls (of any kind except `health`) fail with a server error.
    FailNext(u32),
    /// The next `n` downloads deliver their bytes with one byte flipped.
    CorruptNextDownloads(u32),
    /// The next upload stops once `after` bytes of the object arrived and fails as if the
    /// connection dropped. A resumable upload keeps its whole parts (as the server does); an upload
    /// below the threshold keeps every byte that arrived as a resumable partial upload and hands
    /// out a resume token (something the server cannot do: its single uploads are all or nothing).
    CutNextUpload {
        /// Bytes of the object received before the cut (counted from its start).
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

/// A stored object.
#[derive(Clone)]
struct Object {
    bytes: Bytes,
    content_type: String,
}

/// An interrupted upload that can be resumed with its token.
struct Partial {
    upload_id: String,
    size: u64,
    /// A resumable upload (kept in whole parts of `part_size`), or a single upload cut by a fault
    /// (kept byte for byte).
    resumable: bool,
    part_size: u64,
    received: BytesMut,
}

/// What every clone shares: the objects and the server's settings.
struct State {
    objects: BTreeMap<String, Object>,
    partial: BTreeMap<String, Partial>,
    offline: bool,
    delay: Duration,
    fail_next: u32,
    corrupt_next: u32,
    cut_upload: Option<u64>,
    cut_download: Option<u64>,
    not_found: BTreeSet<String>,
    calls: CallCounts,
    next_upload_id: u64,
    part_size: u64,
    max_upload_bytes: u64,
    url_ttl: Duration,
    secret: u64,
}

impl State {
    fn new() -> State {
        static INSTANCES: AtomicU64 = AtomicU64::new(1);
        let n = INSTANCES.fetch_add(1, Ordering::Relaxed);
        State {
            objects: BTreeMap::new(),
            partial: BTreeMap::new(),
            offline: false,
            delay: Duration::ZERO,
            fail_next: 0,
            corrupt_next: 0,
            cut_upload: None,
            cut_download: None,
            not_found: BTreeSet::new(),
            calls: CallCounts::default(),
            next_upload_id: 0,
            part_size: DEFAULT_PART_SIZE,
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            url_ttl: DEFAULT_URL_TTL,
            secret: n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed,
        }
    }
}

/// What a handle's credentials allow (the server's token table, for one client).
#[derive(Clone)]
enum Access {
    /// Every key.
    Full,
    /// Credentials the remote does not know: every call but `health` is `Unauthorized`.
    Refused,
    /// Keys starting with one of these prefixes; others are `Forbidden`.
    Prefixes(Arc<[String]>),
}

/// An in-memory remote. With the `test-util` feature it injects faults (offline, fail the next N
/// calls, delay, corrupt bytes, cut transfers, 404 for a key). Clones share the same objects and
/// settings; each handle has its own credentials ([`MemoryRemote::with_prefixes`],
/// [`MemoryRemote::with_refused_credentials`]) and multipart threshold
/// ([`MemoryRemote::with_multipart_threshold`]), like clients of one server.
///
/// It behaves like the real server behind an HTTP client: uploads to content-addressed keys (last
/// segment 64 lowercase hex) must hash to the key (`Rejected`, nothing stored); uploads larger than
/// [`MemoryRemote::set_max_upload_bytes`] are `TooLarge` before a byte is read; keys and content
/// types follow the server's rules (`Rejected`); an object uploaded without a content type is
/// served as `application/octet-stream`; a download past the end is `Rejected` (416); uploads of
/// at least the threshold (64 MiB by default, like the clients) go in parts of
/// [`MemoryRemote::set_part_size`] bytes (8 MiB by default) with a resume token handed out first,
/// and an interrupted one keeps its whole parts; signed URLs (`memory://{key}?exp=…&sig=…`) expire
/// after [`MemoryRemote::set_url_ttl`] (900 s by default, whole seconds like the server) and are
/// fetched with [`MemoryRemote::fetch_url`]. Every error of a call about a key carries that key.
#[derive(Clone)]
pub struct MemoryRemote {
    state: Arc<Mutex<State>>,
    runtime: SharedRuntime,
    access: Access,
    multipart_threshold: u64,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryRemote {
    /// An empty, healthy remote with full credentials; delays sleep on `runtime`.
    pub fn new(runtime: SharedRuntime) -> Self {
        MemoryRemote {
            state: Arc::new(Mutex::new(State::new())),
            runtime,
            access: Access::Full,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
        }
    }

    /// A handle on the same objects whose uploads of at least `threshold` bytes (and more than 0)
    /// go through the resumable protocol (the clients' `multipart_threshold`; default 64 MiB).
    pub fn with_multipart_threshold(&self, threshold: u64) -> MemoryRemote {
        MemoryRemote {
            multipart_threshold: threshold,
            ..self.clone()
        }
    }

    /// A handle on the same objects with credentials the remote does not know: every call except
    /// `health` (which needs none) fails with `Unauthorized`.
    pub fn with_refused_credentials(&self) -> MemoryRemote {
        MemoryRemote {
            access: Access::Refused,
            ..self.clone()
        }
    }

    /// A handle on the same objects whose credentials cover only keys starting with one of
    /// `prefixes` (plain string prefixes such as `"store-a/"`; none: every key); calls about other
    /// keys fail with `Forbidden`.
    pub fn with_prefixes<S: Into<String>>(
        &self,
        prefixes: impl IntoIterator<Item = S>,
    ) -> MemoryRemote {
        let prefixes: Vec<String> = prefixes.into_iter().map(Into::into).collect();
        let access = if prefixes.is_empty() {
            Access::Full
        } else {
            Access::Prefixes(prefixes.into())
        };
        MemoryRemote {
            access,
            ..self.clone()
        }
    }

    /// Sets the part size of resumable uploads (at least 1 byte; default 8 MiB). Uploads started
    /// before keep theirs.
    pub fn set_part_size(&self, bytes: u64) {
        lock(&self.state).part_size = bytes.max(1);
    }

    /// Sets the largest upload accepted (default 5 GiB).
    pub fn set_max_upload_bytes(&self, bytes: u64) {
        lock(&self.state).max_upload_bytes = bytes;
    }

    /// Sets how long signed URLs work (whole seconds; default 900 s).
    pub fn set_url_ttl(&self, ttl: Duration) {
        lock(&self.state).url_ttl = ttl;
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

    /// Stores an object directly (no fault, limit or check applies); without a content type it is
    /// served as `application/octet-stream`.
    pub fn insert(&self, key: &str, bytes: Bytes, content_type: Option<&str>) {
        let content_type = content_type.unwrap_or(DEFAULT_CONTENT_TYPE).to_owned();
        lock(&self.state).objects.insert(
            key.to_owned(),
            Object {
                bytes,
                content_type,
            },
        );
    }

    /// Removes an object directly (as an operator or another client would).
    pub fn remove(&self, key: &str) -> bool {
        lock(&self.state).objects.remove(key).is_some()
    }

    /// An object's bytes.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        lock(&self.state).objects.get(key).map(|o| o.bytes.clone())
    }

    /// An object's content type (`application/octet-stream` when it was stored without one).
    pub fn content_type(&self, key: &str) -> Option<String> {
        lock(&self.state)
            .objects
            .get(key)
            .map(|o| o.content_type.clone())
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.state).objects.keys().cloned().collect()
    }

    /// The calls made so far (by every handle).
    pub fn calls(&self) -> CallCounts {
        lock(&self.state).calls
    }

    /// How many partial (interrupted, resumable) uploads are held.
    pub fn partial_uploads(&self) -> usize {
        lock(&self.state).partial.len()
    }

    /// What a plain GET of `url` (from [`RemoteStorage::download_url`]) answers: `(200, bytes)`,
    /// `(403, _)` once it expired or when this remote did not sign it, `(404, _)` when the object
    /// is gone, `(400, _)` when it is not a URL of this remote; `Offline` while the remote is.
    pub fn fetch_url(&self, url: &str) -> RemoteResult<(u16, Bytes)> {
        let s = lock(&self.state);
        if s.offline {
            return Err(RemoteError::new(
                RemoteErrorKind::Offline,
                "memory remote is offline",
            ));
        }
        let refused = |status: u16, why: &str| Ok((status, Bytes::from(why.to_owned())));
        let Some((path, query)) = url
            .strip_prefix(URL_SCHEME)
            .and_then(|rest| rest.split_once('?'))
        else {
            return refused(400, "not a signed URL of this remote");
        };
        let Some(key) = decode_key(path) else {
            return refused(400, "the key is not percent-encoded UTF-8");
        };
        let (mut exp, mut sig) = (None, None);
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", value)) => exp = value.parse::<u64>().ok(),
                Some(("sig", value)) => sig = Some(value),
                _ => {}
            }
        }
        let (Some(exp), Some(sig)) = (exp, sig) else {
            return refused(403, "exp or sig is missing");
        };
        if sig != signature(s.secret, &key, exp) {
            return refused(403, "the signature does not match");
        }
        if unix_secs(self.runtime.now_ms()) >= exp {
            return refused(403, "the signed URL expired");
        }
        match s.objects.get(&key) {
            Some(object) => Ok((200, object.bytes.clone())),
            None => refused(404, "no object at this key"),
        }
    }

    /// Common start of every call: delay, offline, injected failures, credentials (`key`: the key
    /// the call is about, checked for validity and against the credentials' prefixes).
    async fn enter(
        &self,
        count: impl FnOnce(&mut CallCounts),
        fallible: bool,
        key: Option<&str>,
    ) -> RemoteResult<()> {
        let delay = {
            let mut s = lock(&self.state);
            count(&mut s.calls);
            s.delay
        };
        if !delay.is_zero() {
            self.runtime.sleep(delay).await;
        }
        let keyed = |err: RemoteError| match key {
            Some(key) => err.with_key(key),
            None => err,
        };
        {
            let mut s = lock(&self.state);
            if s.offline {
                return Err(keyed(RemoteError::new(
                    RemoteErrorKind::Offline,
                    "memory remote is offline",
                )));
            }
            if fallible && s.fail_next > 0 {
                s.fail_next -= 1;
                return Err(keyed(RemoteError::new(
                    RemoteErrorKind::Server,
                    "HTTP 503: injected failure",
                )));
            }
        }
        let Some(key) = key else {
            return Ok(());
        };
        if matches!(self.access, Access::Refused) {
            return Err(keyed(RemoteError::new(
                RemoteErrorKind::Unauthorized,
                "HTTP 401: missing or unknown token",
            )));
        }
        if let Err(why) = check_key(key) {
            return Err(keyed(RemoteError::new(
                RemoteErrorKind::Rejected,
                format!("HTTP 400: {why}"),
            )));
        }
        if let Access::Prefixes(prefixes) = &self.access {
            if !prefixes.iter().any(|p| key.starts_with(p.as_str())) {
                return Err(keyed(RemoteError::new(
                    RemoteErrorKind::Forbidden,
                    "HTTP 403: the token may not touch this key",
                )));
            }
        }
        Ok(())
    }

    /// An upload in one request. A partial left by an injected cut (the only way such an upload
    /// gets a token) continues where it stopped.
    async fn upload_single(&self, req: &UploadRequest) -> RemoteResult<()> {
        let key = req.key.as_str();
        let resumed = req.resume.as_deref().and_then(|token| {
            let s = lock(&self.state);
            let p = s.partial.get(key)?;
            (p.upload_id == token && p.size == req.size && !p.resumable)
                .then(|| (p.upload_id.clone(), p.received.clone()))
        });
        let (upload_id, mut received) = match resumed {
            Some((id, received)) => (Some(id), received),
            None => (None, BytesMut::new()),
        };
        let offset = received.len() as u64;
        let mut stream = open(req, offset).await?;
        let cut = lock(&self.state).cut_upload.take();
        (req.progress)(offset, req.size);
        while (received.len() as u64) < req.size {
            let Some(chunk) = stream.next().await else {
                return Err(ended_early(req, offset, received.len() as u64 - offset));
            };
            let chunk = chunk.map_err(|e| read_failed(req, received.len() as u64, e))?;
            let room = (req.size - received.len() as u64).min(chunk.len() as u64) as usize;
            let mut chunk = &chunk[..room];
            if let Some(after) = cut {
                let before_cut = after.saturating_sub(received.len() as u64) as usize;
                if chunk.len() >= before_cut {
                    chunk = &chunk[..before_cut];
                    received.extend_from_slice(chunk);
                    let upload_id = upload_id.unwrap_or_else(|| self.new_upload_id());
                    lock(&self.state).partial.insert(
                        req.key.clone(),
                        Partial {
                            upload_id: upload_id.clone(),
                            size: req.size,
                            resumable: false,
                            part_size: 1,
                            received,
                        },
                    );
                    (req.on_resume)(Some(upload_id));
                    return Err(cut_error(key));
                }
            }
            received.extend_from_slice(chunk);
            (req.progress)(received.len() as u64, req.size);
        }
        let done = self.finish(req, received.freeze());
        if done.is_ok() && req.resume.is_some() {
            (req.on_resume)(None);
        }
        done
    }

    /// A resumable upload: a token first, then part by part (each read from its own offset), the
    /// parts already held skipped; an interruption keeps the whole parts.
    async fn upload_resumable(&self, req: &UploadRequest) -> RemoteResult<()> {
        let key = req.key.as_str();
        let resumed = req.resume.as_deref().and_then(|token| {
            let s = lock(&self.state);
            let p = s.partial.get(key)?;
            (p.upload_id == token && p.size == req.size && p.resumable)
                .then(|| (p.upload_id.clone(), p.part_size, p.received.len() as u64))
        });
        let (upload_id, part_size, mut done) = match resumed {
            Some(found) => found,
            None => {
                if req.resume.is_some() {
                    // A token of another key, size or upload: useless here.
                    (req.on_resume)(None);
                }
                let upload_id = self.new_upload_id();
                let part_size = lock(&self.state).part_size;
                lock(&self.state).partial.insert(
                    req.key.clone(),
                    Partial {
                        upload_id: upload_id.clone(),
                        size: req.size,
                        resumable: true,
                        part_size,
                        received: BytesMut::new(),
                    },
                );
                (req.on_resume)(Some(upload_id.clone()));
                (upload_id, part_size, 0)
            }
        };
        let cut = lock(&self.state).cut_upload.take();
        (req.progress)(done, req.size);
        while done < req.size {
            let len = part_size.min(req.size - done);
            let mut stream = open(req, done).await?;
            let mut part = BytesMut::with_capacity(len as usize);
            while (part.len() as u64) < len {
                let Some(chunk) = stream.next().await else {
                    return Err(ended_early(req, done, part.len() as u64));
                };
                let chunk = chunk.map_err(|e| read_failed(req, done + part.len() as u64, e))?;
                let room = (len - part.len() as u64).min(chunk.len() as u64) as usize;
                if cut.is_some_and(|after| done + (part.len() + room) as u64 >= after) {
                    // The part in flight is lost; the whole parts before it stay.
                    return Err(cut_error(key));
                }
                part.extend_from_slice(&chunk[..room]);
                (req.progress)(done + part.len() as u64, req.size);
            }
            let mut s = lock(&self.state);
            match s.partial.get_mut(key) {
                Some(p) if p.upload_id == upload_id => p.received.extend_from_slice(&part),
                _ => {
                    drop(s);
                    // Another upload of this key replaced this one: start afresh next time.
                    (req.on_resume)(None);
                    return Err(RemoteError::new(
                        RemoteErrorKind::Rejected,
                        "HTTP 404: the resumable upload is gone",
                    )
                    .with_key(key));
                }
            }
            done += len;
        }
        let received = {
            let mut s = lock(&self.state);
            match s.partial.get(key) {
                Some(p) if p.upload_id == upload_id => {
                    s.partial.remove(key).map(|p| p.received.freeze())
                }
                _ => None,
            }
        };
        let Some(received) = received else {
            (req.on_resume)(None);
            return Err(RemoteError::new(
                RemoteErrorKind::Rejected,
                "HTTP 404: the resumable upload is gone",
            )
            .with_key(key));
        };
        let done = self.finish(req, received);
        // Completed or refused: either way the token is spent.
        (req.on_resume)(None);
        done
    }

    /// Stores the whole upload when it hashes to a content-addressed key (else `Rejected`, nothing
    /// stored, any partial upload of the key dropped).
    fn finish(&self, req: &UploadRequest, bytes: Bytes) -> RemoteResult<()> {
        let mut s = lock(&self.state);
        if s.partial.get(&req.key).is_some_and(|p| !p.resumable) {
            s.partial.remove(&req.key);
        }
        if let Some(want) = key_hash(&req.key) {
            let got = hash_bytes(&bytes);
            if got != want {
                return Err(RemoteError::new(
                    RemoteErrorKind::Rejected,
                    format!("HTTP 422: content hashes to {got}, not to the key's {want}; nothing was stored"),
                )
                .with_key(&req.key));
            }
        }
        let content_type = req
            .content_type
            .clone()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned());
        s.objects.insert(
            req.key.clone(),
            Object {
                bytes,
                content_type,
            },
        );
        Ok(())
    }

    fn new_upload_id(&self) -> String {
        let mut s = lock(&self.state);
        s.next_upload_id += 1;
        format!("mem-{}", s.next_upload_id)
    }
}

/// Opens the local bytes of `req` at `offset` (`Local` when they cannot be opened).
async fn open(req: &UploadRequest, offset: u64) -> RemoteResult<fs_core::ByteStream> {
    (req.open)(offset).await.map_err(|e| {
        RemoteError::new(
            RemoteErrorKind::Local,
            format!("opening the local bytes at offset {offset}: {e}"),
        )
        .with_key(&req.key)
    })
}

fn read_failed(req: &UploadRequest, at: u64, e: fs_core::FsError) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Local,
        format!("reading the local bytes at offset {at}: {e}"),
    )
    .with_key(&req.key)
}

fn ended_early(req: &UploadRequest, offset: u64, got: u64) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Local,
        format!(
            "the local bytes ended after {got} bytes from offset {offset}, short of the {} declared (did the file change?)",
            req.size
        ),
    )
    .with_key(&req.key)
}

fn cut_error(key: &str) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Offline,
        "connection dropped during upload (injected)",
    )
    .with_key(key)
}

/// The hash a content-addressed key names (its last segment is 64 lowercase hex), if any.
fn key_hash(key: &str) -> Option<ContentHash> {
    let last = key.rsplit('/').next()?;
    ContentHash::parse(last).ok()
}

/// The server's key rules: relative, at most 1024 bytes, `/`-separated names that every file
/// system backend accepts, none ending with the server's temporary suffix.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "the key is {} bytes long; the limit is {MAX_KEY_BYTES}",
            key.len()
        ));
    }
    if key.starts_with('/') {
        return Err("the key must be relative (no leading '/')".into());
    }
    for segment in key.split('/') {
        fs_core::validate_name(segment).map_err(|why| format!("invalid key {key:?}: {why}"))?;
        if segment.ends_with(TEMP_SUFFIX) {
            return Err(format!(
                "invalid key {key:?}: segments may not end with {TEMP_SUFFIX:?}"
            ));
        }
    }
    Ok(())
}

/// The server's content type rule: printable ASCII `type/subtype` with optional parameters, at
/// most 255 bytes.
fn check_content_type(value: &str) -> Result<(), String> {
    let value = value.trim();
    let essence = value.split(';').next().unwrap_or("").trim();
    let well_formed = !value.is_empty()
        && value.len() <= 255
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty() && !s.contains('/'));
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "the content type {value:?} is not a valid media type such as \"image/png\""
        ))
    }
}

/// Whole Unix seconds of an epoch-ms time.
fn unix_secs(now_ms: i64) -> u64 {
    u64::try_from(now_ms.max(0) / 1000).unwrap_or(0)
}

/// The signature of a download URL of `key` until `exp` (Unix seconds).
fn signature(secret: u64, key: &str, exp: u64) -> String {
    let digest = hash_bytes(format!("{secret}\nGET\n{key}\n{exp}").as_bytes()).to_hex();
    digest[..32].to_owned()
}

/// `key` with every byte outside RFC 3986's unreserved set percent-encoded, segment by segment.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The key of an encoded URL path (`None` when it is not valid percent-encoded UTF-8 or encodes a
/// `/` inside a segment).
fn decode_key(path: &str) -> Option<String> {
    let mut segments = Vec::new();
    for segment in path.split('/') {
        let raw = segment.as_bytes();
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while i < raw.len() {
            if raw[i] == b'%' {
                let hex = std::str::from_utf8(raw.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(raw[i]);
                i += 1;
            }
        }
        let segment = String::from_utf8(out).ok()?;
        if segment.contains('/') {
            return None;
        }
        segments.push(segment);
    }
    Some(segments.join("/"))
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl RemoteStorage for MemoryRemote {
    async fn health(&self) -> RemoteResult<()> {
        self.enter(|c| c.health += 1, false, None).await
    }

    async fn upload(&self, req: UploadRequest) -> RemoteResult<()> {
        let key = req.key.as_str();
        self.enter(|c| c.upload += 1, true, Some(key)).await?;
        if let Some(content_type) = req.content_type.as_deref() {
            check_content_type(content_type).map_err(|why| {
                RemoteError::new(RemoteErrorKind::Rejected, format!("HTTP 400: {why}"))
                    .with_key(key)
            })?;
        }
        let max = lock(&self.state).max_upload_bytes;
        if req.size > max {
            return Err(RemoteError::new(
                RemoteErrorKind::TooLarge,
                format!(
                    "HTTP 413: {} bytes is larger than this remote's limit of {max} bytes; nothing was stored",
                    req.size
                ),
            )
            .with_key(key));
        }
        if req.size > 0 && req.size >= self.multipart_threshold {
            self.upload_resumable(&req).await
        } else {
            self.upload_single(&req).await
        }
    }

    async fn download(&self, key: &str, offset: u64) -> RemoteResult<Download> {
        self.enter(|c| c.download += 1, true, Some(key)).await?;
        let mut s = lock(&self.state);
        let not_found = || {
            RemoteError::new(RemoteErrorKind::NotFound, format!("HTTP 404: {key}")).with_key(key)
        };
        if s.not_found.contains(key) {
            return Err(not_found());
        }
        let object = s.objects.get(key).cloned().ok_or_else(not_found)?;
        let total = object.bytes.len() as u64;
        if offset > total {
            return Err(RemoteError::new(
                RemoteErrorKind::Rejected,
                format!("HTTP 416: range start {offset} beyond {total} bytes"),
            )
            .with_status(416)
            .with_key(key));
        }
        // From the very end the clients learn the size from the 416 and nothing else.
        let content_type = (offset == 0 || offset < total).then_some(object.content_type);
        let mut body = object.bytes.slice(offset as usize..);
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
            )
            .with_key(key)));
        }
        Ok(Download {
            offset,
            total_size: Some(total),
            content_type,
            body: Body::Bytes(Box::pin(futures::stream::iter(chunks))),
        })
    }

    async fn delete(&self, key: &str) -> RemoteResult<()> {
        self.enter(|c| c.delete += 1, true, Some(key)).await?;
        lock(&self.state).objects.remove(key);
        Ok(())
    }

    async fn download_url(&self, key: &str) -> RemoteResult<SignedUrl> {
        self.enter(|c| c.download_url += 1, true, Some(key)).await?;
        let s = lock(&self.state);
        let exp = unix_secs(self.runtime.now_ms()) + s.url_ttl.as_secs();
        let sig = signature(s.secret, key, exp);
        Ok(SignedUrl {
            url: format!("{URL_SCHEME}{}?exp={exp}&sig={sig}", encode_key(key)),
            headers: Vec::new(),
            expires_at_ms: i64::try_from(exp.saturating_mul(1000)).unwrap_or(i64::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn keys_and_content_types_follow_the_server_rules() {
        assert!(check_key("store-a/abc").is_ok());
        for bad in [
            "",
            "/abs",
            "a//b",
            "a/../b",
            "a/./b",
            "a/b\\c",
            "a/x.fsync-tmp",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_key(&"k".repeat(1025)).is_err());
        assert!(check_content_type("image/png").is_ok());
        assert!(check_content_type("text/plain; charset=utf-8").is_ok());
        for bad in ["", "png", "image/", "/png", "a/b/c", "image/pn\u{e9}"] {
            assert!(check_content_type(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn url_keys_round_trip_through_percent_encoding() {
        for key in ["s/abc", "s p/ä%/x~y", "a.b-c_d"] {
            assert_eq!(decode_key(&encode_key(key)).as_deref(), Some(key));
        }
        assert_eq!(encode_key("a b/c"), "a%20b/c");
        assert_eq!(decode_key("a%2Fb"), None);
        assert_eq!(decode_key("a%zz"), None);
        assert_eq!(decode_key("a%2"), None);
    }
}
