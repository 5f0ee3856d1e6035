//! The calls of the protocol over any [`Transport`]: signer calls, whole-object uploads (and the
//! choice of the resumable protocol), deletes, signed downloads.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{MaybeSend, MaybeSync};
use serde::de::DeserializeOwned;

use super::signer::{parse_json, SignedRequest};
use super::{multipart, Client};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult, UploadRequest};

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

/// What a client provides for the protocol: signer calls and sending bytes to signed URLs.
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub(crate) trait Transport: MaybeSync {
    /// A resolved signed URL, in the transport's type.
    type Url: AsRef<str> + MaybeSend + MaybeSync;
    /// The headers of a signed request, in the transport's type.
    type Headers: MaybeSend;

    /// How this client words its messages and what it accepts.
    fn client(&self) -> &'static Client;
    /// The base URL, without a trailing `/`.
    fn base(&self) -> &str;
    /// How long a signer call may take (`complete` gets more, see [`multipart`]).
    fn request_timeout(&self) -> Duration;
    /// Now, in epoch ms.
    fn now_ms(&self) -> i64;

    /// POSTs `body` as JSON to the signer route `path` (starting with `/`) within `timeout`: on a
    /// 2xx, the URL called and the answer's body.
    async fn signer_post(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
    ) -> Result<(String, Bytes), Failure>;

    /// A signed URL made absolute and checked.
    fn resolve(&self, url: &str) -> RemoteResult<Self::Url>;
    /// The signed headers (`Server` when the signer sent some that cannot be sent).
    fn headers(&self, headers: Option<&BTreeMap<String, String>>) -> RemoteResult<Self::Headers>;

    /// Sends `slice` of `req`'s bytes with `method` (`PUT` or `POST`) to `url` with `headers`,
    /// reporting progress; the answer's `ETag`.
    async fn send_slice(
        &self,
        method: &'static str,
        url: &Self::Url,
        headers: Self::Headers,
        req: &UploadRequest,
        slice: Slice,
    ) -> RemoteResult<Option<String>>;
}

/// [`Transport::signer_post`] without the status.
pub(crate) async fn post<T: Transport + ?Sized>(
    t: &T,
    path: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> RemoteResult<(String, Bytes)> {
    t.signer_post(path, body, timeout)
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

/// The body of `sign/upload` and `multipart/create` for `req`.
pub(crate) fn upload_ask(req: &UploadRequest) -> serde_json::Value {
    let mut ask = serde_json::json!({ "key": req.key, "contentLength": req.size });
    if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
        ask["contentType"] = content_type.into();
    }
    ask
}

/// Uploads `req`: through the resumable protocol from `multipart_threshold` bytes on, else (or
/// when the server has no resumable uploads) with one signed request.
pub(crate) async fn upload<T: Transport + ?Sized>(
    t: &T,
    req: &UploadRequest,
    multipart_threshold: u64,
) -> RemoteResult<()> {
    if req.size > 0 && req.size >= multipart_threshold {
        return multipart::upload(t, req).await;
    }
    upload_single(t, req).await?;
    if req.resume.is_some() {
        (req.on_resume)(None);
    }
    Ok(())
}

/// One signed PUT (or POST) of the whole object.
pub(crate) async fn upload_single<T: Transport + ?Sized>(
    t: &T,
    req: &UploadRequest,
) -> RemoteResult<()> {
    let signed: SignedRequest =
        post_json(t, "/v1/sign/upload", &upload_ask(req), t.request_timeout()).await?;
    let method = signed.upload_method()?;
    let url = t.resolve(&signed.url)?;
    let headers = t.headers(signed.headers.as_ref())?;
    (req.progress)(0, req.size);
    let slice = Slice {
        offset: 0,
        len: req.size,
        done_before: 0,
    };
    t.send_slice(method, &url, headers, req, slice).await?;
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
        t.request_timeout(),
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
        t.request_timeout(),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind == RemoteErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}
