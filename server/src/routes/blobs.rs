//! The signed blob routes of the disk store: `PUT|GET|HEAD {filesBase}/{key}?exp=…&sig=…`.
//!
//! The key is taken from the raw request path and percent-decoded segment by segment (see
//! [`BlobKey::from_url_path`]). A HEAD request accepts a HEAD or a GET signature, so a download URL
//! can also be probed for size and type.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt, TryStreamExt};

use crate::api_error::ApiError;
use crate::content_type::{is_active_content, validate_content_type};
use crate::disk::DiskStore;
use crate::range::{parse_range, RangeRequest};
use crate::signature::SignatureError;
use crate::BlobKey;

/// The state of the blob routes.
pub(crate) struct BlobState {
    pub(crate) store: DiskStore,
    /// See [`crate::ServerConfig::body_idle_timeout`].
    pub(crate) body_idle_timeout: Duration,
}

/// An upload body that fails when its client sends nothing for `idle`; `stalled` then turns true,
/// so the route answers 408 rather than the store's error.
pub(crate) fn idle_limited(
    body: Body,
    idle: Duration,
    stalled: Arc<AtomicBool>,
) -> impl Stream<Item = Result<Bytes, String>> + Send {
    futures::stream::unfold(Some(body.into_data_stream()), move |body| {
        let stalled = stalled.clone();
        async move {
            let mut body = body?;
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
                Ok(Some(Err(err))) => Some((Err(err.to_string()), None)),
                Ok(None) => None,
                Err(_) => {
                    stalled.store(true, Ordering::Relaxed);
                    Some((
                        Err(format!(
                            "the client sent nothing for {} s",
                            idle.as_secs_f64()
                        )),
                        None,
                    ))
                }
            }
        }
    })
}

/// The answer to an upload cut off by [`idle_limited`].
pub(crate) fn stalled_upload(idle: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "the upload sent nothing for {} s and was cut off; nothing was stored. Send it again",
            idle.as_secs_f64()
        ),
    )
}

/// `PUT`, `GET` and `HEAD` on a blob URL.
pub(crate) async fn blob(State(state): State<Arc<BlobState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let result = match parts.method {
        Method::PUT => put(&state, &parts, body).await,
        Method::GET | Method::HEAD => get(&state.store, &parts).await,
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "blob URLs accept PUT, GET and HEAD",
        )),
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    let headers = response.headers_mut();
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Nothing served from here may run script, whatever its type.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    response
}

/// The key and the checked signature of a blob request.
fn authorize(store: &DiskStore, request: &Parts) -> Result<BlobKey, ApiError> {
    let path = request.uri.path();
    let encoded = path
        .strip_prefix(store.files_base())
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not a blob URL"))?;
    let key = BlobKey::from_url_path(encoded).map_err(ApiError::bad_request)?;
    let (exp, sig) = signature_params(request.uri.query())?;
    let method = request.method.as_str();
    let verified = store.verify(method, &key, exp, &sig);
    match verified {
        Err(SignatureError::Mismatch) if request.method == Method::HEAD => {
            store.verify("GET", &key, exp, &sig)?;
        }
        other => other?,
    }
    Ok(key)
}

/// The `exp` (Unix time) and `sig` parameters of a signed URL's query string.
pub(crate) fn signature_params(query: Option<&str>) -> Result<(u64, String), SignatureError> {
    let (mut exp, mut sig) = (None, None);
    for (name, value) in form_pairs(query.unwrap_or("")) {
        match name.as_str() {
            "exp" => exp = Some(value),
            "sig" => sig = Some(value),
            _ => {}
        }
    }
    let exp = exp
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or(SignatureError::Malformed(
            "exp is missing or not a Unix time",
        ))?;
    let sig = sig.ok_or(SignatureError::Malformed("sig is missing"))?;
    Ok((exp, sig))
}

/// The `name=value` pairs of a query string, each side percent-decoded; pairs without `=` or not
/// UTF-8 after decoding are skipped.
pub(crate) fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|s| s.into_owned())
        };
        Some((decode(name)?, decode(value)?))
    })
}

/// Whether the store already holds the content-addressed `key` (of the declared length, when
/// one is declared): an upload of it can only carry the same bytes, so it need not be stored again.
async fn already_stored(store: &DiskStore, key: &BlobKey, headers: &HeaderMap) -> bool {
    if key.content_hash().is_none() {
        return false;
    }
    let Ok(info) = store.stat(key).await else {
        return false;
    };
    header_u64(headers, header::CONTENT_LENGTH).is_none_or(|length| length == info.size)
}

async fn put(state: &BlobState, request: &Parts, body: Body) -> Result<Response, ApiError> {
    let store = &state.store;
    let key = authorize(store, request)?;
    let headers = &request.headers;
    let max = store.max_upload_bytes();
    if let Some(length) = header_u64(headers, header::CONTENT_LENGTH) {
        if length > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the upload is larger than this server's limit of {max} bytes; nothing was stored"),
            ));
        }
    }
    let content_type = match headers.get(header::CONTENT_TYPE) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("the Content-Type header is not text"))
                .and_then(|v| validate_content_type(v).map_err(ApiError::bad_request))?,
        ),
    };
    let stalled = Arc::new(AtomicBool::new(false));
    let idle = state.body_idle_timeout;
    let body = idle_limited(body, idle, stalled.clone());
    if already_stored(store, &key, headers).await {
        // The body is read and dropped (nothing hashed, written or rewritten): a client answered
        // before its body was read would see the connection reset (browsers do).
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                return Err(if stalled.load(Ordering::Relaxed) {
                    stalled_upload(idle)
                } else {
                    ApiError::bad_request("the upload body ended with an error; nothing changed")
                });
            }
        }
        tracing::info!(
            key = key.as_str(),
            "already stored; the upload was not written again"
        );
        let mut response = StatusCode::OK.into_response();
        if let Some(hash) = key.content_hash() {
            if let Ok(etag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
                response.headers_mut().insert(header::ETAG, etag);
            }
        }
        return Ok(response);
    }
    let stored = match store.put(&key, content_type, body).await {
        Ok(stored) => stored,
        Err(_) if stalled.load(Ordering::Relaxed) => return Err(stalled_upload(idle)),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(key = key.as_str(), size = stored.size, "stored blob");
    let mut response = StatusCode::OK.into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", stored.sha256)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

async fn get(store: &DiskStore, request: &Parts) -> Result<Response, ApiError> {
    let key = authorize(store, request)?;
    let info = store.stat(&key).await?;
    let headers = &request.headers;
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        info.size,
    );
    let (status, start, length) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, info.size),
        RangeRequest::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeRequest::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range is outside the blob of {} bytes", info.size),
            )
            .into_response();
            insert(
                &mut response,
                header::CONTENT_RANGE,
                format!("bytes */{}", info.size),
            );
            return Ok(response);
        }
    };
    let body = if request.method == Method::HEAD || length == 0 {
        Body::empty()
    } else {
        let stream = store.read(&key, start, length).await?;
        Body::from_stream(stream.map_err(std::io::Error::other))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    insert(&mut response, header::CONTENT_LENGTH, length.to_string());
    insert(
        &mut response,
        header::CONTENT_TYPE,
        info.content_type.clone(),
    );
    insert(&mut response, header::ACCEPT_RANGES, "bytes".to_owned());
    if let Some(sha) = &info.sha256 {
        insert(&mut response, header::ETAG, format!("\"{sha}\""));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        insert(
            &mut response,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{}", start + length - 1, info.size),
        );
    }
    if is_active_content(&info.content_type) {
        insert(
            &mut response,
            header::CONTENT_DISPOSITION,
            "attachment".to_owned(),
        );
    }
    Ok(response)
}

fn header_u64(headers: &HeaderMap, name: header::HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn insert(response: &mut Response, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, value);
    }
}
