//! Resumable uploads: parts, resuming after a cut, tokens that cannot be used.

use crate::remote_suite::support::{
    assert_absent, assert_bytes, assert_error, data, get, key_of, namespace, request, Source,
};
use crate::remote_suite::{Outcome, RemoteHarness};
use crate::services::remote_storage::RemoteErrorKind;

/// `offsets`, each `times` times, sorted (as [`Source`] lists its opens).
fn repeated(offsets: &[u64], times: u64) -> Vec<u64> {
    let mut all: Vec<u64> = offsets
        .iter()
        .flat_map(|&o| std::iter::repeat_n(o, times as usize))
        .collect();
    all.sort_unstable();
    all
}

/// An upload of at least the part size goes in parts: a resume token first, each part read once
/// from its own offset, the token cleared at the end; the object downloads whole with its type.
pub async fn resumable_upload_goes_in_parts(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "parts");
    let part = h.part_size();
    let bytes = data(part + part / 4 + 5, 10);
    let size = bytes.len() as u64;
    let key = key_of(&ns, &bytes);
    let source = Source::new(bytes.clone());
    let (req, reports) = request(&key, &source, Some("video/mp4"), None);
    if let Err(err) = h.remote().upload(req).await {
        panic!("resumable upload of {size} bytes: {err}");
    }
    let reads = h.reads_per_part();
    assert_eq!(
        source.opens(),
        repeated(&[0, part], reads),
        "{reads} open(s) per part of {part} bytes"
    );
    assert_eq!(
        source.read(),
        size * reads,
        "bytes read: each {reads} time(s)"
    );
    let tokens = reports.tokens();
    assert!(
        tokens.len() == 2 && tokens[0].is_some() && tokens[1].is_none(),
        "a token when the upload starts, none once it is complete: {tokens:?}"
    );
    reports.assert_progress("resumable upload", 0, size);
    let got = get(&*h.remote(), "download", &key, 0).await;
    assert_eq!(got.total_size, Some(size), "the total size");
    assert_eq!(
        got.content_type.as_deref(),
        Some("video/mp4"),
        "the content type"
    );
    assert_bytes("the downloaded bytes", &got.body, &bytes);
    Outcome::Passed
}

/// A resumable upload cut by a local read failure in its second part fails with `Local`, keeps its
/// token and shows nothing; resumed with the token, it reads only from the first part not stored
/// (the part boundary before the cut) and completes.
pub async fn interrupted_upload_resumes_from_the_parts_stored(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "resume");
    let part = h.part_size();
    let bytes = data(part + part / 2, 11);
    let size = bytes.len() as u64;
    let key = key_of(&ns, &bytes);
    let cut_at = part + part / 4;

    let cut = Source::failing(bytes.clone(), Some(cut_at));
    let (req, reports) = request(&key, &cut, None, None);
    let result = h.remote().upload(req).await;
    assert_error(
        &format!("an upload whose local bytes fail at {cut_at}"),
        result,
        RemoteErrorKind::Local,
        Some(&key),
    );
    let tokens = reports.tokens();
    let token = match tokens.as_slice() {
        [Some(token)] => token.clone(),
        other => panic!("one resume token, kept after the failure: {other:?}"),
    };
    // The part that fails is opened once: its first read fails.
    let reads = h.reads_per_part();
    let mut opened = repeated(&[0], reads);
    opened.push(part);
    assert_eq!(cut.opens(), opened, "the interrupted upload's opens");
    assert_absent(&*h.remote(), "after the interrupted upload", &key).await;

    let source = Source::new(bytes.clone());
    let (req, reports) = request(&key, &source, None, Some(token));
    if let Err(err) = h.remote().upload(req).await {
        panic!("the resumed upload: {err}");
    }
    assert_eq!(
        source.opens(),
        repeated(&[part], reads),
        "the resumed upload reads only the part not stored (from {part})"
    );
    assert_eq!(
        source.read(),
        (size - part) * reads,
        "bytes read by the resumed upload"
    );
    assert_eq!(
        reports.tokens(),
        vec![None],
        "the token is cleared once complete"
    );
    reports.assert_progress("the resumed upload", part, size);
    let got = get(&*h.remote(), "download after resuming", &key, 0).await;
    assert_bytes("the downloaded bytes", &got.body, &bytes);
    Outcome::Passed
}

/// A resume token that is not one, or that belongs to another key, is dropped (`on_resume(None)`
/// first) and the upload starts from offset 0 and completes.
pub async fn unusable_resume_tokens_start_afresh(h: &dyn RemoteHarness) -> Outcome {
    let ns = namespace(h, "tokens");
    let part = h.part_size();
    let remote = h.remote();

    // Garbage, in parts and in one request.
    let bytes = data(part + 1000, 12);
    let key = key_of(&ns, &bytes);
    let source = Source::new(bytes.clone());
    let (req, reports) = request(&key, &source, None, Some("not a resume token".into()));
    if let Err(err) = remote.upload(req).await {
        panic!("a resumable upload with a garbage token: {err}");
    }
    assert_eq!(source.opens().first(), Some(&0), "it starts from offset 0");
    assert_eq!(
        source.read(),
        bytes.len() as u64 * h.reads_per_part(),
        "bytes read"
    );
    let tokens = reports.tokens();
    assert!(
        tokens.first() == Some(&None) && tokens.last() == Some(&None),
        "the garbage token is dropped first, and the new one at the end: {tokens:?}"
    );
    assert_bytes(
        "the bytes uploaded with a garbage token",
        &get(&*remote, "download", &key, 0).await.body,
        &bytes,
    );

    let small = data(3000, 13);
    let key = key_of(&ns, &small);
    let source = Source::new(small.clone());
    let (req, reports) = request(&key, &source, None, Some("not a resume token".into()));
    if let Err(err) = h.single_request_remote().upload(req).await {
        panic!("an upload in one request with a garbage token: {err}");
    }
    assert_eq!(source.opens(), vec![0], "it reads from offset 0");
    assert_eq!(
        reports.tokens().last(),
        Some(&None),
        "the token is cleared once done"
    );

    // The token of another key's interrupted upload.
    let other = data(part + 1000, 14);
    let other_key = key_of(&ns, &other);
    let (req, reports) = request(
        &other_key,
        &Source::failing(other, Some(part + 500)),
        None,
        None,
    );
    let result = remote.upload(req).await;
    assert_error(
        "the interrupted upload of another key",
        result,
        RemoteErrorKind::Local,
        Some(&other_key),
    );
    let foreign = reports.tokens().into_iter().flatten().next();
    assert!(foreign.is_some(), "the interrupted upload left a token");
    let bytes = data(part + 2000, 15);
    let key = key_of(&ns, &bytes);
    let source = Source::new(bytes.clone());
    let (req, reports) = request(&key, &source, None, foreign);
    if let Err(err) = remote.upload(req).await {
        panic!("an upload with another key's token: {err}");
    }
    assert_eq!(source.opens().first(), Some(&0), "it starts from offset 0");
    assert_eq!(
        source.read(),
        bytes.len() as u64 * h.reads_per_part(),
        "bytes read"
    );
    let tokens = reports.tokens();
    assert!(
        tokens.first() == Some(&None) && tokens.last() == Some(&None),
        "the foreign token is dropped first, the new one at the end: {tokens:?}"
    );
    assert_bytes(
        "the bytes uploaded with another key's token",
        &get(&*remote, "download", &key, 0).await.body,
        &bytes,
    );
    Outcome::Passed
}
