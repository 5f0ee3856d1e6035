//! Turning HTTP failures into [`RemoteError`]s: statuses, transport errors, local read errors.

use reqwest::{StatusCode, Url};

use crate::services::remote_storage::{RemoteError, RemoteErrorKind};

/// The most of an error body kept in a message.
const MAX_ERROR_TEXT: usize = 300;

/// A URL as shown in messages: without its query (signatures stay out of logs).
pub(super) fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// What the server said in an error body: the `error` of a JSON `{"error": ...}`, else the start of
/// the text (S3 answers XML), else nothing.
pub(super) fn server_text(body: &[u8]) -> Option<String> {
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

/// The kind an HTTP error status maps to.
pub(super) fn kind_of_status(status: StatusCode) -> RemoteErrorKind {
    match status.as_u16() {
        404 => RemoteErrorKind::NotFound,
        401 => RemoteErrorKind::Unauthorized,
        403 => RemoteErrorKind::Forbidden,
        413 => RemoteErrorKind::TooLarge,
        400..=499 => RemoteErrorKind::Rejected,
        _ => RemoteErrorKind::Server,
    }
}

/// What to do about a status, where it is obvious.
fn hint(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "check the token: HttpRemoteOptions::token must be one the server knows",
        403 => "check the token's key prefixes; a signed URL may also have expired",
        404 => "nothing under this key, or the base URL names the wrong path",
        413 => "the server's upload limit is smaller than this body",
        500..=599 => "the server failed; try again later",
        _ => "",
    }
}

/// The error for a non-2xx answer to `method url`, with the server's own message.
pub(super) fn from_status(method: &str, url: &Url, status: StatusCode, body: &[u8]) -> RemoteError {
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

/// The error for a request that got no answer (connect, timeout, broken connection): `Offline`,
/// except for requests that could not even be built.
pub(super) fn from_transport(method: &str, url: &Url, err: reqwest::Error) -> RemoteError {
    let kind = if err.is_builder() {
        RemoteErrorKind::Rejected
    } else {
        RemoteErrorKind::Offline
    };
    let what = if err.is_connect() {
        "cannot connect (is the server running and the base URL right?)"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_body() || err.is_decode() {
        "the connection broke during the body"
    } else {
        "failed"
    };
    let detail = chain(&err.without_url());
    RemoteError::new(kind, format!("{method} {}: {what}: {detail}", shown(url)))
}

/// An error and its sources, `: `-separated, without repeats.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}

/// A malformed answer from the server (`Server`: worth retrying, the server may be mid-deploy).
pub(super) fn malformed(method: &str, url: &Url, what: impl std::fmt::Display) -> RemoteError {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_kinds() {
        let kind = |n: u16| kind_of_status(StatusCode::from_u16(n).unwrap());
        assert_eq!(kind(404), RemoteErrorKind::NotFound);
        assert_eq!(kind(401), RemoteErrorKind::Unauthorized);
        assert_eq!(kind(403), RemoteErrorKind::Forbidden);
        assert_eq!(kind(413), RemoteErrorKind::TooLarge);
        for n in [400, 409, 416, 422] {
            assert_eq!(kind(n), RemoteErrorKind::Rejected, "{n}");
        }
        for n in [500, 501, 502, 503] {
            assert_eq!(kind(n), RemoteErrorKind::Server, "{n}");
        }
    }

    #[test]
    fn messages_hide_signatures_and_quote_the_server() {
        let url = Url::parse("http://h:1/files/s/k?exp=1&sig=secret").unwrap();
        let err = from_status(
            "PUT",
            &url,
            StatusCode::UNAUTHORIZED,
            br#"{"error":"missing or unknown token"}"#,
        );
        assert_eq!(err.kind, RemoteErrorKind::Unauthorized);
        assert!(!err.message.contains("secret"), "{}", err.message);
        assert!(err
            .message
            .contains("PUT http://h:1/files/s/k answered 401"));
        assert!(err.message.contains("missing or unknown token"));
        assert!(err.message.contains("check the token"));
        assert_eq!(server_text(b"  plain  ").as_deref(), Some("plain"));
        assert_eq!(server_text(b""), None);
        assert!(server_text(&[b'x'; 1000]).unwrap().len() < 400);
    }
}
