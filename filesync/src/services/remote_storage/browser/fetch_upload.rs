//! One upload by `fetch`, where the JavaScript scope has no `XMLHttpRequest` (Node 20+): the body
//! the same `Blob` (its size gives `Content-Length`, which presigned S3 URLs need), the end through
//! the response. Fetch shows no upload progress, so the idle timeout cannot see bytes move: the
//! request may take [`transfer_idle_timeout`](super::BrowserHttpRemoteOptions::transfer_idle_timeout)
//! plus one second per [`FLOOR_RATE`] bytes of body before it is aborted (`Offline`).

use std::time::Duration;

use web_sys::{AbortController, Blob, Headers, Request, RequestInit};

use super::answer::UploadAnswer;
use super::{errors, js};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// The slowest upload rate (bytes per second) a fetch upload is given time for, beyond the idle
/// timeout: 256 KiB/s.
pub(super) const FLOOR_RATE: u64 = 256 * 1024;

/// How long a fetch upload of `len` bytes may take: `idle` plus one second per [`FLOOR_RATE`] bytes.
pub(super) fn deadline(idle: Duration, len: u64) -> Duration {
    idle.saturating_add(Duration::from_secs(len.div_ceil(FLOOR_RATE)))
}

/// Aborts the request when dropped before it finished (the caller gave up: a cancelled transfer).
struct AbortOnDrop {
    controller: Option<AbortController>,
    finished: bool,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            if let Some(controller) = &self.controller {
                controller.abort();
            }
        }
    }
}

/// Sends `body` with `method` to `url` with `headers` by `fetch`. `Offline` when the request fails
/// without an answer or no answer came within [`deadline`]; any answer (whatever its status) is
/// returned.
pub(super) async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &Blob,
    idle: Duration,
) -> RemoteResult<UploadAnswer> {
    let what = format!("{method} {}", errors::shown(url));
    let list = Headers::new().map_err(|err| errors::unsendable(&what, &err))?;
    for (name, value) in headers {
        list.set(name, value)
            .map_err(|err| errors::unsendable(&what, &err))?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_headers(&list);
    init.set_body(body);
    let mut guard = AbortOnDrop {
        controller: AbortController::new().ok(),
        finished: false,
    };
    if let Some(controller) = &guard.controller {
        init.set_signal(Some(&controller.signal()));
    }
    let request = Request::new_with_str_and_init(url, &init)
        .map_err(|err| errors::unsendable(&what, &err))?;
    let exchange = async {
        let no_answer =
            |err: &wasm_bindgen::JsValue| errors::network(method, url, &errors::js_text(err));
        let (response, text) = js::fetch_text(&request, method, url, no_answer).await?;
        Ok(UploadAnswer {
            status: response.status(),
            etag: response.headers().get("ETag").ok().flatten(),
            text,
        })
    };
    let limit = deadline(idle, body.size() as u64);
    let outcome = js::within(limit, exchange).await;
    // Done either way: a timeout aborts below, an answer needs no abort.
    guard.finished = true;
    match outcome {
        Some(answer) => answer,
        None => {
            if let Some(controller) = &guard.controller {
                controller.abort();
            }
            Err(RemoteError::new(
                RemoteErrorKind::Offline,
                format!(
                    "{what}: no answer within {limit:?} (this JavaScript scope has no XMLHttpRequest, so the upload went by fetch, which shows no progress: it gets the idle timeout plus 1 s per 256 KiB); the connection stalled or is slower than 256 KiB/s"
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn deadlines_grow_with_the_body() {
        let idle = Duration::from_secs(60);
        assert_eq!(deadline(idle, 0), idle);
        assert_eq!(deadline(idle, 1), idle + Duration::from_secs(1));
        assert_eq!(
            deadline(idle, 64 * 1024 * 1024),
            idle + Duration::from_secs(256)
        );
        assert_eq!(deadline(Duration::MAX, u64::MAX), Duration::MAX);
    }
}
