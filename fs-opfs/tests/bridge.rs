//! The fs-core conformance suite through the page→worker bridge, in headless Chromium: each case
//! gets a fresh connection (and a fresh, empty file system) on one shared worker.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::arc_with_non_send_sync)]

use std::sync::Arc;

use fs_core::conformance::Harness;
use fs_opfs::bridge::{Backend, BridgeWorker};
use wasm_bindgen_test::wasm_bindgen_test_configure;

wasm_bindgen_test_configure!(run_in_browser);

thread_local! {
    static WORKER: std::cell::RefCell<Option<std::rc::Rc<BridgeWorker>>> = const { std::cell::RefCell::new(None) };
}

async fn worker() -> std::rc::Rc<BridgeWorker> {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        return w;
    }
    let w = std::rc::Rc::new(
        BridgeWorker::spawn()
            .await
            .expect("spawn the bridge worker"),
    );
    WORKER.with(|slot| *slot.borrow_mut() = Some(w.clone()));
    w
}

async fn bridged_memory() -> Harness {
    let worker = worker().await;
    let fs = worker.connect(&Backend::Memory).await.expect("connect");
    Harness::new(Arc::new(fs))
}

fs_core::conformance_suite!(bridged_memory);
