//! What a remote refuses: bytes that do not match their key, uploads over the limit, malformed
//! content types and keys, refused credentials, keys outside the credentials' prefixes.

use crate::remote_suite::support::{
    assert_absent, assert_bytes, assert_error, data, get, key_of, namespace, namespace_under, put,
    request, sized_request, Source,
};
use crate::remote_suite::{Outcome, RemoteHarness};
use crate::services::remote_storage::RemoteErrorKind;

/// Bytes that do not hash to their content-addressed key are `Rejected` (naming the key) and nothing
/// is stored, in one request and in parts (whose token is then cleared); the right bytes can still
/// be uploaded under the key afterwards.
pub async fn bytes_that_do_not_hash_to_the_key_are_rejected(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "hash");
    let single = h.single_request_remote();
    let right = data(1000, 30);
    let key = key_of(&ns, &right);
    let (req, _) = request(&key, &Source::new(data(1000, 31)), None, None);
    let result = single.upload(req).await;
    assert_error(
        "an upload in one request of bytes another key names",
        result,
        RemoteErrorKind::Rejected,
        Some(&key),
    );
    assert_absent(&*single, "after the refused upload", &key).await;
    put(&*single, "the right bytes afterwards", &key, &right, None).await;
    assert_bytes(
        "the right bytes",
        &get(&*single, "download", &key, 0).await.body,
        &right,
    );

    let part = h.part_size();
    let key = key_of(&ns, &data(part + 1000, 32));
    let (req, reports) = request(&key, &Source::new(data(part + 1000, 33)), None, None);
    let result = h.remote().upload(req).await;
    assert_error(
        "a resumable upload of bytes another key names",
        result,
        RemoteErrorKind::Rejected,
        Some(&key),
    );
    let tokens = reports.tokens();
    assert!(
        tokens.first().is_some_and(Option::is_some) && tokens.last() == Some(&None),
        "a token at the start, cleared once refused: {tokens:?}"
    );
    assert_absent(&*single, "after the refused resumable upload", &key).await;
    Outcome::Passed
}

/// An upload declaring more bytes than the remote accepts is `TooLarge` (naming the key) before a
/// byte is read, in one request and in parts.
pub async fn uploads_over_the_limit_are_too_large(h: &dyn RemoteHarness) -> Outcome {
    let max = need!(h.max_upload_bytes());
    let ns = namespace(h, "too-large");
    let bytes = data(1000, 34);
    let key = key_of(&ns, &bytes);
    for (what, remote) in [
        ("in one request", h.single_request_remote()),
        ("resumable", h.remote()),
    ] {
        let source = Source::new(bytes.clone());
        let (req, reports) = sized_request(&key, &source, max + 1, None, None);
        let result = remote.upload(req).await;
        assert_error(
            &format!("an upload {what} of {} bytes (limit {max})", max + 1),
            result,
            RemoteErrorKind::TooLarge,
            Some(&key),
        );
        assert_eq!(source.read(), 0, "bytes read by a refused upload {what}");
        assert_eq!(
            reports.tokens(),
            Vec::<Option<String>>::new(),
            "a refused upload {what} hands out no token"
        );
    }
    assert_absent(&*h.remote(), "after the refused uploads", &key).await;
    Outcome::Passed
}

/// An upload with a content type that is not a media type is `Rejected` (naming the key) before a
/// byte is read.
pub async fn malformed_content_types_are_rejected(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "content-type");
    let bytes = data(1000, 35);
    let key = key_of(&ns, &bytes);
    for content_type in ["not a media type", "image/png/extra"] {
        let source = Source::new(bytes.clone());
        let (req, _) = request(&key, &source, Some(content_type), None);
        let result = h.single_request_remote().upload(req).await;
        assert_error(
            &format!("an upload with the content type {content_type:?}"),
            result,
            RemoteErrorKind::Rejected,
            Some(&key),
        );
        assert_eq!(source.read(), 0, "bytes read by the refused upload");
    }
    assert_absent(&*h.remote(), "after the refused uploads", &key).await;
    Outcome::Passed
}

/// Keys that are not relative `/`-separated names (`..`, empty segments, a leading `/`, the server's
/// temporary suffix) are `Rejected`, naming the key, by every call that takes one.
pub async fn invalid_keys_are_rejected(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "bad-key");
    let remote = h.remote();
    let keys = [
        format!("{ns}a/../b"),
        format!("{ns}a//b"),
        format!("/{ns}x"),
        format!("{ns}x.fsync-tmp"),
    ];
    for key in &keys {
        let result = remote.download(key, 0).await;
        assert_error(
            &format!("a download of {key:?}"),
            result.map(|_| ()),
            RemoteErrorKind::Rejected,
            Some(key),
        );
    }
    let source = Source::new(data(100, 36));
    let (req, _) = request(&keys[0], &source, None, None);
    let result = h.single_request_remote().upload(req).await;
    assert_error(
        &format!("an upload to {:?}", keys[0]),
        result,
        RemoteErrorKind::Rejected,
        Some(&keys[0]),
    );
    assert_eq!(source.read(), 0, "bytes read by the refused upload");
    let result = remote.delete(&keys[1]).await;
    assert_error(
        &format!("a delete of {:?}", keys[1]),
        result,
        RemoteErrorKind::Rejected,
        Some(&keys[1]),
    );
    let result = remote.download_url(&keys[2]).await;
    assert_error(
        &format!("a signed URL for {:?}", keys[2]),
        result.map(|_| ()),
        RemoteErrorKind::Rejected,
        Some(&keys[2]),
    );
    Outcome::Passed
}

/// Credentials the remote does not know make every call about a key `Unauthorized` (naming it):
/// nothing is read, stored or deleted. `health` needs no credentials.
pub async fn refused_credentials_are_unauthorized(h: &dyn RemoteHarness) -> Outcome {
    let refused = need!(h.refused_credentials());
    let ns = namespace(h, "unauthorized");
    let full = h.remote();
    let stored = data(2000, 37);
    let stored_key = key_of(&ns, &stored);
    put(
        &*full,
        "upload with good credentials",
        &stored_key,
        &stored,
        None,
    )
    .await;

    let bytes = data(1000, 38);
    let key = key_of(&ns, &bytes);
    let source = Source::new(bytes);
    let (req, _) = request(&key, &source, None, None);
    let result = refused.upload(req).await;
    assert_error(
        "an upload with refused credentials",
        result,
        RemoteErrorKind::Unauthorized,
        Some(&key),
    );
    assert_eq!(source.read(), 0, "bytes read by the refused upload");
    assert_absent(&*full, "after the refused upload", &key).await;

    let result = refused.download(&stored_key, 0).await;
    assert_error(
        "a download with refused credentials",
        result.map(|_| ()),
        RemoteErrorKind::Unauthorized,
        Some(&stored_key),
    );
    let result = refused.delete(&stored_key).await;
    assert_error(
        "a delete with refused credentials",
        result,
        RemoteErrorKind::Unauthorized,
        Some(&stored_key),
    );
    assert_bytes(
        "the object after a refused delete",
        &get(&*full, "download", &stored_key, 0).await.body,
        &stored,
    );
    let result = refused.download_url(&stored_key).await;
    assert_error(
        "a signed URL with refused credentials",
        result.map(|_| ()),
        RemoteErrorKind::Unauthorized,
        Some(&stored_key),
    );
    if let Err(err) = refused.health().await {
        panic!("health with refused credentials (it needs none): {err}");
    }
    Outcome::Passed
}

/// Credentials limited to a prefix work under it, and every call about a key outside it is
/// `Forbidden` (naming the key): nothing is read, stored or deleted.
pub async fn keys_outside_the_prefixes_are_forbidden(h: &dyn RemoteHarness) -> Outcome {
    let limited = need!(h.limited());
    let prefix = h.key_prefix();
    assert!(
        !prefix.starts_with(&limited.allowed_prefix),
        "the harness's key prefix {prefix:?} is inside the limited credentials' {:?}",
        limited.allowed_prefix
    );
    let full = h.remote();
    let inside_ns = namespace_under(h, &limited.allowed_prefix, "forbidden");
    let outside_ns = namespace(h, "forbidden");

    let bytes = data(3000, 39);
    let inside = key_of(&inside_ns, &bytes);
    put(
        &*limited.remote,
        "upload inside the limited prefix",
        &inside,
        &bytes,
        None,
    )
    .await;
    assert_bytes(
        "download inside the limited prefix",
        &get(&*limited.remote, "download inside the prefix", &inside, 0)
            .await
            .body,
        &bytes,
    );

    let outside = key_of(&outside_ns, &bytes);
    let source = Source::new(bytes.clone());
    let (req, _) = request(&outside, &source, None, None);
    let result = limited.remote.upload(req).await;
    assert_error(
        "an upload outside the limited prefix",
        result,
        RemoteErrorKind::Forbidden,
        Some(&outside),
    );
    assert_eq!(source.read(), 0, "bytes read by the forbidden upload");
    assert_absent(&*full, "after the forbidden upload", &outside).await;

    put(
        &*full,
        "upload with full credentials",
        &outside,
        &bytes,
        None,
    )
    .await;
    let result = limited.remote.download(&outside, 0).await;
    assert_error(
        "a download outside the limited prefix",
        result.map(|_| ()),
        RemoteErrorKind::Forbidden,
        Some(&outside),
    );
    let result = limited.remote.delete(&outside).await;
    assert_error(
        "a delete outside the limited prefix",
        result,
        RemoteErrorKind::Forbidden,
        Some(&outside),
    );
    assert_bytes(
        "the object after a forbidden delete",
        &get(&*full, "download", &outside, 0).await.body,
        &bytes,
    );
    let result = limited.remote.download_url(&outside).await;
    assert_error(
        "a signed URL outside the limited prefix",
        result.map(|_| ()),
        RemoteErrorKind::Forbidden,
        Some(&outside),
    );
    Outcome::Passed
}
