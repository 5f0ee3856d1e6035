//! Signer calls: JSON POSTs to `{base}/v1/...` with the Bearer token, their answers and errors.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::{config_error, errors, HttpRemote};
use crate::services::remote_storage::protocol::transport::{Failure, SignerCall};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// Error bodies are read up to this many bytes.
pub(super) const MAX_ERROR_BODY: usize = 16 * 1024;
/// Signer answers are read up to this many bytes.
const MAX_SIGNER_BODY: usize = 1024 * 1024;

impl HttpRemote {
    /// `GET {base}/health`: `Ok` on any 2xx.
    pub(super) async fn check_health(&self) -> RemoteResult<()> {
        let url = self.endpoint("/health")?;
        let response = self
            .signer_request(Method::GET, url.clone(), self.options.request_timeout)
            .send()
            .await
            .map_err(|err| errors::from_transport("GET", &url, err))?;
        let status = response.status();
        let text = read_capped(response, MAX_ERROR_BODY).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(errors::from_status("GET", &url, status, &text))
        }
    }

    /// The URL of a signer route (`path` starts with `/`).
    pub(super) fn endpoint(&self, path: &str) -> RemoteResult<Url> {
        let joined = format!("{}{path}", self.site.base);
        Url::parse(&joined).map_err(|err| config_error(format!("bad signer URL {joined:?}: {err}")))
    }

    pub(super) fn signer_request(
        &self,
        method: Method,
        url: Url,
        timeout: Duration,
    ) -> reqwest::RequestBuilder {
        let mut request = self.client.request(method, url).timeout(timeout);
        if let Some(auth) = &self.auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.clone());
        }
        request
    }

    /// POSTs `body` as JSON to the signer route `path`: the URL and the answer's body on 2xx, else
    /// the status of a non-2xx answer (if any) beside the error.
    pub(super) async fn post_status(
        &self,
        call: SignerCall<'_>,
    ) -> Result<(String, Bytes), Failure> {
        let SignerCall {
            path,
            body,
            timeout,
        } = call;
        let url = self.endpoint(path).map_err(|err| (None, err))?;
        let request = self
            .signer_request(Method::POST, url.clone(), timeout)
            .json(body);
        let response = request
            .send()
            .await
            .map_err(|err| (None, errors::from_transport("POST", &url, err)))?;
        let status = response.status();
        if !status.is_success() {
            let text = read_capped(response, MAX_ERROR_BODY).await;
            return Err((
                Some(status.as_u16()),
                errors::from_status("POST", &url, status, &text),
            ));
        }
        let limit = MAX_SIGNER_BODY;
        let text = read_limited(response, limit).await.map_err(|err| {
            let err = match err {
                Some(err) => errors::from_transport("POST", &url, err),
                None => errors::malformed("POST", &url, format!("an answer over {limit} bytes")),
            };
            (None, err)
        })?;
        Ok((url.into(), text))
    }
}

/// The signed headers as a header map (`Server` when the signer sent something unusable).
pub(super) fn header_map(headers: Option<&BTreeMap<String, String>>) -> RemoteResult<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in headers.into_iter().flatten() {
        let bad = || {
            RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer answered a header that cannot be sent: {name:?}"),
            )
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let value = HeaderValue::from_str(value).map_err(|_| bad())?;
        map.insert(name, value);
    }
    Ok(map)
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads a response body up to `limit` bytes; `Err(None)` when it is longer.
pub(super) async fn read_limited(
    response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, Option<reqwest::Error>> {
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Some)?;
        if out.len() + chunk.len() > limit {
            return Err(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// The start of a response body (at most `limit` bytes; errors end it early).
pub(super) async fn read_capped(response: reqwest::Response, limit: usize) -> Bytes {
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsendable_headers_are_server_errors() {
        let err = header_map(Some(&BTreeMap::from([("bad name".into(), "v".into())])));
        assert_eq!(err.unwrap_err().kind, RemoteErrorKind::Server);
    }
}
