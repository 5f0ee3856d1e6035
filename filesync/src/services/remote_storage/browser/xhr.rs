//! One upload by `XMLHttpRequest` (DESIGN §5a: fetch reports no upload progress): the body a `Blob`,
//! progress from `upload.onprogress`, the end (load, error, abort, timeout) through a JS `Promise`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use js_sys::{Function, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

use super::answer::UploadAnswer;
use super::{errors, js};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// The request in flight and its handlers; dropping it (the caller gave up) detaches the handlers
/// and aborts the request.
struct InFlight {
    xhr: XmlHttpRequest,
    finished: bool,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.xhr.set_onload(None);
        self.xhr.set_onerror(None);
        self.xhr.set_onabort(None);
        self.xhr.set_ontimeout(None);
        self.xhr.set_onprogress(None);
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
        if !self.finished {
            let _ = self.xhr.abort();
        }
    }
}

/// Whether this JavaScript scope has `XMLHttpRequest` (pages and workers do, Node does not).
pub(super) fn available() -> bool {
    let global: JsValue = js_sys::global().into();
    js_sys::Reflect::get(&global, &JsValue::from_str("XMLHttpRequest"))
        .is_ok_and(|value| value.is_function())
}

/// Sends `body` with `method` to `url` with `headers`, calling `on_progress(bytes sent)` as the
/// browser reports it. `Offline` when the request fails without an answer or nothing moved for
/// `idle`; any answer (whatever its status) is returned.
pub(super) async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &Blob,
    on_progress: Rc<dyn Fn(u64)>,
    idle: Duration,
) -> RemoteResult<UploadAnswer> {
    let what = format!("{method} {}", errors::shown(url));
    let xhr = XmlHttpRequest::new().map_err(|err| errors::unsendable(&what, &err))?;
    xhr.open_with_async(method, url, true)
        .map_err(|err| errors::unsendable(&what, &err))?;
    for (name, value) in headers {
        xhr.set_request_header(name, value)
            .map_err(|err| errors::unsendable(&what, &err))?;
    }
    let upload = xhr
        .upload()
        .map_err(|err| errors::unsendable(&what, &err))?;

    // When something last moved (upload progress, or the answer arriving), in ms since the epoch.
    let last_moved = Rc::new(Cell::new(js_sys::Date::now()));
    let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();
    let moved = last_moved.clone();
    let sent_progress = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        moved.set(js_sys::Date::now());
        if let Some(event) = event.dyn_ref::<ProgressEvent>() {
            on_progress(event.loaded() as u64);
        }
    });
    upload.set_onprogress(Some(sent_progress.as_ref().unchecked_ref()));
    handlers.push(sent_progress);
    let moved = last_moved.clone();
    let answer_progress = Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
        moved.set(js_sys::Date::now());
    });
    xhr.set_onprogress(Some(answer_progress.as_ref().unchecked_ref()));
    handlers.push(answer_progress);

    // The end of the request settles this promise: resolved on load, rejected with the name of
    // the event otherwise.
    let mut ends: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();
    let done = Promise::new(&mut |resolve: Function, reject: Function| {
        let settle = |callback: Function, outcome: &'static str| {
            Closure::<dyn FnMut(JsValue)>::new(move |_event: JsValue| {
                let _ = callback.call1(&JsValue::UNDEFINED, &JsValue::from_str(outcome));
            })
        };
        let on_load = settle(resolve, "load");
        let on_error = settle(reject.clone(), "error");
        let on_abort = settle(reject.clone(), "abort");
        let on_timeout = settle(reject, "timeout");
        xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        xhr.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
        xhr.set_ontimeout(Some(on_timeout.as_ref().unchecked_ref()));
        ends.extend([on_load, on_error, on_abort, on_timeout]);
    });
    handlers.append(&mut ends);
    let mut in_flight = InFlight {
        xhr,
        finished: false,
        _handlers: handlers,
    };
    in_flight
        .xhr
        .send_with_opt_blob(Some(body))
        .map_err(|err| errors::unsendable(&what, &err))?;

    let mut done = std::pin::pin!(JsFuture::from(done));
    let outcome = loop {
        let quiet = Duration::from_millis((js_sys::Date::now() - last_moved.get()).max(0.0) as u64);
        if quiet >= idle {
            return Err(RemoteError::new(
                RemoteErrorKind::Offline,
                format!("{what}: nothing moved for {quiet:?}; the connection stalled"),
            ));
        }
        if let Some(outcome) = js::within(idle - quiet, done.as_mut()).await {
            break outcome;
        }
    };
    in_flight.finished = true;
    match outcome {
        Ok(_) => {
            let xhr = &in_flight.xhr;
            let status = xhr.status().unwrap_or(0);
            let etag = xhr.get_response_header("ETag").ok().flatten();
            let text = xhr.response_text().ok().flatten().unwrap_or_default();
            Ok(UploadAnswer { status, etag, text })
        }
        Err(event) => Err(errors::network(
            method,
            url,
            &format!(
                "the request ended with {}",
                event.as_string().unwrap_or_else(|| errors::js_text(&event))
            ),
        )),
    }
}
