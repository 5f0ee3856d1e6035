//! fs-opfs in a dedicated worker (the sync access handle strategy) in headless Chromium: the shared
//! conformance suite, the page strategy forced in the worker, and lock contention.
#![cfg(target_arch = "wasm32")]

mod common;

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_core::FileSystem;
use fs_opfs::{OpfsOptions, Strategy};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fs_core::conformance_suite!(common::harness);

/// The suite with the page strategy forced in the worker (what a benchmark compares against).
mod forced_writable {
    use super::*;

    async fn harness() -> Harness {
        let options = OpfsOptions {
            strategy: Some(Strategy::Writable),
            ..OpfsOptions::default()
        };
        let (fs, guard) = common::open_in_fresh_root("forced-writable", options).await;
        assert_eq!(fs.strategy(), Strategy::Writable);
        #[allow(clippy::arc_with_non_send_sync)]
        Harness::with_guard(Arc::new(fs), guard)
    }

    fs_core::conformance_suite!(harness);
}

#[wasm_bindgen_test]
async fn worker_uses_sync_access_handles() {
    let (fs, _guard) = common::open_in_fresh_root("strategy", OpfsOptions::default()).await;
    assert_eq!(fs.strategy(), Strategy::SyncAccess);
    assert!(fs.capabilities().random_access_write);
}

#[wasm_bindgen_test]
async fn other_instances_wait_for_this_ones_handles() {
    common::other_instances_wait_for_this_ones_handles().await;
}

#[wasm_bindgen_test]
async fn copy_onto_an_open_file_goes_through_its_handle() {
    common::copy_onto_an_open_file_goes_through_its_handle().await;
}

#[wasm_bindgen_test]
async fn sinks_that_end_without_commit_leave_no_temporary_file() {
    common::sinks_that_end_without_commit_leave_no_temporary_file().await;
}

#[wasm_bindgen_test]
async fn concurrent_opens_and_moves_share_the_file() {
    common::concurrent_opens_and_moves_share_the_file().await;
}

#[wasm_bindgen_test]
async fn dir_cache_follows_remove_and_rename() {
    common::dir_cache_follows_remove_and_rename().await;
}

#[wasm_bindgen_test]
async fn rename_without_move_copies() {
    common::rename_without_move_copies().await;
}

/// MemoryFs against OpfsFs in a dedicated worker: the committed regressions, then fresh random
/// sequences.
#[wasm_bindgen_test]
async fn differential_against_memory() {
    common::differential(&common::opfs_diff_pair, "worker").await;
}
