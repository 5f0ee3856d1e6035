//! [`HttpRemote`]: the client of the server's signer protocol (DESIGN §6), native only.
//!
//! Every call first asks the signer (`POST {base}/v1/...` with `Authorization: Bearer <token>`) for a
//! signed request, then sends the bytes straight to the signed URL:
//! - uploads below [`HttpRemoteOptions::multipart_threshold`]: `sign/upload`, then one streamed PUT;
//! - larger uploads: the resumable protocol (`multipart/create`, `sign-part` + a PUT per part,
//!   `list` when resuming, `complete`), whose state is the opaque resume token handed to
//!   [`UploadRequest::on_resume`](super::UploadRequest::on_resume);
//! - downloads: `sign/download`, then a GET, ranged when resuming from an offset.
//!
//! Bodies are streamed both ways, never held whole in memory. Signer calls have a timeout; body
//! transfers have none as a whole, but fail when no byte moves for
//! [`HttpRemoteOptions::transfer_idle_timeout`].

mod body;
mod errors;
mod multipart;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use self::body::{BodyProbe, Slice};
use super::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, RemoteStorage, SignedUrl, UploadRequest,
};

/// The default [`HttpRemoteOptions::multipart_threshold`]: 64 MiB.
const DEFAULT_MULTIPART_THRESHOLD: u64 = 64 * 1024 * 1024;
/// Error bodies are read up to this many bytes.
const MAX_ERROR_BODY: usize = 16 * 1024;
/// Signer answers are read up to this many bytes.
const MAX_SIGNER_BODY: usize = 1024 * 1024;
/// How long a signed URL is assumed to work when the signer does not say (`expiresAt`).
const ASSUMED_URL_LIFETIME_MS: i64 = 5 * 60 * 1000;

/// Settings of an [`HttpRemote`].
#[derive(Clone)]
pub struct HttpRemoteOptions {
    /// The signer's base URL, absolute, e.g. `http://127.0.0.1:8787/api` (a trailing `/` is ignored).
    pub base_url: String,
    /// The Bearer token sent to the signer (`None` or empty: no `Authorization` header).
    pub token: Option<String>,
    /// Uploads of at least this many bytes use the resumable protocol (default 64 MiB).
    pub multipart_threshold: u64,
    /// How long connecting may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long a signer call may take as a whole (default 30 s); not applied to body transfers.
    pub request_timeout: Duration,
    /// A body transfer fails with `Offline` when no byte moved for this long (default 60 s).
    pub transfer_idle_timeout: Duration,
}

impl HttpRemoteOptions {
    /// The defaults for the signer at `base_url`, without a token.
    pub fn new(base_url: impl Into<String>) -> HttpRemoteOptions {
        HttpRemoteOptions {
            base_url: base_url.into(),
            token: None,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            transfer_idle_timeout: Duration::from_secs(60),
        }
    }

    /// The same options with `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> HttpRemoteOptions {
        self.token = Some(token.into());
        self
    }
}

impl std::fmt::Debug for HttpRemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRemoteOptions")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("multipart_threshold", &self.multipart_threshold)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("transfer_idle_timeout", &self.transfer_idle_timeout)
            .finish()
    }
}

/// The client of the signer protocol of `filesync-server` (and of the TypeScript package's
/// signers), with resumable uploads and ranged downloads. Cheap to clone (clones share connections).
#[derive(Clone)]
pub struct HttpRemote {
    client: reqwest::Client,
    /// The base URL without a trailing `/`.
    base: String,
    /// The base URL's origin (`http://host:port/`), for signed URLs given as paths.
    origin: Url,
    auth: Option<HeaderValue>,
    options: HttpRemoteOptions,
}

impl std::fmt::Debug for HttpRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRemote")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Rejected, message)
}

/// A signed request as the signer returns it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedRequest {
    method: Option<String>,
    url: String,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    expires_at: Option<serde_json::Value>,
}

impl HttpRemote {
    /// A client for the signer described by `options`. Fails (`Rejected`, with what to fix) when the
    /// base URL is not an absolute `http://` URL or the token cannot be sent as a header.
    pub fn new(options: HttpRemoteOptions) -> RemoteResult<HttpRemote> {
        let raw = options.base_url.trim();
        let example = "e.g. http://127.0.0.1:8787/api";
        if raw.is_empty() {
            return Err(config_error(format!(
                "the base URL is empty; set HttpRemoteOptions::base_url to the signer's URL, {example}"
            )));
        }
        let url = Url::parse(raw).map_err(|err| {
            config_error(format!(
                "the base URL {raw:?} is not an absolute URL ({err}); give scheme, host and path, {example}"
            ))
        })?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(config_error(format!(
                    "the base URL {raw:?} uses https, but this build of filesync has no TLS support; use an http:// URL (loopback or a trusted network) or a TLS-terminating proxy on this machine"
                )))
            }
            other => {
                return Err(config_error(format!(
                    "the base URL {raw:?} has the scheme {other:?}; use an http:// URL, {example}"
                )))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(config_error(format!(
                "the base URL {raw:?} has no host, {example}"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(config_error(format!(
                "the base URL {raw:?} has a query or fragment; give only scheme, host and path, {example}"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(config_error(format!(
                "the base URL {raw:?} holds credentials; remove them and set HttpRemoteOptions::token"
            )));
        }
        let mut origin = url.clone();
        origin.set_path("/");
        let auth = match options.token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    config_error(
                        "the token holds characters an HTTP header cannot carry (control characters or non-ASCII); check HttpRemoteOptions::token",
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("filesync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| config_error(format!("cannot set up the HTTP client: {err}")))?;
        Ok(HttpRemote {
            client,
            base: url.as_str().trim_end_matches('/').to_owned(),
            origin,
            auth,
            options,
        })
    }

    /// The options this client was made with.
    pub fn options(&self) -> &HttpRemoteOptions {
        &self.options
    }

    /// The URL of a signer route (`path` starts with `/`).
    fn endpoint(&self, path: &str) -> RemoteResult<Url> {
        let joined = format!("{}{path}", self.base);
        Url::parse(&joined).map_err(|err| config_error(format!("bad signer URL {joined:?}: {err}")))
    }

    fn signer_request(
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
    async fn post(
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
    async fn post_status(
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
    async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> RemoteResult<T> {
        let (url, text) = self.post(path, body, timeout).await?;
        parse_json(&url, &text)
    }

    /// A signed URL made absolute (a path is resolved against the base URL's origin) and checked.
    fn resolve(&self, url: &str) -> RemoteResult<Url> {
        let url = url.trim();
        if url.is_empty() {
            return Err(RemoteError::new(
                RemoteErrorKind::Server,
                "the signer answered an empty URL",
            ));
        }
        let resolved = self.origin.join(url).map_err(|err| {
            RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer answered an unusable URL ({err})"),
            )
        })?;
        match resolved.scheme() {
            "http" => Ok(resolved),
            "https" => Err(config_error(format!(
                "the signer answered an https URL ({}), but this build of filesync has no TLS support",
                errors::shown(&resolved)
            ))),
            other => Err(RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer answered a URL with the scheme {other:?}"),
            )),
        }
    }

    /// Signs a download of `key`.
    async fn sign_download(&self, key: &str) -> RemoteResult<(Url, HeaderMap, Option<i64>)> {
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

    /// Sends `slice` of the upload's bytes with `method` to the signed `url`; the answer's `ETag`.
    async fn send_slice(
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
                    .local_error()
                    .unwrap_or_else(|| errors::from_transport(&method_name, &url, err)))
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !status.is_success() {
            if let Some(local) = probe.local_error() {
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
    async fn upload_single(&self, req: &UploadRequest) -> RemoteResult<()> {
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
}

/// A signer answer parsed as `T` (`Server` when it is not that JSON).
fn parse_json<T: DeserializeOwned>(url: &Url, text: &[u8]) -> RemoteResult<T> {
    serde_json::from_slice(text)
        .map_err(|err| errors::malformed("POST", url, format!("not the expected JSON ({err})")))
}

/// The signed headers as a header map (`Server` when the signer sent something unusable).
fn header_map(headers: Option<&BTreeMap<String, String>>) -> RemoteResult<HeaderMap> {
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
async fn read_limited(
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
async fn read_capped(response: reqwest::Response, limit: usize) -> Bytes {
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

#[async_trait]
impl RemoteStorage for HttpRemote {
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

    async fn upload(&self, req: UploadRequest) -> RemoteResult<()> {
        if req.size > 0 && req.size >= self.options.multipart_threshold {
            return self.upload_multipart(&req).await;
        }
        self.upload_single(&req).await?;
        if req.resume.is_some() {
            (req.on_resume)(None);
        }
        Ok(())
    }

    async fn download(&self, key: &str, offset: u64) -> RemoteResult<Download> {
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

    async fn delete(&self, key: &str) -> RemoteResult<()> {
        match self
            .post(
                "/v1/delete",
                &serde_json::json!({ "key": key }),
                self.options.request_timeout,
            )
            .await
        {
            Ok(_) => Ok(()),
            // A signer that answers 404 for a missing key: nothing to delete is success.
            Err(err) if err.kind == RemoteErrorKind::NotFound => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn download_url(&self, key: &str) -> RemoteResult<SignedUrl> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        let new = |url: &str| HttpRemote::new(HttpRemoteOptions::new(url));
        let remote = new("http://127.0.0.1:8787/api/").unwrap();
        assert_eq!(remote.base, "http://127.0.0.1:8787/api");
        assert_eq!(remote.origin.as_str(), "http://127.0.0.1:8787/");
        for (url, hint) in [
            ("", "empty"),
            ("/api", "not an absolute URL"),
            ("https://example.com/api", "no TLS"),
            ("ftp://example.com/api", "scheme"),
            ("http://example.com/api?x=1", "query"),
            ("http://u:p@example.com/api", "credentials"),
        ] {
            let err = new(url).unwrap_err();
            assert_eq!(err.kind, RemoteErrorKind::Rejected);
            assert!(err.message.contains(hint), "{url}: {}", err.message);
        }
        let bad_token = HttpRemote::new(HttpRemoteOptions::new("http://h/api").with_token("a\nb"));
        assert!(bad_token.unwrap_err().message.contains("token"));
    }

    #[test]
    fn relative_urls_resolve_against_the_origin() {
        let remote = HttpRemote::new(HttpRemoteOptions::new("http://h:1/api")).unwrap();
        assert_eq!(
            remote.resolve("/files/a/b?exp=1&sig=x").unwrap().as_str(),
            "http://h:1/files/a/b?exp=1&sig=x"
        );
        assert_eq!(
            remote.resolve("http://other:2/x").unwrap().as_str(),
            "http://other:2/x"
        );
        assert_eq!(
            remote.resolve("").unwrap_err().kind,
            RemoteErrorKind::Server
        );
        assert_eq!(
            remote.resolve("https://s3/x").unwrap_err().kind,
            RemoteErrorKind::Rejected
        );
    }

    #[test]
    fn expiries_and_ranges_parse() {
        let ms = |v: serde_json::Value| expiry_ms(&v);
        assert_eq!(ms("2025-11-25T10:00:00Z".into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800.into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800_000i64.into()), Some(1_764_064_800_000));
        assert_eq!(ms("soon".into()), None);
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
    }
}
