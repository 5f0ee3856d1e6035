//! Uploads in one request: round trips, empty objects, the default content type, repeats, and local
//! read failures.

use bytes::Bytes;

use crate::remote_suite::support::{
    assert_absent, assert_bytes, assert_error, data, get, key_of, namespace, put, request,
    sized_request, Source,
};
use crate::remote_suite::{Outcome, RemoteHarness};
use crate::services::remote_storage::RemoteErrorKind;

/// `health` answers `Ok` on a reachable remote.
pub async fn health_answers(h: &dyn RemoteHarness) -> Outcome {
    if let Err(err) = h.remote().health().await {
        panic!("health on a reachable remote: {err}");
    }
    Outcome::Passed
}

/// An upload in one request stores the bytes with their content type, reading the local bytes once
/// from the start, reporting progress from 0 to the size and no resume token; a download gives back
/// the bytes, the size and the content type.
pub async fn single_upload_round_trips(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "single");
    let remote = h.single_request_remote();
    let bytes = data(300 * 1024 + 3, 1);
    let size = bytes.len() as u64;
    let key = key_of(&ns, &bytes);
    let source = Source::new(bytes.clone());
    let (req, reports) = request(&key, &source, Some("image/png"), None);
    if let Err(err) = remote.upload(req).await {
        panic!("upload of {size} bytes in one request: {err}");
    }
    assert_eq!(
        source.opens(),
        vec![0],
        "the offsets the bytes were opened at"
    );
    assert_eq!(source.read(), size, "bytes read from the local side");
    reports.assert_progress("upload in one request", 0, size);
    assert_eq!(
        reports.tokens(),
        Vec::<Option<String>>::new(),
        "an upload in one request hands out no resume token"
    );

    let got = get(&*remote, "download", &key, 0).await;
    assert_eq!(got.offset, 0, "the download's offset");
    assert_eq!(got.total_size, Some(size), "the download's total size");
    assert_eq!(
        got.content_type.as_deref(),
        Some("image/png"),
        "the download's content type"
    );
    assert_bytes("the downloaded bytes", &got.body, &bytes);
    // The resumable-capable remote sees the same object.
    let got = get(&*h.remote(), "download through remote()", &key, 0).await;
    assert_bytes("the bytes downloaded through remote()", &got.body, &bytes);
    Outcome::Passed
}

/// An empty object uploads (no resumable protocol for 0 bytes) and downloads as 0 bytes.
pub async fn empty_object_round_trips(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "empty");
    let remote = h.remote();
    let key = key_of(&ns, b"");
    let (req, reports) = request(&key, &Source::new(Bytes::new()), Some("text/plain"), None);
    if let Err(err) = remote.upload(req).await {
        panic!("upload of an empty object: {err}");
    }
    reports.assert_progress("upload of an empty object", 0, 0);
    assert!(
        reports.tokens().iter().all(Option::is_none),
        "an empty upload hands out no resume token: {:?}",
        reports.tokens()
    );
    let got = get(&*remote, "download of an empty object", &key, 0).await;
    assert_eq!(got.offset, 0, "the download's offset");
    assert_eq!(got.total_size, Some(0), "the download's total size");
    assert!(got.body.is_empty(), "the body has {} bytes", got.body.len());
    Outcome::Passed
}

/// An object uploaded without a content type is served as `application/octet-stream`.
pub async fn upload_without_content_type_is_served_as_octet_stream(
    h: &dyn RemoteHarness,
) -> Outcome {
    let ns = namespace(h, "untyped");
    let remote = h.single_request_remote();
    let bytes = data(5000, 2);
    let key = key_of(&ns, &bytes);
    put(
        &*remote,
        "upload without a content type",
        &key,
        &bytes,
        None,
    )
    .await;
    let got = get(&*remote, "download", &key, 0).await;
    assert_eq!(
        got.content_type.as_deref(),
        Some("application/octet-stream"),
        "the content type of an object uploaded without one"
    );
    assert_bytes("the downloaded bytes", &got.body, &bytes);
    Outcome::Passed
}

/// Uploading the same content to its key again succeeds and changes nothing (keys are content
/// addressed: two clients may upload the same file); a remote that knows it holds the bytes
/// ([`RemoteHarness::skips_stored_uploads`]) reads none of them.
pub async fn repeated_upload_is_harmless(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "repeat");
    let remote = h.single_request_remote();
    let bytes = data(70_000, 3);
    let key = key_of(&ns, &bytes);
    put(&*remote, "first upload", &key, &bytes, Some("image/jpeg")).await;
    put(&*remote, "second upload", &key, &bytes, Some("image/jpeg")).await;
    let got = get(&*remote, "download after two uploads", &key, 0).await;
    assert_eq!(got.total_size, Some(bytes.len() as u64), "the total size");
    assert_bytes("the downloaded bytes", &got.body, &bytes);
    if h.skips_stored_uploads() {
        // The remote knows it holds these bytes: a third upload, in one request or in parts,
        // reads nothing and reports itself complete.
        for (how, remote) in [
            ("one request", h.single_request_remote()),
            ("parts", h.remote()),
        ] {
            let source = Source::new(bytes.clone());
            let (req, reports) = request(&key, &source, Some("image/jpeg"), None);
            if let Err(err) = remote.upload(req).await {
                panic!("an upload ({how}) of content the remote holds: {err}");
            }
            assert_eq!(
                source.read(),
                0,
                "bytes read by an upload ({how}) of stored content"
            );
            let size = bytes.len() as u64;
            reports.assert_progress(&format!("an upload ({how}) of stored content"), size, size);
        }
    }
    Outcome::Passed
}

/// A local read that fails, or local bytes shorter than the size declared, fail the upload with
/// `Local` (naming the key) and store nothing, in one request and in parts.
pub async fn local_read_errors_are_local_and_store_nothing(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "local");
    let single = h.single_request_remote();

    let bytes = data(200_000, 4);
    let key = key_of(&ns, &bytes);
    let (req, _) = request(&key, &Source::failing(bytes, Some(100_000)), None, None);
    let result = single.upload(req).await;
    assert_error(
        "an upload in one request whose local read fails",
        result,
        RemoteErrorKind::Local,
        Some(&key),
    );
    assert_absent(&*single, "after a failed local read", &key).await;

    let bytes = data(1000, 5);
    let key = key_of(&ns, &bytes);
    let (req, _) = sized_request(&key, &Source::new(bytes), 2000, None, None);
    let result = single.upload(req).await;
    assert_error(
        "an upload whose local bytes end before the declared size",
        result,
        RemoteErrorKind::Local,
        Some(&key),
    );
    assert_absent(&*single, "after local bytes that ended early", &key).await;

    let part = h.part_size();
    let bytes = data(part + part / 2, 6);
    let key = key_of(&ns, &bytes);
    let (req, _) = request(&key, &Source::failing(bytes, Some(part / 2)), None, None);
    let result = h.remote().upload(req).await;
    assert_error(
        "a resumable upload whose local read fails in its first part",
        result,
        RemoteErrorKind::Local,
        Some(&key),
    );
    assert_absent(&*single, "after a resumable upload failed", &key).await;
    Outcome::Passed
}
