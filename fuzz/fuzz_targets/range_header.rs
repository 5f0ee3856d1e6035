//! Fuzzes a Range header value with a file size; the checks live in
//! `filesync_server::fuzzing::check_range_header`, which tests/fuzz_corpus.rs replays on stable.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| filesync_server::fuzzing::check_range_header(data));
