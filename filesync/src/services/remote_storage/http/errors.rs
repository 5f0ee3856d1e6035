//! Turning reqwest's failures into [`RemoteError`]s: transport errors here; statuses, messages and
//! hints come from the protocol module.

use reqwest::{StatusCode, Url};

use super::{tls, CLIENT};
use crate::services::remote_storage::protocol::errors as protocol;
use crate::services::remote_storage::{RemoteError, RemoteErrorKind};

pub(super) use protocol::{local, no_answer_within};

/// A URL as shown in messages: without its query (signatures stay out of logs).
pub(super) fn shown(url: &Url) -> &str {
    protocol::shown(url.as_str())
}

/// The error for a non-2xx answer to `method url`, with the server's own message.
pub(super) fn from_status(method: &str, url: &Url, status: StatusCode, body: &[u8]) -> RemoteError {
    protocol::from_status(&CLIENT, method, url.as_str(), status, body)
}

/// A malformed answer from the server (`Server`: worth retrying).
pub(super) fn malformed(method: &str, url: &Url, what: impl std::fmt::Display) -> RemoteError {
    protocol::malformed(method, url.as_str(), what)
}

/// The error for a request that got no answer (connect, timeout, broken connection): `Offline`,
/// except for requests that could not even be built and failed TLS handshakes (`Rejected`).
pub(super) fn from_transport(method: &str, url: &Url, err: reqwest::Error) -> RemoteError {
    let err = err.without_url();
    if err.is_connect() {
        if let Some(tls) = tls::rustls_error(&err) {
            // A refused certificate (unknown issuer, wrong host name, expired) or a handshake that
            // cannot succeed (no common protocol, a plain http server on an https URL) is not a
            // network blip: the same call fails the same way until someone changes the
            // configuration (trust the CA, fix the URL, renew the certificate). `Offline` would
            // have the engine wait for a network that is already there, requeueing silently;
            // `Rejected` fails the transfer with this message, so a person sees what to fix.
            // TLS errors after the handshake (mid-body) stay `Offline` below: they are transient.
            let message = format!("{method} {}: {}", shown(url), tls::explain(tls));
            return RemoteError::new(RemoteErrorKind::Rejected, message).with_source(err);
        }
    }
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
    let detail = chain(&err);
    RemoteError::new(kind, format!("{method} {}: {what}: {detail}", shown(url))).with_source(err)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_show_their_reason() {
        let url = Url::parse("http://h:1/files/s/k?exp=1&sig=secret").unwrap();
        let err = from_status("PUT", &url, StatusCode::UNAUTHORIZED, b"");
        assert_eq!(err.kind, RemoteErrorKind::Unauthorized);
        assert!(err
            .message
            .contains("PUT http://h:1/files/s/k answered 401 Unauthorized"));
        assert!(err.message.contains("HttpRemoteOptions::token"));
    }
}
