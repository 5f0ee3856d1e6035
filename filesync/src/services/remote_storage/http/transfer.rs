//! Moving bytes: streamed PUTs of an upload (or one part of it) and ranged GETs.

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use super::body::{self, BodyProbe, Slice};
use super::signer::{header_map, read_capped, SignedRequest, MAX_ERROR_BODY};
use super::{config_error, errors, HttpRemote};
use crate::services::remote_storage::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, UploadRequest,
};

impl HttpRemote {
    /// Sends `slice` of the upload's bytes with `method` to the signed `url`; the answer's `ETag`.
    pub(super) async fn send_slice(
        &self,
        method: Method,
        url: Url,
        mut headers: HeaderMap,
        req: &UploadRequest,
        slice: Slice,
    ) -> RemoteResult<Option<String>> {
        let method_name = method.to_string();
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
        let body = body::upload_body(stream, slice, req.progress.clone(), probe.clone());
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
                        errors::shown(&url)
                    ),
                ))
            }
            Ok(Err(err)) => {
                return Err(probe
                    .local_error(&req.key)
                    .unwrap_or_else(|| errors::from_transport(&method_name, &url, err)))
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            if let Some(local) = probe.local_error(&req.key) {
                return Err(local);
            }
            let text = read_capped(response, MAX_ERROR_BODY).await;
            return Err(errors::from_status(&method_name, &url, status, &text));
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

    /// One signed PUT of the whole object.
    pub(super) async fn upload_single(&self, req: &UploadRequest) -> RemoteResult<()> {
        let mut ask = serde_json::json!({ "key": req.key, "contentLength": req.size });
        if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
            ask["contentType"] = content_type.into();
        }
        let signed: SignedRequest = self
            .post_json("/v1/sign/upload", &ask, self.options.request_timeout)
            .await?;
        let method = match signed.method.as_deref() {
            Some("PUT") | None => Method::PUT,
            Some("POST") => Method::POST,
            Some(other) => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Server,
                    format!("the signer asked for an upload with the method {other:?}; only PUT and POST are supported"),
                ))
            }
        };
        let url = self.resolve(&signed.url)?;
        let headers = header_map(signed.headers.as_ref())?;
        (req.progress)(0, req.size);
        let slice = Slice {
            offset: 0,
            len: req.size,
            done_before: 0,
            total: req.size,
        };
        self.send_slice(method, url, headers, req, slice).await?;
        Ok(())
    }

    /// `sign/download`, then a GET of the signed URL from `offset`.
    pub(super) async fn fetch(&self, key: &str, offset: u64) -> RemoteResult<Download> {
        let (url, mut headers, _) = self.sign_download(key).await?;
        if offset > 0 {
            let range = HeaderValue::from_str(&format!("bytes={offset}-"))
                .map_err(|err| config_error(format!("bad range: {err}")))?;
            headers.insert(reqwest::header::RANGE, range);
        }
        let idle = self.options.transfer_idle_timeout;
        let send = self.client.get(url.clone()).headers(headers).send();
        let response = match tokio::time::timeout(idle, send).await {
            Err(_) => {
                return Err(RemoteError::new(
                    RemoteErrorKind::Offline,
                    format!("GET {}: no answer within {idle:?}", errors::shown(&url)),
                ))
            }
            Ok(answer) => answer.map_err(|err| errors::from_transport("GET", &url, err))?,
        };
        let status = response.status();
        let headers = response.headers().clone();
        let range = content_range(&headers);
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            // Asking from the very end of a complete object: nothing left to read.
            if let Some((None, Some(total))) = range {
                if total == offset {
                    return Ok(Download {
                        offset,
                        total_size: Some(total),
                        content_type: None,
                        body: futures::stream::empty().boxed(),
                    });
                }
            }
        }
        if !status.is_success() {
            let text = read_capped(response, MAX_ERROR_BODY).await;
            return Err(errors::from_status("GET", &url, status, &text));
        }
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let length = header_u64(&headers, reqwest::header::CONTENT_LENGTH);
        let (start, total_size) = if status == StatusCode::PARTIAL_CONTENT {
            let Some((Some(start), total)) = range else {
                return Err(errors::malformed(
                    "GET",
                    &url,
                    "a 206 answer without a usable Content-Range",
                ));
            };
            (start, total)
        } else {
            (0, length)
        };
        if status == StatusCode::PARTIAL_CONTENT && start != offset {
            return Err(errors::malformed(
                "GET",
                &url,
                format!("asked for bytes from {offset}, got bytes from {start}"),
            ));
        }
        Ok(Download {
            offset: start,
            total_size,
            content_type,
            body: body::download_body(response, url, idle),
        })
    }
}

/// `bytes a-b/total` → (a, total); `bytes */total` → (None, total).
fn content_range(headers: &HeaderMap) -> Option<(Option<u64>, Option<u64>)> {
    let value = headers.get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok();
    let start = if range.trim() == "*" {
        None
    } else {
        Some(range.split_once('-')?.0.trim().parse().ok()?)
    };
    Some((start, total))
}

fn header_u64(headers: &HeaderMap, name: HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_RANGE,
            HeaderValue::from_static("bytes 5-9/10"),
        );
        assert_eq!(content_range(&headers), Some((Some(5), Some(10))));
        headers.insert(
            reqwest::header::CONTENT_RANGE,
            HeaderValue::from_static("bytes */10"),
        );
        assert_eq!(content_range(&headers), Some((None, Some(10))));
        headers.insert(
            reqwest::header::CONTENT_RANGE,
            HeaderValue::from_static("items 1-2/3"),
        );
        assert_eq!(content_range(&headers), None);
    }
}
