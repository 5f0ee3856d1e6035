//! [`Strict`]: s3s-fs with the SHA-256 checks AWS S3 and Garage make and s3s-fs does not.
//!
//! s3s-fs writes an object into place before it compares its `x-amz-checksum-sha256`, so a
//! refused PUT still replaces the object, and it ignores the checksums of multipart parts. Here
//! the body is hashed as it streams and fails at its end when it does not match, before s3s-fs
//! commits anything; every other call goes to s3s-fs unchanged.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use bytes::Bytes;
use futures::Stream;
use s3s::dto::*;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{s3_error, S3Request, S3Response, S3Result, StdError, S3};
use sha2::{Digest, Sha256};

/// s3s-fs with SHA-256 checksums enforced on PUTs and parts.
#[derive(Debug)]
pub(crate) struct Strict(pub(crate) s3s_fs::FileSystem);

/// A body that fails at its end when it does not hash to `expected` (base64).
struct Checked {
    inner: StreamingBlob,
    hasher: Option<Sha256>,
    expected: String,
    /// Set when the body did not match.
    mismatched: Arc<AtomicBool>,
}

#[derive(Debug)]
struct Mismatch;

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the body does not match x-amz-checksum-sha256")
    }
}

impl std::error::Error for Mismatch {}

impl Stream for Checked {
    type Item = Result<Bytes, StdError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(hasher) = this.hasher.as_mut() {
                    hasher.update(&chunk);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => match this.hasher.take() {
                Some(hasher) => {
                    let got = base64::engine::general_purpose::STANDARD.encode(hasher.finalize());
                    if got == this.expected {
                        Poll::Ready(None)
                    } else {
                        this.mismatched.store(true, Ordering::SeqCst);
                        Poll::Ready(Some(Err(Box::new(Mismatch))))
                    }
                }
                None => Poll::Ready(None),
            },
            other => other,
        }
    }
}

impl ByteStream for Checked {
    fn remaining_length(&self) -> RemainingLength {
        self.inner.remaining_length()
    }
}

/// `body` checked against `expected`, when both are there; the flag is set on a mismatch.
fn checked(
    body: Option<StreamingBlob>,
    expected: Option<&str>,
) -> (Option<StreamingBlob>, Arc<AtomicBool>) {
    let mismatched = Arc::new(AtomicBool::new(false));
    let body = match (body, expected) {
        (Some(inner), Some(expected)) => Some(StreamingBlob::new(Checked {
            inner,
            hasher: Some(Sha256::new()),
            expected: expected.to_owned(),
            mismatched: mismatched.clone(),
        })),
        (body, _) => body,
    };
    (body, mismatched)
}

/// A call whose body did not match its checksum answers `BadDigest`, whatever s3s-fs made of
/// the failed body.
fn digest_error<T>(result: S3Result<T>, mismatched: &AtomicBool) -> S3Result<T> {
    if mismatched.load(Ordering::SeqCst) {
        return Err(s3_error!(
            BadDigest,
            "the body does not match x-amz-checksum-sha256"
        ));
    }
    result
}

macro_rules! delegate {
    ($($name:ident: $input:ty => $output:ty;)*) => {
        $(
            // The shape `#[async_trait]` gives the trait's methods (it does not see inside this
            // macro).
            fn $name<'life0, 'async_trait>(
                &'life0 self,
                req: S3Request<$input>,
            ) -> Pin<Box<dyn std::future::Future<Output = S3Result<S3Response<$output>>>
                + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move { self.0.$name(req).await })
            }
        )*
    };
}

#[async_trait::async_trait]
impl S3 for Strict {
    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let expected = req.input.checksum_sha256.clone();
        let (body, mismatched) = checked(req.input.body.take(), expected.as_deref());
        req.input.body = body;
        digest_error(self.0.put_object(req).await, &mismatched)
    }

    async fn upload_part(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let expected = req.input.checksum_sha256.clone();
        let (body, mismatched) = checked(req.input.body.take(), expected.as_deref());
        req.input.body = body;
        digest_error(self.0.upload_part(req).await, &mismatched)
    }

    delegate! {
        head_bucket: HeadBucketInput => HeadBucketOutput;
        create_bucket: CreateBucketInput => CreateBucketOutput;
        get_object: GetObjectInput => GetObjectOutput;
        head_object: HeadObjectInput => HeadObjectOutput;
        delete_object: DeleteObjectInput => DeleteObjectOutput;
        delete_objects: DeleteObjectsInput => DeleteObjectsOutput;
        copy_object: CopyObjectInput => CopyObjectOutput;
        list_objects_v2: ListObjectsV2Input => ListObjectsV2Output;
        list_buckets: ListBucketsInput => ListBucketsOutput;
        create_multipart_upload: CreateMultipartUploadInput => CreateMultipartUploadOutput;
        list_parts: ListPartsInput => ListPartsOutput;
        complete_multipart_upload: CompleteMultipartUploadInput => CompleteMultipartUploadOutput;
        abort_multipart_upload: AbortMultipartUploadInput => AbortMultipartUploadOutput;
    }
}
