//! The [`Transfer`] side of [`HttpRemote`]: streamed PUTs of an upload (or one part of it) with the
//! stall watchdog, and ranged GETs with an idle timeout.

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Url};

use super::body::{self, BodyProbe};
use super::signer::{read_capped, MAX_ERROR_BODY};
use super::{config_error, errors, HttpRemote};
use crate::services::remote_storage::protocol::transport::{self, Put, Transfer};
use crate::services::remote_storage::{Body, RemoteError, RemoteErrorKind, RemoteResult};

#[async_trait]
impl Transfer for HttpRemote {
    type Answer = reqwest::Response;

    /// Sends the bytes of `put` to its signed URL as a stream; the answer's `ETag`.
    async fn send_slice(&self, put: Put<'_, Url, HeaderMap>) -> RemoteResult<Option<String>> {
        let Put {
            method: method_name,
            url,
            mut headers,
            req,
            slice,
        } = put;
        let method = match method_name {
            "POST" => Method::POST,
            _ => Method::PUT,
        };
        let stream = transport::open_slice(req, &slice).await?;
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

    /// GETs the signed `url` from `offset`; the answer once its headers are in (`Offline` when
    /// none came within the idle timeout).
    async fn get(
        &self,
        url: &Url,
        mut headers: HeaderMap,
        offset: u64,
    ) -> RemoteResult<reqwest::Response> {
        if offset > 0 {
            let range = HeaderValue::from_str(&format!("bytes={offset}-"))
                .map_err(|err| config_error(format!("bad range: {err}")))?;
            headers.insert(reqwest::header::RANGE, range);
        }
        let idle = self.options.transfer_idle_timeout;
        let send = self.client.get(url.clone()).headers(headers).send();
        match tokio::time::timeout(idle, send).await {
            Err(_) => Err(errors::no_answer_within("GET", url.as_str(), idle)),
            Ok(answer) => answer.map_err(|err| errors::from_transport("GET", url, err)),
        }
    }

    fn status(&self, answer: &reqwest::Response) -> u16 {
        answer.status().as_u16()
    }

    fn header(&self, answer: &reqwest::Response, name: &str) -> Option<String> {
        let value = answer.headers().get(name)?;
        value.to_str().ok().map(str::to_owned)
    }

    /// The error for a non-2xx answer to a GET of `url`.
    async fn failed(&self, url: &Url, response: reqwest::Response) -> RemoteError {
        let status = response.status();
        let text = read_capped(response, MAX_ERROR_BODY).await;
        errors::from_status("GET", url, status, &text)
    }

    /// The body of a download answer, with the idle timeout.
    fn body(&self, url: Url, response: reqwest::Response) -> Body {
        Body::Bytes(body::download_body(
            response,
            url,
            self.options.transfer_idle_timeout,
        ))
    }
}
