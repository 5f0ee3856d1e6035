//! [`BrowserRuntime`]: the wasm32 runtime (page or worker).

use std::cell::{Cell, RefCell};
use std::time::Duration;

use fs_core::MaybeSendBoxFuture;
use wasm_bindgen::prelude::*;

use super::Runtime;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, timeout: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A `setTimeout` that is cleared when the future waiting for it is dropped: a cancelled sleep
/// leaves no timer behind (in Node a pending timer keeps the process alive).
struct Timer {
    id: JsValue,
    done: bool,
}

impl Drop for Timer {
    fn drop(&mut self) {
        if !self.done {
            clear_timeout(&self.id);
        }
    }
}

thread_local! {
    static RNG: RefCell<fastrand::Rng> = RefCell::new(fastrand::Rng::with_seed(
        (js_sys::Math::random() * (u64::MAX as f64)) as u64 ^ (js_sys::Date::now() as u64),
    ));

    /// Tasks spawned through any `BrowserRuntime` of this thread that have not ended.
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Counts a task until its future is dropped.
struct Live;

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.with(|n| n.set(n.get() - 1));
    }
}

/// Spawns with `wasm_bindgen_futures::spawn_local`, sleeps with the global `setTimeout` (works on the
/// page and in workers), reads `Date.now()`. Every `BrowserRuntime` of a thread (the page, or one
/// worker) shares one count of live tasks.
#[derive(Clone, Copy, Debug, Default)]
pub struct BrowserRuntime;

impl Runtime for BrowserRuntime {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        LIVE.with(|n| n.set(n.get() + 1));
        let live = Live;
        wasm_bindgen_futures::spawn_local(async move {
            let _live = live;
            fut.await;
        });
    }

    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()> {
        let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let mut id = JsValue::UNDEFINED;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            id = set_timeout(&resolve, ms);
        });
        let timer = Timer { id, done: false };
        Box::pin(async move {
            let mut timer = timer;
            // A rejected timer promise cannot happen (nothing rejects it); either way it is over.
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            timer.done = true;
        })
    }

    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    fn random_u64(&self) -> u64 {
        RNG.with(|rng| rng.borrow_mut().u64(..))
    }

    fn live_tasks(&self) -> usize {
        LIVE.with(Cell::get)
    }

    fn js_event_loop(&self) -> bool {
        true
    }
}
