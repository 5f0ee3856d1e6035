//! The fs-opfs benchmark shared by `bench_page` and `bench_worker`: fs-opfs against the same OPFS
//! operations written directly in JavaScript (`direct.js`), in the same page or worker.
//!
//! Measurements (each side in its own directory, fresh every round, removed after the round):
//!
//! | row | fs-opfs | direct JS |
//! |---|---|---|
//! | large write | `write_sink` (what an app streaming a download or a big blob uses), 1 MiB chunks, close | a temporary file in a separate directory, then `move()` over the name; page: `createWritable` of it, 1 MiB `write`s, `close`; worker: its sync access handle, 1 MiB `write({at})`s, `flush`, `close` |
//! | large read | `read_stream` (default 64 KiB chunks, fetched in 1 MiB batches), every chunk consumed | `getFile()`, then `slice(at, at + 1 MiB).arrayBuffer()` batch after batch |
//! | small writes | `write_file` (`w`), one at a time or 16 in flight (`buffer_unordered`) | page: `getFileHandle(create)`, `createWritable`, one `write`, `close`; worker: a temporary file in a separate directory through a sync access handle, `move()` |
//! | small reads | `read_file` | `getFileHandle`, `getFile()`, `arrayBuffer()` |
//!
//! The bytes come from one pseudo-random buffer generated in wasm; JavaScript gets a copy in its own
//! memory before any clock starts, so both sides write identical bytes (fs-opfs copies its chunks
//! out of wasm memory as part of its work; its reads copy into wasm memory, the JS reads stop at the
//! `ArrayBuffer`). Time comes from `performance.now()`. The sides alternate which goes first from
//! round to round; the table shows medians.

#![allow(dead_code)]

use bytes::Bytes;
use fs_core::{
    random_name, FileSystem, MakeDirOptions, OpenOptions, RemoveOptions, SinkOptions,
    StreamOptions, VPath,
};
use fs_opfs::{OpfsFs, OpfsOptions};
use futures::{StreamExt, TryStreamExt};
use js_sys::{Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::FileSystemDirectoryHandle;

#[wasm_bindgen(module = "/tests/bench_common/direct.js")]
extern "C" {
    /// `performance.now()` of the current page or worker.
    pub fn now() -> f64;

    /// The directory handle at a slash-separated path below the OPFS root (created).
    #[wasm_bindgen(js_name = dirAt)]
    async fn dir_at(path: &str) -> JsValue;

    /// The direct large write (`mode`: "writable" or "sync-access").
    #[wasm_bindgen(js_name = writeLarge, catch)]
    async fn js_write_large(
        mode: &str,
        dir: &FileSystemDirectoryHandle,
        name: &str,
        data: &Uint8Array,
        chunk: u32,
    ) -> Result<(), JsValue>;

    /// The direct large read in `batch`-byte slices; checks the bytes against `expect` if given.
    #[wasm_bindgen(js_name = readLarge, catch)]
    async fn js_read_large(
        dir: &FileSystemDirectoryHandle,
        name: &str,
        batch: u32,
        expect: Option<Uint8Array>,
    ) -> Result<JsValue, JsValue>;

    /// The direct small-file writes.
    #[wasm_bindgen(js_name = writeSmall, catch)]
    async fn js_write_small(
        mode: &str,
        dir: &FileSystemDirectoryHandle,
        prefix: &str,
        data: &Uint8Array,
        offsets: &Uint32Array,
        size: u32,
        in_flight: u32,
    ) -> Result<(), JsValue>;

    /// The direct small-file reads; checks the bytes against `check` if given.
    #[wasm_bindgen(js_name = readSmall, catch)]
    #[allow(clippy::too_many_arguments)]
    async fn js_read_small(
        dir: &FileSystemDirectoryHandle,
        prefix: &str,
        count: u32,
        in_flight: u32,
        check: Option<Uint8Array>,
        offsets: &Uint32Array,
        size: u32,
    ) -> Result<JsValue, JsValue>;
}

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Bytes of the sequential file.
    pub large_bytes: usize,
    /// Bytes per sink write and per read batch of the direct side.
    pub chunk: usize,
    /// How many small files.
    pub small_files: usize,
    /// Bytes per small file.
    pub small_bytes: usize,
    /// Small files in flight in the concurrent rows.
    pub in_flight: usize,
    /// Rounds (medians are printed).
    pub rounds: usize,
    /// Check every byte read on both sides (the smoke tests; off while measuring).
    pub verify: bool,
}

impl Config {
    /// The benchmark of the issue: 64 MiB, 1,000 × 100 KiB, 16 in flight, 5 rounds. The browser
    /// has no environment, so a quick look lowers the sizes at compile time:
    /// `BENCH_OPFS_LARGE_MIB`, `BENCH_OPFS_FILES`, `BENCH_OPFS_ROUNDS`.
    pub fn full() -> Config {
        Config {
            large_bytes: compiled_number(option_env!("BENCH_OPFS_LARGE_MIB"), 64) << 20,
            chunk: 1 << 20,
            small_files: compiled_number(option_env!("BENCH_OPFS_FILES"), 1000),
            small_bytes: 100 << 10,
            in_flight: 16,
            rounds: compiled_number(option_env!("BENCH_OPFS_ROUNDS"), 5),
            verify: false,
        }
    }

    /// A tiny run that checks every byte (part of the normal test run).
    pub fn smoke() -> Config {
        Config {
            large_bytes: 256 << 10,
            chunk: 64 << 10,
            small_files: 10,
            small_bytes: 10 << 10,
            in_flight: 4,
            rounds: 2,
            verify: true,
        }
    }
}

/// A size given at compile time, or `default`.
pub fn compiled_number(value: Option<&str>, default: usize) -> usize {
    value.map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{v:?} is not a whole number"))
    })
}

/// How the direct side writes (mirroring the fs-opfs strategy of the context).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The page: `createWritable`.
    Page,
    /// A dedicated worker: sync access handles of temporary files + `move()`.
    Worker,
}

impl Context {
    fn mode(self) -> &'static str {
        match self {
            Context::Page => "writable",
            Context::Worker => "sync-access",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Context::Page => {
                "page (fs-opfs Strategy::Writable; JS: createWritable of the file + write + close; \
                 reads: getFile + Blob.slice/arrayBuffer)"
            }
            Context::Worker => {
                "dedicated worker (fs-opfs Strategy::SyncAccess; JS: sync access handle of a temp \
                 sibling + write({at}) + flush + close + move(); reads: getFile + Blob.slice/arrayBuffer)"
            }
        }
    }
}

/// Pseudo-random bytes (xorshift64*), the same every run.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The source bytes, in wasm (for fs-opfs) and in JavaScript memory (for the direct side).
struct Data {
    large: Bytes,
    js_large: Uint8Array,
    offsets: Vec<usize>,
    js_offsets: Uint32Array,
}

impl Data {
    fn new(config: &Config) -> Data {
        assert!(config.large_bytes >= config.small_bytes);
        let large = Bytes::from(random_bytes(config.large_bytes));
        let js_large = Uint8Array::from(&large[..]);
        // Small file i is a window of the large buffer, shifted by an odd stride.
        let span = config.large_bytes - config.small_bytes + 1;
        let offsets: Vec<usize> = (0..config.small_files)
            .map(|i| (i * 65_537) % span)
            .collect();
        let as_u32: Vec<u32> = offsets.iter().map(|&o| o as u32).collect();
        let js_offsets = Uint32Array::from(&as_u32[..]);
        Data {
            large,
            js_large,
            offsets,
            js_offsets,
        }
    }

    fn small(&self, i: usize, size: usize) -> Bytes {
        self.large.slice(self.offsets[i]..self.offsets[i] + size)
    }
}

/// The measured operations, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    LargeWrite,
    LargeRead,
    SmallWrite1,
    SmallRead1,
    SmallWriteN,
    SmallReadN,
}

const OPS: [Op; 6] = [
    Op::LargeWrite,
    Op::LargeRead,
    Op::SmallWrite1,
    Op::SmallRead1,
    Op::SmallWriteN,
    Op::SmallReadN,
];

impl Op {
    fn label(self, config: &Config) -> String {
        let mib = config.large_bytes as f64 / (1 << 20) as f64;
        let kib = config.small_bytes / 1024;
        let n = config.small_files;
        let k = config.in_flight;
        let chunk = config.chunk / 1024;
        match self {
            Op::LargeWrite => format!("{mib} MiB write (write_sink, {chunk} KiB chunks)"),
            Op::LargeRead => format!("{mib} MiB read (read_stream)"),
            Op::SmallWrite1 => format!("{n} x {kib} KiB write_file, 1 at a time"),
            Op::SmallRead1 => format!("{n} x {kib} KiB read_file, 1 at a time"),
            Op::SmallWriteN => format!("{n} x {kib} KiB write_file, {k} in flight"),
            Op::SmallReadN => format!("{n} x {kib} KiB read_file, {k} in flight"),
        }
    }

    fn is_large(self) -> bool {
        matches!(self, Op::LargeWrite | Op::LargeRead)
    }

    fn in_flight(self, config: &Config) -> usize {
        match self {
            Op::SmallWriteN | Op::SmallReadN => config.in_flight,
            _ => 1,
        }
    }

    /// The file name prefix of the small-file rows (writes and reads of one row share files).
    fn prefix(self) -> &'static str {
        match self {
            Op::SmallWrite1 | Op::SmallRead1 => "one-",
            _ => "many-",
        }
    }
}

/// One side's directory in a round.
struct Side {
    path: VPath,
    handle: FileSystemDirectoryHandle,
}

/// The fs-opfs side of one operation.
async fn run_fs(fs: &OpfsFs, op: Op, dir: &VPath, data: &Data, config: &Config) {
    let large = dir.join("large.bin").expect("valid name");
    match op {
        Op::LargeWrite => {
            let mut sink = fs
                .write_sink(&large, SinkOptions::default())
                .await
                .expect("write_sink");
            let mut at = 0;
            while at < data.large.len() {
                let end = (at + config.chunk).min(data.large.len());
                sink.write(data.large.slice(at..end))
                    .await
                    .expect("sink write");
                at = end;
            }
            sink.close().await.expect("sink close");
        }
        Op::LargeRead => {
            let stream = fs
                .read_stream(&large, StreamOptions::default())
                .await
                .expect("read_stream");
            if config.verify {
                let chunks: Vec<Bytes> = stream.try_collect().await.expect("stream chunk");
                assert_eq!(chunks.concat(), data.large[..], "fs-opfs large read");
            } else {
                let total = stream
                    .try_fold(0usize, |n, chunk| async move { Ok(n + chunk.len()) })
                    .await
                    .expect("stream chunk");
                assert_eq!(total, data.large.len());
            }
        }
        Op::SmallWrite1 | Op::SmallWriteN => {
            let prefix = op.prefix();
            futures::stream::iter(0..config.small_files)
                .map(|i| {
                    let path = dir.join(&format!("{prefix}{i}")).expect("valid name");
                    let bytes = data.small(i, config.small_bytes);
                    async move { fs.write_file(&path, bytes, OpenOptions::write()).await }
                })
                .buffer_unordered(op.in_flight(config))
                .try_collect::<Vec<()>>()
                .await
                .expect("write_file");
        }
        Op::SmallRead1 | Op::SmallReadN => {
            let prefix = op.prefix();
            let verify = config.verify;
            let total = futures::stream::iter(0..config.small_files)
                .map(|i| {
                    let path = dir.join(&format!("{prefix}{i}")).expect("valid name");
                    async move {
                        let bytes = fs.read_file(&path).await.expect("read_file");
                        if verify {
                            assert_eq!(bytes, data.small(i, config.small_bytes), "{path}");
                        }
                        bytes.len()
                    }
                })
                .buffer_unordered(op.in_flight(config))
                .fold(0usize, |n, len| async move { n + len })
                .await;
            assert_eq!(total, config.small_files * config.small_bytes);
        }
    }
}

/// The direct-JavaScript side of one operation.
async fn run_js(
    context: Context,
    op: Op,
    dir: &FileSystemDirectoryHandle,
    data: &Data,
    config: &Config,
) {
    let mode = context.mode();
    let check = config.verify.then(|| data.js_large.clone());
    match op {
        Op::LargeWrite => {
            js_write_large(mode, dir, "large.bin", &data.js_large, config.chunk as u32)
                .await
                .unwrap_or_else(|e| fail(op, e))
        }
        Op::LargeRead => {
            let total = js_read_large(dir, "large.bin", config.chunk as u32, check)
                .await
                .unwrap_or_else(|e| fail(op, e));
            assert_eq!(total.as_f64(), Some(config.large_bytes as f64));
        }
        Op::SmallWrite1 | Op::SmallWriteN => js_write_small(
            mode,
            dir,
            op.prefix(),
            &data.js_large,
            &data.js_offsets,
            config.small_bytes as u32,
            op.in_flight(config) as u32,
        )
        .await
        .unwrap_or_else(|e| fail(op, e)),
        Op::SmallRead1 | Op::SmallReadN => {
            let total = js_read_small(
                dir,
                op.prefix(),
                config.small_files as u32,
                op.in_flight(config) as u32,
                check,
                &data.js_offsets,
                config.small_bytes as u32,
            )
            .await
            .unwrap_or_else(|e| fail(op, e));
            assert_eq!(
                total.as_f64(),
                Some((config.small_files * config.small_bytes) as f64)
            );
        }
    }
}

/// Panics with a direct-JS failure.
fn fail<T>(op: Op, error: JsValue) -> T {
    panic!("direct JS {op:?}: {error:?}")
}

/// The median of `samples` (the upper one of an even count).
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Throughput of one median: MiB/s for the large rows, files/s (and MiB/s) for the small ones.
fn rate(op: Op, ms: f64, config: &Config) -> String {
    let seconds = ms / 1000.0;
    if op.is_large() {
        let mib = config.large_bytes as f64 / (1 << 20) as f64;
        format!("{:.0} MiB/s", mib / seconds)
    } else {
        let files = config.small_files as f64;
        let mib = files * config.small_bytes as f64 / (1 << 20) as f64;
        format!(
            "{:.0} files/s ({:.0} MiB/s)",
            files / seconds,
            mib / seconds
        )
    }
}

/// Runs the benchmark in `context`, checks (with `verify`) that both sides read back what was
/// written, and returns the printed table.
pub async fn run(context: Context, config: Config) -> String {
    let base = VPath::new(&format!("/bench/{}", random_name(Some("run-")))).expect("valid path");
    let fs = OpfsFs::open(OpfsOptions::in_dir(base.clone()))
        .await
        .expect("OpfsFs::open");
    let data = Data::new(&config);
    let mut fs_ms = vec![Vec::new(); OPS.len()];
    let mut js_ms = vec![Vec::new(); OPS.len()];
    let all = RemoveOptions {
        recursive: true,
        force: true,
    };
    for round in 0..config.rounds {
        // Fresh directories, resolved before the clock starts on both sides.
        let fs_dir = VPath::new(&format!("/r{round}-fs")).expect("valid path");
        fs.make_dir(&fs_dir, MakeDirOptions::default())
            .await
            .expect("make_dir");
        let js_path = VPath::new(&format!("/r{round}-js")).expect("valid path");
        let js_side = Side {
            handle: dir_at(&format!("{base}{js_path}")).await.unchecked_into(),
            path: js_path,
        };
        for (k, &op) in OPS.iter().enumerate() {
            for turn in 0..2 {
                let fs_turn = (turn + round) % 2 == 0;
                let start = now();
                if fs_turn {
                    run_fs(&fs, op, &fs_dir, &data, &config).await;
                    fs_ms[k].push(now() - start);
                } else {
                    run_js(context, op, &js_side.handle, &data, &config).await;
                    js_ms[k].push(now() - start);
                }
            }
        }
        if config.verify {
            // Each side reads what the other wrote, too.
            let large = js_side.path.join("large.bin").expect("valid name");
            assert_eq!(fs.read_file(&large).await.expect("read"), data.large);
            for i in 0..config.small_files {
                let path = js_side.path.join(&format!("many-{i}")).expect("valid name");
                let bytes = fs.read_file(&path).await.expect("read");
                assert_eq!(bytes, data.small(i, config.small_bytes));
            }
            let fs_handle: FileSystemDirectoryHandle =
                dir_at(&format!("{base}{fs_dir}")).await.unchecked_into();
            run_js(context, Op::LargeRead, &fs_handle, &data, &config).await;
            run_js(context, Op::SmallReadN, &fs_handle, &data, &config).await;
        }
        fs.remove(&fs_dir, all).await.expect("remove round");
        fs.remove(&js_side.path, all).await.expect("remove round");
    }
    let root = OpfsFs::open(OpfsOptions::default())
        .await
        .expect("open root");
    root.remove(&base, all).await.expect("remove run");

    let mut table = format!(
        "fs-opfs vs direct JS in the {}\nmedian of {} rounds (sides alternate first)\n\n",
        context.describe(),
        config.rounds
    );
    table.push_str(&format!(
        "| {:<40} | {:>9} | {:<26} | {:>9} | {:<26} | {:>6} |\n",
        "operation", "fs-opfs", "fs-opfs rate", "JS", "JS rate", "ratio"
    ));
    table.push_str(&format!(
        "|{:-<42}|{:->11}|{:-<28}|{:->11}|{:-<28}|{:->8}|\n",
        "", "", "", "", "", ""
    ));
    for (k, &op) in OPS.iter().enumerate() {
        let fs_median = median(&fs_ms[k]);
        let js_median = median(&js_ms[k]);
        table.push_str(&format!(
            "| {:<40} | {:>6.0} ms | {:<26} | {:>6.0} ms | {:<26} | {:>5.2}x |\n",
            op.label(&config),
            fs_median,
            rate(op, fs_median, &config),
            js_median,
            rate(op, js_median, &config),
            js_median / fs_median,
        ));
    }
    table.push_str("(ratio: fs-opfs throughput / JS throughput = JS time / fs-opfs time)\n");
    table
}
