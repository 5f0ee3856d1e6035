//! The signer protocol (DESIGN §6) without a transport: what `HttpRemote` (native, reqwest) and
//! `BrowserHttpRemote` (wasm32, fetch + XHR) say and understand alike.
//!
//! - [`errors`]: status → [`RemoteErrorKind`](super::RemoteErrorKind), the messages and hints of
//!   failed calls (signatures never shown);
//! - [`signer`]: the JSON of signer answers, `expiresAt`;
//! - [`urls`]: the checks of the base URL and of the signed URLs the signer answers;
//! - [`transfer`]: `Content-Range`, what a (ranged) download's answer means;
//! - [`transport`]: what each client implements, [`Signer`](transport::Signer) (its settings,
//!   signer POSTs, health, resolving signed URLs and headers) and [`Transfer`](transport::Transfer)
//!   (sending a slice of an upload, download GETs), and the calls made over them: whole-object
//!   uploads, downloads, deletes, signed URLs, and the `RemoteStorage` impl of a client;
//! - [`options`]: the defaults of both clients' options, and their `new`, `with_token`, `Debug`;
//! - [`multipart`]: resumable uploads: the resume token, which parts remain, when the token is
//!   handed to `on_resume` or dropped, the fallbacks, `complete` and `abort`.
//!
//! Pure Rust, compiled on every target (its unit tests run natively and on wasm32); the transports
//! parse URLs, read and write bodies, and keep their own timeouts.

pub(crate) mod errors;
pub(crate) mod multipart;
pub(crate) mod options;
pub(crate) mod signer;
pub(crate) mod transfer;
pub(crate) mod transport;
pub(crate) mod urls;

/// What differs between the clients in what they say and accept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Client {
    /// The options type named in hints (`HttpRemoteOptions`).
    pub(crate) options: &'static str,
    /// Where the token comes from, after `{options}::` in the hint of a 401 (`token`).
    pub(crate) token_source: &'static str,
    /// Whether `https://` URLs work (both clients have TLS; a client without it refuses them).
    pub(crate) tls: bool,
    /// Whether the server must expose response headers to scripts (CORS): messages about a
    /// missing header then say so.
    pub(crate) cors: bool,
    /// Whether a 404 gets the hint about the key or the base URL's path.
    pub(crate) hint_not_found: bool,
    /// Example base URLs, for messages (`e.g. http://127.0.0.1:8787/api`).
    pub(crate) example: &'static str,
}

/// The native client ([`HttpRemote`](super::HttpRemote)): TLS through rustls, no CORS.
#[cfg(any(test, not(target_arch = "wasm32")))]
pub(crate) const NATIVE: Client = Client {
    options: "HttpRemoteOptions",
    token_source: "token",
    tls: true,
    cors: false,
    hint_not_found: true,
    example: "e.g. http://127.0.0.1:8787/api",
};

/// The browser client (`BrowserHttpRemote`): https through the browser, response headers only
/// where CORS exposes them, a base URL relative to the page allowed.
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) const BROWSER: Client = Client {
    options: "BrowserHttpRemoteOptions",
    token_source: "token, or what its token_getter returns,",
    tls: true,
    cors: true,
    hint_not_found: false,
    example: "e.g. http://127.0.0.1:8787/api or /api",
};
