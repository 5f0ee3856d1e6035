//! Streamed bodies: upload bodies cut from the local stream (with progress, stall detection and
//! local read errors kept apart from network errors), and download bodies with an idle timeout.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fs_core::{ByteStream, MaybeSendBoxStream};
use futures::StreamExt;
use reqwest::Url;

use super::errors;
use crate::services::remote_storage::protocol::transport::Slice;
use crate::services::remote_storage::{ProgressFn, RemoteError, RemoteErrorKind, RemoteResult};

/// What an upload body saw: when it last moved, and the local failure that ended it, if any.
pub(super) struct BodyProbe {
    start: Instant,
    last_ms: AtomicU64,
    local_error: Mutex<Option<String>>,
}

impl BodyProbe {
    pub(super) fn new() -> Arc<BodyProbe> {
        Arc::new(BodyProbe {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            local_error: Mutex::new(None),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// How long since the body last handed out bytes (or since it was made).
    fn idle_for(&self) -> Duration {
        let last = self.last_ms.load(Ordering::Relaxed);
        Duration::from_millis(self.now_ms().saturating_sub(last))
    }

    fn fail(&self, message: String) {
        let mut slot = self.local_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.get_or_insert(message);
    }

    /// The local failure that ended the body of an upload of `key`, if one did.
    pub(super) fn local_error(&self, key: &str) -> Option<RemoteError> {
        let slot = self.local_error.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref()
            .map(|message| errors::local(format!("uploading {key}: {message}")))
    }
}

struct UploadState {
    stream: ByteStream,
    sent: u64,
    slice: Slice,
    /// The object's size (for progress).
    total: u64,
    progress: ProgressFn,
    probe: Arc<BodyProbe>,
    ended: bool,
}

/// Exactly `slice.len` bytes of `stream` (the local bytes opened at `slice.offset`), reporting
/// progress as chunks are handed over. A read error or a stream that ends early ends the body with
/// an error and records it in `probe` (so the caller reports `Local`, not `Offline`).
pub(super) fn upload_body(
    stream: ByteStream,
    slice: Slice,
    total: u64,
    progress: ProgressFn,
    probe: Arc<BodyProbe>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let state = UploadState {
        stream,
        sent: 0,
        slice,
        total,
        progress,
        probe,
        ended: false,
    };
    futures::stream::unfold(state, |mut s| async move {
        if s.ended || s.sent >= s.slice.len {
            return None;
        }
        let failure = match s.stream.next().await {
            Some(Ok(mut chunk)) => {
                let room = s.slice.len - s.sent;
                if chunk.len() as u64 > room {
                    chunk.truncate(room as usize);
                }
                s.sent += chunk.len() as u64;
                s.probe.touch();
                (s.progress)(s.slice.done_before + s.sent, s.total);
                return Some((Ok(chunk), s));
            }
            Some(Err(err)) => format!(
                "reading the local bytes at offset {}: {err}",
                s.slice.offset + s.sent
            ),
            None => format!(
                "the local bytes ended after {} of the {} bytes expected from offset {} (did the file change?)",
                s.sent, s.slice.len, s.slice.offset
            ),
        };
        s.ended = true;
        s.probe.fail(failure.clone());
        Some((Err(std::io::Error::other(failure)), s))
    })
}

/// Runs `request` (an upload whose body reports to `probe`) until it answers, or fails it when the
/// body has not moved for `idle` (a stalled connection).
pub(super) async fn watch_upload<F: Future>(
    request: F,
    probe: &BodyProbe,
    idle: Duration,
) -> Result<F::Output, Duration> {
    let watchdog = async {
        loop {
            let quiet = probe.idle_for();
            if quiet >= idle {
                return quiet;
            }
            tokio::time::sleep(idle - quiet).await;
        }
    };
    let request = std::pin::pin!(request);
    let watchdog = std::pin::pin!(watchdog);
    match futures::future::select(request, watchdog).await {
        futures::future::Either::Left((answer, _)) => Ok(answer),
        futures::future::Either::Right((quiet, _)) => Err(quiet),
    }
}

/// A download body: errors and stalls (no bytes for `idle` while the reader waits) are `Offline`.
pub(super) fn download_body(
    response: reqwest::Response,
    url: Url,
    idle: Duration,
) -> MaybeSendBoxStream<RemoteResult<Bytes>> {
    let stream = response.bytes_stream().boxed();
    futures::stream::unfold(Some((stream, url)), move |state| async move {
        let (mut stream, url) = state?;
        match tokio::time::timeout(idle, stream.next()).await {
            Ok(None) => None,
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some((stream, url)))),
            Ok(Some(Err(err))) => Some((Err(errors::from_transport("GET", &url, err)), None)),
            Err(_) => Some((
                Err(RemoteError::new(
                    RemoteErrorKind::Offline,
                    format!(
                        "GET {}: no bytes arrived for {idle:?}; the connection stalled",
                        errors::shown(&url)
                    ),
                )),
                None,
            )),
        }
    })
    .boxed()
}
