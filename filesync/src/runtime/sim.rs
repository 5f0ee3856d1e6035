//! [`SimRuntime`]: a deterministic executor with a virtual clock.
//!
//! Tasks run on the thread that drives the runtime ([`SimRuntime::run_until`] or
//! [`SimRuntime::run_until_idle`]), in the order they were woken. When no task can make progress the
//! clock jumps to the earliest pending timer. With the same seed and the same inputs a run is the same
//! every time, so a failing simulation can be replayed from its seed.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use fs_core::MaybeSendBoxFuture;

use super::Runtime;

type TaskFuture = MaybeSendBoxFuture<'static, ()>;

/// The ready queue: ids of tasks woken since they were last polled.
#[derive(Default)]
struct Ready {
    queue: VecDeque<u64>,
    queued: HashSet<u64>,
}

/// A task's waker: it only knows the task's id, so it is `Send + Sync` even when the task's future
/// is not (wasm32).
struct TaskWaker {
    id: u64,
    ready: Arc<Mutex<Ready>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut ready = lock(&self.ready);
        if ready.queued.insert(self.id) {
            ready.queue.push_back(self.id);
        }
    }
}

struct Timer {
    fired: bool,
    waker: Option<Waker>,
}

struct State {
    now_ms: i64,
    next_id: u64,
    timers: BTreeMap<(i64, u64), Arc<Mutex<Timer>>>,
    rng: fastrand::Rng,
    live_tasks: usize,
}

/// A deterministic single-threaded executor with a virtual clock (see the module docs).
#[derive(Clone)]
pub struct SimRuntime {
    state: Arc<Mutex<State>>,
    ready: Arc<Mutex<Ready>>,
    tasks: Arc<Mutex<HashMap<u64, TaskFuture>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why [`SimRuntime::run_until`] stopped without the future completing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimStall {
    /// No task can run and no timer is pending: the future waits for something that never happens.
    Deadlock,
    /// The virtual clock passed the limit given.
    TimeLimit,
}

impl std::fmt::Display for SimStall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimStall::Deadlock => write!(f, "no task can run and no timer is pending"),
            SimStall::TimeLimit => write!(f, "the virtual time limit was reached"),
        }
    }
}

impl std::error::Error for SimStall {}

struct Sleep {
    timer: Arc<Mutex<Timer>>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut timer = lock(&self.timer);
        if timer.fired {
            Poll::Ready(())
        } else {
            timer.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl SimRuntime {
    /// A runtime whose clock starts at `start_ms` (epoch ms) and whose randomness comes from `seed`.
    pub fn new(seed: u64, start_ms: i64) -> Self {
        SimRuntime {
            state: Arc::new(Mutex::new(State {
                now_ms: start_ms,
                next_id: 0,
                timers: BTreeMap::new(),
                rng: fastrand::Rng::with_seed(seed),
                live_tasks: 0,
            })),
            ready: Arc::new(Mutex::new(Ready::default())),
            tasks: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The virtual time, epoch ms.
    pub fn now(&self) -> i64 {
        lock(&self.state).now_ms
    }

    /// How many spawned tasks have not finished.
    pub fn live_tasks(&self) -> usize {
        lock(&self.state).live_tasks
    }

    /// Moves the clock forward by `duration`, firing the timers that fall due, then runs every task
    /// that can run.
    pub fn advance(&self, duration: Duration) {
        let target = lock(&self.state).now_ms + duration_ms(duration);
        loop {
            self.run_ready();
            let due = {
                let mut state = lock(&self.state);
                match state.timers.keys().next().copied() {
                    Some(key) if key.0 <= target => {
                        state.now_ms = state.now_ms.max(key.0);
                        state.timers.remove(&key)
                    }
                    _ => {
                        state.now_ms = target;
                        None
                    }
                }
            };
            match due {
                Some(timer) => fire(&timer),
                None => break,
            }
        }
        self.run_ready();
    }

    /// Runs tasks (and the clock) until no task can run and no timer is pending, or the clock has
    /// moved `limit` past its value at the call. Returns `false` when the limit was reached.
    pub fn run_until_idle(&self, limit: Duration) -> bool {
        let deadline = lock(&self.state).now_ms + duration_ms(limit);
        loop {
            self.run_ready();
            if !self.fire_next(deadline) {
                return lock(&self.state).timers.is_empty();
            }
        }
    }

    /// Drives `fut` (and every spawned task) to completion on the calling thread, moving the virtual
    /// clock whenever everything waits. Fails when nothing can make progress any more, or when the
    /// clock moved more than `limit`.
    pub fn run_until<T: 'static>(
        &self,
        fut: impl Future<Output = T> + 'static,
        limit: Duration,
    ) -> Result<T, SimStall> {
        let deadline = lock(&self.state).now_ms + duration_ms(limit);
        let mut fut = Box::pin(fut);
        let main = Arc::new(MainWake {
            woken: Mutex::new(true),
        });
        let waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&waker);
        loop {
            if std::mem::take(&mut *lock(&main.woken)) {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return Ok(v);
                }
            }
            let ran = self.run_ready();
            if ran || *lock(&main.woken) {
                continue;
            }
            if !self.fire_next(deadline) {
                let empty = lock(&self.state).timers.is_empty();
                return Err(if empty {
                    SimStall::Deadlock
                } else {
                    SimStall::TimeLimit
                });
            }
        }
    }

    /// Fires the earliest timer if it is due by `deadline`, moving the clock. False when none is.
    fn fire_next(&self, deadline: i64) -> bool {
        let due = {
            let mut state = lock(&self.state);
            match state.timers.keys().next().copied() {
                Some(key) if key.0 <= deadline => {
                    state.now_ms = state.now_ms.max(key.0);
                    state.timers.remove(&key)
                }
                _ => None,
            }
        };
        match due {
            Some(timer) => {
                fire(&timer);
                true
            }
            None => false,
        }
    }

    /// Polls every task that is ready, until none is. True when at least one task was polled.
    fn run_ready(&self) -> bool {
        let mut ran = false;
        loop {
            let id = {
                let mut ready = lock(&self.ready);
                let Some(id) = ready.queue.pop_front() else {
                    return ran;
                };
                ready.queued.remove(&id);
                id
            };
            ran = true;
            let Some(mut fut) = lock(&self.tasks).remove(&id) else {
                continue;
            };
            let waker = Waker::from(Arc::new(TaskWaker {
                id,
                ready: self.ready.clone(),
            }));
            let mut cx = Context::from_waker(&waker);
            match fut.as_mut().poll(&mut cx) {
                Poll::Ready(()) => lock(&self.state).live_tasks -= 1,
                Poll::Pending => {
                    lock(&self.tasks).insert(id, fut);
                }
            }
        }
    }
}

struct MainWake {
    woken: Mutex<bool>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        *lock(&self.woken) = true;
    }
}

fn fire(timer: &Arc<Mutex<Timer>>) {
    let waker = {
        let mut t = lock(timer);
        t.fired = true;
        t.waker.take()
    };
    if let Some(w) = waker {
        w.wake();
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl Runtime for SimRuntime {
    fn spawn(&self, fut: MaybeSendBoxFuture<'static, ()>) {
        let id = {
            let mut state = lock(&self.state);
            state.next_id += 1;
            state.live_tasks += 1;
            state.next_id
        };
        lock(&self.tasks).insert(id, fut);
        let mut ready = lock(&self.ready);
        ready.queued.insert(id);
        ready.queue.push_back(id);
    }

    fn sleep(&self, duration: Duration) -> MaybeSendBoxFuture<'static, ()> {
        let timer = Arc::new(Mutex::new(Timer {
            fired: false,
            waker: None,
        }));
        {
            let mut state = lock(&self.state);
            state.next_id += 1;
            let key = (state.now_ms + duration_ms(duration), state.next_id);
            state.timers.insert(key, timer.clone());
        }
        Box::pin(Sleep { timer })
    }

    fn now_ms(&self) -> i64 {
        lock(&self.state).now_ms
    }

    fn live_tasks(&self) -> usize {
        SimRuntime::live_tasks(self)
    }

    fn random_u64(&self) -> u64 {
        lock(&self.state).rng.u64(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeExt;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn sleeps_complete_in_virtual_time_order() {
        let rt = SimRuntime::new(1, 1_000);
        let log = Arc::new(Mutex::new(Vec::new()));
        for (name, ms) in [("b", 200u64), ("a", 100), ("c", 300)] {
            let rt2 = rt.clone();
            let log = log.clone();
            rt.spawn(Box::pin(async move {
                rt2.sleep(Duration::from_millis(ms)).await;
                lock(&log).push((name, rt2.now()));
            }));
        }
        assert!(rt.run_until_idle(Duration::from_secs(10)));
        assert_eq!(*lock(&log), vec![("a", 1_100), ("b", 1_200), ("c", 1_300)]);
        assert_eq!(rt.live_tasks(), 0);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn run_until_returns_the_value_and_reports_deadlock() {
        let rt = SimRuntime::new(1, 0);
        let rt2 = rt.clone();
        let v = rt
            .run_until(
                async move {
                    rt2.sleep(Duration::from_secs(5)).await;
                    rt2.now()
                },
                Duration::from_secs(60),
            )
            .unwrap();
        assert_eq!(v, 5_000);
        let never = futures::future::pending::<()>();
        assert_eq!(
            rt.run_until(never, Duration::from_secs(1)),
            Err(SimStall::Deadlock)
        );
        let rt3 = rt.clone();
        let long = async move { rt3.sleep(Duration::from_secs(100)).await };
        assert_eq!(
            rt.run_until(long, Duration::from_secs(1)),
            Err(SimStall::TimeLimit)
        );
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn advance_fires_only_due_timers() {
        let rt = SimRuntime::new(1, 0);
        let count = Arc::new(AtomicUsize::new(0));
        for ms in [10u64, 20, 30] {
            let rt2 = rt.clone();
            let count = count.clone();
            rt.spawn(Box::pin(async move {
                rt2.sleep(Duration::from_millis(ms)).await;
                count.fetch_add(1, Ordering::SeqCst);
            }));
        }
        rt.advance(Duration::from_millis(20));
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(rt.now(), 20);
        rt.advance(Duration::from_millis(20));
        assert_eq!(count.load(Ordering::SeqCst), 3);
        assert_eq!(rt.now(), 40);
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn same_seed_same_randomness() {
        let a = SimRuntime::new(42, 0);
        let b = SimRuntime::new(42, 0);
        let xs: Vec<u64> = (0..5).map(|_| a.random_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.random_u64()).collect();
        assert_eq!(xs, ys);
        let id = a.random_id(true);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
