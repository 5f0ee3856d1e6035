//! fs-opfs on the page (the `createWritable` strategy) in headless Chromium: the shared
//! conformance suite, with and without `move()`, and OPFS specifics.
#![cfg(target_arch = "wasm32")]

mod common;

use fs_core::FileSystem;
use fs_opfs::{OpfsOptions, Strategy};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fs_core::conformance_suite!(common::harness);

/// The suite's rename and sink cases once more, with the copy fallback of `rename`.
mod without_move {
    use fs_core::conformance::cases;
    use wasm_bindgen_test::wasm_bindgen_test;

    macro_rules! cases {
        ($($case:ident),*) => {$(
            #[wasm_bindgen_test]
            async fn $case() {
                let harness = super::common::harness_without_move().await;
                cases::$case(harness.fs.clone()).await;
                harness.finish();
            }
        )*};
    }

    cases!(
        rename_file_moves_content,
        rename_file_over_file_replaces,
        rename_across_directories,
        rename_directory_moves_tree,
        rename_dir_over_empty_dir_replaces,
        rename_errors,
        sink_hides_new_file_until_close,
        concurrent_sinks_last_close_wins,
        sink_create_new_loses_to_a_file_created_meanwhile,
        odd_names_round_trip,
        names_of_255_bytes_round_trip,
        handles_keep_their_file_through_rename_replace_and_remove,
        sink_append_keeps_bytes_written_while_it_was_open,
        path_with_an_open_sink_stays_usable,
        reserved_looking_names_are_ordinary,
        rename_errors_follow_linux_precedence
    );
}

#[wasm_bindgen_test]
async fn page_uses_the_writable_strategy() {
    let (fs, _guard) = common::open_in_fresh_root("strategy", OpfsOptions::default()).await;
    assert_eq!(fs.strategy(), Strategy::Writable);
    let caps = fs.capabilities();
    assert!(!caps.random_access_write && !caps.symlinks && caps.real_path);
}

#[wasm_bindgen_test]
fn dom_exceptions_map_to_kinds() {
    common::dom_exceptions_map_to_kinds();
}

#[wasm_bindgen_test]
async fn sinks_that_end_without_commit_leave_no_temporary_file() {
    common::sinks_that_end_without_commit_leave_no_temporary_file().await;
}

#[wasm_bindgen_test]
async fn dir_cache_follows_remove_and_rename() {
    common::dir_cache_follows_remove_and_rename().await;
}

#[wasm_bindgen_test]
async fn rename_without_move_copies() {
    common::rename_without_move_copies().await;
}

#[wasm_bindgen_test]
async fn move_is_detected() {
    common::move_is_detected().await;
}

#[wasm_bindgen_test]
async fn storage_helpers_answer() {
    common::storage_helpers_answer().await;
}

#[wasm_bindgen_test]
async fn forced_sync_access_outside_worker_is_unsupported() {
    common::forced_sync_access_outside_worker_is_unsupported().await;
}

/// MemoryFs against OpfsFs on the page: the committed regressions, then fresh random sequences.
#[wasm_bindgen_test]
async fn differential_against_memory() {
    common::differential(&common::opfs_diff_pair, "page").await;
}
