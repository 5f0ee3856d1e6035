//! The transfer executor: upload and download queues with per-direction concurrency limits,
//! priority downloads, retries with exponential backoff and jitter, a retry limit ("exhausted"),
//! cancel, pause and resume.
//!
//! The executor knows nothing about files: it runs jobs, keyed by file id and [`Direction`], through
//! a [`TransferWorker`] and reports what happened through [`ExecutorEvent`]s. A job is queued at most
//! once per direction; enqueuing a job that is queued, running or waiting for a retry is a no-op.
//! Paused (offline), nothing new starts; running jobs finish. A job whose worker answers
//! [`Outcome::Requeue`] goes back to the front of its queue without using up a retry (the engine
//! answers that when the remote is unreachable, so offline time never exhausts a file).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fs_core::{MaybeSend, MaybeSendBoxFuture, MaybeSync};

use crate::error::FileSyncError;
use crate::runtime::{Cancel, RuntimeExt, SharedRuntime};

#[cfg(test)]
mod tests;

/// Upload or download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Local bytes to the remote.
    Upload,
    /// Remote bytes to local storage.
    Download,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::Upload => 0,
            Direction::Download => 1,
        }
    }

    /// `"upload"` or `"download"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Upload => "upload",
            Direction::Download => "download",
        }
    }
}

/// Executor settings (the defaults are the TypeScript package's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Uploads running at once (default 2; at least 1).
    pub max_concurrent_uploads: usize,
    /// Downloads running at once (default 2; at least 1).
    pub max_concurrent_downloads: usize,
    /// First retry delay (default 1 s); doubled on each further failure.
    pub base_delay: Duration,
    /// Longest retry delay (default 60 s).
    pub max_delay: Duration,
    /// Random extra delay added to each retry, up to this much (default 500 ms).
    pub jitter: Duration,
    /// Failed attempts after the first before a job is given up ("exhausted"; default 5).
    pub max_retries: u32,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            max_concurrent_uploads: 2,
            max_concurrent_downloads: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            jitter: Duration::from_millis(500),
            max_retries: 5,
        }
    }
}

impl ExecutorConfig {
    /// The delay before retry number `attempt` (1-based), without jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// How a job ended, as the worker reports it.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Done.
    Done,
    /// Failed; worth retrying after a backoff (counts against the retry limit).
    Retry(FileSyncError),
    /// Failed for good; not retried.
    Fail(FileSyncError),
    /// Could not run now (e.g. offline); back to the front of the queue without using a retry.
    Requeue,
    /// Nothing to do any more (the file changed or was deleted).
    Skip,
}

/// Runs one job.
pub trait TransferWorker: MaybeSend + MaybeSync + 'static {
    /// Performs the transfer of `file_id` in `direction`; `attempt` is 1 for the first try.
    /// `cancel` fires when the job is cancelled or the executor stops: the worker stops moving
    /// bytes then (see [`Cancel::run`]) and returns.
    fn run(
        &self,
        direction: Direction,
        file_id: String,
        attempt: u32,
        cancel: Cancel,
    ) -> MaybeSendBoxFuture<'static, Outcome>;
}

/// What the executor reports.
#[derive(Debug, Clone)]
pub enum ExecutorEvent {
    /// A job started (attempt 1 or a retry).
    Started {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
        /// 1 for the first try.
        attempt: u32,
    },
    /// A job finished with [`Outcome::Done`].
    Succeeded {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
    },
    /// A job failed and will be retried after `delay`.
    RetryScheduled {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
        /// The failed attempt's number.
        attempt: u32,
        /// The error.
        error: FileSyncError,
        /// The delay before the next try.
        delay: Duration,
    },
    /// A job failed for good ([`Outcome::Fail`]).
    Failed {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
        /// The error.
        error: FileSyncError,
    },
    /// A job failed more times than the retry limit allows and was given up.
    Exhausted {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
        /// The last error.
        error: FileSyncError,
        /// Attempts made.
        attempts: u32,
    },
    /// A job was requeued ([`Outcome::Requeue`]).
    Requeued {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
    },
    /// A job ended with nothing to do ([`Outcome::Skip`]) or was cancelled.
    Dropped {
        /// Direction.
        direction: Direction,
        /// File id.
        file_id: String,
    },
}

/// Receives executor events (called outside the executor's locks).
#[cfg(not(target_arch = "wasm32"))]
pub type EventSink = Arc<dyn Fn(ExecutorEvent) + Send + Sync>;
/// Receives executor events (called outside the executor's locks).
#[cfg(target_arch = "wasm32")]
pub type EventSink = Arc<dyn Fn(ExecutorEvent)>;

#[derive(Default)]
struct Lane {
    queue: VecDeque<(String, u32)>,
    running: HashMap<String, Cancel>,
    /// Jobs waiting for a retry: id → (attempt of the next try, generation).
    waiting: HashMap<String, (u32, u64)>,
}

impl Lane {
    fn contains(&self, id: &str) -> bool {
        self.running.contains_key(id)
            || self.waiting.contains_key(id)
            || self.queue.iter().any(|(q, _)| q == id)
    }
}

struct State {
    lanes: [Lane; 2],
    paused: bool,
    stopped: bool,
    generation: u64,
    /// Jobs cancelled while running: their outcome is ignored.
    cancelled: HashSet<(Direction, String)>,
    /// Cancelled running jobs enqueued again: queued anew when the cancelled run ends.
    rerun: HashSet<(Direction, String)>,
}

struct Inner {
    runtime: SharedRuntime,
    worker: Arc<dyn TransferWorker>,
    config: ExecutorConfig,
    events: EventSink,
    state: Mutex<State>,
    /// Fires at `stop()`: retry timers end at once.
    stopped: Cancel,
}

/// The executor (see the module docs). Clones share the executor.
#[derive(Clone)]
pub struct SyncExecutor {
    inner: Arc<Inner>,
}

/// Counts of the executor's jobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutorCounts {
    /// Queued uploads.
    pub queued_uploads: usize,
    /// Running uploads.
    pub running_uploads: usize,
    /// Uploads waiting for a retry.
    pub waiting_uploads: usize,
    /// Queued downloads.
    pub queued_downloads: usize,
    /// Running downloads.
    pub running_downloads: usize,
    /// Downloads waiting for a retry.
    pub waiting_downloads: usize,
}

impl ExecutorCounts {
    /// No job at all.
    pub fn is_idle(&self) -> bool {
        *self == ExecutorCounts::default()
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SyncExecutor {
    /// A running (not paused) executor.
    pub fn new(
        runtime: SharedRuntime,
        worker: Arc<dyn TransferWorker>,
        config: ExecutorConfig,
        events: EventSink,
    ) -> Self {
        SyncExecutor {
            inner: Arc::new(Inner {
                runtime,
                worker,
                config,
                events,
                state: Mutex::new(State {
                    lanes: [Lane::default(), Lane::default()],
                    paused: false,
                    stopped: false,
                    generation: 0,
                    cancelled: HashSet::new(),
                    rerun: HashSet::new(),
                }),
                stopped: Cancel::default(),
            }),
        }
    }

    /// Queues a job at the back of its queue. False when it is already queued, running or waiting.
    pub fn enqueue(&self, direction: Direction, file_id: &str) -> bool {
        self.add(direction, file_id, false)
    }

    /// Queues a job at the front of its queue, or moves it there when it is queued already; a job
    /// waiting for a retry is started without waiting. False when it is running.
    pub fn enqueue_first(&self, direction: Direction, file_id: &str) -> bool {
        self.add(direction, file_id, true)
    }

    fn add(&self, direction: Direction, file_id: &str, first: bool) -> bool {
        {
            let mut st = lock(&self.inner.state);
            if st.stopped {
                return false;
            }
            let key = (direction, file_id.to_owned());
            if st.lanes[direction.index()].running.contains_key(file_id) {
                // A cancelled run still finishing: run again once it ended.
                return st.cancelled.contains(&key) && st.rerun.insert(key);
            }
            let lane = &mut st.lanes[direction.index()];
            if lane.waiting.contains_key(file_id) && !first {
                // Keeps waiting for its retry.
                return false;
            }
            let waiting = lane.waiting.remove(file_id).map(|(attempt, _)| attempt);
            match lane.queue.iter().position(|(q, _)| q == file_id) {
                Some(_) if !first => return false,
                Some(i) => {
                    if let Some(job) = lane.queue.remove(i) {
                        lane.queue.push_front(job);
                    }
                }
                None => {
                    let job = (file_id.to_owned(), waiting.unwrap_or(1));
                    if first {
                        lane.queue.push_front(job);
                    } else {
                        lane.queue.push_back(job);
                    }
                }
            }
        }
        self.pump();
        true
    }

    /// Removes a job: dropped from its queue or retry wait; a running job is told to stop (its
    /// [`Cancel`] fires) and its outcome is ignored. True when there was a job.
    pub fn cancel(&self, direction: Direction, file_id: &str) -> bool {
        let found = {
            let mut st = lock(&self.inner.state);
            let lane = &mut st.lanes[direction.index()];
            let before = lane.queue.len();
            lane.queue.retain(|(q, _)| q != file_id);
            let mut found = lane.queue.len() != before;
            found |= lane.waiting.remove(file_id).is_some();
            if let Some(token) = lane.running.get(file_id) {
                token.cancel();
                st.cancelled.insert((direction, file_id.to_owned()));
                st.rerun.remove(&(direction, file_id.to_owned()));
                found = true;
            }
            found
        };
        if found {
            (self.inner.events)(ExecutorEvent::Dropped {
                direction,
                file_id: file_id.to_owned(),
            });
        }
        found
    }

    /// Cancels both directions of a file.
    pub fn cancel_file(&self, file_id: &str) {
        self.cancel(Direction::Upload, file_id);
        self.cancel(Direction::Download, file_id);
    }

    /// Stops starting jobs (running ones finish). Queues are kept.
    pub fn pause(&self) {
        lock(&self.inner.state).paused = true;
    }

    /// Starts queued jobs again.
    pub fn resume(&self) {
        lock(&self.inner.state).paused = false;
        self.pump();
    }

    /// Stops for good: queues are emptied, running jobs cancelled, retry timers ended, nothing
    /// starts any more.
    pub fn stop(&self) {
        self.inner.stopped.cancel();
        let mut st = lock(&self.inner.state);
        st.stopped = true;
        let mut cancelled = Vec::new();
        for (i, lane) in st.lanes.iter_mut().enumerate() {
            lane.queue.clear();
            lane.waiting.clear();
            let dir = if i == 0 {
                Direction::Upload
            } else {
                Direction::Download
            };
            for (id, token) in &lane.running {
                token.cancel();
                cancelled.push((dir, id.clone()));
            }
        }
        st.cancelled.extend(cancelled);
    }

    /// Whether the file has a job in `direction` (queued, running, waiting for a retry, or to run
    /// again after a cancelled run ends).
    pub fn has_job(&self, direction: Direction, file_id: &str) -> bool {
        let st = lock(&self.inner.state);
        st.lanes[direction.index()].contains(file_id)
            || st.rerun.contains(&(direction, file_id.to_owned()))
    }

    /// Whether the job is running now.
    #[cfg(test)]
    pub fn is_running(&self, direction: Direction, file_id: &str) -> bool {
        lock(&self.inner.state).lanes[direction.index()]
            .running
            .contains_key(file_id)
    }

    /// Counts of queued, running and waiting jobs.
    pub fn counts(&self) -> ExecutorCounts {
        let st = lock(&self.inner.state);
        let [up, down] = &st.lanes;
        ExecutorCounts {
            queued_uploads: up.queue.len(),
            running_uploads: up.running.len(),
            waiting_uploads: up.waiting.len(),
            queued_downloads: down.queue.len(),
            running_downloads: down.running.len(),
            waiting_downloads: down.waiting.len(),
        }
    }

    /// The ids queued in `direction`, in queue order.
    #[cfg(test)]
    pub fn queued(&self, direction: Direction) -> Vec<String> {
        lock(&self.inner.state).lanes[direction.index()]
            .queue
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Starts as many queued jobs as the limits allow.
    fn pump(&self) {
        let mut started = Vec::new();
        {
            let mut st = lock(&self.inner.state);
            if st.paused || st.stopped {
                return;
            }
            for direction in [Direction::Upload, Direction::Download] {
                let limit = match direction {
                    Direction::Upload => self.inner.config.max_concurrent_uploads,
                    Direction::Download => self.inner.config.max_concurrent_downloads,
                }
                .max(1);
                let lane = &mut st.lanes[direction.index()];
                while lane.running.len() < limit {
                    let Some((id, attempt)) = lane.queue.pop_front() else {
                        break;
                    };
                    let token = Cancel::default();
                    lane.running.insert(id.clone(), token.clone());
                    started.push((direction, id, attempt, token));
                }
            }
        }
        for (direction, file_id, attempt, token) in started {
            (self.inner.events)(ExecutorEvent::Started {
                direction,
                file_id: file_id.clone(),
                attempt,
            });
            let this = self.clone();
            let fut = self
                .inner
                .worker
                .run(direction, file_id.clone(), attempt, token);
            self.inner.runtime.spawn(Box::pin(async move {
                let outcome = fut.await;
                this.finish(direction, file_id, attempt, outcome);
            }));
        }
    }

    fn finish(&self, direction: Direction, file_id: String, attempt: u32, outcome: Outcome) {
        let event = {
            let mut st = lock(&self.inner.state);
            st.lanes[direction.index()].running.remove(&file_id);
            let cancelled = st.cancelled.remove(&(direction, file_id.clone()));
            if st.stopped {
                None
            } else if cancelled {
                if st.rerun.remove(&(direction, file_id.clone())) {
                    st.lanes[direction.index()].queue.push_back((file_id, 1));
                }
                None
            } else {
                match outcome {
                    Outcome::Done => Some(ExecutorEvent::Succeeded { direction, file_id }),
                    Outcome::Skip => Some(ExecutorEvent::Dropped { direction, file_id }),
                    Outcome::Fail(error) => Some(ExecutorEvent::Failed {
                        direction,
                        file_id,
                        error,
                    }),
                    Outcome::Requeue => {
                        st.lanes[direction.index()]
                            .queue
                            .push_front((file_id.clone(), attempt));
                        Some(ExecutorEvent::Requeued { direction, file_id })
                    }
                    Outcome::Retry(error) => {
                        if attempt > self.inner.config.max_retries {
                            Some(ExecutorEvent::Exhausted {
                                direction,
                                file_id,
                                error,
                                attempts: attempt,
                            })
                        } else {
                            let jitter_ms = self
                                .inner
                                .runtime
                                .random_below(self.inner.config.jitter.as_millis() as u64 + 1);
                            let delay = self.inner.config.backoff(attempt)
                                + Duration::from_millis(jitter_ms);
                            st.generation += 1;
                            let gen = st.generation;
                            st.lanes[direction.index()]
                                .waiting
                                .insert(file_id.clone(), (attempt + 1, gen));
                            self.schedule_retry(direction, file_id.clone(), gen, delay);
                            Some(ExecutorEvent::RetryScheduled {
                                direction,
                                file_id,
                                attempt,
                                error,
                                delay,
                            })
                        }
                    }
                }
            }
        };
        if let Some(event) = event {
            (self.inner.events)(event);
        }
        self.pump();
    }

    /// After `delay`, moves a waiting job (if it is still the same wait) to its queue.
    fn schedule_retry(&self, direction: Direction, file_id: String, gen: u64, delay: Duration) {
        let this = self.clone();
        let sleep = self.inner.runtime.sleep(delay);
        let stopped = self.inner.stopped.clone();
        self.inner.runtime.spawn(Box::pin(async move {
            if stopped.run(sleep).await.is_none() {
                return;
            }
            {
                let mut st = lock(&this.inner.state);
                let lane = &mut st.lanes[direction.index()];
                match lane.waiting.get(&file_id) {
                    Some((attempt, g)) if *g == gen => {
                        let attempt = *attempt;
                        lane.waiting.remove(&file_id);
                        lane.queue.push_back((file_id, attempt));
                    }
                    _ => return,
                }
            }
            this.pump();
        }));
    }
}
