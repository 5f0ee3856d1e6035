//! Replays the committed cargo-fuzz corpora (`fuzz/corpus/<target>/`) through the same checks the
//! fuzz targets run ([`filesync_server::fuzzing`]), so CI on stable re-checks every kept input
//! without a nightly toolchain. A missing or empty corpus directory fails the test: it must not
//! pass by finding nothing.

use std::path::{Path, PathBuf};

use filesync_server::fuzzing::{check_blob_key, check_range_header, check_signed_url};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("the corpus {} is missing: {err}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let files = corpus(target);
    for path in &files {
        let data = std::fs::read(path).expect("a readable corpus file");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(
            outcome.is_ok(),
            "{target}: {} ({:?}) fails the check",
            path.display(),
            String::from_utf8_lossy(&data)
        );
    }
    println!("{target}: {} inputs replayed", files.len());
}

#[test]
fn blob_key_corpus() {
    replay("blob_key", check_blob_key);
}

#[test]
fn signed_url_corpus() {
    replay("signed_url", check_signed_url);
}

#[test]
fn range_header_corpus() {
    replay("range_header", check_range_header);
}
