//! The fs-opfs benchmark in a dedicated worker (`Strategy::SyncAccess`) in headless Chromium:
//! fs-opfs against the same OPFS calls written directly in JavaScript in the same worker (see
//! `bench_common`).
//!
//! The measurement is `#[ignore]`d; the README's extended command runs it:
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release --target
//! wasm32-unknown-unknown -p fs-opfs --test bench_worker -- --include-ignored --nocapture --exact
//! bench_worker`.
//! The normal test run runs the same code with tiny sizes and checks every byte.
#![cfg(target_arch = "wasm32")]

mod bench_common;

use bench_common::{run, Config, Context};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// The benchmark code with tiny sizes: both sides read back exactly what both sides wrote.
#[wasm_bindgen_test]
async fn bench_smoke_worker() {
    let table = run(Context::Worker, Config::smoke()).await;
    console_log!("{table}");
}

/// 64 MiB and 1,000 × 100 KiB through fs-opfs and directly in JS in the worker; prints the table.
#[wasm_bindgen_test]
#[ignore]
async fn bench_worker() {
    let table = run(Context::Worker, Config::full()).await;
    console_log!("{table}");
}
