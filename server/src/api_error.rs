//! [`ApiError`]: every error response, as JSON `{"error": "..."}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::AuthError;
use crate::signature::SignatureError;
use crate::store::{StoreError, StoreErrorKind};

/// An error response: a status and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The message sent as `{"error": message}`.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message }).to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        let status = match err.kind {
            StoreErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            StoreErrorKind::NotFound => StatusCode::NOT_FOUND,
            StoreErrorKind::Conflict => StatusCode::CONFLICT,
            StoreErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            StoreErrorKind::HashMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            StoreErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            StoreErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, err.message)
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> ApiError {
        match err {
            AuthError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing or unknown token; send 'Authorization: Bearer <token>' with a token this server knows",
            ),
            AuthError::Forbidden => ApiError::new(
                StatusCode::FORBIDDEN,
                "this token may not touch that key; use a key under one of the token's prefixes",
            ),
        }
    }
}

impl From<SignatureError> for ApiError {
    fn from(err: SignatureError) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, err.to_string())
    }
}
