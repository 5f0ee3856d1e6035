//! The JSON of the signer's answers, and what they mean.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::errors;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// How long a signed URL is assumed to work when the signer does not say (`expiresAt`).
pub(crate) const ASSUMED_URL_LIFETIME_MS: i64 = 5 * 60 * 1000;

/// A signed request as the signer returns it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignedRequest {
    pub(crate) method: Option<String>,
    /// Empty only with `already_stored`.
    #[serde(default)]
    pub(crate) url: String,
    /// The server holds these bytes already (asked with `skipIfStored`): nothing to send.
    #[serde(default)]
    pub(crate) already_stored: bool,
    #[serde(default)]
    pub(crate) headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) expires_at: Option<serde_json::Value>,
}

impl SignedRequest {
    /// When the signed URL stops working, epoch ms: `expiresAt`, else `now_ms()` plus
    /// [`ASSUMED_URL_LIFETIME_MS`].
    pub(crate) fn expires_at_ms(&self, now_ms: impl FnOnce() -> i64) -> i64 {
        self.expires_at
            .as_ref()
            .and_then(expiry_ms)
            .unwrap_or_else(|| now_ms() + ASSUMED_URL_LIFETIME_MS)
    }

    /// The method of a whole-object upload (`PUT` unless the signer says `POST`).
    pub(crate) fn upload_method(&self) -> RemoteResult<&'static str> {
        match self.method.as_deref() {
            Some("PUT") | None => Ok("PUT"),
            Some("POST") => Ok("POST"),
            Some(other) => Err(RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer asked for an upload with the method {other:?}; only PUT and POST are supported"),
            )),
        }
    }

    /// The method of a part upload (only `PUT`).
    pub(crate) fn part_method(&self) -> RemoteResult<&'static str> {
        match self.method.as_deref() {
            Some("PUT") | None => Ok("PUT"),
            Some(other) => Err(RemoteError::new(
                RemoteErrorKind::Server,
                format!("the signer asked for a part upload with the method {other:?}; only PUT is supported"),
            )),
        }
    }
}

/// A signer answer parsed as `T` (`Server` when it is not that JSON).
pub(crate) fn parse_json<T: DeserializeOwned>(url: &str, text: &[u8]) -> RemoteResult<T> {
    serde_json::from_slice(text)
        .map_err(|err| errors::malformed("POST", url, format!("not the expected JSON ({err})")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn expiries_parse() {
        let ms = |v: serde_json::Value| expiry_ms(&v);
        assert_eq!(ms("2025-11-25T10:00:00Z".into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800.into()), Some(1_764_064_800_000));
        assert_eq!(ms(1_764_064_800_000i64.into()), Some(1_764_064_800_000));
        assert_eq!(ms("soon".into()), None);
        let signed: SignedRequest = parse_json("http://h/x", br#"{"url":"/f"}"#).unwrap();
        assert_eq!(
            signed.expires_at_ms(|| 1000),
            1000 + ASSUMED_URL_LIFETIME_MS
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn malformed_answers_are_server_errors() {
        let err = parse_json::<SignedRequest>("http://h/api/v1/sign/upload", b"<html>")
            .err()
            .unwrap();
        assert_eq!(err.kind, RemoteErrorKind::Server);
        let signed: SignedRequest =
            parse_json("http://h/x", br#"{"url":"/f","method":"PATCH"}"#).unwrap();
        assert_eq!(
            signed.upload_method().unwrap_err().kind,
            RemoteErrorKind::Server
        );
        assert_eq!(
            signed.part_method().unwrap_err().kind,
            RemoteErrorKind::Server
        );
    }
}
