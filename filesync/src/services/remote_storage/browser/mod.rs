//! [`BrowserHttpRemote`]: the client of the server's signer protocol (DESIGN §6) in a browser, on the
//! page or in a worker (wasm32 only).
//!
//! The same protocol, error kinds and resume tokens as the native [`HttpRemote`](super), with the
//! browser's own transports (DESIGN §5a):
//! - signer calls (`GET {base}/health`, `POST {base}/v1/...` with `Authorization: Bearer <token>`)
//!   by the global `fetch`, with a deadline ([`BrowserHttpRemoteOptions::request_timeout`]);
//! - uploads by `XMLHttpRequest` (fetch reports no upload progress), the body a `Blob` assembled from
//!   the chunks of [`UploadRequest::open`](super::UploadRequest::open); uploads of at least
//!   [`BrowserHttpRemoteOptions::multipart_threshold`] bytes go part by part through the resumable
//!   protocol, so at most one part is held as a `Blob` at a time;
//! - downloads by `fetch` (ranged when resuming), the body read chunk by chunk.
//!
//! Transfers have no deadline as a whole but fail with `Offline` when nothing moved for
//! [`BrowserHttpRemoteOptions::transfer_idle_timeout`]. Nothing touches the global scope until a
//! call is made, except [`BrowserHttpRemote::new`] reading `location.href` to resolve a relative
//! base URL.

mod errors;
mod js;
mod signer;
mod transfer;
mod xhr;

use std::time::Duration;

use wasm_bindgen::JsValue;

use super::protocol::errors::config as config_error;
use super::protocol::transport::{self, Site};
use super::protocol::{options, urls, BROWSER as CLIENT};
use super::RemoteResult;

/// Settings of a [`BrowserHttpRemote`].
#[derive(Clone)]
pub struct BrowserHttpRemoteOptions {
    /// The signer's base URL, e.g. `http://127.0.0.1:8787/api`, or relative to the page or worker
    /// (`/api`, the TypeScript package's default). A trailing `/` is ignored.
    pub base_url: String,
    /// The Bearer token sent to the signer (`None` or empty: no `Authorization` header).
    pub token: Option<String>,
    /// Uploads of at least this many bytes use the resumable protocol (default 64 MiB). Below it,
    /// the whole upload is assembled as one `Blob` before it is sent.
    pub multipart_threshold: u64,
    /// How long a signer call may take as a whole (default 30 s; `multipart/complete`, which makes
    /// the server re-read the whole object, gets one more second per 32 MiB).
    pub request_timeout: Duration,
    /// A transfer fails with `Offline` when nothing moved for this long (default 60 s): no upload
    /// progress event (including the wait for the answer after the last byte), or no download
    /// chunk.
    pub transfer_idle_timeout: Duration,
}

options::options_impl!(BrowserHttpRemoteOptions for BrowserHttpRemote {});

/// The browser client of the signer protocol of `filesync-server` (and of the TypeScript package's
/// signers), with resumable uploads and ranged downloads. Cheap to clone.
#[derive(Clone)]
pub struct BrowserHttpRemote {
    /// The client, the absolute base URL without a trailing `/`, the signer timeout and the
    /// threshold.
    site: Site,
    /// `Bearer <token>`, when there is a token.
    auth: Option<String>,
    options: BrowserHttpRemoteOptions,
}

/// The global scope's `location.href`, when it has one (pages and workers do).
fn location_href() -> Option<String> {
    let global: JsValue = js_sys::global().into();
    let location = js_sys::Reflect::get(&global, &JsValue::from_str("location")).ok()?;
    if location.is_undefined() || location.is_null() {
        return None;
    }
    js_sys::Reflect::get(&location, &JsValue::from_str("href"))
        .ok()?
        .as_string()
}

impl BrowserHttpRemote {
    /// A client for the signer described by `options`. Fails (`Rejected`, with what to fix) when the
    /// base URL is unusable or the token cannot be sent as a header. A relative base URL is resolved
    /// against the page's (or worker's) `location`.
    pub fn new(options: BrowserHttpRemoteOptions) -> RemoteResult<BrowserHttpRemote> {
        let raw = options.base_url.trim();
        let example = CLIENT.example;
        if raw.is_empty() {
            return Err(urls::empty_base(&CLIENT));
        }
        let url = match web_sys::Url::new(raw) {
            Ok(url) => url,
            Err(_) => {
                let Some(page) = location_href() else {
                    return Err(config_error(format!(
                        "the base URL {raw:?} is relative and this JavaScript scope has no location to resolve it against; give an absolute URL, {example}"
                    )));
                };
                web_sys::Url::new_with_base(raw, &page).map_err(|err| {
                    config_error(format!(
                        "the base URL {raw:?} is not a URL ({}), {example}",
                        errors::js_text(&err)
                    ))
                })?
            }
        };
        let scheme = url.protocol();
        let parts = urls::BaseParts {
            scheme: scheme.trim_end_matches(':'),
            has_host: !url.hostname().is_empty(),
            has_query_or_fragment: !url.search().is_empty()
                || !url.hash().is_empty()
                || raw.contains(['?', '#']),
            has_credentials: !url.username().is_empty() || !url.password().is_empty(),
        };
        urls::check_base(&CLIENT, raw, &parts)?;
        let auth = match options.token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(token) => {
                if !token
                    .bytes()
                    .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
                {
                    return Err(urls::bad_token(&CLIENT));
                }
                Some(format!("Bearer {token}"))
            }
        };
        Ok(BrowserHttpRemote {
            site: Site {
                client: &CLIENT,
                base: url.href().trim_end_matches('/').to_owned(),
                request_timeout: options.request_timeout,
                multipart_threshold: options.multipart_threshold,
            },
            auth,
            options,
        })
    }

    /// The absolute base URL the signer calls go to (without a trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.site.base
    }
}

transport::remote_storage_over_transport!(BrowserHttpRemote);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::remote_storage::protocol::transport::Signer;
    use crate::services::remote_storage::RemoteErrorKind;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn base_urls_are_checked() {
        let new = |url: &str| BrowserHttpRemote::new(BrowserHttpRemoteOptions::new(url));
        assert_eq!(
            new("http://127.0.0.1:8787/api/").unwrap().site.base,
            "http://127.0.0.1:8787/api"
        );
        assert_eq!(
            new("https://files.example.com/api").unwrap().site.base,
            "https://files.example.com/api"
        );
        let bad_token = BrowserHttpRemoteOptions::new("http://h/api").with_token("a\nb");
        urls::assert_base_rules(new, BrowserHttpRemote::new(bad_token), &[]);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn relative_urls_resolve_against_the_base() {
        let remote =
            BrowserHttpRemote::new(BrowserHttpRemoteOptions::new("http://h:1/api")).unwrap();
        urls::assert_resolution_rules(|url| remote.resolve(url));
        assert_eq!(
            remote.resolve("javascript:alert(1)").unwrap_err().kind,
            RemoteErrorKind::Server
        );
    }
}
