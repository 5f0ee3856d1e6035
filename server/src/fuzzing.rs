//! Checks shared by the cargo-fuzz targets in `fuzz/` and the corpus replay test
//! (`server/tests/fuzz_corpus.rs`), compiled only with the `fuzzing` feature.
//!
//! Each check takes arbitrary bytes, feeds them to one parser of untrusted input, and panics when
//! the parser panics or when something it accepted breaks an invariant. The fuzz targets are one
//! call each; the replay test calls the same function on every committed corpus file, so CI on
//! stable re-checks every input the fuzzer ever kept.

use fs_core::VPath;

use crate::range::{parse_range, RangeRequest};
use crate::routes::blobs::form_pairs;
use crate::signature::SignatureError;
use crate::{BlobKey, UrlSigner, MAX_KEY_BYTES};

/// The signing secret of [`check_signed_url`].
pub const FUZZ_SECRET: &[u8] = b"fuzzing secret, 32 bytes long!!!";

/// The clock of [`check_signed_url`], in Unix seconds.
pub const FUZZ_NOW: u64 = 1_800_000_000;

/// The key [`check_signed_url`] signs when its input names none.
pub const FUZZ_DEFAULT_KEY: &str = "store-a/report.pdf";

/// The file sizes every Range header is checked against, besides the one the input names.
const RANGE_SIZES: [u64; 6] = [0, 1, 2, 10, 1 << 20, u64::MAX];

/// `data` as a key twice: as the percent-encoded path of a blob URL ([`BlobKey::from_url_path`])
/// and as the contents of a JSON string literal (`{"key": "…"}` of the signer API, then
/// [`BlobKey::parse`]); and the raw text through [`BlobKey::parse`] too. Never panics; every key
/// accepted passes [`assert_key_invariants`].
pub fn check_blob_key(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(key) = BlobKey::from_url_path(&text) {
        assert_key_invariants(&key);
        // Each segment was decoded on its own, so re-encoding and decoding is a fixpoint.
        let again = BlobKey::from_url_path(&key.to_url_path()).expect("a re-encoded key decodes");
        assert_eq!(again, key);
    }
    if let Ok(key) = BlobKey::parse(&text) {
        assert_key_invariants(&key);
        assert_eq!(key.as_str(), &*text, "parse keeps the key as sent");
    }
    if let Ok(json) = serde_json::from_str::<String>(&format!("\"{text}\"")) {
        if let Ok(key) = BlobKey::parse(&json) {
            assert_key_invariants(&key);
            assert_eq!(key.as_str(), json);
        }
    }
}

/// The invariants of an accepted key: non-empty, at most [`MAX_KEY_BYTES`], relative, no empty,
/// `.` or `..` segment, no backslash or NUL, it round-trips through [`BlobKey::to_url_path`] and
/// [`BlobKey::from_url_path`] and through [`BlobKey::parse`], and it stays below the tree it is
/// stored in.
pub fn assert_key_invariants(key: &BlobKey) {
    let s = key.as_str();
    assert!(!s.is_empty(), "empty key accepted");
    assert!(s.len() <= MAX_KEY_BYTES, "overlong key accepted: {key:?}");
    assert!(!s.starts_with('/'), "absolute key accepted: {key:?}");
    assert!(!s.contains('\\'), "backslash accepted: {key:?}");
    assert!(!s.contains('\0'), "NUL accepted: {key:?}");
    for segment in s.split('/') {
        assert!(
            !segment.is_empty() && segment != "." && segment != "..",
            "bad segment {segment:?} accepted in {key:?}"
        );
    }
    let encoded = key.to_url_path();
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%/".contains(&b)),
        "to_url_path left a reserved character: {encoded:?}"
    );
    assert_eq!(
        BlobKey::from_url_path(&encoded).as_ref(),
        Ok(key),
        "encode → decode changed the key"
    );
    assert_eq!(
        BlobKey::parse(s).as_ref(),
        Ok(key),
        "parse refused a valid key"
    );
    let tree = VPath::new("/blobs").expect("a valid tree");
    let stored = key.under(&tree).expect("a valid key joins any tree");
    assert!(
        stored.starts_with(&tree) && stored != tree,
        "{key:?} escapes the tree"
    );
    assert_eq!(stored.strip_prefix(&tree), Some(s));
}

/// `data` as the query string of a blob URL (after an optional first line, the key's URL path),
/// against a signer with [`FUZZ_SECRET`] at [`FUZZ_NOW`]. Checks, without panicking:
///
/// - the query as given verifies for a method only if its `sig` is exactly that method's
///   signature of its key and `exp`, and `exp` is later than now;
/// - the correct signature for the same key and `exp` (or `now + 60`), appended to the query,
///   verifies exactly when unexpired; with any of its bytes flipped, for another method, another
///   `exp` or another key it does not;
/// - a part signature of a resumable upload ([`UrlSigner::sign_part`]) verifies exactly when
///   unexpired, never as a blob signature, and never for another upload or part number.
pub fn check_signed_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (path, query) = match text.split_once('\n') {
        Some((path, query)) => (path, query),
        None => (FUZZ_DEFAULT_KEY, &*text),
    };
    let Ok(key) = BlobKey::from_url_path(path) else {
        return;
    };
    let signer = UrlSigner::new(FUZZ_SECRET).expect("a long enough secret");

    let (exp, sig) = exp_and_sig(query);
    if let (Some(exp), Some(sig)) = (exp, sig.as_deref()) {
        for method in ["PUT", "GET", "HEAD"] {
            if signer.verify(method, &key, exp, sig, FUZZ_NOW).is_ok() {
                assert_eq!(sig, signer.sign(method, &key, exp), "a forged sig verified");
                assert!(exp > FUZZ_NOW, "an expired URL verified");
            }
        }
    }

    let exp = exp.unwrap_or(FUZZ_NOW + 60);
    let good = signer.sign("GET", &key, exp);
    // Later pairs win, so the fuzzed pairs before ours must not disturb them.
    let signed = format!("{query}&exp={exp}&sig={good}");
    let (parsed_exp, parsed_sig) = exp_and_sig(&signed);
    assert_eq!(parsed_exp, Some(exp), "exp lost in {signed:?}");
    assert_eq!(
        parsed_sig.as_deref(),
        Some(&*good),
        "sig lost in {signed:?}"
    );
    let verdict = signer.verify("GET", &key, exp, &good, FUZZ_NOW);
    if exp > FUZZ_NOW {
        assert_eq!(verdict, Ok(()), "a correct, unexpired signature failed");
    } else {
        assert_eq!(verdict, Err(SignatureError::Expired(exp)));
    }

    let refused = |method: &str, key: &BlobKey, exp: u64, sig: &str| {
        let verdict = signer.verify(method, key, exp, sig, FUZZ_NOW);
        assert!(
            matches!(
                verdict,
                Err(SignatureError::Mismatch | SignatureError::Malformed(_))
            ),
            "{method} {key:?} exp={exp} sig={sig:?} was not refused: {verdict:?}"
        );
    };
    let seed = data.iter().fold(0u8, |acc, b| acc.wrapping_add(*b));
    for i in 0..good.len() {
        for mask in [1u8, 1 << (seed.wrapping_add(i as u8) % 7)] {
            let mut flipped = good.clone().into_bytes();
            flipped[i] ^= mask;
            let flipped = String::from_utf8(flipped).expect("an ASCII flip stays ASCII");
            refused("GET", &key, exp, &flipped);
        }
    }
    refused("PUT", &key, exp, &good);
    refused("get", &key, exp, &good);
    refused("GET", &key, exp.wrapping_add(1), &good);
    refused("GET", &key, exp.wrapping_sub(1), &good);
    let other = BlobKey::parse(&format!("{key}x"))
        .unwrap_or_else(|_| BlobKey::parse("other-store/other-file").expect("a valid key"));
    refused("GET", &other, exp, &good);
    let truncated = &good[..good.len() - 1];
    refused("GET", &key, exp, truncated);
    refused("GET", &key, exp, &format!("{good}A"));

    // Part URLs of resumable uploads: a part signature is no blob signature and the other way
    // round, and it binds its upload and part number.
    let part = u32::try_from(data.len() % 10_000).unwrap_or(0) + 1;
    let part_sig = signer.sign_part(&key, "00ff", part, exp);
    let part_verdict = signer.verify_part(&key, "00ff", part, exp, &part_sig, FUZZ_NOW);
    assert_eq!(part_verdict.is_ok(), exp > FUZZ_NOW, "{part_verdict:?}");
    for method in ["PUT", "GET", "HEAD"] {
        refused(method, &key, exp, &part_sig);
    }
    for (upload, number, sig) in [
        ("00ff", part, &*good),
        ("00fe", part, &*part_sig),
        ("00ff", part + 1, &*part_sig),
    ] {
        let verdict = signer.verify_part(&key, upload, number, exp, sig, FUZZ_NOW);
        assert_eq!(
            verdict,
            Err(SignatureError::Mismatch),
            "part {upload}/{number}"
        );
    }
}

/// `exp` (a Unix time) and `sig` from a blob URL's query string, as the blob routes read them: the
/// last pair of each name wins, and an `exp` that is no `u64` is missing.
fn exp_and_sig(query: &str) -> (Option<u64>, Option<String>) {
    let (mut exp, mut sig) = (None, None);
    for (name, value) in form_pairs(query) {
        match name.as_str() {
            "exp" => exp = Some(value),
            "sig" => sig = Some(value),
            _ => {}
        }
    }
    (exp.and_then(|e| e.parse::<u64>().ok()), sig)
}

/// `data` as a Range header value (after an optional first line, a decimal file size), parsed
/// for that size and for a few fixed ones. Never panics; a partial range lies within the file
/// (`start <= end < size`), an empty file has no partial range, and input without `bytes=`
/// is served whole.
pub fn check_range_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (size, header) = match text.split_once('\n') {
        Some((size, header)) => (size.trim().parse::<u64>().ok(), header),
        None => (None, &*text),
    };
    assert_eq!(parse_range(None, size.unwrap_or(0)), RangeRequest::Full);
    for size in size.into_iter().chain(RANGE_SIZES) {
        let range = parse_range(Some(header), size);
        match range {
            RangeRequest::Partial { start, end } => {
                assert!(
                    start <= end && end < size,
                    "{header:?} for {size} bytes gave {start}..={end}"
                );
            }
            RangeRequest::Full | RangeRequest::Unsatisfiable => {}
        }
        if !header.trim().starts_with("bytes=") {
            assert_eq!(range, RangeRequest::Full, "{header:?} is no byte range");
        }
    }
}
