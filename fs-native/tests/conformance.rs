//! The shared conformance suite of fs-core, run against [`NativeFs`] rooted in a fresh temporary
//! directory per case.

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_native::NativeFs;

async fn native() -> Harness {
    let dir = tempfile::tempdir().expect("a temporary directory for the case");
    Harness::with_guard(Arc::new(NativeFs::new(dir.path())), dir)
}

fs_core::conformance_suite!(native);
