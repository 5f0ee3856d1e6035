//! The remote behaviour suite (feature `test-util`): one set of named cases every
//! [`RemoteStorage`] must pass, so that `MemoryRemote` (which the engine's tests and the simulation
//! run on), `HttpRemote` and `BrowserHttpRemote` (against the real server) are held to the same
//! behaviour.
//!
//! A subject implements [`RemoteHarness`]: the remote under test plus optional hooks for what it
//! can set up (refused credentials, a key prefix the credentials do not cover, the upload limit,
//! an offline remote, a slow one, a short URL lifetime, fetching a signed URL). The
//! [`remote_suite!`](crate::remote_suite!) macro expands every case of [`cases`] into a test of its
//! own (natively a `#[tokio::test]`, on wasm32 a `#[wasm_bindgen_test]`). A case whose hook the
//! harness cannot provide must be listed in the macro's `skip` block with the reason: it becomes an
//! ignored test showing that reason (`#[ignore = "..."]`). A case that finds a hook missing without
//! being listed fails, and so does a listed case that could run (under `--include-ignored`): no case
//! passes by skipping.
//!
//! ```ignore
//! struct Memory { /* ... */ }
//! impl filesync::remote_suite::RemoteHarness for Memory { /* ... */ }
//! async fn memory() -> Memory { /* ... */ }
//! filesync::remote_suite!(memory, skip {
//!     answers_slower_than_the_timeout_are_offline: "MemoryRemote has no client timeout",
//! });
//! ```
//!
//! The test crate needs `tokio` (with `macros` and `rt`) natively and `wasm-bindgen-test` on wasm32.
//! Cases take keys under [`RemoteHarness::key_prefix`] plus a random segment of their own, so a
//! server that outlives a run (the browser tests' `filesync serve`) never sees a key twice.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{MaybeSend, MaybeSync};

use crate::runtime::SharedRuntime;
use crate::services::remote_storage::{RemoteStorage, SignedUrl};

pub mod cases;
mod support;

/// A remote under test, shared.
pub type SharedRemote = Arc<dyn RemoteStorage>;

/// Why a harness cannot set something up (the reason is shown when the case is skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Skip {
    /// A reason.
    pub fn new(reason: impl Into<String>) -> Skip {
        Skip(reason.into())
    }
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A remote whose credentials cover only keys under `allowed_prefix`.
pub struct Limited {
    /// The remote with the limited credentials.
    pub remote: SharedRemote,
    /// The prefix its credentials cover (the cases put their permitted keys under it, and their
    /// forbidden ones under [`RemoteHarness::key_prefix`], which must not start with it).
    pub allowed_prefix: String,
}

/// A remote whose answers come later than its client waits.
pub struct Slow {
    /// The remote.
    pub remote: SharedRemote,
    /// The client's timeout: calls must fail (`Offline`) soon after it.
    pub timeout: Duration,
}

/// A remote whose signed URLs expire soon.
pub struct ShortTtl {
    /// The remote (its own objects: the case uploads through it).
    pub remote: SharedRemote,
    /// How long its signed URLs work.
    pub ttl: Duration,
}

/// The answer to a plain GET of a signed URL.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

/// A subject of the suite: the remote under test and what else it can set up.
///
/// The required methods describe the remote every subject has; the optional ones answer
/// `Err(Skip)` by default (the cases that need them are then skipped, see the module docs).
#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
pub trait RemoteHarness: MaybeSend + MaybeSync {
    /// A short name for messages (`"MemoryRemote"`).
    fn name(&self) -> &str;

    /// The runtime the cases sleep on and read the time from (the clock the remote's expiries
    /// follow).
    fn runtime(&self) -> SharedRuntime;

    /// The remote under test with full credentials. Uploads of at least [`Self::part_size`] bytes
    /// go through its resumable protocol, smaller ones in one request.
    fn remote(&self) -> SharedRemote;

    /// The same remote (same objects and credentials) sending every upload in one request.
    fn single_request_remote(&self) -> SharedRemote;

    /// The part size of resumable uploads (a multiple of 64 KiB): an interrupted upload keeps the
    /// whole parts that arrived.
    fn part_size(&self) -> u64;

    /// How long the signed URLs of [`Self::remote`] work.
    fn url_ttl(&self) -> Duration;

    /// Whether an upload of a content-addressed key the remote already holds (same length) sends
    /// nothing: our server answers `skipIfStored` with `alreadyStored` (default: false).
    fn skips_stored_uploads(&self) -> bool {
        false
    }

    /// How many times a resumable upload reads each part of its local bytes: 1, or 2 when the
    /// remote needs each part's checksum before the part is sent (S3 storage signs it), which
    /// the client computes from a first read.
    fn reads_per_part(&self) -> u64 {
        1
    }

    /// The prefix of every key the cases use (default `remote-suite/`).
    fn key_prefix(&self) -> String {
        "remote-suite/".to_owned()
    }

    /// A remote on the same objects whose credentials the remote refuses (401).
    fn refused_credentials(&self) -> Result<SharedRemote, Skip> {
        Err(Skip::new("the harness cannot make refused credentials"))
    }

    /// A remote on the same objects whose credentials cover only some keys (403 for others).
    fn limited(&self) -> Result<Limited, Skip> {
        Err(Skip::new(
            "the harness cannot make credentials limited to a prefix",
        ))
    }

    /// The largest upload [`Self::remote`] accepts.
    fn max_upload_bytes(&self) -> Result<u64, Skip> {
        Err(Skip::new("the harness does not know the upload limit"))
    }

    /// A remote that cannot be reached (for instance a closed 127.0.0.1 port).
    fn offline(&self) -> Result<SharedRemote, Skip> {
        Err(Skip::new("the harness cannot make an unreachable remote"))
    }

    /// A remote that answers later than its client's timeout.
    fn slow(&self) -> Result<Slow, Skip> {
        Err(Skip::new("the harness cannot make a slow remote"))
    }

    /// A remote whose signed URLs expire within seconds.
    fn short_ttl(&self) -> Result<ShortTtl, Skip> {
        Err(Skip::new("the harness cannot shorten the URL lifetime"))
    }

    /// Whether [`Self::fetch`] works.
    fn can_fetch(&self) -> Result<(), Skip> {
        Err(Skip::new("the harness cannot fetch signed URLs"))
    }

    /// A plain GET of a signed URL (with its headers), without the remote's credentials.
    async fn fetch(&self, url: &SignedUrl) -> Result<Fetched, String> {
        let _ = url;
        Err("the harness cannot fetch signed URLs".to_owned())
    }
}

/// How a case ended when it did not panic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// The harness could not set the case up.
    Skipped(Skip),
}

/// Ends the test of `case` on `harness` (called by the tests [`remote_suite!`](crate::remote_suite!)
/// makes): a skip is printed and must have been declared (`declared`: whether the case is in the
/// macro's `skip` block); a declared case that ran fails.
pub fn conclude(case: &str, harness: &dyn RemoteHarness, outcome: Outcome, declared: bool) {
    let subject = harness.name();
    match (outcome, declared) {
        (Outcome::Passed, false) => {}
        (Outcome::Skipped(why), true) => {
            say(&format!("remote suite: {case} skipped on {subject}: {why}"));
        }
        (Outcome::Skipped(why), false) => panic!(
            "remote suite: {case} could not run on {subject}: {why}; give the harness what the case \
             needs, or list the case in the `skip` block of remote_suite! with the reason"
        ),
        (Outcome::Passed, true) => panic!(
            "remote suite: {case} is listed in the `skip` block for {subject} but the harness \
             provided what it needs and it passed; remove it from the list"
        ),
    }
}

/// Prints a line that the test harness does not capture.
fn say(line: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    #[cfg(target_arch = "wasm32")]
    console_log(line);
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen::prelude::wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(line: &str);
}

/// Expands every case of the remote suite into its own test, for the harness constructor `$make`
/// (`async fn() -> impl RemoteHarness`). Cases the harness cannot set up go in the `skip` block,
/// each with its reason; they become ignored tests.
#[macro_export]
macro_rules! remote_suite {
    ($make:path) => {
        $crate::remote_suite!($make, skip {});
    };
    ($make:path, skip { $($skips:tt)* }) => {
        $crate::__remote_suite_check_skips!($($skips)*);
        $crate::__remote_suite_cases!(
            $make; { $($skips)* };
            // Every public function of `remote_suite::cases`, in the order of the module docs.
            health_answers,
            single_upload_round_trips,
            empty_object_round_trips,
            upload_without_content_type_is_served_as_octet_stream,
            repeated_upload_is_harmless,
            resumable_upload_goes_in_parts,
            interrupted_upload_resumes_from_the_parts_stored,
            unusable_resume_tokens_start_afresh,
            local_read_errors_are_local_and_store_nothing,
            ranged_download_returns_the_tail,
            cut_download_resumes_from_its_offset,
            missing_key_is_not_found,
            delete_removes_and_a_missing_key_is_fine,
            bytes_that_do_not_hash_to_the_key_are_rejected,
            uploads_over_the_limit_are_too_large,
            malformed_content_types_are_rejected,
            invalid_keys_are_rejected,
            refused_credentials_are_unauthorized,
            keys_outside_the_prefixes_are_forbidden,
            signed_url_expiry_follows_the_ttl,
            signed_url_serves_the_bytes,
            signed_url_stops_working_after_expiry,
            offline_remote_is_offline,
            answers_slower_than_the_timeout_are_offline,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_cases {
    ($make:path; $skips:tt; $($case:ident),* $(,)?) => {
        $( $crate::__remote_suite_case!($make; $case; $skips); )*
    };
}

/// One case: an ignored test when `$case` is in the skip block, else a test.
#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_case {
    ($make:path; $case:ident; {}) => {
        #[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        async fn $case() {
            let harness = $make().await;
            let outcome = $crate::remote_suite::cases::$case(&harness).await;
            $crate::remote_suite::conclude(stringify!($case), &harness, outcome, false);
        }
    };
    ($make:path; $case:ident; { $skip:ident : $why:tt $(, $($rest:tt)*)? }) => {
        $crate::__remote_suite_same!($skip $case {
            #[cfg_attr(not(target_arch = "wasm32"), tokio::test)]
            #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
            #[ignore = $why]
            async fn $case() {
                let harness = $make().await;
                let outcome = $crate::remote_suite::cases::$case(&harness).await;
                $crate::remote_suite::conclude(stringify!($case), &harness, outcome, true);
            }
        } {
            $crate::__remote_suite_case!($make; $case; { $($($rest)*)? });
        });
    };
}

/// `$then` when the two idents are the same case name, else `$else` (macro_rules cannot compare
/// idents, so every case name has an arm).
#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_same {
    (health_answers health_answers $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (single_upload_round_trips single_upload_round_trips $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (empty_object_round_trips empty_object_round_trips $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (upload_without_content_type_is_served_as_octet_stream upload_without_content_type_is_served_as_octet_stream $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (repeated_upload_is_harmless repeated_upload_is_harmless $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (resumable_upload_goes_in_parts resumable_upload_goes_in_parts $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (interrupted_upload_resumes_from_the_parts_stored interrupted_upload_resumes_from_the_parts_stored $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (unusable_resume_tokens_start_afresh unusable_resume_tokens_start_afresh $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (local_read_errors_are_local_and_store_nothing local_read_errors_are_local_and_store_nothing $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (ranged_download_returns_the_tail ranged_download_returns_the_tail $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (cut_download_resumes_from_its_offset cut_download_resumes_from_its_offset $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (missing_key_is_not_found missing_key_is_not_found $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (delete_removes_and_a_missing_key_is_fine delete_removes_and_a_missing_key_is_fine $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (bytes_that_do_not_hash_to_the_key_are_rejected bytes_that_do_not_hash_to_the_key_are_rejected $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (uploads_over_the_limit_are_too_large uploads_over_the_limit_are_too_large $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (malformed_content_types_are_rejected malformed_content_types_are_rejected $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (invalid_keys_are_rejected invalid_keys_are_rejected $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (refused_credentials_are_unauthorized refused_credentials_are_unauthorized $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (keys_outside_the_prefixes_are_forbidden keys_outside_the_prefixes_are_forbidden $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (signed_url_expiry_follows_the_ttl signed_url_expiry_follows_the_ttl $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (signed_url_serves_the_bytes signed_url_serves_the_bytes $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (signed_url_stops_working_after_expiry signed_url_stops_working_after_expiry $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (offline_remote_is_offline offline_remote_is_offline $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    (answers_slower_than_the_timeout_are_offline answers_slower_than_the_timeout_are_offline $t:tt $e:tt) => {
        $crate::__remote_suite_out!($t);
    };
    ($a:ident $b:ident $t:tt $e:tt) => {
        $crate::__remote_suite_out!($e);
    };
}

/// Fails the build when a `skip` entry names no case.
#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_check_skips {
    () => {};
    ($skip:ident : $why:tt $(, $($rest:tt)*)?) => {
        $crate::__remote_suite_known!($skip);
        $crate::__remote_suite_check_skips!($($($rest)*)?);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_known {
    (health_answers) => {};
    (single_upload_round_trips) => {};
    (empty_object_round_trips) => {};
    (upload_without_content_type_is_served_as_octet_stream) => {};
    (repeated_upload_is_harmless) => {};
    (resumable_upload_goes_in_parts) => {};
    (interrupted_upload_resumes_from_the_parts_stored) => {};
    (unusable_resume_tokens_start_afresh) => {};
    (local_read_errors_are_local_and_store_nothing) => {};
    (ranged_download_returns_the_tail) => {};
    (cut_download_resumes_from_its_offset) => {};
    (missing_key_is_not_found) => {};
    (delete_removes_and_a_missing_key_is_fine) => {};
    (bytes_that_do_not_hash_to_the_key_are_rejected) => {};
    (uploads_over_the_limit_are_too_large) => {};
    (malformed_content_types_are_rejected) => {};
    (invalid_keys_are_rejected) => {};
    (refused_credentials_are_unauthorized) => {};
    (keys_outside_the_prefixes_are_forbidden) => {};
    (signed_url_expiry_follows_the_ttl) => {};
    (signed_url_serves_the_bytes) => {};
    (signed_url_stops_working_after_expiry) => {};
    (offline_remote_is_offline) => {};
    (answers_slower_than_the_timeout_are_offline) => {};
    ($other:ident) => {
        compile_error!(concat!(
            "remote_suite!: no case is named ",
            stringify!($other)
        ));
    };
}

/// The tokens inside a `{ ... }` group.
#[doc(hidden)]
#[macro_export]
macro_rules! __remote_suite_out {
    ({ $($tokens:tt)* }) => { $($tokens)* };
}
