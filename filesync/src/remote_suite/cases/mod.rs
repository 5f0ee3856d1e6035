//! The cases of the remote suite (see the module docs of
//! [`crate::remote_suite`](mod@crate::remote_suite)), grouped by area and re-exported flat so the
//! macro can name each one.
//!
//! Every case takes the harness, uses keys of its own (under [`RemoteHarness::key_prefix`] and a
//! random segment), and panics with a message naming the call and the expected and actual outcome.
//! Errors are checked by [`RemoteErrorKind`](crate::RemoteErrorKind) and by the key they carry,
//! never by message. Content comes from fixed seeds, so a failure reproduces.
//!
//! - uploads: `health_answers`, `single_upload_round_trips`, `empty_object_round_trips`,
//!   `upload_without_content_type_is_served_as_octet_stream`, `repeated_upload_is_harmless`,
//!   `local_read_errors_are_local_and_store_nothing`;
//! - resumable: `resumable_upload_goes_in_parts`, `interrupted_upload_resumes_from_the_parts_stored`,
//!   `unusable_resume_tokens_start_afresh`;
//! - downloads: `ranged_download_returns_the_tail`, `cut_download_resumes_from_its_offset`,
//!   `missing_key_is_not_found`, `delete_removes_and_a_missing_key_is_fine`;
//! - refusals: `bytes_that_do_not_hash_to_the_key_are_rejected`, `uploads_over_the_limit_are_too_large`,
//!   `malformed_content_types_are_rejected`, `invalid_keys_are_rejected`,
//!   `refused_credentials_are_unauthorized`, `keys_outside_the_prefixes_are_forbidden`;
//! - signed URLs: `signed_url_expiry_follows_the_ttl`, `signed_url_serves_the_bytes`,
//!   `signed_url_stops_working_after_expiry`;
//! - conditions: `offline_remote_is_offline`, `answers_slower_than_the_timeout_are_offline`.

#[allow(unused_imports)] // for the docs' links
use super::RemoteHarness;

/// Returns `Outcome::Skipped` from the case when the harness cannot provide a hook.
macro_rules! need {
    ($hook:expr) => {
        match $hook {
            Ok(value) => value,
            Err(skip) => return $crate::remote_suite::Outcome::Skipped(skip),
        }
    };
}

mod conditions;
mod downloads;
mod refusals;
mod resumable;
mod signed_urls;
mod uploads;

pub use conditions::*;
pub use downloads::*;
pub use refusals::*;
pub use resumable::*;
pub use signed_urls::*;
pub use uploads::*;
