//! The conformance suite against MemoryFs (natively and on wasm32), twice: as it is (every
//! capability), and behind a wrapper that claims only what OPFS on a page can do, so the suite's
//! `Unsupported` branches run too.

mod common;

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_core::MemoryFs;

async fn memory() -> Harness {
    Harness::new(Arc::new(MemoryFs::new()))
}

fs_core::conformance_suite!(memory);

/// The suite against MemoryFs limited to what OPFS on a page can do.
mod limited {
    use std::sync::Arc;

    use fs_core::conformance::Harness;

    use super::common::{Altered, Change};

    async fn limited_memory() -> Harness {
        Harness::new(Arc::new(Altered::new(Change::Limited)))
    }

    fs_core::conformance_suite!(limited_memory);
}
