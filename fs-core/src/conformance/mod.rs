//! The conformance suite: one set of cases every backend must pass.
//!
//! Each case is a public async function in [`cases`] taking an `Arc<dyn FileSystem>` with an empty
//! namespace; it panics (with a message saying what differed) when the backend misbehaves. The
//! [`conformance_suite!`](crate::conformance_suite) macro expands every case into one test of its own
//! for a given harness constructor: natively a `#[tokio::test]`, on wasm32 a `#[wasm_bindgen_test]`.
//!
//! ```ignore
//! async fn harness() -> fs_core::conformance::Harness {
//!     fs_core::conformance::Harness::new(std::sync::Arc::new(fs_core::MemoryFs::new()))
//! }
//! fs_core::conformance_suite!(harness);
//! ```
//!
//! The test crate needs `tokio` (with `macros` and `rt`) natively and `wasm-bindgen-test` on wasm32.

use std::any::Any;
use std::sync::Arc;

use crate::FileSystem;

pub mod cases;
pub mod differential;

/// A backend prepared for one case: the file system, plus whatever must stay alive while the case
/// runs (a temporary directory holding a native root, an OPFS sub-root, a worker).
pub struct Harness {
    /// The file system under test; its namespace is empty when the case starts.
    pub fs: Arc<dyn FileSystem>,
    keep_alive: Option<Box<dyn Any>>,
}

impl Harness {
    /// A harness over `fs` with nothing else to keep alive.
    pub fn new(fs: Arc<dyn FileSystem>) -> Self {
        Harness {
            fs,
            keep_alive: None,
        }
    }

    /// A harness that also owns `guard` until the case ends (dropped after the case).
    pub fn with_guard(fs: Arc<dyn FileSystem>, guard: impl Any) -> Self {
        Harness {
            fs,
            keep_alive: Some(Box::new(guard)),
        }
    }

    /// Ends the case: drops the file system, then the guard.
    pub fn finish(self) {
        let Harness { fs, keep_alive } = self;
        drop(fs);
        drop(keep_alive);
    }
}

/// Expands every conformance case into its own test, for the harness constructor `$make`
/// (`async fn() -> Harness`).
#[macro_export]
macro_rules! conformance_suite {
    ($make:path) => {
        $crate::__conformance_tests!(
            $make;
            // Every public function of `cases`, grouped by its module (read_write, open_cursor,
            // open_paths, errors, dirs, rename_copy, streams_sinks, temp, links_perms, watch,
            // hostile).
            namespace_starts_empty,
            write_then_read_through_fresh_handle,
            write_file_replaces_content,
            atomic_write_file_is_never_seen_half_done,
            write_file_string_round_trips_unicode,
            read_file_string_rejects_non_utf8,
            empty_file_round_trips,
            write_file_exclusive_keeps_existing,
            write_file_append_flag_appends,
            write_file_creating_flags_create_missing_files,
            write_file_read_write_overwrites_without_truncating,
            truncate_path_shrinks_and_grows,
            stat_reports_type_and_size,
            write_file_with_the_read_only_flag_never_writes,
            large_file_through_write_file_keeps_its_hash,
            large_file_through_sink_keeps_its_hash,
            concurrent_writes_to_different_paths_all_land,
            effect_cursor_tracking_when_reading,
            effect_cursor_tracking_when_writing,
            effect_append_mode_keeps_read_cursor,
            effect_truncate_keeps_unaffected_cursor,
            effect_truncate_clamps_cursor,
            open_read_write_overwrites_without_truncating,
            open_write_creates_and_truncates,
            open_exclusive_fails_on_existing,
            open_writable_flags_match_capability,
            seek_past_end_then_write_fills_zeros,
            seek_from_end_and_current,
            seek_before_start_is_bad_argument,
            reads_walk_the_file_in_small_pieces,
            handle_stat_tracks_writes,
            handle_truncate_grows_with_zeros_and_syncs,
            dropped_handle_keeps_written_bytes,
            read_only_handle_rejects_writes,
            write_only_handle_rejects_reads,
            append_handle_always_writes_at_end,
            read_only_handle_reads_bytes_appended_after_its_end,
            handles_keep_their_file_through_rename_replace_and_remove,
            writable_handles_of_one_file_share_it,
            sink_append_keeps_bytes_written_while_it_was_open,
            path_with_an_open_sink_stays_usable,
            read_file_errors,
            write_file_errors,
            truncate_errors,
            open_for_reading_errors,
            open_for_writing_errors,
            exclusive_create_on_a_directory_is_already_exists,
            make_dir_non_recursive,
            make_dir_recursive,
            make_dir_on_a_file_is_already_exists,
            read_dir_lists_sorted_children_with_types,
            read_dir_recursive_uses_relative_paths,
            read_dir_sorts_by_relative_path_string,
            read_dir_errors,
            remove_file_and_empty_dir,
            remove_non_empty_dir_needs_recursive,
            remove_missing_path_needs_force,
            remove_root_is_bad_argument,
            exists_distinguishes_missing_from_bad_parent,
            stat_errors,
            access_checks_existence,
            same_names_in_different_dirs_are_independent,
            rename_file_moves_content,
            rename_file_over_file_replaces,
            rename_across_directories,
            rename_directory_moves_tree,
            rename_dir_over_empty_dir_replaces,
            rename_dir_into_itself_is_bad_argument,
            rename_errors,
            rename_involving_the_root_is_bad_argument,
            rename_errors_follow_linux_precedence,
            rename_to_same_path_keeps_file,
            copy_file_copies_and_replaces,
            copy_file_onto_itself_keeps_content,
            copy_file_errors,
            copy_without_overwrite_keeps_destination,
            copy_with_overwrite_replaces,
            copy_directory_tree,
            copy_tree_checks_destination_first,
            copy_errors,
            read_stream_respects_chunk_size,
            read_stream_range_in_the_middle,
            read_stream_empty_ranges,
            read_stream_length_beyond_eof_reads_rest,
            read_stream_errors,
            read_streams_run_side_by_side,
            sink_hides_new_file_until_close,
            sink_keeps_old_content_visible_until_close,
            sink_abort_keeps_old_content,
            dropped_sink_keeps_old_content,
            sink_create_new_on_existing_path_fails,
            sink_create_new_loses_to_a_file_created_meanwhile,
            sink_append_adds_to_old_content,
            empty_sink_creates_empty_file,
            concurrent_sinks_last_close_wins,
            sink_errors,
            sinks_that_end_without_commit_leave_nothing,
            make_temp_dir_creates_unique_empty_dirs,
            make_temp_dir_honours_directory_and_prefix,
            make_temp_file_creates_empty_unique_files,
            make_temp_errors,
            temp_dir_guard_remove_deletes_tree,
            temp_dir_guard_drop_deletes_tree,
            temp_file_guard_removes_on_remove_and_drop,
            temp_guard_keep_leaves_path,
            symlinks_follow_and_list,
            symlink_errors_and_dangling_links,
            hard_links_share_content,
            permissions_chmod_and_create_modes,
            ownership_chown_to_current_owner,
            set_times_utimes,
            real_path_canonicalizes,
            watch_reports_create_update_remove,
            watch_recursive_sees_nested_changes,
            watch_missing_path_is_not_found,
            hostile_paths_are_rejected,
            odd_names_round_trip,
            encoded_looking_names_stay_literal,
            names_of_255_bytes_round_trip,
            odd_names_nest_in_recursive_listings,
            reserved_looking_names_are_ordinary,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($make:path; $($case:ident),* $(,)?) => {
        $(
            #[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
            #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
            async fn $case() {
                let harness = $make().await;
                $crate::conformance::cases::$case(harness.fs.clone()).await;
                harness.finish();
            }
        )*
    };
}
