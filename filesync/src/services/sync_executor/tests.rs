use std::collections::VecDeque;

use super::*;
use crate::runtime::{Runtime, SimRuntime};

fn err(message: &str) -> FileSyncError {
    FileSyncError::invalid(message)
}

type Log = Arc<Mutex<Vec<(Direction, String, u32, i64)>>>;

/// A worker whose outcomes are scripted per file; each run takes `work` of virtual time.
struct Scripted {
    rt: SimRuntime,
    work: Duration,
    script: Mutex<HashMap<String, VecDeque<Outcome>>>,
    log: Log,
    /// (running now, most running at once) per direction.
    running: Arc<Mutex<[(usize, usize); 2]>>,
}

impl Scripted {
    fn new(rt: &SimRuntime, work: Duration) -> Arc<Self> {
        Arc::new(Scripted {
            rt: rt.clone(),
            work,
            script: Mutex::new(HashMap::new()),
            log: Arc::default(),
            running: Arc::default(),
        })
    }

    fn script(&self, id: &str, outcomes: Vec<Outcome>) {
        self.script
            .lock()
            .unwrap()
            .insert(id.to_owned(), outcomes.into());
    }

    fn log(&self) -> Vec<(Direction, String, u32, i64)> {
        self.log.lock().unwrap().clone()
    }

    fn peak(&self, d: Direction) -> usize {
        self.running.lock().unwrap()[d.index()].1
    }
}

impl TransferWorker for Scripted {
    fn run(
        &self,
        direction: Direction,
        file_id: String,
        attempt: u32,
        cancel: Cancel,
    ) -> MaybeSendBoxFuture<'static, Outcome> {
        self.log
            .lock()
            .unwrap()
            .push((direction, file_id.clone(), attempt, self.rt.now()));
        {
            let mut r = self.running.lock().unwrap();
            let slot = &mut r[direction.index()];
            slot.0 += 1;
            slot.1 = slot.1.max(slot.0);
        }
        let outcome = self
            .script
            .lock()
            .unwrap()
            .get_mut(&file_id)
            .and_then(VecDeque::pop_front)
            .unwrap_or(Outcome::Done);
        let sleep = self.rt.sleep(self.work);
        let running = self.running.clone();
        Box::pin(async move {
            let finished = cancel.run(sleep).await.is_some();
            running.lock().unwrap()[direction.index()].0 -= 1;
            if finished {
                outcome
            } else {
                Outcome::Skip
            }
        })
    }
}

fn setup(
    config: ExecutorConfig,
) -> (
    SimRuntime,
    Arc<Scripted>,
    SyncExecutor,
    Arc<Mutex<Vec<ExecutorEvent>>>,
) {
    let rt = SimRuntime::new(7, 0);
    let worker = Scripted::new(&rt, Duration::from_millis(100));
    let events: Arc<Mutex<Vec<ExecutorEvent>>> = Arc::default();
    let sink = events.clone();
    let exec = SyncExecutor::new(
        Arc::new(rt.clone()),
        worker.clone(),
        config,
        Arc::new(move |e| sink.lock().unwrap().push(e)),
    );
    (rt, worker, exec, events)
}

fn no_jitter() -> ExecutorConfig {
    ExecutorConfig {
        jitter: Duration::ZERO,
        ..ExecutorConfig::default()
    }
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn concurrency_is_limited_per_direction() {
    let (rt, worker, exec, _) = setup(ExecutorConfig::default());
    for i in 0..6 {
        assert!(exec.enqueue(Direction::Upload, &format!("u{i}")));
        assert!(exec.enqueue(Direction::Download, &format!("d{i}")));
    }
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.peak(Direction::Upload), 2);
    assert_eq!(worker.peak(Direction::Download), 2);
    assert_eq!(worker.log().len(), 12);
    // 6 jobs, 2 at a time, 100 ms each.
    assert_eq!(rt.now(), 300);
    assert!(exec.counts().is_idle());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn duplicates_are_ignored_and_priority_jumps_the_queue() {
    let config = ExecutorConfig {
        max_concurrent_downloads: 1,
        ..ExecutorConfig::default()
    };
    let (rt, worker, exec, _) = setup(config);
    for id in ["a", "b", "c", "d"] {
        exec.enqueue(Direction::Download, id);
    }
    assert!(!exec.enqueue(Direction::Download, "c"));
    assert!(!exec.enqueue(Direction::Download, "a"), "running");
    assert!(exec.enqueue_first(Direction::Download, "d"));
    assert_eq!(exec.queued(Direction::Download), ["d", "b", "c"]);
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    let order: Vec<String> = worker.log().into_iter().map(|l| l.1).collect();
    assert_eq!(order, ["a", "d", "b", "c"]);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn retries_back_off_exponentially_then_exhaust() {
    let config = ExecutorConfig {
        max_retries: 3,
        ..no_jitter()
    };
    let (rt, worker, exec, events) = setup(config);
    worker.script("f", vec![Outcome::Retry(err("HTTP 503")); 10]);
    exec.enqueue(Direction::Upload, "f");
    assert!(rt.run_until_idle(Duration::from_secs(600)));
    let log = worker.log();
    let times: Vec<i64> = log.iter().map(|l| l.3).collect();
    let attempts: Vec<u32> = log.iter().map(|l| l.2).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
    // Each try takes 100 ms, then waits 1 s, 2 s, 4 s.
    assert_eq!(times, [0, 1_100, 3_200, 7_300]);
    let events = events.lock().unwrap();
    assert!(matches!(
        events.last(),
        Some(ExecutorEvent::Exhausted { attempts: 4, error, .. }) if error.to_string().contains("HTTP 503")
    ));
    assert!(exec.counts().is_idle());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn backoff_is_capped_and_jitter_is_bounded() {
    let config = ExecutorConfig::default();
    assert_eq!(config.backoff(1), Duration::from_secs(1));
    assert_eq!(config.backoff(3), Duration::from_secs(4));
    assert_eq!(config.backoff(7), Duration::from_secs(60));
    assert_eq!(config.backoff(100), Duration::from_secs(60));
    let (rt, worker, exec, events) = setup(config);
    worker.script("f", vec![Outcome::Retry(err("x")), Outcome::Done]);
    exec.enqueue(Direction::Upload, "f");
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    let delays: Vec<Duration> = events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            ExecutorEvent::RetryScheduled { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 1);
    assert!(delays[0] >= Duration::from_secs(1) && delays[0] <= Duration::from_millis(1_500));
    assert_eq!(worker.log().len(), 2);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn fail_is_final_and_requeue_costs_no_retry() {
    let config = ExecutorConfig {
        max_retries: 1,
        ..no_jitter()
    };
    let (rt, worker, exec, events) = setup(config);
    worker.script("bad", vec![Outcome::Fail(err("HTTP 403"))]);
    worker.script(
        "flaky",
        vec![
            Outcome::Requeue,
            Outcome::Requeue,
            Outcome::Requeue,
            Outcome::Done,
        ],
    );
    exec.enqueue(Direction::Upload, "bad");
    exec.enqueue(Direction::Upload, "flaky");
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    let flaky: Vec<u32> = worker
        .log()
        .into_iter()
        .filter(|l| l.1 == "flaky")
        .map(|l| l.2)
        .collect();
    assert_eq!(flaky, [1, 1, 1, 1]);
    let events = events.lock().unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, ExecutorEvent::Failed { file_id, .. } if file_id == "bad")));
    assert!(events
        .iter()
        .any(|e| matches!(e, ExecutorEvent::Succeeded { file_id, .. } if file_id == "flaky")));
    assert_eq!(worker.log().iter().filter(|l| l.1 == "bad").count(), 1);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn pause_holds_the_queue_and_resume_continues_without_loss() {
    let (rt, worker, exec, _) = setup(ExecutorConfig::default());
    exec.pause();
    for i in 0..5 {
        exec.enqueue(Direction::Upload, &format!("u{i}"));
    }
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert!(worker.log().is_empty());
    assert_eq!(exec.counts().queued_uploads, 5);
    exec.resume();
    // Pause while two are running: they finish, nothing else starts.
    rt.advance(Duration::from_millis(50));
    exec.pause();
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.log().len(), 2);
    assert_eq!(exec.counts().queued_uploads, 3);
    exec.resume();
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.log().len(), 5);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn cancel_drops_queued_waiting_and_running_jobs() {
    let config = ExecutorConfig {
        max_concurrent_uploads: 1,
        ..no_jitter()
    };
    let (rt, worker, exec, events) = setup(config);
    worker.script("r", vec![Outcome::Retry(err("x")), Outcome::Done]);
    exec.enqueue(Direction::Upload, "run");
    exec.enqueue(Direction::Upload, "q");
    exec.enqueue(Direction::Upload, "r");
    rt.advance(Duration::from_millis(10));
    assert!(exec.is_running(Direction::Upload, "run"));
    assert!(exec.cancel(Direction::Upload, "run"));
    assert!(exec.cancel(Direction::Upload, "q"));
    assert!(!exec.cancel(Direction::Upload, "nothing"));
    // "r" fails once and waits for its retry; cancel it while waiting.
    rt.advance(Duration::from_millis(250));
    assert!(exec.has_job(Direction::Upload, "r"));
    assert!(exec.cancel(Direction::Upload, "r"));
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    let ran: Vec<String> = worker.log().into_iter().map(|l| l.1).collect();
    assert_eq!(ran, ["run", "r"]);
    // The cancelled running job's outcome was ignored: no success reported for it.
    assert!(!events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, ExecutorEvent::Succeeded { file_id, .. } if file_id == "run")));
    assert!(exec.counts().is_idle());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn prioritizing_a_waiting_job_runs_it_now() {
    let (rt, worker, exec, _) = setup(no_jitter());
    worker.script("f", vec![Outcome::Retry(err("x")), Outcome::Done]);
    exec.enqueue(Direction::Download, "f");
    rt.advance(Duration::from_millis(150));
    assert!(!exec.enqueue(Direction::Download, "f"), "still waiting");
    assert!(exec.enqueue_first(Direction::Download, "f"));
    rt.advance(Duration::from_millis(1));
    let log = worker.log();
    assert_eq!(log.len(), 2);
    assert_eq!((log[1].2, log[1].3), (2, 150));
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.log().len(), 2);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn stop_cancels_everything() {
    let (rt, worker, exec, _) = setup(ExecutorConfig::default());
    for i in 0..4 {
        exec.enqueue(Direction::Upload, &format!("u{i}"));
    }
    rt.advance(Duration::from_millis(10));
    exec.stop();
    assert!(!exec.enqueue(Direction::Upload, "late"));
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.log().len(), 2);
    assert!(exec.counts().is_idle());
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_job_enqueued_while_its_cancelled_run_finishes_runs_again() {
    let (rt, worker, exec, _) = setup(ExecutorConfig::default());
    exec.enqueue(Direction::Upload, "f");
    rt.advance(Duration::from_millis(10));
    assert!(exec.cancel(Direction::Upload, "f"));
    // The cancelled run is still finishing; the new request must not be lost.
    assert!(exec.enqueue(Direction::Upload, "f"));
    assert!(!exec.enqueue(Direction::Upload, "f"), "only once");
    assert!(exec.has_job(Direction::Upload, "f"));
    assert!(rt.run_until_idle(Duration::from_secs(60)));
    assert_eq!(worker.log().len(), 2);
    assert!(exec.counts().is_idle());
    assert!(!exec.has_job(Direction::Upload, "f"));
}
