//! Moving bytes: streamed PUTs of an upload (or one part of it) and ranged GETs.

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Url};

use super::body::{self, BodyProbe};
use super::signer::{read_capped, MAX_ERROR_BODY};
use super::{config_error, errors, HttpRemote, CLIENT};
use crate::services::remote_storage::protocol::transfer::{download_answer, Answered};
use crate::services::remote_storage::protocol::transport::{self, Slice};
use crate::services::remote_storage::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, UploadRequest,
};

impl HttpRemote {
    /// Sends `slice` of the upload's bytes with `method` to the signed `url` as a stream; the
    /// answer's `ETag`.
    pub(super) async fn put_slice(
        &self,
        method_name: &'static str,
        url: &Url,
        mut headers: HeaderMap,
        req: &UploadRequest,
        slice: Slice,
    ) -> RemoteResult<Option<String>> {
        let method = match method_name {
            "POST" => Method::POST,
            _ => Method::PUT,
        };
        let stream = (req.open)(slice.offset).await.map_err(|err| {
            errors::local(format!(
                "opening the local bytes of {} at offset {}: {err}",
                req.key, slice.offset
            ))
        })?;
        if let Some(content_type) = &req.content_type {
            if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    headers.insert(reqwest::header::CONTENT_TYPE, value);
                }
            }
        }
        headers.insert(
            reqwest::header::CONTENT_LENGTH,
            HeaderValue::from(slice.len),
        );
        let probe = BodyProbe::new();
        let body = body::upload_body(stream, slice, req.size, req.progress.clone(), probe.clone());
        let request = self
            .client
            .request(method, url.clone())
            .headers(headers)
            .body(reqwest::Body::wrap_stream(body));
        let idle = self.options.transfer_idle_timeout;
        let answer = body::watch_upload(request.send(), &probe, idle).await;
        let response = match answer {
            Err(quiet) => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Offline,
                    format!(
                        "{method_name} {}: nothing moved for {quiet:?}; the connection stalled",
                        errors::shown(url)
                    ),
                ))
            }
            Ok(Err(err)) => {
                return Err(probe
                    .local_error(&req.key)
                    .unwrap_or_else(|| errors::from_transport(method_name, url, err)))
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            if let Some(local) = probe.local_error(&req.key) {
                return Err(local);
            }
            let text = read_capped(response, MAX_ERROR_BODY).await;
            return Err(errors::from_status(method_name, url, status, &text));
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Drain the (normally empty) answer so the connection can be reused.
        let _ = read_capped(response, MAX_ERROR_BODY).await;
        Ok(etag)
    }

    /// `sign/download`, then a GET of the signed URL from `offset`.
    pub(super) async fn fetch(&self, key: &str, offset: u64) -> RemoteResult<Download> {
        let (url, mut headers, _) = transport::sign_download(self, key).await?;
        if offset > 0 {
            let range = HeaderValue::from_str(&format!("bytes={offset}-"))
                .map_err(|err| config_error(format!("bad range: {err}")))?;
            headers.insert(reqwest::header::RANGE, range);
        }
        let idle = self.options.transfer_idle_timeout;
        let send = self.client.get(url.clone()).headers(headers).send();
        let response = match tokio::time::timeout(idle, send).await {
            Err(_) => return Err(errors::no_answer_within("GET", url.as_str(), idle)),
            Ok(answer) => answer.map_err(|err| errors::from_transport("GET", &url, err))?,
        };
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let answered = download_answer(
            &CLIENT,
            url.as_str(),
            offset,
            status.as_u16(),
            header(reqwest::header::CONTENT_RANGE).as_deref(),
            header(reqwest::header::CONTENT_LENGTH).as_deref(),
        )?;
        let (start, total_size) = match answered {
            Answered::AtEnd { total } => {
                return Ok(Download {
                    offset,
                    total_size: Some(total),
                    content_type: None,
                    body: futures::stream::empty().boxed(),
                })
            }
            Answered::Failed => {
                let text = read_capped(response, MAX_ERROR_BODY).await;
                return Err(errors::from_status("GET", &url, status, &text));
            }
            Answered::Body { start, total_size } => (start, total_size),
        };
        Ok(Download {
            offset: start,
            total_size,
            content_type,
            body: body::download_body(response, url, idle),
        })
    }
}
