//! [`BrowserHttpRemote`]: the client of the server's signer protocol (DESIGN §6) in a browser, on the
//! page or in a worker, and in Node 20+ (wasm32 only).
//!
//! The same protocol, error kinds and resume tokens as the native [`HttpRemote`](super), with the
//! JavaScript scope's own transports (DESIGN §5a):
//! - signer calls (`GET {base}/health`, `POST {base}/v1/...`) by the global `fetch`, with a
//!   deadline ([`BrowserHttpRemoteOptions::request_timeout`]), carrying `Authorization: Bearer
//!   <token>` (a static [`token`](BrowserHttpRemoteOptions::token), or what the app's
//!   [`TokenGetter`] gives before each call), the app's extra
//!   [`headers`](BrowserHttpRemoteOptions::headers), and cookies when
//!   [`include_credentials`](BrowserHttpRemoteOptions::include_credentials) is set (the options
//!   of the TypeScript package's remote config);
//! - uploads by `XMLHttpRequest` (fetch reports no upload progress), the body a `Blob` assembled from
//!   the chunks of [`UploadRequest::open`](super::UploadRequest::open); where the global scope has
//!   no `XMLHttpRequest` (Node), by `fetch` with the same `Blob`, progress reported at the end;
//!   uploads of at least [`BrowserHttpRemoteOptions::multipart_threshold`] bytes go part by part
//!   through the resumable protocol, so at most one part is held as a `Blob` at a time;
//! - downloads by `fetch` (ranged when resuming), the body read chunk by chunk.
//!
//! Signed blob URLs get only the headers the signer answered with them: never the token, the extra
//! headers or `credentials: "include"`.
//!
//! Transfers have no deadline as a whole but fail with `Offline` when nothing moved for
//! [`BrowserHttpRemoteOptions::transfer_idle_timeout`] (a fetch upload shows no progress: it gets
//! that plus one second per 256 KiB of body). Nothing touches the global scope until a call is
//! made, except [`BrowserHttpRemote::new`] reading `location.href` to resolve a relative base URL.

mod answer;
mod auth;
mod errors;
mod fetch_upload;
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

pub use auth::TokenGetter;

/// Settings of a [`BrowserHttpRemote`].
#[derive(Clone)]
pub struct BrowserHttpRemoteOptions {
    /// The signer's base URL, e.g. `http://127.0.0.1:8787/api`, or relative to the page or worker
    /// (`/api`, the TypeScript package's default). A trailing `/` is ignored.
    pub base_url: String,
    /// The Bearer token sent to the signer (`None` or empty: no `Authorization` header). For a token
    /// that changes, set [`token_getter`](Self::token_getter) instead (not both).
    pub token: Option<String>,
    /// The app's token getter, called before every signer call (default none): the token is sent
    /// as `Authorization: Bearer <token>`. Exclusive with [`token`](Self::token). See
    /// [`TokenGetter`] for what it may return and how its failures show.
    pub token_getter: Option<TokenGetter>,
    /// Headers added to every signer call (default none), e.g. an API key or a tenant id; never
    /// sent to signed blob URLs. Checked by [`BrowserHttpRemote::new`]: sendable names and values,
    /// each name once, not `Content-Type` (the client's own) nor a header browsers set themselves;
    /// `Authorization` only without a token or getter (then it is sent as given, e.g. `Basic`
    /// credentials). A cross-origin signer must allow them in its CORS answer
    /// (`Access-Control-Allow-Headers`).
    pub headers: Vec<(String, String)>,
    /// Whether signer calls send the browser's cookies to a signer on another origin (fetch's
    /// `credentials: "include"`; default false: `same-origin`), for cookie-based auth. The signer
    /// must then answer `Access-Control-Allow-Credentials: true` and name the page's origin (not
    /// `*`) in `Access-Control-Allow-Origin`, or the browser refuses its answers. Never applies to
    /// signed blob URLs. Node keeps no cookies: there it changes nothing.
    pub include_credentials: bool,
    /// Uploads of at least this many bytes use the resumable protocol (default 64 MiB). Below it,
    /// the whole upload is assembled as one `Blob` before it is sent.
    pub multipart_threshold: u64,
    /// How many parts of a resumable upload are sent at a time (default 3; at least 1). More
    /// overlap each part's round trips; a stop loses at most this many partly sent parts.
    pub parts_in_flight: usize,
    /// How long a signer call may take as a whole, the token getter's wait included (default 30 s;
    /// `multipart/complete`, which makes the server re-read the whole object, gets one more second
    /// per 32 MiB).
    pub request_timeout: Duration,
    /// A transfer fails with `Offline` when nothing moved for this long (default 60 s): no upload
    /// progress event (including the wait for the answer after the last byte), or no download
    /// chunk. An upload by `fetch` (where there is no `XMLHttpRequest`, as in Node) shows no
    /// progress: it may take this plus one second per 256 KiB of body.
    pub transfer_idle_timeout: Duration,
}

options::options_impl!(BrowserHttpRemoteOptions for BrowserHttpRemote {
    token_getter: None,
    headers: Vec::new() => auth::header_names,
    include_credentials: false,
});

impl BrowserHttpRemoteOptions {
    /// The same options with the app's token `getter` (see [`TokenGetter`]).
    pub fn with_token_getter(mut self, getter: TokenGetter) -> BrowserHttpRemoteOptions {
        self.token_getter = Some(getter);
        self
    }

    /// The same options with one more header for every signer call (see [`Self::headers`]).
    pub fn with_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> BrowserHttpRemoteOptions {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same options with the headers of `headers`, a JS object of header names to strings
    /// (the TypeScript package's `headers: Record<string, string>`; `null` or `undefined`: none)
    /// added to [`Self::headers`]. `Rejected` when it is not such an object; the headers
    /// themselves are checked by [`BrowserHttpRemote::new`].
    pub fn with_headers_from_js(
        mut self,
        headers: &JsValue,
    ) -> RemoteResult<BrowserHttpRemoteOptions> {
        self.headers.extend(auth::headers_from_js(headers)?);
        Ok(self)
    }

    /// The same options with [`Self::include_credentials`] set to `include`.
    pub fn with_include_credentials(mut self, include: bool) -> BrowserHttpRemoteOptions {
        self.include_credentials = include;
        self
    }
}

/// The browser client of the signer protocol of `filesync-server` (and of the TypeScript package's
/// signers), with resumable uploads and ranged downloads. Cheap to clone.
#[derive(Clone)]
pub struct BrowserHttpRemote {
    /// The client, the absolute base URL without a trailing `/`, the signer timeout and the
    /// threshold.
    site: Site,
    /// Where the `Authorization` of signer calls comes from.
    token: auth::Token,
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
    /// base URL is unusable, the token cannot be sent as a header, both a token and a token getter
    /// are set, or an extra header is refused (see [`BrowserHttpRemoteOptions::headers`]). A
    /// relative base URL is resolved against the page's (or worker's) `location`.
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
        let token = auth::Token::of(&options)?;
        auth::check_headers(&options.headers, &token)?;
        Ok(BrowserHttpRemote {
            site: Site {
                client: &CLIENT,
                base: url.href().trim_end_matches('/').to_owned(),
                request_timeout: options.request_timeout,
                multipart_threshold: options.multipart_threshold,
                parts_in_flight: options::check_parts_in_flight(options.parts_in_flight)?,
            },
            token,
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
    fn token_sources_and_headers_are_checked() {
        let getter = TokenGetter::new(js_sys::Function::new_no_args("return 't'"));
        let options = || BrowserHttpRemoteOptions::new("http://h/api");
        let both = options().with_token("t").with_token_getter(getter.clone());
        let err = BrowserHttpRemote::new(both).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains("give one of them"), "{err}");
        // An empty static token beside a getter is no token.
        BrowserHttpRemote::new(options().with_token("").with_token_getter(getter.clone())).unwrap();
        let err = BrowserHttpRemote::new(
            options()
                .with_token_getter(getter.clone())
                .with_header("Authorization", "Basic x"),
        )
        .unwrap_err();
        assert!(err.message.contains("conflicts with the token"), "{err}");
        BrowserHttpRemote::new(options().with_header("Authorization", "Basic x")).unwrap();

        let err = TokenGetter::from_js(JsValue::from_str("t")).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains("not a string"), "{err}");
        TokenGetter::from_js(getter.function().into()).unwrap();

        let shown = format!(
            "{:?}",
            BrowserHttpRemote::new(
                options()
                    .with_token_getter(getter)
                    .with_header("X-Api-Key", "secret-value")
                    .with_include_credentials(true)
            )
            .unwrap()
        );
        assert!(
            shown.contains("X-Api-Key")
                && shown.contains("TokenGetter(<function>)")
                && shown.contains("include_credentials: true")
                && !shown.contains("secret-value"),
            "{shown}"
        );
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
