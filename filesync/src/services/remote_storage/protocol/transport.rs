//! What a client implements ([`Signer`], [`Transfer`]) and the calls of the protocol over it:
//! signer calls, whole-object uploads (and the choice of the resumable protocol), downloads,
//! deletes, signed URLs, and the `RemoteStorage` impl of a client.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ByteStream, MaybeSend, MaybeSync};
use serde::de::DeserializeOwned;

use super::signer::{parse_json, SignedRequest};
use super::transfer::{download_answer, Answered};
use super::{errors, multipart, Client};
use crate::services::remote_storage::{
    Body, Download, RemoteError, RemoteErrorKind, RemoteResult, SignedUrl, UploadRequest,
};

/// A failed signer call: the status of a non-2xx answer (none when there was no answer) and the
/// error.
pub(crate) type Failure = (Option<u16>, RemoteError);

/// The part of an upload one request sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slice {
    /// Where the request's bytes start in the object.
    pub(crate) offset: u64,
    /// How many bytes the request sends.
    pub(crate) len: u64,
    /// Bytes of the object already safe on the remote before this request (for progress).
    pub(crate) done_before: u64,
}

/// What the protocol calls need to know of a client, fixed when it is made.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// How the client words its messages and what it accepts.
    pub(crate) client: &'static Client,
    /// The absolute base URL, without a trailing `/`.
    pub(crate) base: String,
    /// How long a signer call may take (`complete` gets more, see [`multipart`]).
    pub(crate) request_timeout: Duration,
    /// Uploads of at least this many bytes use the resumable protocol.
    pub(crate) multipart_threshold: u64,
    /// How many parts of a resumable upload go at a time (at least 1).
    pub(crate) parts_in_flight: usize,
}

/// A signer call: `POST {base}{path}` with `body` as JSON, within `timeout`.
pub(crate) struct SignerCall<'a> {
    /// The route, starting with `/` (`/v1/sign/upload`).
    pub(crate) path: &'a str,
    /// The JSON body.
    pub(crate) body: &'a serde_json::Value,
    /// How long the call may take.
    pub(crate) timeout: Duration,
}

/// One request of an upload: `slice` of `req`'s bytes sent with `method` to a signed URL.
pub(crate) struct Put<'a, U, H> {
    /// `PUT` or `POST`.
    pub(crate) method: &'static str,
    /// The signed URL.
    pub(crate) url: &'a U,
    /// The signed headers.
    pub(crate) headers: H,
    /// The upload.
    pub(crate) req: &'a UploadRequest,
    /// Which bytes.
    pub(crate) slice: Slice,
}

/// The signer side of a client: its settings, signer calls, and what it makes of signed
/// requests.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub(crate) trait Signer: MaybeSync {
    /// A resolved signed URL, in the transport's type.
    type Url: AsRef<str> + MaybeSend + MaybeSync;
    /// The headers of a signed request, in the transport's type.
    type Headers: MaybeSend + Clone;

    /// The client's fixed settings.
    fn site(&self) -> &Site;
    /// Now, in epoch ms.
    fn now_ms(&self) -> i64;
    /// `GET {base}/health`: `Ok` on any 2xx.
    async fn health(&self) -> RemoteResult<()>;
    /// Makes the signer call: on a 2xx, the URL called and the answer's body.
    async fn signer_post(&self, call: SignerCall<'_>) -> Result<(String, Bytes), Failure>;
    /// A signed URL made absolute and checked.
    fn resolve(&self, url: &str) -> RemoteResult<Self::Url>;
    /// The signed headers (`Server` when the signer sent some that cannot be sent).
    fn headers(&self, headers: Option<&BTreeMap<String, String>>) -> RemoteResult<Self::Headers>;
    /// The headers as name/value pairs (for a [`SignedUrl`]).
    fn header_pairs(&self, headers: Self::Headers) -> Vec<(String, String)>;
}

/// The byte-moving side of a client: sending a slice of an upload, and download GETs.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub(crate) trait Transfer: Signer {
    /// The answer to a download GET, its body not read yet.
    type Answer: MaybeSend;

    /// Sends the bytes of `put`, reporting progress; the answer's `ETag`.
    async fn send_slice(
        &self,
        put: Put<'_, Self::Url, Self::Headers>,
    ) -> RemoteResult<Option<String>>;
    /// GETs `url` with `headers`, from `offset` when it is not 0 (`Range`); the answer once its
    /// status and headers are in.
    async fn get(
        &self,
        url: &Self::Url,
        headers: Self::Headers,
        offset: u64,
    ) -> RemoteResult<Self::Answer>;
    /// The answer's status.
    fn status(&self, answer: &Self::Answer) -> u16;
    /// The answer's header `name`, when it has one that is text.
    fn header(&self, answer: &Self::Answer, name: &str) -> Option<String>;
    /// The error for a non-2xx answer, with the start of its body.
    async fn failed(&self, url: &Self::Url, answer: Self::Answer) -> RemoteError;
    /// The answer's body (`Offline` when it breaks or stalls).
    fn body(&self, url: Self::Url, answer: Self::Answer) -> Body;
}

/// What a client provides for the protocol: its [`Signer`] and [`Transfer`] sides. The protocol's
/// calls ([`upload`], [`download`], [`delete`], [`download_url`]) run over it.
pub(crate) trait Transport: Transfer {}

impl<T: Transfer + ?Sized> Transport for T {}

/// [`Signer::signer_post`] without the status.
pub(crate) async fn post<T: Transport + ?Sized>(
    t: &T,
    path: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> RemoteResult<(String, Bytes)> {
    t.signer_post(SignerCall {
        path,
        body,
        timeout,
    })
    .await
    .map_err(|(_, err)| err)
}

/// POSTs to `path` and parses the JSON answer (`Server` when it is not the expected shape).
pub(crate) async fn post_json<T: Transport + ?Sized, D: DeserializeOwned>(
    t: &T,
    path: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> RemoteResult<D> {
    let (url, text) = post(t, path, body, timeout).await?;
    parse_json(&url, &text)
}

/// The body of `sign/upload` and `multipart/create` for `req`. `skipIfStored`: a server that holds
/// a content-addressed key of this length already answers `alreadyStored` (others ignore it).
pub(crate) fn upload_ask(req: &UploadRequest) -> serde_json::Value {
    let mut ask =
        serde_json::json!({ "key": req.key, "contentLength": req.size, "skipIfStored": true });
    if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
        ask["contentType"] = content_type.into();
    }
    ask
}

/// Uploads `req`: through the resumable protocol from [`Site::multipart_threshold`] bytes on, else
/// (or when the server has no resumable uploads) with one signed request.
pub(crate) async fn upload<T: Transport + ?Sized>(t: &T, req: &UploadRequest) -> RemoteResult<()> {
    if req.size > 0 && req.size >= t.site().multipart_threshold {
        return multipart::upload(t, req).await;
    }
    upload_single(t, req).await?;
    if req.resume.is_some() {
        (req.on_resume)(None);
    }
    Ok(())
}

/// The local bytes of `req` from `slice.offset` on (`Local` when they cannot be opened).
pub(crate) async fn open_slice(req: &UploadRequest, slice: &Slice) -> RemoteResult<ByteStream> {
    (req.open)(slice.offset).await.map_err(|err| {
        errors::local(format!(
            "opening the local bytes of {} at offset {}: {err}",
            req.key, slice.offset
        ))
    })
}

/// One signed PUT (or POST) of the whole object.
pub(crate) async fn upload_single<T: Transport + ?Sized>(
    t: &T,
    req: &UploadRequest,
) -> RemoteResult<()> {
    let signed: SignedRequest = post_json(
        t,
        "/v1/sign/upload",
        &upload_ask(req),
        t.site().request_timeout,
    )
    .await?;
    if signed.already_stored {
        (req.progress)(req.size, req.size);
        return Ok(());
    }
    let method = signed.upload_method()?;
    let url = t.resolve(&signed.url)?;
    let headers = t.headers(signed.headers.as_ref())?;
    (req.progress)(0, req.size);
    let slice = Slice {
        offset: 0,
        len: req.size,
        done_before: 0,
    };
    t.send_slice(Put {
        method,
        url: &url,
        headers,
        req,
        slice,
    })
    .await?;
    Ok(())
}

/// Signs a download of `key`: the URL, its headers, its expiry (epoch ms).
pub(crate) async fn sign_download<T: Transport + ?Sized>(
    t: &T,
    key: &str,
) -> RemoteResult<(T::Url, T::Headers, i64)> {
    let signed: SignedRequest = post_json(
        t,
        "/v1/sign/download",
        &serde_json::json!({ "key": key }),
        t.site().request_timeout,
    )
    .await?;
    let url = t.resolve(&signed.url)?;
    let headers = t.headers(signed.headers.as_ref())?;
    Ok((url, headers, signed.expires_at_ms(|| t.now_ms())))
}

/// Deletes `key`; a signer answering 404 for a missing key is success.
pub(crate) async fn delete<T: Transport + ?Sized>(t: &T, key: &str) -> RemoteResult<()> {
    match post(
        t,
        "/v1/delete",
        &serde_json::json!({ "key": key }),
        t.site().request_timeout,
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind == RemoteErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// `sign/download`, then a GET of the signed URL from `offset`.
pub(crate) async fn download<T: Transport + ?Sized>(
    t: &T,
    key: &str,
    offset: u64,
) -> RemoteResult<Download> {
    let (url, headers, _) = sign_download(t, key).await?;
    let answer = t.get(&url, headers.clone(), offset).await?;
    if offset > 0 && t.status(&answer) == 416 && t.header(&answer, "Content-Range").is_none() {
        // S3 answers a range from the very end with a bare 416: the byte before `offset` says
        // whether `offset` is the end.
        if let Some(total) = total_from_byte_before(t, &url, headers, offset).await {
            if total == offset {
                return Ok(Download {
                    offset,
                    total_size: Some(total),
                    content_type: None,
                    body: Body::empty(),
                });
            }
        }
    }
    let answered = download_answer(
        t.site().client,
        url.as_ref(),
        offset,
        t.status(&answer),
        t.header(&answer, "Content-Range").as_deref(),
        t.header(&answer, "Content-Length").as_deref(),
    )?;
    match answered {
        Answered::AtEnd { total } => Ok(Download {
            offset,
            total_size: Some(total),
            content_type: None,
            body: Body::empty(),
        }),
        Answered::Failed => Err(t.failed(&url, answer).await),
        Answered::Body { start, total_size } => Ok(Download {
            offset: start,
            total_size,
            content_type: t.header(&answer, "Content-Type"),
            body: t.body(url, answer),
        }),
    }
}

/// The total size a GET of the byte before `offset` answers (206 with `bytes a-b/total`), if it
/// does.
async fn total_from_byte_before<T: Transport + ?Sized>(
    t: &T,
    url: &T::Url,
    headers: T::Headers,
    offset: u64,
) -> Option<u64> {
    let answer = t.get(url, headers, offset - 1).await.ok()?;
    if t.status(&answer) != 206 {
        return None;
    }
    let range = t.header(&answer, "Content-Range")?;
    let total = range.rsplit_once('/')?.1.trim().parse().ok()?;
    // The one byte is not read: dropping the answer closes its body.
    drop(answer);
    Some(total)
}

/// `sign/download` as a [`SignedUrl`] (an absolute URL, its headers, its expiry).
pub(crate) async fn download_url<T: Transport + ?Sized>(
    t: &T,
    key: &str,
) -> RemoteResult<SignedUrl> {
    let (url, headers, expires_at_ms) = sign_download(t, key).await?;
    Ok(SignedUrl {
        url: url.as_ref().to_owned(),
        headers: t.header_pairs(headers),
        expires_at_ms,
    })
}

/// `impl RemoteStorage for $remote` over its [`Transport`] (the same for both clients); every error of
/// a call about a key carries that key.
macro_rules! remote_storage_over_transport {
    ($remote:ty) => {
        #[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
        #[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
        impl $crate::services::remote_storage::RemoteStorage for $remote {
            async fn health(&self) -> $crate::services::remote_storage::RemoteResult<()> {
                $crate::services::remote_storage::protocol::transport::Signer::health(self).await
            }

            async fn upload(
                &self,
                req: $crate::services::remote_storage::UploadRequest,
            ) -> $crate::services::remote_storage::RemoteResult<()> {
                $crate::services::remote_storage::protocol::transport::upload(self, &req)
                    .await
                    .map_err(|e| e.with_key(&req.key))
            }

            async fn download(
                &self,
                key: &str,
                offset: u64,
            ) -> $crate::services::remote_storage::RemoteResult<
                $crate::services::remote_storage::Download,
            > {
                $crate::services::remote_storage::protocol::transport::download(self, key, offset)
                    .await
                    .map_err(|e| e.with_key(key))
            }

            async fn delete(
                &self,
                key: &str,
            ) -> $crate::services::remote_storage::RemoteResult<()> {
                $crate::services::remote_storage::protocol::transport::delete(self, key)
                    .await
                    .map_err(|e| e.with_key(key))
            }

            async fn download_url(
                &self,
                key: &str,
            ) -> $crate::services::remote_storage::RemoteResult<
                $crate::services::remote_storage::SignedUrl,
            > {
                $crate::services::remote_storage::protocol::transport::download_url(self, key)
                    .await
                    .map_err(|e| e.with_key(key))
            }
        }
    };
}
pub(crate) use remote_storage_over_transport;
