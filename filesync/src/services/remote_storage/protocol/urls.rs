//! The rules for the base URL and for the signed URLs the signer answers. The transports parse
//! (the `url` crate natively, the browser's `URL` on wasm32); the rules and messages are here.

use super::{errors, Client};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult};

/// A parsed base URL, as far as the rules look at it.
pub(crate) struct BaseParts<'a> {
    /// The scheme, without `:`.
    pub(crate) scheme: &'a str,
    /// Whether it has a (non-empty) host.
    pub(crate) has_host: bool,
    /// Whether it has a query or a fragment.
    pub(crate) has_query_or_fragment: bool,
    /// Whether it holds a user name or password.
    pub(crate) has_credentials: bool,
}

/// The error for an empty base URL.
pub(crate) fn empty_base(client: &Client) -> RemoteError {
    errors::config(format!(
        "the base URL is empty; set {}::base_url to the signer's URL, {}",
        client.options, client.example
    ))
}

/// Checks the parsed base URL `raw` (`Rejected`, with what to fix).
pub(crate) fn check_base(client: &Client, raw: &str, parts: &BaseParts<'_>) -> RemoteResult<()> {
    let example = client.example;
    match parts.scheme {
        "http" => {}
        "https" if client.tls => {}
        "https" => {
            return Err(errors::config(format!(
                "the base URL {raw:?} uses https, but this build of filesync has no TLS support; use an http:// URL (loopback or a trusted network) or a TLS-terminating proxy on this machine"
            )))
        }
        other => {
            let wanted = if client.tls {
                "an http:// or https:// URL"
            } else {
                "an http:// URL"
            };
            return Err(errors::config(format!(
                "the base URL {raw:?} has the scheme {other:?}; use {wanted}, {example}"
            )));
        }
    }
    if !parts.has_host {
        return Err(errors::config(format!(
            "the base URL {raw:?} has no host, {example}"
        )));
    }
    if parts.has_query_or_fragment {
        return Err(errors::config(format!(
            "the base URL {raw:?} has a query or fragment; give only scheme, host and path, {example}"
        )));
    }
    if parts.has_credentials {
        return Err(errors::config(format!(
            "the base URL {raw:?} holds credentials; remove them and set {}::token",
            client.options
        )));
    }
    Ok(())
}

/// The error for a token that cannot be sent in an `Authorization` header.
pub(crate) fn bad_token(client: &Client) -> RemoteError {
    errors::config(format!(
        "the token holds characters an HTTP header cannot carry (control characters or non-ASCII); check {}::token",
        client.options
    ))
}

/// A signed URL as the signer answered it, trimmed (`Server` when empty).
pub(crate) fn signed_text(url: &str) -> RemoteResult<&str> {
    let url = url.trim();
    if url.is_empty() {
        return Err(RemoteError::new(
            RemoteErrorKind::Server,
            "the signer answered an empty URL",
        ));
    }
    Ok(url)
}

/// The error for a signed URL that cannot be resolved.
pub(crate) fn unusable(detail: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::Server,
        format!("the signer answered an unusable URL ({detail})"),
    )
}

/// Checks the scheme (without `:`) of the resolved signed URL `url`.
pub(crate) fn check_signed_scheme(client: &Client, scheme: &str, url: &str) -> RemoteResult<()> {
    match scheme {
        "http" => Ok(()),
        "https" if client.tls => Ok(()),
        "https" => Err(errors::config(format!(
            "the signer answered an https URL ({}), but this build of filesync has no TLS support",
            errors::shown(url)
        ))),
        other => Err(RemoteError::new(
            RemoteErrorKind::Server,
            format!("the signer answered a URL with the scheme {other:?}"),
        )),
    }
}

/// The cases every client's base URL checks pass, whatever its parser: `new(base_url)` makes a
/// client; `bad_token` is the result of making one with the token `"a\nb"`; `extra` are the
/// client's own `(base URL, part of the message)` refusals.
#[cfg(test)]
pub(crate) fn assert_base_rules<C>(
    new: impl Fn(&str) -> RemoteResult<C>,
    bad_token: RemoteResult<C>,
    extra: &[(&str, &str)],
) {
    let common = [
        ("", "empty"),
        ("ftp://example.com/api", "scheme"),
        ("http://example.com/api?x=1", "query"),
        ("http://u:p@example.com/api", "credentials"),
    ];
    for &(url, hint) in common.iter().chain(extra) {
        let Err(err) = new(url) else {
            panic!("{url} was accepted");
        };
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains(hint), "{url}: {}", err.message);
    }
    let Err(err) = bad_token else {
        panic!("a token with a line break was accepted");
    };
    assert!(err.message.contains("token"), "{}", err.message);
}

/// The cases every client's resolution of signed URLs passes for the base `http://h:1/api`, whatever
/// its parser: `resolve` gives the absolute URL.
#[cfg(test)]
pub(crate) fn assert_resolution_rules(resolve: impl Fn(&str) -> RemoteResult<String>) {
    assert_eq!(
        resolve("/files/a/b?exp=1&sig=x").unwrap(),
        "http://h:1/files/a/b?exp=1&sig=x"
    );
    assert_eq!(resolve("http://other:2/x").unwrap(), "http://other:2/x");
    assert_eq!(resolve(" ").unwrap_err().kind, RemoteErrorKind::Server);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::remote_storage::protocol::{BROWSER, NATIVE};

    /// A client without TLS.
    const NO_TLS: Client = Client {
        tls: false,
        ..NATIVE
    };

    fn parts(scheme: &str) -> BaseParts<'_> {
        BaseParts {
            scheme,
            has_host: true,
            has_query_or_fragment: false,
            has_credentials: false,
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn base_rules() {
        assert!(check_base(&NATIVE, "http://h/api", &parts("http")).is_ok());
        assert!(check_base(&BROWSER, "https://h/api", &parts("https")).is_ok());
        assert!(check_base(&NATIVE, "https://h/api", &parts("https")).is_ok());
        let err = check_base(&NO_TLS, "https://h/api", &parts("https")).unwrap_err();
        assert!(err.message.contains("no TLS"), "{}", err.message);
        let err = check_base(&BROWSER, "ftp://h/api", &parts("ftp")).unwrap_err();
        assert!(
            err.message.contains("http:// or https://"),
            "{}",
            err.message
        );
        let mut p = parts("http");
        p.has_query_or_fragment = true;
        let err = check_base(&NATIVE, "http://h/?x", &p).unwrap_err();
        assert!(err.message.contains("query"));
        p.has_query_or_fragment = false;
        p.has_credentials = true;
        let err = check_base(&BROWSER, "http://u:p@h/", &p).unwrap_err();
        assert!(err.message.contains("BrowserHttpRemoteOptions::token"));
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(empty_base(&NATIVE).message.contains("empty"));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn signed_url_rules() {
        assert_eq!(signed_text("  /f  ").unwrap(), "/f");
        assert_eq!(signed_text(" ").unwrap_err().kind, RemoteErrorKind::Server);
        assert!(check_signed_scheme(&NATIVE, "http", "http://h/").is_ok());
        assert!(check_signed_scheme(&NATIVE, "https", "https://s3/x").is_ok());
        let err = check_signed_scheme(&NO_TLS, "https", "https://s3/x?sig=s").unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(!err.message.contains("sig=s"));
        assert!(check_signed_scheme(&BROWSER, "https", "https://s3/x").is_ok());
        let err = check_signed_scheme(&BROWSER, "javascript", "javascript:x").unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Server);
    }
}
