//! Cancellation and task tracking shared by the engine and the runtimes.
//!
//! - [`Cancel`]: a signal that many futures can wait for; [`Cancel::run`] drops the future it
//!   guards as soon as the signal fires (the transfer stops at its next await point, between two
//!   chunks, never later).
//! - [`TaskCount`]: the number of live tasks, and a future that completes when it drops to zero.
//! - [`Tracked`]: a [`Runtime`] that counts the tasks spawned through it, so the engine's `stop()`
//!   can wait for exactly its own tasks.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use fs_core::MaybeSendBoxFuture;
use futures::channel::oneshot;
use futures::future::{select, Either, FutureExt, Shared};

use super::{Runtime, SharedRuntime};

/// A signal that fires once; clones share it.
#[derive(Clone)]
pub(crate) struct Cancel {
    fired: Arc<AtomicBool>,
    sender: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    receiver: Shared<oneshot::Receiver<()>>,
}

impl Default for Cancel {
    fn default() -> Self {
        let (sender, receiver) = oneshot::channel();
        Cancel {
            fired: Arc::default(),
            sender: Arc::new(Mutex::new(Some(sender))),
            receiver: receiver.shared(),
        }
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("fired", &self.is_cancelled())
            .finish()
    }
}

impl Cancel {
    /// Fires the signal (again: nothing happens).
    pub(crate) fn cancel(&self) {
        self.fired.store(true, Ordering::SeqCst);
        // Dropping the sender completes every waiting receiver.
        drop(self.sender.lock().unwrap_or_else(|p| p.into_inner()).take());
    }

    /// Whether the signal fired.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Completes when the signal fires.
    pub(crate) async fn cancelled(&self) {
        let _ = self.receiver.clone().await;
    }

    /// Runs `fut` until it completes (`Some`) or the signal fires (`None`; `fut` is dropped then).
    /// A signal that fired before the call returns `None` without polling `fut`.
    pub(crate) async fn run<F: Future>(&self, fut: F) -> Option<F::Output> {
        if self.is_cancelled() {
            return None;
        }
        let fut = pin!(fut);
        let cancelled = pin!(self.cancelled());
        match select(fut, cancelled).await {
            Either::Left((out, _)) => Some(out),
            Either::Right(((), _)) => None,
        }
    }
}

/// A count of live tasks.
#[derive(Default)]
pub(crate) struct TaskCount {
    state: Mutex<(usize, Vec<Waker>)>,
}

impl TaskCount {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, Vec<Waker>)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live tasks now.
    pub(crate) fn get(&self) -> usize {
        self.lock().0
    }

    fn add(self: &Arc<Self>) -> TaskGuard {
        self.lock().0 += 1;
        TaskGuard(self.clone())
    }

    /// Completes when no task is live.
    pub(crate) fn idle(&self) -> Idle<'_> {
        Idle(self)
    }
}

/// Counts one task while it lives (dropped with the task's future, run or not).
pub(crate) struct TaskGuard(Arc<TaskCount>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let wakers = {
            let mut st = self.0.lock();
            st.0 -= 1;
            if st.0 == 0 {
                std::mem::take(&mut st.1)
            } else {
                Vec::new()
            }
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// The future of [`TaskCount::idle`].
pub(crate) struct Idle<'a>(&'a TaskCount);

impl Future for Idle<'_> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.0.lock();
        if st.0 == 0 {
            return Poll::Ready(());
        }
        if !st.1.iter().any(|w| w.will_wake(cx.waker())) {
            st.1.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A runtime that counts what is spawned through it (and delegates everything to another).
pub(crate) struct Tracked {
    runtime: SharedRuntime,
    tasks: Arc<TaskCount>,
}

impl Tracked {
    /// Tracks the tasks spawned through the result on `runtime`.
    pub(crate) fn new(runtime: SharedRuntime) -> Self {
        Tracked {
            runtime,
            tasks: Arc::default(),
        }
    }

    /// The count of the tasks spawned through this runtime that have not ended.
    pub(crate) fn tasks(&self) -> &TaskCount {
        &self.tasks
    }
}

impl Runtime for Tracked {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        let guard = self.tasks.add();
        self.runtime.spawn(Box::pin(async move {
            let _guard = guard;
            fut.await;
        }));
    }

    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()> {
        self.runtime.sleep(duration)
    }

    fn now_ms(&self) -> i64 {
        self.runtime.now_ms()
    }

    fn random_u64(&self) -> u64 {
        self.runtime.random_u64()
    }

    fn live_tasks(&self) -> usize {
        self.tasks.get()
    }

    fn js_event_loop(&self) -> bool {
        self.runtime.js_event_loop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::SimRuntime;

    #[test]
    fn run_drops_the_future_when_the_signal_fires() {
        let rt = SimRuntime::new(1, 0);
        let cancel = Cancel::default();
        let c2 = cancel.clone();
        let sleeper = rt.clone();
        let canceller = rt.clone();
        let out = rt
            .run_until(
                async move {
                    canceller.spawn(Box::pin({
                        let c = c2.clone();
                        let r = canceller.clone();
                        async move {
                            r.sleep(Duration::from_secs(1)).await;
                            c.cancel();
                        }
                    }));
                    c2.run(sleeper.sleep(Duration::from_secs(60))).await
                },
                Duration::from_secs(120),
            )
            .unwrap();
        assert_eq!(out, None);
        assert!(cancel.is_cancelled());
        assert_eq!(
            rt.now(),
            1_000,
            "stopped when the signal fired, not after 60 s"
        );
        // Fired already: nothing is polled.
        let polled = Arc::new(AtomicBool::new(false));
        let p = polled.clone();
        let again = futures::executor::block_on(cancel.run(async move {
            p.store(true, Ordering::SeqCst);
        }));
        assert_eq!(again, None);
        assert!(!polled.load(Ordering::SeqCst));
    }

    #[test]
    fn run_returns_the_output_when_no_signal_fires() {
        let cancel = Cancel::default();
        assert_eq!(
            futures::executor::block_on(cancel.run(async { 7 })),
            Some(7)
        );
    }

    #[test]
    fn tracked_counts_tasks_until_they_end_or_are_dropped() {
        let rt = SimRuntime::new(1, 0);
        let tracked = Arc::new(Tracked::new(Arc::new(rt.clone())));
        let r = rt.clone();
        tracked.spawn(Box::pin(
            async move { r.sleep(Duration::from_secs(5)).await },
        ));
        tracked.spawn(Box::pin(async {}));
        assert_eq!(tracked.live_tasks(), 2);
        let t = tracked.clone();
        rt.run_until(
            async move { t.tasks().idle().await },
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(tracked.live_tasks(), 0);
        assert_eq!(rt.now(), 5_000);
    }
}
