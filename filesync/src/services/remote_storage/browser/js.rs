//! Small pieces of browser glue that work on the page and in workers alike: the global `fetch`, a
//! `setTimeout` sleep, a deadline for a future, reading a response's text and streaming its body.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Request, Response};

use super::errors;
use crate::services::remote_storage::{JsChunks, RemoteError, RemoteErrorKind, RemoteResult};

/// A function of the global scope (`window`, a worker's `self`), looked up when called.
fn global_function(name: &str) -> Result<(JsValue, Function), JsValue> {
    let global: JsValue = js_sys::global().into();
    let value = Reflect::get(&global, &JsValue::from_str(name))?;
    let function = value
        .dyn_into::<Function>()
        .map_err(|_| JsValue::from_str(&format!("this JavaScript global scope has no {name}()")))?;
    Ok((global, function))
}

/// The global `fetch(request)`: its promise of a [`Response`].
pub(super) fn fetch(request: &Request) -> Result<Promise, JsValue> {
    let (global, fetch) = global_function("fetch")?;
    Ok(fetch.call1(&global, request)?.unchecked_into())
}

/// Clears a `setTimeout` when dropped before it fired: a deadline that was not needed leaves no
/// timer behind (in Node a pending timer keeps the process alive).
struct Timer {
    id: JsValue,
    fired: bool,
}

impl Drop for Timer {
    fn drop(&mut self) {
        if self.fired || self.id.is_undefined() {
            return;
        }
        if let Ok((global, clear)) = global_function("clearTimeout") {
            // Clearing a timer that already fired or never existed is harmless; nothing to report.
            let _ = clear.call1(&global, &self.id);
        }
    }
}

/// Resolves after `duration` (the global `setTimeout`; a missing one resolves at once). Dropping
/// the future clears the timer.
pub(super) async fn sleep(duration: Duration) {
    let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
    let mut id = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve, _reject| {
        let scheduled = global_function("setTimeout").and_then(|(global, set_timeout)| {
            set_timeout.call2(&global, &resolve, &JsValue::from(ms))
        });
        match scheduled {
            Ok(timer) => id = timer,
            Err(_) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    });
    let mut timer = Timer { id, fired: false };
    let _ = JsFuture::from(promise).await;
    timer.fired = true;
}

/// `future`'s output, or `None` when `limit` passes first.
pub(super) async fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let timer = std::pin::pin!(sleep(limit));
    match futures::future::select(future, timer).await {
        futures::future::Either::Left((output, _)) => Some(output),
        futures::future::Either::Right(((), _)) => None,
    }
}

/// `fetch(request)` and the whole answer: the response and its body's text. A request that got no
/// answer fails with `no_answer(error)`; a body cut short is `Offline`, naming `method url`.
pub(super) async fn fetch_text(
    request: &Request,
    method: &str,
    url: &str,
    no_answer: impl Fn(&JsValue) -> RemoteError,
) -> RemoteResult<(Response, String)> {
    let promise = fetch(request).map_err(|err| no_answer(&err))?;
    let response: Response = JsFuture::from(promise)
        .await
        .map_err(|err| no_answer(&err))?
        .unchecked_into();
    let text = text(&response).await.map_err(|err| {
        errors::network(
            method,
            url,
            &format!(
                "the connection broke during the answer: {}",
                errors::js_text(&err)
            ),
        )
    })?;
    Ok((response, text))
}

/// The text of a response's body; errors give what was read (nothing).
pub(super) async fn text(response: &Response) -> Result<String, JsValue> {
    let promise = response.text()?;
    Ok(JsFuture::from(promise)
        .await?
        .as_string()
        .unwrap_or_default())
}

/// Cancels the reader of an unfinished body when dropped (the engine stopped reading).
struct Reader {
    reader: ReadableStreamDefaultReader,
    finished: bool,
}

impl Drop for Reader {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.reader.cancel();
        }
    }
}

/// A response body chunk by chunk as JavaScript arrays (nothing copied into wasm memory); a failed
/// read or no chunk within `idle` ends it with `Offline`.
pub(super) fn body_stream(response: &Response, url: String, idle: Duration) -> JsChunks {
    let Some(body) = response.body() else {
        // A body-less answer (HEAD-like, 204): nothing to read.
        return futures::stream::empty().boxed_local();
    };
    let reader = Reader {
        reader: body.get_reader().unchecked_into(),
        finished: false,
    };
    futures::stream::unfold(Some((reader, url)), move |state| async move {
        let (mut reader, url) = state?;
        let read = JsFuture::from(reader.reader.read());
        let failure = match within(idle, read).await {
            None => format!("no bytes arrived for {idle:?}; the connection stalled"),
            Some(Err(err)) => format!(
                "the connection broke during the body: {}",
                errors::js_text(&err)
            ),
            Some(Ok(result)) => {
                let done = Reflect::get(&result, &JsValue::from_str("done"))
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true);
                if done {
                    reader.finished = true;
                    return None;
                }
                let value = Reflect::get(&result, &JsValue::from_str("value"))
                    .unwrap_or(JsValue::UNDEFINED);
                match value.dyn_into::<Uint8Array>() {
                    Ok(chunk) => return Some((Ok(chunk), Some((reader, url)))),
                    Err(_) => "the body gave something other than bytes".to_owned(),
                }
            }
        };
        let err = RemoteError::new(
            RemoteErrorKind::Offline,
            format!("GET {}: {failure}", errors::shown(&url)),
        );
        Some((Err(err), None))
    })
    .boxed_local()
}
