//! Signer calls: JSON POSTs to `{base}/v1/...` with the Bearer token, their answers and errors.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{config_error, errors, HttpRemote};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult, SignedUrl};

/// Error bodies are read up to this many bytes.
pub(super) const MAX_ERROR_BODY: usize = 16 * 1024;
/// Signer answers are read up to this many bytes.
const MAX_SIGNER_BODY: usize = 1024 * 1024;
/// How long a signed URL is assumed to work when the signer does not say (`expiresAt`).
const ASSUMED_URL_LIFETIME_MS: i64 = 5 * 60 * 1000;

/// A signed request as the signer returns it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SignedRequest {
    pub(super) method: Option<String>,
    pub(super) url: String,
    #[serde(default)]
    pub(super) headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(super) expires_at: Option<serde_json::Value>,
}

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

    /// `sign/download` as a [`SignedUrl`] (an absolute URL, its headers, its expiry).
    pub(super) async fn signed_url(&self, key: &str) -> RemoteResult<SignedUrl> {
        let (url, headers, expires) = self.sign_download(key).await?;
        let headers = headers
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect();
        Ok(SignedUrl {
            url: url.to_string(),
            headers,
            expires_at_ms: expires.unwrap_or_else(|| now_ms() + ASSUMED_URL_LIFETIME_MS),
        })
    }

    /// The URL of a signer route (`path` starts with `/`).
    pub(super) fn endpoint(&self, path: &str) -> RemoteResult<Url> {
        let joined = format!("{}{path}", self.base);
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

    /// POSTs `body` as JSON to the signer route `path`; the answer's body on 2xx.
    pub(super) async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> RemoteResult<(Url, Bytes)> {
        self.post_status(path, body, timeout)
            .await
            .map_err(|(_, err)| err)
    }

    /// [`HttpRemote::post`], with the status of a non-2xx answer beside the error.
    pub(super) async fn post_status(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<(Url, Bytes), (Option<StatusCode>, RemoteError)> {
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
                Some(status),
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
        Ok((url, text))
    }

    /// POSTs to `path` and parses the JSON answer (`Server` when it is not the expected shape).
    pub(super) async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> RemoteResult<T> {
        let (url, text) = self.post(path, body, timeout).await?;
        parse_json(&url, &text)
    }

    /// Signs a download of `key`.
    pub(super) async fn sign_download(
        &self,
        key: &str,
    ) -> RemoteResult<(Url, HeaderMap, Option<i64>)> {
        let signed: SignedRequest = self
            .post_json(
                "/v1/sign/download",
                &serde_json::json!({ "key": key }),
                self.options.request_timeout,
            )
            .await?;
        let url = self.resolve(&signed.url)?;
        let headers = header_map(signed.headers.as_ref())?;
        Ok((url, headers, signed.expires_at.as_ref().and_then(expiry_ms)))
    }
}

/// A signer answer parsed as `T` (`Server` when it is not that JSON).
pub(super) fn parse_json<T: DeserializeOwned>(url: &Url, text: &[u8]) -> RemoteResult<T> {
    serde_json::from_slice(text)
        .map_err(|err| errors::malformed("POST", url, format!("not the expected JSON ({err})")))
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

/// The expiry a signer answered, in epoch ms: an ISO-8601 string (our server), or a number of
/// seconds (or milliseconds, when it is that large) since the epoch.
fn expiry_ms(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(text) => crate::model::date::parse_iso(text.trim()).ok(),
        serde_json::Value::Number(n) => {
            let n = n.as_i64()?;
            Some(if n >= 100_000_000_000 { n } else { n * 1000 })
        }
        _ => None,
    }
}

fn now_ms() -> i64 {
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
    fn expiries_parse() {
        let ms = |v: serde_json::Value| expiry_ms(&v);
        assert_eq!(ms("2025-11-25T10:00:00Z".into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800.into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800_000i64.into()), Some(1_764_064_800_000));
        assert_eq!(ms("soon".into()), None);
    }

    #[test]
    fn malformed_answers_are_server_errors() {
        let url = Url::parse("http://h/api/v1/sign/upload").unwrap();
        let err = parse_json::<SignedRequest>(&url, b"<html>").err().unwrap();
        assert_eq!(err.kind, RemoteErrorKind::Server);
        let err = header_map(Some(&BTreeMap::from([("bad name".into(), "v".into())])));
        assert_eq!(err.unwrap_err().kind, RemoteErrorKind::Server);
    }
}
