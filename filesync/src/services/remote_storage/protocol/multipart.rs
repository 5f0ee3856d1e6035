//! Resumable uploads: `multipart/{create,list,sign-part,complete,abort}` and one request per part,
//! over any [`Transport`].
//!
//! The resume token handed to [`UploadRequest::on_resume`] is our own JSON
//! (`{"v":1,"key","uploadId","partSize","size"}`), the same for both clients, so a token saved by
//! either resumes in the other; the parts already uploaded are never stored in it but asked from the
//! server (`list`), so a token stays valid whatever happened after it was saved.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;

use serde::{Deserialize, Serialize};

use super::errors;
use super::signer::{parse_json, SignedRequest};
use super::transport::{
    open_slice, post, post_json, upload_ask, upload_single, Put, SignerCall, Slice, Transport,
};
use crate::services::hash::Hasher;
use crate::services::remote_storage::{
    ProgressFn, RemoteError, RemoteErrorKind, RemoteResult, UploadRequest,
};

/// The version of the token format.
const TOKEN_VERSION: u32 = 1;
/// `complete` re-reads the whole object on the server: its timeout grows by one second per this
/// many bytes.
const COMPLETE_BYTES_PER_SEC: u64 = 32 * 1024 * 1024;

/// The state of a resumable upload, as persisted by the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeToken {
    v: u32,
    key: String,
    upload_id: String,
    part_size: u64,
    size: u64,
    /// The checksum `sign-part` needs for each part (`"SHA256"`: S3 storage), when the server
    /// asked for one at `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    part_checksum: Option<String>,
}

impl ResumeToken {
    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The token in `resume`, if it is one for this key and size.
    fn decode(resume: Option<&str>, key: &str, size: u64) -> Option<ResumeToken> {
        let token: ResumeToken = serde_json::from_str(resume?).ok()?;
        (token.v == TOKEN_VERSION
            && token.key == key
            && token.size == size
            && token.part_size > 0
            && !token.upload_id.is_empty())
        .then_some(token)
    }

    fn part_count(&self) -> u64 {
        self.size.div_ceil(self.part_size)
    }

    /// Offset and length of part `number` (from 1).
    fn part(&self, number: u64) -> (u64, u64) {
        let offset = (number - 1) * self.part_size;
        (offset, self.part_size.min(self.size - offset))
    }

    /// The parts of `listed` worth keeping (a number of this upload, the size that part must
    /// have): their ETags by number. The rest is (re)sent.
    fn kept(&self, listed: Vec<ListedPart>) -> BTreeMap<u64, String> {
        let mut etags = BTreeMap::new();
        for part in listed {
            if (1..=self.part_count()).contains(&part.part_number)
                && part.size == self.part(part.part_number).1
            {
                etags.insert(part.part_number, part.etag);
            }
        }
        etags
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(default)]
    upload_id: String,
    #[serde(default)]
    part_size: u64,
    #[serde(default)]
    part_checksum: Option<String>,
    /// The server holds these bytes already: nothing to upload.
    #[serde(default)]
    already_stored: bool,
}

/// How `multipart/create` answered.
enum Started {
    /// A new upload.
    Upload(ResumeToken),
    /// The server has no resumable uploads: send one request.
    NoMultipart,
    /// The server holds these bytes already.
    AlreadyStored,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    parts: Vec<ListedPart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedPart {
    part_number: u64,
    size: u64,
    etag: String,
}

/// How one attempt at a resumable upload ended, when it did not succeed.
enum Stop {
    /// The server no longer knows the upload (expired, aborted, completed): start afresh.
    Gone(RemoteError),
    /// Any other failure.
    Failed(RemoteError),
}

impl From<RemoteError> for Stop {
    fn from(err: RemoteError) -> Stop {
        if err.kind == RemoteErrorKind::NotFound {
            Stop::Gone(err)
        } else {
            Stop::Failed(err)
        }
    }
}

/// Whether `create` (or `list`) answering `status` says the server has no resumable uploads.
fn no_multipart(status: u16) -> bool {
    matches!(status, 501 | 404 | 405)
}

/// Uploads `req` through the resumable protocol, resuming from `req.resume` when the server still
/// holds that upload; falls back to a single request when the server has no resumable uploads
/// (501, or 404/405 on `create`).
pub(crate) async fn upload<T: Transport + ?Sized>(t: &T, req: &UploadRequest) -> RemoteResult<()> {
    let mut resumed = ResumeToken::decode(req.resume.as_deref(), &req.key, req.size);
    if resumed.is_none() && req.resume.is_some() {
        // A token of another key, size or format: useless here.
        (req.on_resume)(None);
    }
    let mut fresh_starts = 0;
    loop {
        let token = match resumed.take() {
            Some(token) => token,
            None => {
                fresh_starts += 1;
                match create(t, req).await? {
                    Started::Upload(token) => {
                        (req.on_resume)(Some(token.encode()));
                        token
                    }
                    Started::NoMultipart => return upload_single(t, req).await,
                    Started::AlreadyStored => {
                        (req.on_resume)(None);
                        (req.progress)(req.size, req.size);
                        return Ok(());
                    }
                }
            }
        };
        match attempt(t, req, &token).await {
            Ok(()) => {
                (req.on_resume)(None);
                return Ok(());
            }
            Err(Stop::Gone(err)) => {
                (req.on_resume)(None);
                // Two fresh uploads that vanished: something else is wrong; give up.
                if fresh_starts >= 2 {
                    return Err(err);
                }
            }
            Err(Stop::Failed(err)) => return Err(err),
        }
    }
}

/// `multipart/create`: the token of a new upload, or why there is none.
async fn create<T: Transport + ?Sized>(t: &T, req: &UploadRequest) -> RemoteResult<Started> {
    let created: Created = match t
        .signer_post(SignerCall {
            path: "/v1/multipart/create",
            body: &upload_ask(req),
            timeout: t.site().request_timeout,
        })
        .await
    {
        Ok((url, text)) => parse_json(&url, &text)?,
        Err((Some(status), _)) if no_multipart(status) => return Ok(Started::NoMultipart),
        Err((_, err)) => return Err(err),
    };
    if created.already_stored {
        return Ok(Started::AlreadyStored);
    }
    if let Some(other) = created
        .part_checksum
        .as_deref()
        .filter(|c| *c != PART_CHECKSUM_SHA256)
    {
        return Err(RemoteError::new(
            RemoteErrorKind::Server,
            format!(
                "POST {}/v1/multipart/create asks for part checksums of type {other:?}; this \
                 client computes only {PART_CHECKSUM_SHA256}",
                t.site().base
            ),
        ));
    }
    if created.part_size == 0 || created.upload_id.is_empty() {
        return Err(RemoteError::new(
            RemoteErrorKind::Server,
            format!(
                "POST {}/v1/multipart/create answered part size {} and upload id {:?}",
                t.site().base,
                created.part_size,
                created.upload_id
            ),
        ));
    }
    Ok(Started::Upload(ResumeToken {
        v: TOKEN_VERSION,
        key: req.key.clone(),
        upload_id: created.upload_id,
        part_size: created.part_size,
        size: req.size,
        part_checksum: created.part_checksum,
    }))
}

/// The part checksum clients compute: the SHA-256 of the part, as standard base64.
const PART_CHECKSUM_SHA256: &str = "SHA256";

/// The SHA-256 of `slice` of `req`'s bytes, as standard base64 (S3's `x-amz-checksum-sha256`).
async fn slice_sha256(req: &UploadRequest, slice: &Slice) -> RemoteResult<String> {
    use base64::Engine as _;
    let mut stream = open_slice(req, slice).await?;
    let mut hasher = Hasher::new();
    let mut left = slice.len;
    while left > 0 {
        let Some(chunk) = stream.next().await else {
            break;
        };
        let chunk = chunk.map_err(|err| {
            errors::local(format!(
                "reading the local bytes of {} at offset {}: {err}",
                req.key, slice.offset
            ))
        })?;
        let take = (chunk.len() as u64).min(left) as usize;
        hasher.update(&chunk[..take]);
        left -= take as u64;
    }
    if left > 0 {
        return Err(errors::local(format!(
            "the local bytes of {} ended {left} bytes before the end of the part at offset {}; \
             the file changed while it was uploaded",
            req.key, slice.offset
        )));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(hasher.finalize().as_bytes()))
}

/// Sends part `number` of `token`'s upload (signed first); answers its number and ETag.
async fn send_part<T: Transport + ?Sized>(
    t: &T,
    req: &UploadRequest,
    token: &ResumeToken,
    number: u64,
    progress: &PartsProgress,
) -> Result<(u64, String), Stop> {
    let timeout = t.site().request_timeout;
    let (offset, len) = token.part(number);
    let slice = Slice {
        offset,
        len,
        done_before: 0,
    };
    let mut ask = serde_json::json!({
        "key": token.key,
        "uploadId": token.upload_id,
        "partNumber": number,
    });
    if token.part_checksum.is_some() {
        ask["checksumSha256"] = slice_sha256(req, &slice).await?.into();
    }
    let signed: SignedRequest = post_json(t, "/v1/multipart/sign-part", &ask, timeout).await?;
    let method = signed.part_method().map_err(Stop::Failed)?;
    let url = t.resolve(&signed.url)?;
    let headers = t.headers(signed.headers.as_ref())?;
    // This part's progress goes through the sum of every part in flight.
    let part_req = UploadRequest {
        progress: progress.of_part(number),
        ..req.clone()
    };
    let put = Put {
        method,
        url: &url,
        headers,
        req: &part_req,
        slice,
    };
    let etag = t.send_slice(put).await?;
    let etag = etag.ok_or_else(|| {
        Stop::Failed(errors::missing_header(
            t.site().client,
            "PUT",
            url.as_ref(),
            "no ETag on the part's answer",
            "ETag",
        ))
    })?;
    progress.finished(number, len);
    Ok((number, etag))
}

/// The progress of an upload whose parts go several at a time: what the finished parts hold plus
/// what each part in flight has sent, never going back.
#[derive(Clone)]
struct PartsProgress {
    state: Arc<Mutex<PartsSent>>,
    report: ProgressFn,
    size: u64,
}

#[derive(Default)]
struct PartsSent {
    finished: u64,
    in_flight: BTreeMap<u64, u64>,
    reported: u64,
}

impl PartsProgress {
    fn new(req: &UploadRequest, finished: u64) -> Self {
        PartsProgress {
            state: Arc::new(Mutex::new(PartsSent {
                finished,
                reported: finished,
                ..PartsSent::default()
            })),
            report: req.progress.clone(),
            size: req.size,
        }
    }

    /// The progress callback of part `number` (it reports that part's bytes sent).
    fn of_part(&self, number: u64) -> ProgressFn {
        let this = self.clone();
        Arc::new(move |sent: u64, _total: u64| {
            this.update(|s| {
                s.in_flight.insert(number, sent);
            });
        })
    }

    /// Part `number` (of `len` bytes) is on the server.
    fn finished(&self, number: u64, len: u64) {
        self.update(|s| {
            s.in_flight.remove(&number);
            s.finished += len;
        });
    }

    fn update(&self, change: impl FnOnce(&mut PartsSent)) {
        let now = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            change(&mut s);
            let now = s.finished + s.in_flight.values().sum::<u64>();
            if now <= s.reported {
                return;
            }
            s.reported = now;
            now
        };
        (self.report)(now.min(self.size), self.size);
    }
}

/// One pass: list what the server holds, upload the rest, complete.
async fn attempt<T: Transport + ?Sized>(
    t: &T,
    req: &UploadRequest,
    token: &ResumeToken,
) -> Result<(), Stop> {
    let timeout = t.site().request_timeout;
    let ids = serde_json::json!({ "key": token.key, "uploadId": token.upload_id });
    let list = SignerCall {
        path: "/v1/multipart/list",
        body: &ids,
        timeout,
    };
    let listed: Listed = match t.signer_post(list).await {
        Ok((url, text)) => parse_json(&url, &text)?,
        // The server lost its resumable uploads altogether: start afresh (`create` then falls
        // back to a single request).
        Err((Some(status), err)) if no_multipart(status) => return Err(Stop::Gone(err)),
        Err((_, err)) => return Err(err.into()),
    };
    let mut etags = token.kept(listed.parts);
    let done: u64 = etags.keys().map(|&n| token.part(n).1).sum();
    (req.progress)(done, req.size);
    let progress = PartsProgress::new(req, done);
    let missing: Vec<u64> = (1..=token.part_count())
        .filter(|number| !etags.contains_key(number))
        .collect();
    let mut queue = missing.into_iter();
    let mut in_flight = futures::stream::FuturesUnordered::new();
    let mut failed = None;
    loop {
        // After a failure no part starts, but those in flight finish: the server keeps them for
        // the resume.
        while failed.is_none() && in_flight.len() < t.site().parts_in_flight.max(1) {
            let Some(number) = queue.next() else { break };
            in_flight.push(send_part(t, req, token, number, &progress));
        }
        match in_flight.next().await {
            Some(Ok((number, etag))) => {
                etags.insert(number, etag);
            }
            Some(Err(stop)) => {
                failed.get_or_insert(stop);
            }
            None => break,
        }
    }
    if let Some(stop) = failed {
        return Err(stop);
    }
    let parts: Vec<serde_json::Value> = etags
        .iter()
        .map(|(number, etag)| serde_json::json!({ "partNumber": number, "etag": etag }))
        .collect();
    let complete = serde_json::json!({
        "key": token.key,
        "uploadId": token.upload_id,
        "parts": parts,
    });
    let complete_timeout = timeout + Duration::from_secs(req.size / COMPLETE_BYTES_PER_SEC);
    match post(t, "/v1/multipart/complete", &complete, complete_timeout).await {
        Ok(_) => Ok(()),
        Err(err) if err.kind == RemoteErrorKind::Rejected => {
            // The assembled bytes were refused (hash mismatch, parts the server disagrees with):
            // the staged parts are useless, and so is the token.
            (req.on_resume)(None);
            let _ = post(t, "/v1/multipart/abort", &ids, timeout).await;
            Err(Stop::Failed(err))
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> ResumeToken {
        ResumeToken {
            v: 1,
            key: "s/k".into(),
            upload_id: "u".into(),
            part_size: 5,
            size: 12,
            part_checksum: None,
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn parts_cover_the_object() {
        let token = token();
        assert_eq!(token.part_count(), 3);
        assert_eq!(token.part(1), (0, 5));
        assert_eq!(token.part(3), (10, 2));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn tokens_keep_their_format() {
        let token = token();
        let text = token.encode();
        assert_eq!(
            text,
            r#"{"v":1,"key":"s/k","uploadId":"u","partSize":5,"size":12}"#
        );
        assert_eq!(
            ResumeToken::decode(Some(&text), "s/k", 12),
            Some(token.clone())
        );
        assert_eq!(ResumeToken::decode(Some(&text), "s/other", 12), None);
        assert_eq!(ResumeToken::decode(Some(&text), "s/k", 13), None);
        assert_eq!(ResumeToken::decode(Some("not json"), "s/k", 12), None);
        assert_eq!(ResumeToken::decode(None, "s/k", 12), None);
        let v2 = r#"{"v":2,"key":"s/k","uploadId":"u","partSize":5,"size":12}"#;
        assert_eq!(ResumeToken::decode(Some(v2), "s/k", 12), None);
        let no_parts = r#"{"v":1,"key":"s/k","uploadId":"u","partSize":0,"size":12}"#;
        assert_eq!(ResumeToken::decode(Some(no_parts), "s/k", 12), None);
        // S3 storage: the token remembers that parts need their checksum.
        let s3 = ResumeToken {
            part_checksum: Some("SHA256".into()),
            ..token
        };
        let text = s3.encode();
        assert!(text.ends_with(r#","partChecksum":"SHA256"}"#), "{text}");
        assert_eq!(ResumeToken::decode(Some(&text), "s/k", 12), Some(s3));
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn only_parts_of_the_right_size_are_kept() {
        let part = |part_number, size| ListedPart {
            part_number,
            size,
            etag: format!("e{part_number}"),
        };
        let kept = token().kept(vec![part(1, 5), part(2, 4), part(3, 2), part(4, 5)]);
        assert_eq!(
            kept,
            BTreeMap::from([(1, "e1".to_owned()), (3, "e3".to_owned())])
        );
        assert!(no_multipart(501) && no_multipart(404) && no_multipart(405));
        assert!(!no_multipart(500) && !no_multipart(403));
    }
}
