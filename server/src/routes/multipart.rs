//! Resumable uploads: the signer calls `POST {base}/v1/multipart/{create,sign-part,list,complete,abort}`
//! and, for the disk store, the part route `PUT {filesBase}-parts/{uploadId}/{partNumber}?exp=…&sig=…`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::blobs::{idle_limited, signature_params, stalled_upload, BlobState};
use super::signer::{already_stored, iso_secs, keyed_request};
use crate::api_error::ApiError;
use crate::multipart::{CompletedPart, MultipartIntent, MultipartStore, PartIntent};
use crate::routes::signer::requested_content_type;
use crate::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    key: String,
    content_type: Option<String>,
    content_length: u64,
    #[serde(default)]
    skip_if_stored: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadBody {
    key: String,
    upload_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignPartBody {
    key: String,
    upload_id: String,
    part_number: u32,
    checksum_sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartBody {
    part_number: u32,
    etag: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompleteBody {
    key: String,
    upload_id: String,
    parts: Vec<PartBody>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateResponse {
    upload_id: String,
    part_size: u64,
    expires_at: String,
    /// `"SHA256"` when `sign-part` needs each part's `checksumSha256`.
    #[serde(skip_serializing_if = "Option::is_none")]
    part_checksum: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignPartResponse {
    method: &'static str,
    url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
    expires_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedPart {
    part_number: u32,
    size: u64,
    etag: String,
}

#[derive(Serialize)]
struct ListResponse {
    parts: Vec<ListedPart>,
}

/// `checksumSha256` must be a SHA-256 as S3 writes it: the standard base64 of 32 bytes.
fn check_sha256_base64(text: &str) -> Result<(), ApiError> {
    use base64::Engine as _;
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(bytes) if bytes.len() == 32 => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "checksumSha256 {text:?} is not a SHA-256 in base64 (44 characters, the standard \
             alphabet with padding, of the part's 32-byte digest)"
        ))),
    }
}

fn multipart(state: &AppState) -> Result<&dyn MultipartStore, ApiError> {
    state.store.multipart().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage has no resumable uploads; use a single signed upload",
        )
    })
}

/// `POST {base}/v1/multipart/create` → `{uploadId, partSize, expiresAt}`.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &CreateBody| &b.key)?;
    let content_type = requested_content_type(body.content_type.as_deref())?;
    if body.skip_if_stored && already_stored(&state, &key, Some(body.content_length)).await? {
        return Ok(Json(serde_json::json!({ "alreadyStored": true })).into_response());
    }
    let intent = MultipartIntent {
        content_type,
        content_length: body.content_length,
    };
    let upload = multipart(&state)?.create(&key, &intent).await?;
    tracing::info!(
        key = key.as_str(),
        upload = upload.upload_id,
        "created resumable upload"
    );
    Ok(Json(CreateResponse {
        expires_at: iso_secs(upload.expires_at),
        upload_id: upload.upload_id,
        part_size: upload.part_size,
        part_checksum: upload.checksum_parts.then_some("SHA256"),
    })
    .into_response())
}

/// `POST {base}/v1/multipart/sign-part` → `{method: "PUT", url, headers?, expiresAt}`.
pub(crate) async fn sign_part(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &SignPartBody| &b.key)?;
    let origin = state.origin(&headers)?;
    let checksum = body.checksum_sha256.as_deref();
    if let Some(checksum) = checksum {
        check_sha256_base64(checksum)?;
    }
    let part = PartIntent {
        part_number: body.part_number,
        checksum_sha256: checksum,
    };
    let signed = multipart(&state)?
        .sign_part(&key, &body.upload_id, part, &origin)
        .await?;
    Ok(Json(SignPartResponse {
        method: signed.method,
        expires_at: iso_secs(signed.expires_at),
        url: signed.url,
        headers: signed.headers,
    })
    .into_response())
}

/// `POST {base}/v1/multipart/list` → `{parts: [{partNumber, size, etag}]}`.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &UploadBody| &b.key)?;
    let parts = multipart(&state)?
        .list_parts(&key, &body.upload_id)
        .await?
        .into_iter()
        .map(|p| ListedPart {
            part_number: p.part_number,
            size: p.size,
            etag: p.etag,
        })
        .collect();
    Ok(Json(ListResponse { parts }).into_response())
}

/// `POST {base}/v1/multipart/complete` → 204.
pub(crate) async fn complete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &CompleteBody| &b.key)?;
    let parts: Vec<CompletedPart> = body
        .parts
        .into_iter()
        .map(|p| CompletedPart {
            part_number: p.part_number,
            etag: p.etag,
        })
        .collect();
    multipart(&state)?
        .complete(&key, &body.upload_id, &parts)
        .await?;
    tracing::info!(
        key = key.as_str(),
        upload = body.upload_id,
        "completed resumable upload"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST {base}/v1/multipart/abort` → 204.
pub(crate) async fn abort(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (body, key) = keyed_request(&state, &headers, &body, |b: &UploadBody| &b.key)?;
    multipart(&state)?.abort(&key, &body.upload_id).await?;
    tracing::info!(
        key = key.as_str(),
        upload = body.upload_id,
        "aborted resumable upload"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT {filesBase}-parts/{uploadId}/{partNumber}?exp=…&sig=…`: stores one part; answers 200 with
/// the part's `ETag` (a quoted tag naming this write of the part).
pub(crate) async fn put_part(State(state): State<Arc<BlobState>>, request: Request) -> Response {
    let result = put_part_inner(&state, request).await;
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    response.headers_mut().insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

async fn put_part_inner(state: &BlobState, request: Request) -> Result<Response, ApiError> {
    let (parts, body): (_, Body) = request.into_parts();
    if parts.method != axum::http::Method::PUT {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "part URLs accept PUT only",
        ));
    }
    let store = &state.store;
    let rest = parts
        .uri
        .path()
        .strip_prefix(store.files_base())
        .and_then(|rest| rest.strip_prefix("-parts/"))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not a part URL"))?;
    let (upload_id, part_number) = rest
        .split_once('/')
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not a part URL"))?;
    let part_number: u32 = part_number
        .parse()
        .map_err(|_| ApiError::bad_request("the part number is not a number"))?;
    let (exp, sig) = signature_params(parts.uri.query())?;
    let key = store
        .verify_part(upload_id, part_number, exp, &sig)
        .await??;
    let max = store.max_upload_bytes();
    if let Some(length) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if length > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the part is larger than this server's limit of {max} bytes"),
            ));
        }
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let idle = state.body_idle_timeout;
    let body = idle_limited(body, idle, stalled.clone());
    let tag = match store.put_part(&key, upload_id, part_number, body).await {
        Ok(result) => result,
        Err(_) if stalled.load(Ordering::Relaxed) => return Err(stalled_upload(idle)),
        Err(err) => return Err(err.into()),
    };
    tracing::debug!(
        key = key.as_str(),
        upload = upload_id,
        part_number,
        "stored part"
    );
    let mut response = StatusCode::OK.into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{tag}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
