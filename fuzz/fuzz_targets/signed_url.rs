//! Fuzzes a signed blob URL's query string (exp, sig) against a fixed secret; the checks live in
//! `filesync_server::fuzzing::check_signed_url`, which tests/fuzz_corpus.rs replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| filesync_server::fuzzing::check_signed_url(data));
