//! The [`Signer`] side of [`HttpRemote`]: JSON POSTs to `{base}/v1/...` with the Bearer token by
//! reqwest, bodies read up to a limit; signed URLs resolved against the base URL's origin.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

use super::{config_error, errors, HttpRemote, CLIENT};
use crate::services::remote_storage::protocol::transport::{Failure, Signer, SignerCall, Site};
use crate::services::remote_storage::protocol::urls;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// Error bodies are read up to this many bytes.
pub(super) const MAX_ERROR_BODY: usize = 16 * 1024;
/// Signer answers are read up to this many bytes.
const MAX_SIGNER_BODY: usize = 1024 * 1024;

impl HttpRemote {
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
}

#[async_trait]
impl Signer for HttpRemote {
    type Url = Url;
    type Headers = HeaderMap;

    fn site(&self) -> &Site {
        &self.site
    }

    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    async fn health(&self) -> RemoteResult<()> {
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

    async fn signer_post(&self, call: SignerCall<'_>) -> Result<(String, Bytes), Failure> {
        let url = self.endpoint(call.path).map_err(|err| (None, err))?;
        let request = self
            .signer_request(Method::POST, url.clone(), call.timeout)
            .json(call.body);
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

    /// A signed URL made absolute (a path is resolved against the base URL's origin) and checked.
    fn resolve(&self, url: &str) -> RemoteResult<Url> {
        let url = urls::signed_text(url)?;
        let resolved = self.origin.join(url).map_err(urls::unusable)?;
        urls::check_signed_scheme(&CLIENT, resolved.scheme(), resolved.as_str())?;
        Ok(resolved)
    }

    /// The signed headers as a header map (`Server` when the signer sent something unusable).
    fn headers(&self, headers: Option<&BTreeMap<String, String>>) -> RemoteResult<HeaderMap> {
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

    fn header_pairs(&self, headers: HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect()
    }
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
        let remote = HttpRemote::new(super::super::HttpRemoteOptions::new("http://h/api")).unwrap();
        let err = remote.headers(Some(&BTreeMap::from([("bad name".into(), "v".into())])));
        assert_eq!(err.unwrap_err().kind, RemoteErrorKind::Server);
    }
}
