//! The [`Transfer`] side of [`BrowserHttpRemote`]: uploads (whole, or one part) as a `Blob` sent by
//! XHR (by `fetch` where there is no XHR, as in Node), and (ranged) GETs by `fetch`.

use std::rc::Rc;

use async_trait::async_trait;
use futures::StreamExt;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Blob, BlobPropertyBag, Request, RequestInit, Response};

use super::{errors, fetch_upload, js, xhr, BrowserHttpRemote};
use crate::services::remote_storage::protocol::transport::{self, Put, Slice, Transfer};
use crate::services::remote_storage::{Body, RemoteError, RemoteResult, UploadRequest};

/// Signed headers, as name/value pairs.
type Headers = Vec<(String, String)>;

/// Whether `name` is among `headers` (case-insensitively).
fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// `slice` of the upload's bytes as a `Blob`: a slice of the disk-backed Blob of
/// [`UploadRequest::blob`] when there is one (nothing is read: the browser streams it from disk as
/// it sends), else the chunks of `req.open(slice.offset)`, each copied once into its own JS array
/// and assembled by the browser (never one wasm buffer). A read error, a Blob of another size or a
/// stream that ends early is `Local`.
async fn slice_blob(req: &UploadRequest, slice: &Slice) -> RemoteResult<Blob> {
    if let Some(open) = &req.blob {
        let whole = open().await.map_err(|err| {
            errors::local(format!(
                "uploading {}: opening the local file: {err}",
                req.key
            ))
        })?;
        if whole.size() != req.size as f64 {
            return Err(errors::local(format!(
                "uploading {}: the local file holds {} bytes, not the {} expected (did the file change?)",
                req.key,
                whole.size(),
                req.size
            )));
        }
        let content_type = req.content_type.as_deref().unwrap_or("");
        return whole
            .slice_with_f64_and_f64_and_content_type(
                slice.offset as f64,
                (slice.offset + slice.len) as f64,
                content_type,
            )
            .map_err(|err| {
                errors::local(format!(
                    "uploading {}: slicing the local file: {}",
                    req.key,
                    errors::js_text(&err)
                ))
            });
    }
    let mut stream = transport::open_slice(req, slice).await?;
    let parts = Array::new();
    let mut got: u64 = 0;
    while got < slice.len {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let room = slice.len - got;
                let take = usize::try_from(room).map_or(chunk.len(), |room| chunk.len().min(room));
                if take > 0 {
                    parts.push(&Uint8Array::from(&chunk[..take]));
                    got += take as u64;
                }
            }
            Some(Err(err)) => {
                return Err(errors::local(format!(
                    "uploading {}: reading the local bytes at offset {}: {err}",
                    req.key,
                    slice.offset + got
                )))
            }
            None => {
                return Err(errors::local(format!(
                    "uploading {}: the local bytes ended after {got} of the {} bytes expected from offset {} (did the file change?)",
                    req.key, slice.len, slice.offset
                )))
            }
        }
    }
    let options = BlobPropertyBag::new();
    if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
        options.set_type(content_type);
    }
    Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|err| {
        errors::local(format!(
            "uploading {}: the browser could not hold {} bytes as a Blob: {}",
            req.key,
            slice.len,
            errors::js_text(&err)
        ))
    })
}

#[async_trait(?Send)]
impl Transfer for BrowserHttpRemote {
    type Answer = Response;

    /// Sends the bytes of `put` to its signed URL as one `Blob`, by XHR (progress as it goes), or by
    /// `fetch` where the scope has no XHR (progress at the end); the answer's `ETag`.
    async fn send_slice(&self, put: Put<'_, String, Headers>) -> RemoteResult<Option<String>> {
        let Put {
            method,
            url,
            mut headers,
            req,
            slice,
        } = put;
        let body = slice_blob(req, &slice).await?;
        if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
            if !has_header(&headers, "content-type") {
                headers.push(("Content-Type".into(), content_type.to_owned()));
            }
        }
        // The browser sets these itself and refuses them from scripts.
        headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host")
        });
        let progress = req.progress.clone();
        let (done_before, len, total) = (slice.done_before, slice.len, req.size);
        let on_progress: Rc<dyn Fn(u64)> =
            Rc::new(move |sent: u64| progress(done_before + sent.min(len), total));
        let idle = self.options.transfer_idle_timeout;
        let answer = if xhr::available() {
            xhr::send(method, url, &headers, &body, on_progress, idle).await?
        } else {
            fetch_upload::send(method, url, &headers, &body, idle).await?
        };
        if !(200..300).contains(&answer.status) {
            return Err(errors::from_status(
                method,
                url,
                answer.status,
                &answer.text,
            ));
        }
        (req.progress)(done_before + len, total);
        Ok(answer.etag)
    }

    /// GETs the signed `url` from `offset` by `fetch`; the answer once its headers are in
    /// (`Offline` when none came within the idle timeout).
    async fn get(
        &self,
        url: &String,
        mut signed_headers: Headers,
        offset: u64,
    ) -> RemoteResult<Response> {
        if offset > 0 {
            signed_headers.retain(|(name, _)| !name.eq_ignore_ascii_case("range"));
            signed_headers.push(("Range".into(), format!("bytes={offset}-")));
        }
        let what = format!("GET {}", errors::shown(url));
        let headers = web_sys::Headers::new().map_err(|err| errors::unsendable(&what, &err))?;
        for (name, value) in &signed_headers {
            headers
                .set(name, value)
                .map_err(|err| errors::unsendable(&what, &err))?;
        }
        let init = RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers);
        let controller = AbortController::new().ok();
        if let Some(controller) = &controller {
            init.set_signal(Some(&controller.signal()));
        }
        let request = Request::new_with_str_and_init(url, &init)
            .map_err(|err| errors::unsendable(&what, &err))?;
        let promise = js::fetch(&request)
            .map_err(|err| errors::network("GET", url, &errors::js_text(&err)))?;
        let idle = self.options.transfer_idle_timeout;
        match js::within(idle, JsFuture::from(promise)).await {
            None => {
                if let Some(controller) = &controller {
                    controller.abort();
                }
                Err(errors::no_answer_within("GET", url, idle))
            }
            Some(Err(err)) => Err(errors::network("GET", url, &errors::js_text(&err))),
            Some(Ok(response)) => Ok(response.unchecked_into()),
        }
    }

    fn status(&self, answer: &Response) -> u16 {
        answer.status()
    }

    fn header(&self, answer: &Response, name: &str) -> Option<String> {
        answer.headers().get(name).ok().flatten()
    }

    /// The error for a non-2xx answer to a GET of `url`.
    async fn failed(&self, url: &String, response: Response) -> RemoteError {
        let text = js::text(&response).await.unwrap_or_default();
        errors::from_status("GET", url, response.status(), &text)
    }

    /// The body of a download answer, read chunk by chunk with the idle timeout.
    fn body(&self, url: String, response: Response) -> Body {
        Body::Js(js::body_stream(
            &response,
            url,
            self.options.transfer_idle_timeout,
        ))
    }
}
