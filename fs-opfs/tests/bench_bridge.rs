//! The bridge benchmark in headless Chromium: calls made on the page through `BridgeFs` to a
//! dedicated worker, against the same calls made directly in that worker.
//!
//! The worker is a `BridgeWorker` started with this binary's own entry, which serves connections as
//! the default entry does and also answers `{ direct: run }` messages by running `run` on a file
//! system of its own in the worker (the same code the page runs through the bridge) and posting back
//! the milliseconds it took. Rows:
//!
//! | row | through the bridge (page) | directly in the worker |
//! |---|---|---|
//! | call round trip | `calls` × `exists` / `stat` of one file on a `BridgeFs` (MemoryFs, then OPFS in the worker) | the same calls on a MemoryFs / an `OpfsFs` (sync access handles) in the worker |
//! | small files | `files` × `size` `write_file` (`w`), then `read_file`, one at a time and 16 in flight, on a `BridgeFs` to OPFS | the same on an `OpfsFs` in the worker |
//!
//! The bytes are the same on both sides (one pseudo-random buffer, generated on each side before the
//! clock starts; file i is a window of it). Time comes from `performance.now()` of the side that
//! makes the calls; the sides alternate which goes first from round to round; the table shows
//! medians.
//!
//! The measurement is `#[ignore]`d; `scripts/extended` runs it:
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=600 cargo test --release --target
//! wasm32-unknown-unknown -p fs-opfs --test bench_bridge -- --include-ignored --nocapture --exact
//! bench_bridge`. The normal test run runs the same code with tiny sizes and checks every byte.
//! `BENCH_OPFS_FILES`, `BENCH_OPFS_ROUNDS` and `BENCH_BRIDGE_CALLS`, read at compile time, lower the
//! sizes for a quick look.
#![cfg(target_arch = "wasm32")]

mod bench_common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use bench_common::{compiled_number, median, now, random_bytes};
use bytes::Bytes;
use fs_core::{
    random_name, FileSystem, MakeDirOptions, MemoryFs, OpenOptions, RemoveOptions, VPath,
};
use fs_opfs::bridge::{Backend, BridgeFs, BridgeWorker, SpawnOptions};
use fs_opfs::{OpfsFs, OpfsOptions};
use futures::channel::oneshot;
use futures::{StreamExt, TryStreamExt};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

wasm_bindgen_test_configure!(run_in_browser);

/// The name this binary's worker entry is exported under.
const ENTRY: &str = "__fsOpfsBenchBridgeWorker";

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Config {
    /// Calls per round-trip measurement.
    calls: usize,
    /// How many small files.
    files: usize,
    /// Bytes per small file.
    size: usize,
    /// Small files in flight in the concurrent rows.
    in_flight: usize,
    /// Rounds (medians are printed).
    rounds: usize,
    /// Check every byte read and every call's answer (the smoke test; off while measuring).
    verify: bool,
}

impl Config {
    /// 2,000 calls per round trip, 1,000 × 100 KiB, 16 in flight, 5 rounds.
    fn full() -> Config {
        Config {
            calls: compiled_number(option_env!("BENCH_BRIDGE_CALLS"), 2000),
            files: compiled_number(option_env!("BENCH_OPFS_FILES"), 1000),
            size: 100 << 10,
            in_flight: 16,
            rounds: compiled_number(option_env!("BENCH_OPFS_ROUNDS"), 5),
            verify: false,
        }
    }

    /// A tiny run that checks every answer and every byte (part of the normal test run).
    fn smoke() -> Config {
        Config {
            calls: 20,
            files: 10,
            size: 10 << 10,
            in_flight: 4,
            rounds: 2,
            verify: true,
        }
    }

    fn encode(&self) -> Object {
        let out = Object::new();
        set(&out, "calls", self.calls as f64);
        set(&out, "files", self.files as f64);
        set(&out, "size", self.size as f64);
        set(&out, "inFlight", self.in_flight as f64);
        set(&out, "rounds", self.rounds as f64);
        set(&out, "verify", self.verify);
        out
    }

    fn decode(value: &JsValue) -> Config {
        let number = |key: &str| get(value, key).as_f64().unwrap_or(0.0) as usize;
        Config {
            calls: number("calls"),
            files: number("files"),
            size: number("size"),
            in_flight: number("inFlight"),
            rounds: number("rounds"),
            verify: get(value, "verify").as_bool().unwrap_or(false),
        }
    }
}

fn set(target: &Object, key: &str, value: impl Into<JsValue>) {
    Reflect::set(target, &key.into(), &value.into()).expect("set on a plain object");
}

fn get(source: &JsValue, key: &str) -> JsValue {
    Reflect::get(source, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The measured operations; each side runs the same code ([`run_op`]) on its file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Exists,
    Stat,
    Write1,
    Read1,
    WriteN,
    ReadN,
    /// Not measured: removes the round's directory.
    Clean,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Exists => "exists",
            Op::Stat => "stat",
            Op::Write1 => "write1",
            Op::Read1 => "read1",
            Op::WriteN => "writeN",
            Op::ReadN => "readN",
            Op::Clean => "clean",
        }
    }

    fn named(name: &str) -> Option<Op> {
        [
            Op::Exists,
            Op::Stat,
            Op::Write1,
            Op::Read1,
            Op::WriteN,
            Op::ReadN,
            Op::Clean,
        ]
        .into_iter()
        .find(|op| op.name() == name)
    }

    fn in_flight(self, config: &Config) -> usize {
        match self {
            Op::WriteN | Op::ReadN => config.in_flight,
            _ => 1,
        }
    }

    /// The file name prefix of the small-file rows (writes and reads of one row share files).
    fn prefix(self) -> &'static str {
        match self {
            Op::Write1 | Op::Read1 => "one-",
            _ => "many-",
        }
    }
}

/// The source bytes: file i is a window of one pseudo-random buffer, the same on both sides.
struct Data {
    pool: Bytes,
    span: usize,
}

impl Data {
    fn new(config: &Config) -> Data {
        let pool = Bytes::from(random_bytes((1 << 20) + config.size));
        let span = pool.len() - config.size + 1;
        Data { pool, span }
    }

    fn file(&self, i: usize, size: usize) -> Bytes {
        let at = (i * 65_537) % self.span;
        self.pool.slice(at..at + size)
    }
}

fn join(dir: &VPath, name: &str) -> VPath {
    dir.join(name).expect("valid name")
}

/// What must exist before `op` is timed in `dir`.
async fn prepare(fs: &dyn FileSystem, op: Op, dir: &VPath) -> Result<(), String> {
    if op == Op::Clean {
        return Ok(());
    }
    let recursive = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    fs.make_dir(dir, recursive)
        .await
        .map_err(|e| format!("make_dir: {e}"))?;
    if matches!(op, Op::Exists | Op::Stat) {
        fs.write_file(
            &join(dir, "small"),
            Bytes::from_static(b"x"),
            OpenOptions::write(),
        )
        .await
        .map_err(|e| format!("write_file: {e}"))?;
    }
    Ok(())
}

/// One measured operation in `dir` (the same code on both sides).
async fn run_op(
    fs: &dyn FileSystem,
    op: Op,
    dir: &VPath,
    data: &Data,
    config: &Config,
) -> Result<(), String> {
    match op {
        Op::Exists | Op::Stat => {
            let path = join(dir, "small");
            for _ in 0..config.calls {
                let found = if op == Op::Exists {
                    fs.exists(&path).await.map_err(|e| format!("exists: {e}"))?
                } else {
                    let info = fs.stat(&path).await.map_err(|e| format!("stat: {e}"))?;
                    info.size == 1
                };
                if config.verify && !found {
                    return Err(format!("{op:?} of {path}: not the file written"));
                }
            }
            Ok(())
        }
        Op::Write1 | Op::WriteN => {
            let prefix = op.prefix();
            futures::stream::iter(0..config.files)
                .map(|i| {
                    let path = join(dir, &format!("{prefix}{i}"));
                    let bytes = data.file(i, config.size);
                    async move { fs.write_file(&path, bytes, OpenOptions::write()).await }
                })
                .buffer_unordered(op.in_flight(config))
                .try_collect::<Vec<()>>()
                .await
                .map_err(|e| format!("write_file: {e}"))?;
            Ok(())
        }
        Op::Read1 | Op::ReadN => {
            let prefix = op.prefix();
            let total = futures::stream::iter(0..config.files)
                .map(|i| {
                    let path = join(dir, &format!("{prefix}{i}"));
                    async move {
                        let bytes = fs
                            .read_file(&path)
                            .await
                            .map_err(|e| format!("read_file: {e}"))?;
                        if config.verify && bytes != data.file(i, config.size) {
                            return Err(format!("{path}: not the bytes written"));
                        }
                        Ok::<usize, String>(bytes.len())
                    }
                })
                .buffer_unordered(op.in_flight(config))
                .try_fold(0usize, |n, len| async move { Ok(n + len) })
                .await?;
            if total != config.files * config.size {
                return Err(format!("{op:?}: read {total} bytes"));
            }
            Ok(())
        }
        Op::Clean => {
            let all = RemoveOptions {
                recursive: true,
                force: true,
            };
            fs.remove(dir, all)
                .await
                .map_err(|e| format!("remove: {e}"))
        }
    }
}

// ---- the worker side ----

thread_local! {
    /// The worker's direct file systems, by root ("" for the MemoryFs), opened once.
    static DIRECT: RefCell<HashMap<String, Rc<dyn FileSystem>>> = RefCell::new(HashMap::new());
}

/// The worker's file system for a direct run: a MemoryFs, or an `OpfsFs` (sync access handles)
/// at `root`.
async fn direct_fs(root: Option<VPath>) -> Result<Rc<dyn FileSystem>, String> {
    let key = root.as_ref().map(|r| r.to_string()).unwrap_or_default();
    if let Some(fs) = DIRECT.with(|d| d.borrow().get(&key).cloned()) {
        return Ok(fs);
    }
    let fs: Rc<dyn FileSystem> = match root {
        None => Rc::new(MemoryFs::new()),
        Some(root) => Rc::new(
            OpfsFs::open(OpfsOptions::in_dir(root))
                .await
                .map_err(|e| format!("OpfsFs::open in the worker: {e}"))?,
        ),
    };
    DIRECT.with(|d| d.borrow_mut().insert(key, fs.clone()));
    Ok(fs)
}

/// Runs one `{ op, root?, dir, config }` request in the worker; returns the milliseconds `op` took.
async fn direct_run(request: &JsValue) -> Result<f64, String> {
    let name = get(request, "op").as_string().unwrap_or_default();
    let op = Op::named(&name).ok_or_else(|| format!("unknown op {name:?}"))?;
    let root = get(request, "root")
        .as_string()
        .map(|r| VPath::new(&r).map_err(|e| e.to_string()))
        .transpose()?;
    let dir = VPath::new(&get(request, "dir").as_string().unwrap_or_default())
        .map_err(|e| e.to_string())?;
    let config = Config::decode(&get(request, "config"));
    let fs = direct_fs(root).await?;
    let data = Data::new(&config);
    prepare(&*fs, op, &dir).await?;
    let start = now();
    run_op(&*fs, op, &dir, &data, &config).await?;
    Ok(now() - start)
}

/// This binary's worker entry: the bridge's own entry, plus a listener for direct runs (a
/// `{ direct: request, id }` message is answered with `{ directDone: id, ms }` or
/// `{ directDone: id, error }`).
#[wasm_bindgen(js_name = "__fsOpfsBenchBridgeWorker")]
pub fn bench_worker_entry() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let listener = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        let data = event.data();
        let request = get(&data, "direct");
        if request.is_undefined() {
            return;
        }
        let id = get(&data, "id");
        wasm_bindgen_futures::spawn_local(async move {
            let reply = Object::new();
            set(&reply, "directDone", id);
            match direct_run(&request).await {
                Ok(ms) => set(&reply, "ms", ms),
                Err(error) => set(&reply, "error", error),
            }
            let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
            scope.post_message(&reply).expect("post a direct result");
        });
    });
    scope
        .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
        .expect("listen for direct runs");
    listener.forget();
    fs_opfs::bridge::worker_main();
}

// ---- the page side ----

/// Direct runs waiting for the worker's answer, by id.
type Waiting = Rc<RefCell<HashMap<u32, oneshot::Sender<Result<f64, String>>>>>;

/// The page's end of the direct runs: requests posted to the worker, replies by id.
struct Direct {
    worker: BridgeWorker,
    next: Cell<u32>,
    waiting: Waiting,
    _listener: Closure<dyn FnMut(MessageEvent)>,
}

impl Direct {
    fn new(worker: BridgeWorker) -> Direct {
        let waiting: Waiting = Rc::default();
        let listener = {
            let waiting = waiting.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let Some(id) = get(&data, "directDone").as_f64() else {
                    return;
                };
                let result = match get(&data, "ms").as_f64() {
                    Some(ms) => Ok(ms),
                    None => Err(get(&data, "error").as_string().unwrap_or_default()),
                };
                if let Some(tx) = waiting.borrow_mut().remove(&(id as u32)) {
                    let _ = tx.send(result);
                }
            })
        };
        worker
            .worker()
            .add_event_listener_with_callback("message", listener.as_ref().unchecked_ref())
            .expect("listen for direct results");
        Direct {
            worker,
            next: Cell::new(1),
            waiting,
            _listener: listener,
        }
    }

    /// Runs `op` in the worker on its MemoryFs (`root` None) or its `OpfsFs` at `root`; returns the
    /// milliseconds the worker measured.
    async fn run(&self, op: Op, root: Option<&VPath>, dir: &VPath, config: &Config) -> f64 {
        let id = self.next.get();
        self.next.set(id + 1);
        let request = Object::new();
        set(&request, "op", op.name());
        if let Some(root) = root {
            set(&request, "root", root.as_str());
        }
        set(&request, "dir", dir.as_str());
        set(&request, "config", config.encode());
        let message = Object::new();
        set(&message, "direct", request);
        set(&message, "id", id);
        let (tx, rx) = oneshot::channel();
        self.waiting.borrow_mut().insert(id, tx);
        self.worker
            .worker()
            .post_message(&message)
            .expect("post a direct run");
        match rx.await.expect("the worker answers") {
            Ok(ms) => ms,
            Err(error) => panic!("direct {op:?} in the worker: {error}"),
        }
    }
}

/// Times `op` through the bridge (on the page).
async fn bridged(fs: &BridgeFs, op: Op, dir: &VPath, data: &Data, config: &Config) -> f64 {
    prepare(fs, op, dir)
        .await
        .unwrap_or_else(|e| panic!("bridge {op:?}: {e}"));
    let start = now();
    run_op(fs, op, dir, data, config)
        .await
        .unwrap_or_else(|e| panic!("bridge {op:?}: {e}"));
    now() - start
}

/// The milliseconds each round measured for one row, on each side.
#[derive(Default)]
struct Samples {
    bridge: Vec<f64>,
    direct: Vec<f64>,
}

/// Runs the benchmark, checks (with `verify`) every answer and byte, and returns the table.
async fn run(config: Config) -> String {
    let worker = BridgeWorker::spawn_with(SpawnOptions {
        entry: Some(ENTRY.to_owned()),
        name: Some("fs-opfs bench_bridge".to_owned()),
        ..SpawnOptions::default()
    })
    .await
    .expect("spawn the bridge worker");
    let base =
        VPath::new(&format!("/bench-bridge/{}", random_name(Some("run-")))).expect("valid path");
    let bridge_root = join(&base, "bridge");
    let direct_root = join(&base, "direct");
    let memory = worker
        .connect(&Backend::Memory)
        .await
        .expect("connect to a MemoryFs in the worker");
    let opfs = worker
        .connect(&Backend::Opfs(OpfsOptions::in_dir(bridge_root.clone())))
        .await
        .expect("connect to OPFS in the worker");
    let direct = Direct::new(worker);
    let data = Data::new(&config);

    let calls = [
        ("exists, MemoryFs", Op::Exists, false),
        ("stat, MemoryFs", Op::Stat, false),
        ("exists, OpfsFs", Op::Exists, true),
        ("stat, OpfsFs", Op::Stat, true),
    ];
    let transfers = [Op::Write1, Op::Read1, Op::WriteN, Op::ReadN];
    let mut call_samples: Vec<Samples> = calls.iter().map(|_| Samples::default()).collect();
    let mut transfer_samples: Vec<Samples> = transfers.iter().map(|_| Samples::default()).collect();
    let rt_dir = VPath::new("/round-trip").expect("valid path");
    for round in 0..config.rounds {
        let bridge_first = round % 2 == 0;
        for (k, &(_, op, on_opfs)) in calls.iter().enumerate() {
            for turn in 0..2 {
                if (turn == 0) == bridge_first {
                    let fs = if on_opfs { &opfs } else { &memory };
                    call_samples[k]
                        .bridge
                        .push(bridged(fs, op, &rt_dir, &data, &config).await);
                } else {
                    let root = on_opfs.then_some(&direct_root);
                    call_samples[k]
                        .direct
                        .push(direct.run(op, root, &rt_dir, &config).await);
                }
            }
        }
        let dir = VPath::new(&format!("/r{round}")).expect("valid path");
        for (k, &op) in transfers.iter().enumerate() {
            for turn in 0..2 {
                if (turn == 0) == bridge_first {
                    transfer_samples[k]
                        .bridge
                        .push(bridged(&opfs, op, &dir, &data, &config).await);
                } else {
                    transfer_samples[k]
                        .direct
                        .push(direct.run(op, Some(&direct_root), &dir, &config).await);
                }
            }
        }
        if config.verify {
            // What the worker wrote directly, read back through the bridge.
            let check = direct
                .worker
                .connect(&Backend::Opfs(OpfsOptions::in_dir(direct_root.clone())))
                .await
                .expect("connect to the direct side's root");
            run_op(&check, Op::ReadN, &dir, &data, &config)
                .await
                .unwrap_or_else(|e| panic!("the direct side's files through the bridge: {e}"));
        }
        bridged(&opfs, Op::Clean, &dir, &data, &config).await;
        direct
            .run(Op::Clean, Some(&direct_root), &dir, &config)
            .await;
    }
    drop((memory, opfs, direct));
    let all = RemoveOptions {
        recursive: true,
        force: true,
    };
    let root = OpfsFs::open(OpfsOptions::default())
        .await
        .expect("open the OPFS root");
    root.remove(&base, all).await.expect("remove the run");

    let mut table = format!(
        "fs-opfs bridge: calls on the page through BridgeFs to a dedicated worker vs the same calls \
         made directly in the worker (OpfsFs with sync access handles, or MemoryFs)\n\
         median of {} rounds (sides alternate first)\n\n",
        config.rounds
    );
    table.push_str(&format!(
        "| {:<40} | {:>14} | {:>14} | {:>14} |\n",
        format!("call round trip ({} calls)", config.calls),
        "bridge",
        "in the worker",
        "bridge extra"
    ));
    table.push_str(&format!(
        "|{:-<42}|{:->16}|{:->16}|{:->16}|\n",
        "", "", "", ""
    ));
    for (k, &(label, _, _)) in calls.iter().enumerate() {
        let per_call = |ms: f64| ms * 1000.0 / config.calls as f64;
        let bridge = per_call(median(&call_samples[k].bridge));
        let direct = per_call(median(&call_samples[k].direct));
        table.push_str(&format!(
            "| {:<40} | {:>11.1} µs | {:>11.1} µs | {:>11.1} µs |\n",
            label,
            bridge,
            direct,
            bridge - direct
        ));
    }
    table.push('\n');
    table.push_str(&format!(
        "| {:<40} | {:>9} | {:<24} | {:>9} | {:<24} | {:>6} |\n",
        "operation (OPFS)", "bridge", "bridge rate", "worker", "worker rate", "ratio"
    ));
    table.push_str(&format!(
        "|{:-<42}|{:->11}|{:-<26}|{:->11}|{:-<26}|{:->8}|\n",
        "", "", "", "", "", ""
    ));
    let kib = config.size / 1024;
    let mib = (config.files * config.size) as f64 / (1 << 20) as f64;
    for (k, &op) in transfers.iter().enumerate() {
        let label = match op {
            Op::Write1 => format!("{} x {kib} KiB write_file, 1 at a time", config.files),
            Op::Read1 => format!("{} x {kib} KiB read_file, 1 at a time", config.files),
            Op::WriteN => format!(
                "{} x {kib} KiB write_file, {} in flight",
                config.files, config.in_flight
            ),
            _ => format!(
                "{} x {kib} KiB read_file, {} in flight",
                config.files, config.in_flight
            ),
        };
        let bridge = median(&transfer_samples[k].bridge);
        let direct = median(&transfer_samples[k].direct);
        let rate = |ms: f64| {
            let seconds = ms / 1000.0;
            format!(
                "{:.0} files/s ({:.0} MiB/s)",
                config.files as f64 / seconds,
                mib / seconds
            )
        };
        table.push_str(&format!(
            "| {:<40} | {:>6.0} ms | {:<24} | {:>6.0} ms | {:<24} | {:>5.2}x |\n",
            label,
            bridge,
            rate(bridge),
            direct,
            rate(direct),
            direct / bridge
        ));
    }
    table.push_str(
        "(ratio: bridge throughput / in-worker throughput = worker time / bridge time)\n",
    );
    table
}

/// The benchmark code with tiny sizes: every call's answer and every byte read is checked.
#[wasm_bindgen_test]
async fn bench_smoke_bridge() {
    let table = run(Config::smoke()).await;
    console_log!("{table}");
}

/// Call round trips and 1,000 × 100 KiB through the bridge and directly in the worker; prints the
/// table.
#[wasm_bindgen_test]
#[ignore]
async fn bench_bridge() {
    let table = run(Config::full()).await;
    console_log!("{table}");
}
