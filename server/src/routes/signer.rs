//! The signer API: `GET {base}/health`, `POST {base}/v1/sign/upload`, `POST {base}/v1/sign/download`,
//! `POST {base}/v1/delete`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::content_type::validate_content_type;
use crate::store::{SignedRequest, UploadIntent};
use crate::{AppState, BlobKey};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignUploadBody {
    key: String,
    content_type: Option<String>,
    content_length: Option<u64>,
    #[serde(default)]
    skip_if_stored: bool,
}

#[derive(Deserialize)]
struct KeyBody {
    key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedUploadResponse {
    method: &'static str,
    url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    expires_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignedDownloadResponse {
    url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    expires_at: String,
}

/// `GET {base}/health`: 200 `{"status":"ok"}` when the storage is reachable, 503 otherwise. No token
/// needed: it tells nothing about the stored blobs.
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> Response {
    match state.store.health().await {
        Ok(()) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

/// `POST {base}/v1/sign/upload`.
pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let ready = state.store.ready().await;
    state.metrics.set_storage_ready(ready.is_ok());
    match ready {
        Ok(()) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}

pub(crate) async fn sign_upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &SignUploadBody| &b.key)?;
    let content_type = requested_content_type(body.content_type.as_deref())?;
    let intent = UploadIntent {
        content_type,
        content_length: body.content_length,
    };
    if body.skip_if_stored && already_stored(&state, &key, intent.content_length).await? {
        return Ok(Json(serde_json::json!({ "alreadyStored": true })).into_response());
    }
    let origin = state.origin(&headers)?;
    let signed = state.store.sign_upload(&key, &intent, &origin).await?;
    tracing::info!(key = key.as_str(), "signed upload");
    Ok(Json(SignedUploadResponse {
        method: signed.method,
        expires_at: iso_time(&signed),
        url: signed.url,
        headers: signed.headers,
    })
    .into_response())
}

/// `POST {base}/v1/sign/download`.
/// Whether `key` is content-addressed and already stored with `length` bytes: its upload can be
/// skipped (the client asked with `skipIfStored`).
pub(crate) async fn already_stored(
    state: &AppState,
    key: &BlobKey,
    length: Option<u64>,
) -> Result<bool, ApiError> {
    let (Some(_), Some(length)) = (key.content_hash(), length) else {
        return Ok(false);
    };
    let stored = state.store.stored_size(key).await?;
    if stored == Some(length) {
        tracing::info!(key = key.as_str(), "already stored; the upload is skipped");
        return Ok(true);
    }
    Ok(false)
}

pub(crate) async fn sign_download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, key) = keyed_request(&state, &headers, &body, |b: &KeyBody| &b.key)?;
    let origin = state.origin(&headers)?;
    let signed = state.store.sign_download(&key, &origin).await?;
    tracing::debug!(key = key.as_str(), "signed download");
    Ok(Json(SignedDownloadResponse {
        expires_at: iso_time(&signed),
        url: signed.url,
        headers: signed.headers,
    })
    .into_response())
}

/// `POST {base}/v1/delete`: 204, also when nothing was at the key.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, key) = keyed_request(&state, &headers, &body, |b: &KeyBody| &b.key)?;
    state.store.delete(&key).await?;
    tracing::info!(key = key.as_str(), "deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The common start of a signer call: the Bearer token (401), the JSON body (400), then the key the
/// body names, checked against the token's prefixes (400, 403).
pub(crate) fn keyed_request<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    key_of: impl FnOnce(&T) -> &str,
) -> Result<(T, BlobKey), ApiError> {
    state.authorize(headers, None)?;
    let body: T = parse_json(body)?;
    let key = authorized_key(state, headers, key_of(&body))?;
    Ok((body, key))
}

pub(crate) fn authorized_key(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
) -> Result<BlobKey, ApiError> {
    let key = BlobKey::parse(key).map_err(ApiError::bad_request)?;
    state.authorize(headers, Some(&key))?;
    Ok(key)
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        ApiError::bad_request(format!(
            "the request body is not the expected JSON ({err}); send an object such as {{\"key\": \"store/abc\"}}"
        ))
    })
}

/// `expiresAt` as ISO-8601 UTC (`2026-11-25T10:00:00Z`).
fn iso_time(signed: &SignedRequest) -> String {
    iso_secs(signed.expires_at)
}

/// Unix seconds as ISO-8601 UTC (`2026-11-25T10:00:00Z`).
pub(crate) fn iso_secs(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Reads the `Authorization` header value, if it is text.
pub(crate) fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// The content type a client announced when asking to upload, validated (400 when malformed).
pub(crate) fn requested_content_type(value: Option<&str>) -> Result<Option<String>, ApiError> {
    value
        .map(validate_content_type)
        .transpose()
        .map_err(ApiError::bad_request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        let at = |expires_at| {
            iso_time(&SignedRequest {
                method: "GET",
                url: String::new(),
                headers: BTreeMap::new(),
                expires_at,
            })
        };
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_764_064_800), "2025-11-25T10:00:00Z");
    }
}
