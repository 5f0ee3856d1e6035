//! Turning browser failures into [`RemoteError`]s: statuses (the same kinds and hints as the native
//! client), rejected `fetch` promises and XHR network errors, local read errors.

use wasm_bindgen::{JsCast, JsValue};

use crate::services::remote_storage::{RemoteError, RemoteErrorKind};

/// The most of an error body kept in a message.
const MAX_ERROR_TEXT: usize = 300;

/// A URL as shown in messages: without its query and fragment (signatures stay out of logs).
pub(super) fn shown(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// What the server said in an error body: the `error` of a JSON `{"error": ...}`, else the start of
/// the text (S3 answers XML), else nothing.
pub(super) fn server_text(body: &str) -> Option<String> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(body) {
        if let Some(serde_json::Value::String(text)) = map.get("error") {
            return Some(truncate(text.trim()));
        }
    }
    let text = body.trim();
    (!text.is_empty()).then(|| truncate(text))
}

fn truncate(text: &str) -> String {
    if text.len() <= MAX_ERROR_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_ERROR_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The kind an HTTP error status maps to.
pub(super) fn kind_of_status(status: u16) -> RemoteErrorKind {
    match status {
        404 => RemoteErrorKind::NotFound,
        401 => RemoteErrorKind::Unauthorized,
        403 => RemoteErrorKind::Forbidden,
        413 => RemoteErrorKind::TooLarge,
        400..=499 => RemoteErrorKind::Rejected,
        _ => RemoteErrorKind::Server,
    }
}

/// What to do about a status, where it is obvious.
fn hint(status: u16) -> &'static str {
    match status {
        401 => "check the token: BrowserHttpRemoteOptions::token must be one the server knows",
        403 => "check the token's key prefixes; a signed URL may also have expired",
        413 => "the server's upload limit is smaller than this body",
        500..=599 => "the server failed; try again later",
        _ => "",
    }
}

/// The error for a non-2xx answer to `method url`, with the server's own message.
pub(super) fn from_status(method: &str, url: &str, status: u16, body: &str) -> RemoteError {
    let mut message = format!("{method} {} answered {status}", shown(url));
    if let Some(text) = server_text(body) {
        message.push_str(": ");
        message.push_str(&text);
    }
    let hint = hint(status);
    if !hint.is_empty() {
        message.push_str(" (");
        message.push_str(hint);
        message.push(')');
    }
    RemoteError::new(kind_of_status(status), message)
}

/// The text of a thrown JS value (an `Error`'s message, a string, or its `String()`).
pub(super) fn js_text(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let message = String::from(err.message());
        return if name.is_empty() || name == "Error" {
            message
        } else {
            format!("{name}: {message}")
        };
    }
    if let Some(text) = value.as_string() {
        return text;
    }
    String::from(js_sys::JsString::from(value.clone()))
}

/// The error for a request that got no answer (a rejected `fetch`, an XHR `error`): `Offline`. The
/// browser hides the cause (connection refused, DNS, CORS) from scripts on purpose; the console
/// shows it.
pub(super) fn network(method: &str, url: &str, detail: &str) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Offline,
        format!(
            "{method} {}: no answer ({detail}); is the server running, the base URL right and this origin allowed by its CORS settings? The browser console has the cause",
            shown(url)
        ),
    )
}

/// A malformed answer from the server (`Server`: worth retrying, the server may be mid-deploy).
pub(super) fn malformed(method: &str, url: &str, what: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Server,
        format!(
            "{method} {} answered something unexpected: {what}",
            shown(url)
        ),
    )
}

/// A failure reading the local side of an upload.
pub(super) fn local(what: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Local, what.to_string())
}

/// A request the browser refused to build (a bad header, a bad URL): `Rejected`, not worth retrying.
pub(super) fn unsendable(what: &str, err: &JsValue) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Rejected,
        format!("{what}: the browser refused the request: {}", js_text(err)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn statuses_map_like_the_native_client() {
        assert_eq!(kind_of_status(404), RemoteErrorKind::NotFound);
        assert_eq!(kind_of_status(401), RemoteErrorKind::Unauthorized);
        assert_eq!(kind_of_status(403), RemoteErrorKind::Forbidden);
        assert_eq!(kind_of_status(413), RemoteErrorKind::TooLarge);
        for n in [400, 409, 416, 422] {
            assert_eq!(kind_of_status(n), RemoteErrorKind::Rejected, "{n}");
        }
        for n in [500, 502, 503] {
            assert_eq!(kind_of_status(n), RemoteErrorKind::Server, "{n}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn messages_hide_signatures_and_quote_the_server() {
        let err = from_status(
            "PUT",
            "http://h:1/files/s/k?exp=1&sig=secret",
            401,
            r#"{"error":"missing or unknown token"}"#,
        );
        assert_eq!(err.kind, RemoteErrorKind::Unauthorized);
        assert!(!err.message.contains("secret"), "{}", err.message);
        assert!(err
            .message
            .contains("PUT http://h:1/files/s/k answered 401"));
        assert!(err.message.contains("missing or unknown token"));
        assert!(err.message.contains("check the token"));
        assert_eq!(server_text("  plain  ").as_deref(), Some("plain"));
        assert_eq!(server_text(""), None);
        assert!(server_text(&"x".repeat(1000)).unwrap().len() < 400);
        assert_eq!(shown("http://h/a#frag"), "http://h/a");
    }
}
