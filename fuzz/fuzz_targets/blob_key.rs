//! Fuzzes a blob key as a URL path and as a JSON key string; the checks live in
//! `filesync_server::fuzzing::check_blob_key`, which tests/fuzz_corpus.rs replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| filesync_server::fuzzing::check_blob_key(data));
