//! Resumable uploads: `multipart/{create,list,sign-part,complete,abort}` and one PUT per part.
//!
//! The resume token handed to [`UploadRequest::on_resume`] is our own JSON
//! (`{"v":1,"key","uploadId","partSize","size"}`); the parts already uploaded are never stored in
//! it but asked from the server (`list`), so a token stays valid whatever happened after it was
//! saved.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::body::Slice;
use super::signer::header_map;
use super::HttpRemote;
use crate::services::remote_storage::protocol::signer::{parse_json, SignedRequest};
use crate::services::remote_storage::{RemoteError, RemoteErrorKind, RemoteResult, UploadRequest};

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
}

impl ResumeToken {
    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The token of `req`, if it holds one for this key and size.
    fn of(req: &UploadRequest) -> Option<ResumeToken> {
        let token: ResumeToken = serde_json::from_str(req.resume.as_deref()?).ok()?;
        (token.v == TOKEN_VERSION
            && token.key == req.key
            && token.size == req.size
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    upload_id: String,
    part_size: u64,
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

impl HttpRemote {
    /// Uploads `req` through the resumable protocol, resuming from `req.resume` when the server
    /// still holds that upload; falls back to a single PUT when the server has no resumable
    /// uploads (501, or 404/405 on `create`).
    pub(super) async fn upload_multipart(&self, req: &UploadRequest) -> RemoteResult<()> {
        let mut resumed = ResumeToken::of(req);
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
                    match self.create(req).await? {
                        Some(token) => {
                            (req.on_resume)(Some(token.encode()));
                            token
                        }
                        None => return self.upload_single(req).await,
                    }
                }
            };
            match self.attempt(req, &token).await {
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

    /// `multipart/create`: the token of a new upload, or `None` when the server has no resumable
    /// uploads.
    async fn create(&self, req: &UploadRequest) -> RemoteResult<Option<ResumeToken>> {
        let mut ask = serde_json::json!({ "key": req.key, "contentLength": req.size });
        if let Some(content_type) = req.content_type.as_deref().filter(|t| !t.is_empty()) {
            ask["contentType"] = content_type.into();
        }
        let timeout = self.options.request_timeout;
        let created: Created = match self
            .post_status("/v1/multipart/create", &ask, timeout)
            .await
        {
            Ok((url, text)) => parse_json(url.as_str(), &text)?,
            Err((Some(status), _)) if no_multipart(status) => return Ok(None),
            Err((_, err)) => return Err(err),
        };
        if created.part_size == 0 || created.upload_id.is_empty() {
            return Err(RemoteError::new(
                RemoteErrorKind::Server,
                format!(
                    "POST {}/v1/multipart/create answered part size {} and upload id {:?}",
                    self.base, created.part_size, created.upload_id
                ),
            ));
        }
        Ok(Some(ResumeToken {
            v: TOKEN_VERSION,
            key: req.key.clone(),
            upload_id: created.upload_id,
            part_size: created.part_size,
            size: req.size,
        }))
    }

    /// One pass: list what the server holds, upload the rest, complete.
    async fn attempt(&self, req: &UploadRequest, token: &ResumeToken) -> Result<(), Stop> {
        let timeout = self.options.request_timeout;
        let ids = serde_json::json!({ "key": token.key, "uploadId": token.upload_id });
        let listed: Listed = match self.post_status("/v1/multipart/list", &ids, timeout).await {
            Ok((url, text)) => parse_json(url.as_str(), &text)?,
            // The server lost its resumable uploads altogether: start afresh (`create` then
            // falls back to a single PUT).
            Err((Some(status), err)) if no_multipart(status) => return Err(Stop::Gone(err)),
            Err((_, err)) => return Err(err.into()),
        };
        // Parts already there with the size they must have are kept; the rest is (re)sent.
        let mut etags: BTreeMap<u64, String> = BTreeMap::new();
        for part in listed.parts {
            if (1..=token.part_count()).contains(&part.part_number)
                && part.size == token.part(part.part_number).1
            {
                etags.insert(part.part_number, part.etag);
            }
        }
        let mut done: u64 = etags.keys().map(|&n| token.part(n).1).sum();
        (req.progress)(done, req.size);
        for number in 1..=token.part_count() {
            if etags.contains_key(&number) {
                continue;
            }
            let (offset, len) = token.part(number);
            let ask = serde_json::json!({
                "key": token.key,
                "uploadId": token.upload_id,
                "partNumber": number,
            });
            let signed: SignedRequest = self
                .post_json("/v1/multipart/sign-part", &ask, timeout)
                .await?;
            signed.part_method().map_err(Stop::Failed)?;
            let method = Method::PUT;
            let url = self.resolve(&signed.url)?;
            let headers = header_map(signed.headers.as_ref())?;
            let slice = Slice {
                offset,
                len,
                done_before: done,
                total: req.size,
            };
            let etag = self
                .send_slice(method, url.clone(), headers, req, slice)
                .await?;
            let etag = etag.ok_or_else(|| {
                Stop::Failed(super::errors::malformed(
                    "PUT",
                    &url,
                    "no ETag on the part's answer",
                ))
            })?;
            etags.insert(number, etag);
            done += len;
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
        let timeout = timeout + Duration::from_secs(req.size / COMPLETE_BYTES_PER_SEC);
        match self
            .post("/v1/multipart/complete", &complete, timeout)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.kind == RemoteErrorKind::Rejected => {
                // The assembled bytes were refused (hash mismatch, parts the server disagrees
                // with): the staged parts are useless, and so is the token.
                (req.on_resume)(None);
                let _ = self
                    .post("/v1/multipart/abort", &ids, self.options.request_timeout)
                    .await;
                Err(Stop::Failed(err))
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// Whether `create` answering `status` says the server has no resumable uploads.
fn no_multipart(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::NOT_IMPLEMENTED | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_object() {
        let token = ResumeToken {
            v: 1,
            key: "s/k".into(),
            upload_id: "u".into(),
            part_size: 5,
            size: 12,
        };
        assert_eq!(token.part_count(), 3);
        assert_eq!(token.part(1), (0, 5));
        assert_eq!(token.part(3), (10, 2));
        let back: ResumeToken = serde_json::from_str(&token.encode()).unwrap();
        assert_eq!(back, token);
        assert!(token.encode().contains("\"uploadId\":\"u\""));
    }
}
