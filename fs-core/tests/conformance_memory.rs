//! The conformance suite against MemoryFs (natively and on wasm32).

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_core::MemoryFs;

async fn memory() -> Harness {
    Harness::new(Arc::new(MemoryFs::new()))
}

fs_core::conformance_suite!(memory);
