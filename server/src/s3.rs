//! [`S3Store`]: blobs in an S3-compatible bucket (AWS S3, R2, MinIO, Garage, …).
//!
//! The signer API hands out URLs presigned with SigV4 ([`rusty_s3`]) straight at the bucket: the
//! bytes never pass through this server. What the presignatures cover:
//!
//! - **Uploads** (`PutObject`): `Content-Length` when the client declared it, `Content-Type`
//!   (`application/octet-stream` when none was given), `Content-Disposition: attachment` for active content types (HTML, SVG, …: see
//!   [`crate::is_active_content`]), and for a content-addressed key `x-amz-checksum-sha256`, so
//!   the bucket itself refuses bytes that do not hash to the key. The headers a client must send
//!   are answered in `headers` (all but `Content-Length`, which HTTP clients set themselves).
//! - **Downloads** (`GetObject`): nothing but the URL; clients verify what they download.
//! - **Resumable uploads** map to S3 multipart uploads created with the SHA-256 checksum
//!   algorithm: `create` answers `partChecksum: "SHA256"`, `sign-part` needs the part's
//!   `checksumSha256` and presigns `UploadPart` with it, `list` and `abort` are `ListParts` and
//!   `AbortMultipartUpload`, and `complete` sends `CompleteMultipartUpload` with the checksum of
//!   every part. For a content-addressed key, the server then reads the assembled object back and
//!   hashes it (S3 checksums of multipart objects are checksums of the parts' checksums, never of
//!   the whole): a mismatch deletes the object and answers 422. That check costs one read of the
//!   object by the server (about 1 s per GiB at loopback speed); only an S3 full-object SHA-256,
//!   which S3 does not offer for multipart uploads, would remove it.
//! - **Deletes and health** are requests this server signs and sends itself (`DeleteObject`,
//!   `HeadBucket`).
//!
//! The bucket must allow the app's origin (CORS) for browsers: methods GET, HEAD and PUT, request
//! headers `content-type`, `range` and `x-amz-checksum-sha256`, and it must expose `ETag`,
//! `Content-Length`, `Content-Range` and `Content-Type` (the README has the rule). Unfinished
//! multipart uploads stay in the bucket until aborted: give the bucket a lifecycle rule that
//! aborts incomplete multipart uploads after a day.

mod multipart;
mod xml;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use futures::StreamExt;
use rusty_s3::actions::{
    DeleteObject, GetObject, HeadBucket, HeadObject, ListObjectsV2, PutObject,
};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::content_type::is_active_content;
use crate::disk::unix_now;
use crate::multipart::{MultipartStore, DEFAULT_PART_BYTES};
use crate::store::{
    BlobStore, BlobStream, ListedBlob, SignedRequest, StoreError, StoreErrorKind, UploadIntent,
};
use crate::BlobKey;

/// How long the requests the server sends itself (deletes, multipart calls) may take to be sent
/// once signed.
const OWN_REQUEST_TTL: Duration = Duration::from_secs(300);

/// Where an [`S3Store`] keeps blobs and how it reaches them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct S3StoreOptions {
    /// The S3 endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:3900`.
    pub endpoint: String,
    /// The bucket (it must exist).
    pub bucket: String,
    /// The region signatures name (`us-east-1` for most S3-compatible servers; `auto` for R2).
    pub region: String,
    /// The access key id requests are signed with.
    pub access_key_id: String,
    /// The secret access key requests are signed with.
    pub secret_access_key: String,
    /// Path-style URLs (`{endpoint}/{bucket}/{key}`, needed by MinIO, Garage and endpoints
    /// given by IP address) instead of virtual-hosted ones (`{bucket}.{endpoint host}/{key}`).
    pub path_style: bool,
    /// How long signed URLs stay valid (default 15 minutes).
    pub url_ttl: Duration,
    /// The largest blob accepted, in bytes (default [`crate::DEFAULT_MAX_UPLOAD_BYTES`]).
    pub max_upload_bytes: u64,
    /// The part size resumable uploads get (default [`DEFAULT_PART_BYTES`]; larger when a blob
    /// would need more than 10,000 parts).
    pub part_size: u64,
    /// How long an unfinished resumable upload is announced to last (`expiresAt`; default 24 h).
    /// The bucket's lifecycle rule is what removes it.
    pub upload_max_age: Duration,
}

impl S3StoreOptions {
    /// Options with the defaults for everything but where the bucket is and the credentials.
    pub fn new(
        endpoint: impl Into<String>,
        bucket: impl Into<String>,
        region: impl Into<String>,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> S3StoreOptions {
        S3StoreOptions {
            endpoint: endpoint.into(),
            bucket: bucket.into(),
            region: region.into(),
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            path_style: true,
            url_ttl: crate::DEFAULT_URL_TTL,
            max_upload_bytes: crate::DEFAULT_MAX_UPLOAD_BYTES,
            part_size: DEFAULT_PART_BYTES,
            upload_max_age: crate::DEFAULT_UPLOAD_MAX_AGE,
        }
    }
}

/// Blobs in an S3-compatible bucket: see the module docs for what is signed and checked.
#[derive(Debug, Clone)]
pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    client: reqwest::Client,
    options: S3StoreOptions,
}

impl S3Store {
    /// A store over the bucket `options` name. Checks the options only; [`BlobStore::health`]
    /// reaches the bucket.
    pub fn new(options: S3StoreOptions) -> Result<S3Store, StoreError> {
        let bad = |message: String| StoreError::new(StoreErrorKind::BadRequest, message);
        let endpoint: url::Url = options.endpoint.parse().map_err(|err| {
            bad(format!(
                "the S3 endpoint {:?} is not a URL ({err}); give one such as https://s3.eu-west-1.amazonaws.com",
                options.endpoint
            ))
        })?;
        let style = if options.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            endpoint,
            style,
            options.bucket.clone(),
            options.region.clone(),
        )
        .map_err(|err| {
            bad(format!(
                "cannot address the bucket {:?} at {} ({err}); endpoints given by IP address and \
                 bucket names with dots need path-style URLs",
                options.bucket, options.endpoint
            ))
        })?;
        if options.access_key_id.is_empty() || options.secret_access_key.is_empty() {
            return Err(bad(
                "the S3 access key id and secret access key must not be empty".into(),
            ));
        }
        if options.part_size < crate::MIN_PART_BYTES {
            return Err(bad(format!(
                "the part size must be at least {} bytes (S3's minimum)",
                crate::MIN_PART_BYTES
            )));
        }
        let credentials = Credentials::new(
            options.access_key_id.clone(),
            options.secret_access_key.clone(),
        );
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|err| {
                StoreError::new(
                    StoreErrorKind::Internal,
                    format!("cannot make an HTTP client: {err}"),
                )
            })?;
        Ok(S3Store {
            bucket,
            credentials,
            client,
            options,
        })
    }

    /// The options the store was made with.
    pub fn options(&self) -> &S3StoreOptions {
        &self.options
    }

    /// Every object whose key starts with `prefix` (`""`: all), sorted by key (`ListObjectsV2`,
    /// page by page).
    pub async fn list_blobs(&self, prefix: &str) -> Result<Vec<ListedBlob>, StoreError> {
        let mut blobs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = ListObjectsV2::new(&self.bucket, Some(&self.credentials));
            if !prefix.is_empty() {
                action.with_prefix(prefix);
            }
            if let Some(token) = &token {
                action.with_continuation_token(token.clone());
            }
            let url = action.sign(OWN_REQUEST_TTL);
            let answer = self.send(reqwest::Method::GET, url, &[], None).await?;
            if !answer.status().is_success() {
                return Err(self.failure("ListObjectsV2", answer).await);
            }
            let text = self.answer_text("ListObjectsV2", answer).await?;
            let page: xml::ObjectsPage = xml::parse("ListObjectsV2", &text)?;
            blobs.extend(page.contents.into_iter().map(|o| {
                ListedBlob {
                    modified: o
                        .last_modified
                        .as_deref()
                        .and_then(xml::parse_time)
                        .map(|secs| std::time::UNIX_EPOCH + Duration::from_secs(secs)),
                    key: o.key,
                    size: o.size,
                }
            }));
            match (page.is_truncated, page.next_continuation_token) {
                (true, Some(next)) if Some(&next) != token.as_ref() => token = Some(next),
                _ => break,
            }
        }
        blobs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(blobs)
    }

    /// All the bytes of the object at `key` (a signed GET).
    pub async fn read_all(&self, key: &BlobKey) -> Result<BlobStream, StoreError> {
        let url = GetObject::new(&self.bucket, Some(&self.credentials), key.as_str())
            .sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::GET, url, &[], None).await?;
        if !answer.status().is_success() {
            return Err(self.failure("GetObject", answer).await);
        }
        let shown = key.as_str().to_owned();
        Ok(answer
            .bytes_stream()
            .map(move |chunk| {
                chunk.map_err(|err| {
                    StoreError::new(
                        StoreErrorKind::Unavailable,
                        format!("reading {shown} from S3: {err}"),
                    )
                })
            })
            .boxed())
    }

    fn signed<'a>(&self, action: &impl S3Action<'a>, method: &'static str) -> SignedRequest {
        let ttl = self.options.url_ttl;
        SignedRequest {
            method,
            url: action.sign(ttl).to_string(),
            headers: BTreeMap::new(),
            expires_at: unix_now() + ttl.as_secs(),
        }
    }

    /// Sends a request the server signed for itself; the answer on any status, or `Unavailable`
    /// when the bucket cannot be reached.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: url::Url,
        headers: &[(&str, String)],
        body: Option<String>,
    ) -> Result<reqwest::Response, StoreError> {
        let shown = format!("{method} {}", without_query(&url));
        let mut request = self.client.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        request.send().await.map_err(|err| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                format!("the S3 endpoint cannot be reached ({shown}: {err})"),
            )
        })
    }

    /// The body of `what`'s successful answer (`Unavailable` when it breaks off).
    pub(crate) async fn answer_text(
        &self,
        what: &str,
        answer: reqwest::Response,
    ) -> Result<String, StoreError> {
        answer.text().await.map_err(|err| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                format!("reading {what}'s answer: {err}"),
            )
        })
    }

    /// The error for an S3 answer that is not a success, from its XML error body.
    pub(crate) async fn failure(&self, what: &str, answer: reqwest::Response) -> StoreError {
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        xml::s3_error(what, status, &text)
    }
}

/// A URL without its query (no signature in logs and errors).
pub(crate) fn without_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// The `x-amz-checksum-sha256` value of a content-addressed key: its hex SHA-256 as base64.
fn checksum_of(key: &BlobKey) -> Option<String> {
    let hex = key.content_hash()?;
    let bytes: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The headers an upload of `content_type` is stored with: the type (the default one when none
/// was given, as the disk store serves), and for active content an attachment disposition (a
/// stored page can never run as a page of the bucket's origin).
fn stored_headers(content_type: Option<&str>) -> Vec<(&'static str, String)> {
    let content_type = content_type.unwrap_or(crate::DEFAULT_CONTENT_TYPE);
    let mut headers = vec![("content-type", content_type.to_owned())];
    if is_active_content(content_type) {
        headers.push(("content-disposition", "attachment".to_owned()));
    }
    headers
}

fn too_large(max: u64) -> StoreError {
    StoreError::new(
        StoreErrorKind::TooLarge,
        format!("the upload is larger than this server's maximum of {max} bytes"),
    )
}

#[async_trait]
impl BlobStore for S3Store {
    async fn health(&self) -> Result<(), StoreError> {
        let url = HeadBucket::new(&self.bucket, Some(&self.credentials)).sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::HEAD, url, &[], None).await?;
        if answer.status().is_success() {
            return Ok(());
        }
        let status = answer.status().as_u16();
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            format!(
                "the bucket {:?} answered {status} to HEAD: {}",
                self.options.bucket,
                match status {
                    301 | 400 => "check --s3-region and --s3-path-style",
                    403 => "check the S3 access key id and secret",
                    404 => "it does not exist; create it first",
                    _ => "the S3 service is not healthy",
                }
            ),
        ))
    }

    async fn sign_upload(
        &self,
        key: &BlobKey,
        upload: &UploadIntent,
        _origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        let max = self.options.max_upload_bytes;
        if upload.content_length.is_some_and(|len| len > max) {
            return Err(too_large(max));
        }
        let mut action = PutObject::new(&self.bucket, Some(&self.credentials), key.as_str());
        let mut sent = stored_headers(upload.content_type.as_deref());
        if let Some(checksum) = checksum_of(key) {
            sent.push(("x-amz-checksum-sha256", checksum));
        }
        for (name, value) in &sent {
            action.headers_mut().insert(*name, value.clone());
        }
        if let Some(len) = upload.content_length {
            action
                .headers_mut()
                .insert("content-length", len.to_string());
        }
        let mut signed = self.signed(&action, "PUT");
        signed.headers = sent
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        Ok(signed)
    }

    async fn sign_download(
        &self,
        key: &BlobKey,
        _origin: &str,
    ) -> Result<SignedRequest, StoreError> {
        let action = GetObject::new(&self.bucket, Some(&self.credentials), key.as_str());
        Ok(self.signed(&action, "GET"))
    }

    async fn stored_size(&self, key: &BlobKey) -> Result<Option<u64>, StoreError> {
        let url = HeadObject::new(&self.bucket, Some(&self.credentials), key.as_str())
            .sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::HEAD, url, &[], None).await?;
        match answer.status().as_u16() {
            200 => Ok(answer
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())),
            404 => Ok(None),
            status => Err(xml::s3_error("HeadObject", status, "")),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError> {
        let url = DeleteObject::new(&self.bucket, Some(&self.credentials), key.as_str())
            .sign(OWN_REQUEST_TTL);
        let answer = self.send(reqwest::Method::DELETE, url, &[], None).await?;
        if answer.status().is_success() || answer.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(self.failure("DeleteObject", answer).await)
    }

    fn multipart(&self) -> Option<&dyn MultipartStore> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_addressed_keys_have_their_checksum() {
        // SHA-256 of "abc".
        let key =
            BlobKey::parse("s/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
                .unwrap();
        assert_eq!(
            checksum_of(&key).as_deref(),
            Some("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        );
        assert_eq!(checksum_of(&BlobKey::parse("s/notes.txt").unwrap()), None);
    }

    #[test]
    fn active_content_is_stored_as_an_attachment() {
        assert_eq!(
            stored_headers(Some("text/html")),
            vec![
                ("content-type", "text/html".to_owned()),
                ("content-disposition", "attachment".to_owned())
            ]
        );
        assert_eq!(
            stored_headers(Some("image/png")),
            vec![("content-type", "image/png".to_owned())]
        );
        assert_eq!(
            stored_headers(None),
            vec![("content-type", crate::DEFAULT_CONTENT_TYPE.to_owned())]
        );
    }

    #[test]
    fn bad_options_say_what_to_fix() {
        let options =
            |endpoint: &str| S3StoreOptions::new(endpoint, "bucket", "us-east-1", "key", "secret");
        let err = S3Store::new(options("not a url")).unwrap_err();
        assert!(err.message.contains("is not a URL"), "{err}");
        let mut virtual_ip = options("http://127.0.0.1:9000");
        virtual_ip.path_style = false;
        let err = S3Store::new(virtual_ip).unwrap_err();
        assert!(err.message.contains("path-style"), "{err}");
        let mut no_secret = options("http://127.0.0.1:9000");
        no_secret.secret_access_key.clear();
        assert!(S3Store::new(no_secret).is_err());
        assert!(S3Store::new(options("http://127.0.0.1:9000")).is_ok());
    }
}
