//! Protocol errors as [`RemoteError`]s: status → kind, the messages and hints of non-2xx answers,
//! malformed answers, local read failures and configuration mistakes.

use super::Client;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind};

/// The most of an error body kept in a message.
const MAX_ERROR_TEXT: usize = 300;

/// A URL as shown in messages: without its query and fragment (signatures stay out of logs).
pub(crate) fn shown(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// What the server said in an error body: the `error` of a JSON `{"error": ...}`, else the start of
/// the text (S3 answers XML), else nothing.
pub(crate) fn server_text(body: &[u8]) -> Option<String> {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Some(serde_json::Value::String(text)) = map.get("error") {
            return Some(truncate(text.trim()));
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
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

/// Whether `status` is a 2xx.
pub(crate) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The kind an HTTP error status maps to.
pub(crate) fn kind_of_status(status: u16) -> RemoteErrorKind {
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
fn hint(client: &Client, status: u16) -> Option<String> {
    let hint = match status {
        401 => {
            return Some(format!(
                "check the token: {}::{} must be one the server knows",
                client.options, client.token_source
            ))
        }
        403 => "check the token's key prefixes; a signed URL may also have expired",
        404 if client.hint_not_found => {
            "nothing under this key, or the base URL names the wrong path"
        }
        413 => "the server's upload limit is smaller than this body",
        500..=599 => "the server failed; try again later",
        _ => return None,
    };
    Some(hint.to_owned())
}

/// The error for a non-2xx answer to `method url`, with the server's own message and a hint.
/// `status` is shown as the transport shows it (`401` or `401 Unauthorized`).
pub(crate) fn from_status<S>(
    client: &Client,
    method: &str,
    url: &str,
    status: S,
    body: &[u8],
) -> RemoteError
where
    S: Copy + Into<u16> + std::fmt::Display,
{
    let mut message = format!("{method} {} answered {status}", shown(url));
    if let Some(text) = server_text(body) {
        message.push_str(": ");
        message.push_str(&text);
    }
    let status: u16 = status.into();
    if let Some(hint) = hint(client, status) {
        message.push_str(" (");
        message.push_str(&hint);
        message.push(')');
    }
    RemoteError::new(kind_of_status(status), message).with_status(status)
}

/// A malformed answer from the server (`Server`: worth retrying, the server may be mid-deploy).
pub(crate) fn malformed(method: &str, url: &str, what: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Server,
        format!(
            "{method} {} answered something unexpected: {what}",
            shown(url)
        ),
    )
}

/// An answer that lacks the header `name` (in a browser the server may not expose it to scripts).
pub(crate) fn missing_header(
    client: &Client,
    method: &str,
    url: &str,
    what: &str,
    name: &str,
) -> RemoteError {
    if client.cors {
        malformed(
            method,
            url,
            format!("{what} (is {name} among the CORS exposed headers?)"),
        )
    } else {
        malformed(method, url, what)
    }
}

/// A failure reading the local side of an upload.
pub(crate) fn local(what: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Local, what.to_string())
}

/// A mistake in the client's settings (`Rejected`: retrying does not help).
pub(crate) fn config(message: impl Into<String>) -> RemoteError {
    RemoteError::new(RemoteErrorKind::Rejected, message)
}

/// A signer call or transfer that got no answer within `limit`.
pub(crate) fn no_answer_within(method: &str, url: &str, limit: std::time::Duration) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Offline,
        format!("{method} {}: no answer within {limit:?}", shown(url)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::remote_storage::protocol::NATIVE;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn statuses_map_to_kinds() {
        assert_eq!(kind_of_status(404), RemoteErrorKind::NotFound);
        assert_eq!(kind_of_status(401), RemoteErrorKind::Unauthorized);
        assert_eq!(kind_of_status(403), RemoteErrorKind::Forbidden);
        assert_eq!(kind_of_status(413), RemoteErrorKind::TooLarge);
        for n in [400, 409, 416, 422] {
            assert_eq!(kind_of_status(n), RemoteErrorKind::Rejected, "{n}");
        }
        for n in [500, 501, 502, 503] {
            assert_eq!(kind_of_status(n), RemoteErrorKind::Server, "{n}");
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn messages_hide_signatures_and_quote_the_server() {
        let err = from_status(
            &NATIVE,
            "PUT",
            "http://h:1/files/s/k?exp=1&sig=secret",
            401u16,
            br#"{"error":"missing or unknown token"}"#,
        );
        assert_eq!(err.kind, RemoteErrorKind::Unauthorized);
        assert!(!err.message.contains("secret"), "{}", err.message);
        assert!(err
            .message
            .contains("PUT http://h:1/files/s/k answered 401"));
        assert!(err.message.contains("missing or unknown token"));
        assert!(err
            .message
            .contains("check the token: HttpRemoteOptions::token"));
        assert_eq!(server_text(b"  plain  ").as_deref(), Some("plain"));
        assert_eq!(server_text(b""), None);
        assert!(server_text(&[b'x'; 1000]).unwrap().len() < 400);
        assert_eq!(shown("http://h/a#frag"), "http://h/a");
        assert!(from_status(&NATIVE, "GET", "http://h/x", 599u16, b"")
            .message
            .contains("answered 599 (the server failed"));
    }
}
