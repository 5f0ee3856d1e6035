//! The resumable uploads of [`S3Store`]: S3 multipart uploads with a SHA-256 per part.
//!
//! The upload id handed to clients is `{contentLength}.{S3 upload id}`: the store keeps no state
//! of its own, and `complete` still checks that the parts add up to what `create` was told.

use futures::StreamExt as _;
use rusty_s3::actions::{
    AbortMultipartUpload, CompleteMultipartUpload, CreateMultipartUpload, GetObject, ListParts,
    UploadPart,
};
use rusty_s3::S3Action;
use sha2::{Digest, Sha256};

use super::xml::{self, Initiated, ListedPart, PartsPage};
use super::{stored_headers, too_large, S3Store, OWN_REQUEST_TTL};
use crate::disk::unix_now;
use crate::multipart::{
    CompletedPart, MultipartIntent, MultipartStore, MultipartUpload, PartIntent, StoredPart,
    MAX_PART_NUMBER,
};
use crate::store::{SignedRequest, StoreError, StoreErrorKind};
use crate::BlobKey;

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::new(StoreErrorKind::BadRequest, message)
}

fn unknown(upload_id: &str) -> StoreError {
    StoreError::new(
        StoreErrorKind::NotFound,
        format!("no resumable upload {upload_id:?} for this key; start a new upload"),
    )
}

/// The declared length and the S3 upload id in one of our upload ids.
fn parse_upload_id(upload_id: &str) -> Result<(u64, &str), StoreError> {
    let (len, s3_id) = upload_id
        .split_once('.')
        .ok_or_else(|| unknown(upload_id))?;
    let len = len.parse().map_err(|_| unknown(upload_id))?;
    if s3_id.is_empty() {
        return Err(unknown(upload_id));
    }
    Ok((len, s3_id))
}

/// The part size for a blob of `len` bytes: `base`, or more when `len` needs more than
/// [`MAX_PART_NUMBER`] parts of it (rounded up to a MiB).
fn part_size_for(len: u64, base: u64) -> u64 {
    let least = len.div_ceil(u64::from(MAX_PART_NUMBER));
    base.max(least.div_ceil(1 << 20) << 20)
}

fn check_part_number(part_number: u32) -> Result<u16, StoreError> {
    if (1..=MAX_PART_NUMBER).contains(&part_number) {
        Ok(part_number as u16)
    } else {
        Err(bad(format!(
            "partNumber must be between 1 and {MAX_PART_NUMBER} (got {part_number})"
        )))
    }
}

impl S3Store {
    /// Every part S3 holds for `s3_id`, by ascending number.
    async fn listed(&self, key: &BlobKey, s3_id: &str) -> Result<Vec<ListedPart>, StoreError> {
        let mut parts = Vec::new();
        let mut marker = None;
        loop {
            let mut action =
                ListParts::new(&self.bucket, Some(&self.credentials), key.as_str(), s3_id);
            if let Some(marker) = marker {
                action.set_part_number_marker(marker);
            }
            let url = action.sign(OWN_REQUEST_TTL);
            let answer = self.send(reqwest::Method::GET, url, &[], None).await?;
            if !answer.status().is_success() {
                return Err(self.failure("ListParts", answer).await);
            }
            let text = self.answer_text("ListParts", answer).await?;
            let page: PartsPage = xml::parse("ListParts", &text)?;
            let last = page.parts.last().map(|p| p.part_number);
            parts.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker.or(last)) {
                (true, Some(next)) if Some(next as u16) != marker => marker = Some(next as u16),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.part_number);
        parts.dedup_by_key(|p| p.part_number);
        Ok(parts)
    }

    /// Reads the object at `key` and answers its SHA-256 (lowercase hex) and size.
    async fn hash_object(&self, key: &BlobKey) -> Result<(String, u64), StoreError> {
        let url = GetObject::new(&self.bucket, Some(&self.credentials), key.as_str())
            .sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::GET, url, &[], None).await?;
        if !answer.status().is_success() {
            return Err(self.failure("GetObject", answer).await);
        }
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = answer.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|err| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("reading {} back from S3: {err}", key.as_str()),
                )
            })?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        let hex = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((hex, size))
    }
}

#[async_trait::async_trait]
impl MultipartStore for S3Store {
    async fn create(
        &self,
        key: &BlobKey,
        intent: &MultipartIntent,
    ) -> Result<MultipartUpload, StoreError> {
        let max = self.options.max_upload_bytes;
        if intent.content_length > max {
            return Err(too_large(max));
        }
        let mut action =
            CreateMultipartUpload::new(&self.bucket, Some(&self.credentials), key.as_str());
        let mut headers = stored_headers(intent.content_type.as_deref());
        headers.push(("x-amz-checksum-algorithm", "SHA256".to_owned()));
        for (name, value) in &headers {
            action.headers_mut().insert(*name, value.clone());
        }
        let url = action.sign(OWN_REQUEST_TTL);
        let answer = self
            .send(reqwest::Method::POST, url, &headers, None)
            .await?;
        if !answer.status().is_success() {
            return Err(self.failure("CreateMultipartUpload", answer).await);
        }
        let text = self.answer_text("CreateMultipartUpload", answer).await?;
        let initiated: Initiated = xml::parse("CreateMultipartUpload", &text)?;
        Ok(MultipartUpload {
            upload_id: format!("{}.{}", intent.content_length, initiated.upload_id),
            part_size: part_size_for(intent.content_length, self.options.part_size),
            expires_at: unix_now() + self.options.upload_max_age.as_secs(),
            checksum_parts: true,
        })
    }

    async fn sign_part(
        &self,
        key: &BlobKey,
        upload_id: &str,
        part: PartIntent<'_>,
        _origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        let number = check_part_number(part.part_number)?;
        let (_, s3_id) = parse_upload_id(upload_id)?;
        let checksum = part.checksum_sha256.ok_or_else(|| {
            bad(
                "this server stores blobs in S3, which checks every part: send the part's \
                 SHA-256 as checksumSha256 (base64) with sign-part (create answered \
                 partChecksum: \"SHA256\")",
            )
        })?;
        let mut action = UploadPart::new(
            &self.bucket,
            Some(&self.credentials),
            key.as_str(),
            number,
            s3_id,
        );
        action
            .headers_mut()
            .insert("x-amz-checksum-sha256", checksum.to_owned());
        let mut signed = self.signed(&action, "PUT");
        signed
            .headers
            .insert("x-amz-checksum-sha256".into(), checksum.to_owned());
        Ok(signed)
    }

    async fn list_parts(
        &self,
        key: &BlobKey,
        upload_id: &str,
    ) -> Result<Vec<StoredPart>, StoreError> {
        let (_, s3_id) = parse_upload_id(upload_id)?;
        let parts = self
            .listed(key, s3_id)
            .await
            .map_err(|err| match err.kind {
                StoreErrorKind::NotFound => unknown(upload_id),
                _ => err,
            })?;
        Ok(parts
            .into_iter()
            .map(|p| StoredPart {
                part_number: p.part_number,
                size: p.size,
                etag: p.etag,
            })
            .collect())
    }

    async fn complete(
        &self,
        key: &BlobKey,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), StoreError> {
        let (declared, s3_id) = parse_upload_id(upload_id)?;
        if parts.is_empty() {
            return Err(bad("complete needs at least one part"));
        }
        let listed = self
            .listed(key, s3_id)
            .await
            .map_err(|err| match err.kind {
                StoreErrorKind::NotFound => unknown(upload_id),
                _ => err,
            })?;
        let mut chosen = Vec::with_capacity(parts.len());
        let mut previous = 0;
        for part in parts {
            check_part_number(part.part_number)?;
            if part.part_number <= previous {
                return Err(bad(
                    "the parts must be listed in ascending part-number order, each once",
                ));
            }
            previous = part.part_number;
            let stored = listed
                .iter()
                .find(|p| p.part_number == part.part_number)
                .ok_or_else(|| bad(format!("part {} was not uploaded", part.part_number)))?;
            let (theirs, ours) = (part.etag.trim_matches('"'), stored.etag.trim_matches('"'));
            if !theirs.is_empty() && !ours.is_empty() && theirs != ours {
                return Err(bad(format!(
                    "the ETag of part {} does not match the uploaded part; list the parts and upload it again",
                    part.part_number
                )));
            }
            chosen.push(stored.clone());
        }
        let total: u64 = chosen.iter().map(|p| p.size).sum();
        if total != declared {
            return Err(bad(format!(
                "the parts hold {total} bytes, not the {declared} bytes declared at create"
            )));
        }
        let action = CompleteMultipartUpload::new(
            &self.bucket,
            Some(&self.credentials),
            key.as_str(),
            s3_id,
            std::iter::empty(),
        );
        let url = action.sign(OWN_REQUEST_TTL);
        let body = xml::complete_body(&chosen);
        let answer = self
            .send(reqwest::Method::POST, url, &[], Some(body))
            .await?;
        if !answer.status().is_success() {
            return Err(self.failure("CompleteMultipartUpload", answer).await);
        }
        let text = self.answer_text("CompleteMultipartUpload", answer).await?;
        // S3 may answer 200 with an error inside.
        xml::parse::<serde::de::IgnoredAny>("CompleteMultipartUpload", &text)?;
        let Some(want) = key.content_hash() else {
            return Ok(());
        };
        // S3 checksums of multipart objects cover the parts, not the whole: read it back.
        let (got, size) = self.hash_object(key).await?;
        if got == want && size == declared {
            return Ok(());
        }
        tracing::warn!(
            key = key.as_str(),
            got,
            size,
            "an assembled upload does not hash to its key; deleting it"
        );
        if let Err(err) = self.delete_object(key).await {
            tracing::error!(key = key.as_str(), error = %err, "cannot delete a refused upload");
        }
        Err(StoreError::new(
            StoreErrorKind::HashMismatch,
            format!(
                "the uploaded bytes hash to {got}, not to the key's {want}; the upload was refused"
            ),
        ))
    }

    async fn abort(&self, key: &BlobKey, upload_id: &str) -> Result<(), StoreError> {
        let (_, s3_id) = parse_upload_id(upload_id)?;
        let url =
            AbortMultipartUpload::new(&self.bucket, Some(&self.credentials), key.as_str(), s3_id)
                .sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::DELETE, url, &[], None).await?;
        if answer.status().is_success() {
            return Ok(());
        }
        match self.failure("AbortMultipartUpload", answer).await {
            err if err.kind == StoreErrorKind::NotFound => Err(unknown(upload_id)),
            err => Err(err),
        }
    }
}

impl S3Store {
    async fn delete_object(&self, key: &BlobKey) -> Result<(), StoreError> {
        crate::BlobStore::delete(self, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_carry_the_declared_length() {
        assert_eq!(parse_upload_id("12.abc.def").unwrap(), (12, "abc.def"));
        for bad in ["", "12", "12.", "x.abc", "-1.abc"] {
            assert_eq!(
                parse_upload_id(bad).unwrap_err().kind,
                StoreErrorKind::NotFound,
                "{bad}"
            );
        }
    }

    #[test]
    fn part_sizes_grow_to_fit_ten_thousand_parts() {
        let base = 8 << 20;
        assert_eq!(part_size_for(0, base), base);
        assert_eq!(part_size_for(80_000 << 20, base), base);
        let huge = 200u64 << 30;
        let size = part_size_for(huge, base);
        assert!(
            huge.div_ceil(size) <= 10_000 && size.is_multiple_of(1 << 20),
            "{size}"
        );
    }
}
