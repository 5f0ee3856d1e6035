//! Turning browser failures into [`RemoteError`]s: rejected `fetch` promises, XHR network errors,
//! requests the browser refuses to build. Statuses, messages and hints come from the protocol
//! module (the same as the native client's).

use wasm_bindgen::{JsCast, JsValue};

use super::CLIENT;
use crate::services::remote_storage::protocol::errors as protocol;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind};

pub(super) use protocol::{local, no_answer_within, shown};

/// The error for a non-2xx answer to `method url`, with the server's own message.
pub(super) fn from_status(method: &str, url: &str, status: u16, body: &str) -> RemoteError {
    protocol::from_status(&CLIENT, method, url, status, body.as_bytes())
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
    fn browser_messages() {
        let err = from_status("GET", "http://h/f?sig=s", 401, "");
        assert!(err
            .message
            .contains("check the token: BrowserHttpRemoteOptions::token"));
        assert!(!err.message.contains("sig=s"));
        let err = network("PUT", "http://h/f?sig=s", "TypeError");
        assert_eq!(err.kind, RemoteErrorKind::Offline);
        assert!(!err.message.contains("sig=s"));
        assert_eq!(js_text(&JsValue::from_str("boom")), "boom");
    }
}
