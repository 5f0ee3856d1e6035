//! [`BrowserRuntime`]: the wasm32 runtime (page or worker).

use std::cell::RefCell;
use std::time::Duration;

use fs_core::MaybeSendBoxFuture;
use wasm_bindgen::prelude::*;

use super::Runtime;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, timeout: i32) -> JsValue;
}

thread_local! {
    static RNG: RefCell<fastrand::Rng> = RefCell::new(fastrand::Rng::with_seed(
        (js_sys::Math::random() * (u64::MAX as f64)) as u64 ^ (js_sys::Date::now() as u64),
    ));
}

/// Spawns with `wasm_bindgen_futures::spawn_local`, sleeps with the global `setTimeout` (works on the
/// page and in workers), reads `Date.now()`.
#[derive(Clone, Copy, Debug, Default)]
pub struct BrowserRuntime;

impl Runtime for BrowserRuntime {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(fut);
    }

    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()> {
        let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let _ = set_timeout(&resolve, ms);
        });
        Box::pin(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        })
    }

    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    fn random_u64(&self) -> u64 {
        RNG.with(|rng| rng.borrow_mut().u64(..))
    }
}
