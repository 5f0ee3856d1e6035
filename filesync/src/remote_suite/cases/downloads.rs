//! Downloads from an offset, resumed downloads, missing keys, deletes.

use futures::StreamExt;

use crate::remote_suite::support::{
    assert_absent, assert_bytes, assert_error, data, get, key_of, namespace, put,
};
use crate::remote_suite::{Outcome, RemoteHarness};
use crate::services::remote_storage::RemoteErrorKind;

/// A download from an offset starts there (`offset`), says the whole size, and gives
/// `bytes[offset..]`; from the very end it gives nothing; past the end it is `Rejected` (416).
pub async fn ranged_download_returns_the_tail(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "ranged");
    let remote = h.remote();
    let bytes = data(100_007, 20);
    let size = bytes.len() as u64;
    let key = key_of(&ns, &bytes);
    put(&*h.single_request_remote(), "upload", &key, &bytes, None).await;

    let got = get(&*remote, "download from 60,000", &key, 60_000).await;
    assert_eq!(got.offset, 60_000, "the ranged download's offset");
    assert_eq!(
        got.total_size,
        Some(size),
        "the ranged download's total size"
    );
    assert_bytes("the ranged bytes", &got.body, &bytes[60_000..]);

    let got = get(&*remote, "download from the end", &key, size).await;
    assert_eq!(got.offset, size, "the offset of a download from the end");
    assert_eq!(
        got.total_size,
        Some(size),
        "the total size of a download from the end"
    );
    assert!(
        got.body.is_empty(),
        "a download from the end gave {} bytes",
        got.body.len()
    );

    let result = remote.download(&key, size + 1).await;
    assert_error(
        "a download from past the end",
        result.map(|_| ()),
        RemoteErrorKind::Rejected,
        Some(&key),
    );
    Outcome::Passed
}

/// A download abandoned part-way resumes from the bytes kept: the rest from that offset completes
/// the object.
pub async fn cut_download_resumes_from_its_offset(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "cut-download");
    let remote = h.remote();
    let bytes = data(300 * 1024 + 11, 21);
    let key = key_of(&ns, &bytes);
    put(&*h.single_request_remote(), "upload", &key, &bytes, None).await;

    let download = match remote.download(&key, 0).await {
        Ok(download) => download,
        Err(err) => panic!("download: {err}"),
    };
    let mut body = download.body.into_bytes();
    let first = match body.next().await {
        Some(Ok(chunk)) => chunk,
        Some(Err(err)) => panic!("the first chunk of the download: {err}"),
        None => panic!("the download of {} bytes had no body", bytes.len()),
    };
    drop(body);
    // Keep half of what arrived, as a client whose write was cut would.
    let kept = (first.len() / 2).max(1);
    assert_bytes("the first bytes", &first[..kept], &bytes[..kept]);
    let got = get(&*remote, "resumed download", &key, kept as u64).await;
    assert_eq!(got.offset, kept as u64, "the resumed download's offset");
    let mut whole = first[..kept].to_vec();
    whole.extend_from_slice(&got.body);
    assert_bytes("the resumed object", &whole, &bytes);
    Outcome::Passed
}

/// Downloading a key nothing was stored under is `NotFound`, naming the key (also from an offset).
pub async fn missing_key_is_not_found(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "missing");
    let key = key_of(&ns, b"never uploaded");
    for offset in [0, 5] {
        let result = h.remote().download(&key, offset).await;
        assert_error(
            &format!("a download of a missing key from {offset}"),
            result.map(|_| ()),
            RemoteErrorKind::NotFound,
            Some(&key),
        );
    }
    Outcome::Passed
}

/// `delete` removes the object (downloads are then `NotFound`) and nothing else; deleting it again,
/// or a key never stored, is `Ok`.
pub async fn delete_removes_and_a_missing_key_is_fine(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "delete");
    let remote = h.remote();
    let gone = data(5000, 22);
    let kept = data(5000, 23);
    let (gone_key, kept_key) = (key_of(&ns, &gone), key_of(&ns, &kept));
    put(&*remote, "upload", &gone_key, &gone, None).await;
    put(&*remote, "upload", &kept_key, &kept, None).await;
    if let Err(err) = remote.delete(&gone_key).await {
        panic!("delete of a stored key: {err}");
    }
    assert_absent(&*remote, "after the delete", &gone_key).await;
    assert_bytes(
        "another key after the delete",
        &get(&*remote, "download of another key", &kept_key, 0)
            .await
            .body,
        &kept,
    );
    if let Err(err) = remote.delete(&gone_key).await {
        panic!("a second delete of the same key: {err}");
    }
    let never = key_of(&ns, b"never stored");
    if let Err(err) = remote.delete(&never).await {
        panic!("delete of a key never stored: {err}");
    }
    Outcome::Passed
}
