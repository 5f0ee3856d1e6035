//! [`HttpRemote`]: the client of the server's signer protocol (DESIGN §6), native only.
//!
//! Every call first asks the signer (`POST {base}/v1/...` with `Authorization: Bearer <token>`) for a
//! signed request, then sends the bytes straight to the signed URL:
//! - uploads below [`HttpRemoteOptions::multipart_threshold`]: `sign/upload`, then one streamed PUT;
//! - larger uploads: the resumable protocol (`multipart/create`, `sign-part` + a PUT per part,
//!   `list` when resuming, `complete`), whose state is the opaque resume token handed to
//!   [`UploadRequest::on_resume`](super::UploadRequest::on_resume);
//! - downloads: `sign/download`, then a GET, ranged when resuming from an offset.
//!
//! `https://` works through rustls ([`tls`]): the platform's trust store plus
//! [`HttpRemoteOptions::extra_roots`]; a refused certificate fails the call as `Rejected`, naming
//! the cause (see [`errors`]).
//!
//! Bodies are streamed both ways, never held whole in memory. Signer calls have a timeout; body
//! transfers have none as a whole, but fail when no byte moves for
//! [`HttpRemoteOptions::transfer_idle_timeout`].

mod body;
mod errors;
mod signer;
mod tls;
mod transfer;

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::Url;

use super::protocol::errors::config as config_error;
use super::protocol::transport::{self, Site};
use super::protocol::{options, urls, NATIVE as CLIENT};
use super::RemoteResult;

pub use tls::RootCertificate;

/// Settings of an [`HttpRemote`].
#[derive(Clone)]
pub struct HttpRemoteOptions {
    /// The signer's base URL, absolute, e.g. `http://127.0.0.1:8787/api` or
    /// `https://files.example.com/api` (a trailing `/` is ignored).
    pub base_url: String,
    /// The Bearer token sent to the signer (`None` or empty: no `Authorization` header).
    pub token: Option<String>,
    /// Uploads of at least this many bytes use the resumable protocol (default 64 MiB).
    pub multipart_threshold: u64,
    /// How many parts of a resumable upload are sent at a time (default 3; at least 1). More
    /// overlap each part's round trips; a stop loses at most this many partly sent parts.
    pub parts_in_flight: usize,
    /// How long connecting may take (default 10 s).
    pub connect_timeout: Duration,
    /// How long a signer call may take as a whole (default 30 s; `multipart/complete`, which makes
    /// the server re-read the whole object, gets one more second per 32 MiB); not applied to body
    /// transfers.
    pub request_timeout: Duration,
    /// A body transfer fails with `Offline` when no byte moved for this long (default 60 s): while
    /// a download waits for bytes, and while an upload waits to send its next chunk or, after the
    /// last one, for the server's answer (which includes the server's final flush to disk).
    pub transfer_idle_timeout: Duration,
    /// Certificates trusted as roots for `https://` besides the platform's trust store, e.g. the
    /// private certificate authority of a self-hosted server (default: none); see
    /// [`RootCertificate::from_pem`].
    pub extra_roots: Vec<RootCertificate>,
}

options::options_impl!(HttpRemoteOptions for HttpRemote {
    connect_timeout: Duration::from_secs(10),
    extra_roots: Vec::new(),
});

/// The client of the signer protocol of `filesync-server` (and of the TypeScript package's
/// signers), with resumable uploads and ranged downloads. Cheap to clone (clones share connections).
#[derive(Clone)]
pub struct HttpRemote {
    client: reqwest::Client,
    /// The client, the base URL without a trailing `/`, the signer timeout and the threshold.
    site: Site,
    /// The base URL's origin (`http://host:port/`), for signed URLs given as paths.
    origin: Url,
    auth: Option<HeaderValue>,
    options: HttpRemoteOptions,
}

impl HttpRemote {
    /// A client for the signer described by `options`. Fails (`Rejected`, with what to fix) when the
    /// base URL is not an absolute `http://` or `https://` URL, the token cannot be sent as a
    /// header, or one of [`HttpRemoteOptions::extra_roots`] is not a usable certificate.
    pub fn new(options: HttpRemoteOptions) -> RemoteResult<HttpRemote> {
        let raw = options.base_url.trim();
        if raw.is_empty() {
            return Err(urls::empty_base(&CLIENT));
        }
        let url = Url::parse(raw).map_err(|err| {
            config_error(format!(
                "the base URL {raw:?} is not an absolute URL ({err}); give scheme, host and path, {}",
                CLIENT.example
            ))
        })?;
        let parts = urls::BaseParts {
            scheme: url.scheme(),
            has_host: !url.host_str().is_none_or(str::is_empty),
            has_query_or_fragment: url.query().is_some() || url.fragment().is_some(),
            has_credentials: !url.username().is_empty() || url.password().is_some(),
        };
        urls::check_base(&CLIENT, raw, &parts)?;
        let mut origin = url.clone();
        origin.set_path("/");
        let auth = match options.token.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(token) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| urls::bad_token(&CLIENT))?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("filesync/", env!("CARGO_PKG_VERSION")))
            // Our own rustls configuration rather than reqwest's: it keeps plain http working on
            // a machine without root certificates (reqwest's would fail to build) and names the
            // extra root that cannot be used. reqwest recognizes it by its type, so its rustls and
            // ours must be the same version (tests/tls.rs fails if they drift apart).
            .tls_backend_preconfigured(tls::client_config(&options.extra_roots)?)
            .build()
            .map_err(|err| config_error(format!("cannot set up the HTTP client: {err}")))?;
        Ok(HttpRemote {
            client,
            site: Site {
                client: &CLIENT,
                base: url.as_str().trim_end_matches('/').to_owned(),
                request_timeout: options.request_timeout,
                multipart_threshold: options.multipart_threshold,
                parts_in_flight: options::check_parts_in_flight(options.parts_in_flight)?,
            },
            origin,
            auth,
            options,
        })
    }
}

transport::remote_storage_over_transport!(HttpRemote);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::remote_storage::protocol::transport::Signer;
    use crate::services::remote_storage::RemoteErrorKind;

    #[test]
    fn parts_in_flight_is_at_least_one() {
        let mut options = HttpRemoteOptions::new("http://127.0.0.1:8787/api");
        options.parts_in_flight = 0;
        let err = HttpRemote::new(options).unwrap_err();
        assert_eq!(err.kind, RemoteErrorKind::Rejected);
        assert!(err.message.contains("parts_in_flight"), "{}", err.message);
        let remote = HttpRemote::new(HttpRemoteOptions::new("http://127.0.0.1:8787/api")).unwrap();
        assert_eq!(remote.site.parts_in_flight, 3);
    }

    #[test]
    fn base_urls_are_checked() {
        let remote = HttpRemote::new(HttpRemoteOptions::new("http://127.0.0.1:8787/api/")).unwrap();
        assert_eq!(remote.site.base, "http://127.0.0.1:8787/api");
        assert_eq!(remote.origin.as_str(), "http://127.0.0.1:8787/");
        let remote =
            HttpRemote::new(HttpRemoteOptions::new("https://files.example.com/api")).unwrap();
        assert_eq!(remote.origin.as_str(), "https://files.example.com/");
        urls::assert_base_rules(
            |url| HttpRemote::new(HttpRemoteOptions::new(url)),
            HttpRemote::new(HttpRemoteOptions::new("http://h/api").with_token("a\nb")),
            &[("/api", "not an absolute URL")],
        );
    }

    #[test]
    fn relative_urls_resolve_against_the_origin() {
        let remote = HttpRemote::new(HttpRemoteOptions::new("http://h:1/api")).unwrap();
        urls::assert_resolution_rules(|url| remote.resolve(url).map(String::from));
        assert_eq!(
            remote.resolve("https://s3/x").unwrap().as_str(),
            "https://s3/x"
        );
        assert_eq!(
            remote.resolve("ftp://s3/x").unwrap_err().kind,
            RemoteErrorKind::Server
        );
    }
}
