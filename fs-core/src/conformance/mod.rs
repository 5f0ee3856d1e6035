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
            // Keep this list in the same order as the functions in `cases`.
            write_then_read_through_fresh_handle,
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
