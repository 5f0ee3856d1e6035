//! The runtime abstraction: spawning, sleeping, the clock and randomness (DESIGN §5).
//!
//! The engine never calls `tokio::spawn` or reads the system clock itself; it asks a [`Runtime`].
//! Implementations: `TokioRuntime` (native), `BrowserRuntime` (wasm32: `spawn_local` and
//! `setTimeout`) and, with the `test-util` feature, `SimRuntime` (a deterministic single-threaded
//! executor with a virtual clock, for tests and simulations: time only moves when every task is
//! waiting). Each counts its live tasks ([`Runtime::live_tasks`]).

use std::sync::Arc;
use std::time::Duration;

use fs_core::{MaybeSend, MaybeSendBoxFuture, MaybeSync};

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(any(test, feature = "test-util"))]
mod sim;
mod tasks;
#[cfg(not(target_arch = "wasm32"))]
mod tokio_rt;

#[cfg(target_arch = "wasm32")]
pub use browser::BrowserRuntime;
#[cfg(any(test, feature = "test-util"))]
pub use sim::SimRuntime;
pub(crate) use tasks::{Cancel, Tracked};
#[cfg(not(target_arch = "wasm32"))]
pub use tokio_rt::TokioRuntime;

/// Spawn, sleep, clock and randomness for the engine.
pub trait Runtime: MaybeSend + MaybeSync + 'static {
    /// Runs `fut` in the background; it is never awaited by the caller.
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>);
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()>;
    /// The current wall-clock time in epoch milliseconds.
    fn now_ms(&self) -> i64;
    /// A random `u64` (jitter, ids). Deterministic in the simulator for a given seed.
    fn random_u64(&self) -> u64;
    /// How many tasks spawned through this runtime have not ended yet.
    fn live_tasks(&self) -> usize;
    /// Whether the JavaScript event loop drives this runtime's tasks, so the engine may await
    /// JavaScript Promises (WebCrypto) itself. Only `BrowserRuntime` (wasm32) says yes; a runtime that
    /// polls futures on its own (the simulator) would wait forever on one.
    fn js_event_loop(&self) -> bool {
        false
    }
}

/// A shared runtime handle.
pub type SharedRuntime = Arc<dyn Runtime>;

/// Extension helpers over any [`Runtime`].
pub trait RuntimeExt: Runtime {
    /// A random value in `0..bound` (`0` when `bound` is 0).
    fn random_below(&self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.random_u64() % bound
        }
    }

    /// A new random id: 32 lowercase hex characters (128 bits), shaped like a UUID without dashes
    /// when `dashed` is false, or the 8-4-4-4-12 UUID v4 form when it is true.
    fn random_id(&self, dashed: bool) -> String {
        let hi = self.random_u64();
        let lo = self.random_u64();
        // Version 4, variant 10xx.
        let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
        let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        let hex = format!("{hi:016x}{lo:016x}");
        if dashed {
            format!(
                "{}-{}-{}-{}-{}",
                &hex[0..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..32]
            )
        } else {
            hex
        }
    }
}

impl<R: Runtime + ?Sized> RuntimeExt for R {}
