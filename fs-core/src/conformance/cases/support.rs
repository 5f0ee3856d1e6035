//! What the cases share: short path and I/O helpers that panic with context, deterministic bytes,
//! SHA-256, error-kind checks, and bounded waits that need no runtime (the cases run under tokio
//! natively and under wasm-bindgen-test in a browser).

use std::fmt::Display;
use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::future::poll_fn;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use web_time::Instant;

use crate::{
    ErrorKind, FileSystem, FileType, FsResult, MakeDirOptions, OpenOptions, ReadDirOptions,
    SinkMode, SinkOptions, StreamOptions, VPath, WriteSink,
};

/// How long a case waits for something a backend does in the background (detached removal, watch
/// events) before it fails.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A test path; the cases only use valid ones.
pub(crate) fn p(path: &str) -> VPath {
    VPath::new(path).unwrap_or_else(|e| panic!("the case's own path {path:?} is invalid: {e}"))
}

/// Unwraps a result, panicking with what was being done and the error's full message.
pub(crate) trait Must<T> {
    /// The value, or a panic naming `what`.
    fn must(self, what: impl Display) -> T;
}

impl<T> Must<T> for FsResult<T> {
    fn must(self, what: impl Display) -> T {
        match self {
            Ok(value) => value,
            Err(e) => panic!("{what}: unexpected error {e} (kind {:?})", e.kind()),
        }
    }
}

/// Asserts that `result` failed with `kind`.
pub(crate) fn expect_kind<T>(result: FsResult<T>, kind: ErrorKind, what: impl Display) {
    match result {
        Ok(_) => panic!("{what}: expected an error of kind {kind:?}, but the call succeeded"),
        Err(e) => assert_eq!(
            e.kind(),
            kind,
            "{what}: expected an error of kind {kind:?}, got {:?} ({e})",
            e.kind()
        ),
    }
}

/// Asserts that `result` failed with one of `kinds` (only where the trait leaves the choice open).
pub(crate) fn expect_kind_in<T>(result: FsResult<T>, kinds: &[ErrorKind], what: impl Display) {
    match result {
        Ok(_) => panic!("{what}: expected an error of kind {kinds:?}, but the call succeeded"),
        Err(e) => assert!(
            kinds.contains(&e.kind()),
            "{what}: expected an error of kind {kinds:?}, got {:?} ({e})",
            e.kind()
        ),
    }
}

/// SplitMix64: a small deterministic generator, the same on every target.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator starting from `state`.
    pub(crate) fn new(state: u64) -> Rng {
        Rng(state)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `len` bytes from [`Rng`], different for each seed.
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x6a09_e667_f3bc_c908);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex SHA-256 of chunks taken in order.
pub(crate) fn sha256_hex_of_chunks(chunks: &[Bytes]) -> String {
    let mut hasher = Sha256::new();
    for chunk in chunks {
        hasher.update(chunk);
    }
    hex(&hasher.finalize())
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `data` to `path` with `w`.
pub(crate) async fn write(fs: &dyn FileSystem, path: &VPath, data: &[u8]) {
    fs.write_file(path, Bytes::copy_from_slice(data), OpenOptions::write())
        .await
        .must(format!("write_file {path}"));
}

/// The whole content of `path`.
pub(crate) async fn read(fs: &dyn FileSystem, path: &VPath) -> Vec<u8> {
    fs.read_file(path)
        .await
        .must(format!("read_file {path}"))
        .to_vec()
}

/// The whole content of `path` as a string.
pub(crate) async fn read_string(fs: &dyn FileSystem, path: &VPath) -> String {
    fs.read_file_string(path)
        .await
        .must(format!("read_file_string {path}"))
}

/// Creates `path` and its missing parents.
pub(crate) async fn mkdir(fs: &dyn FileSystem, path: &VPath) {
    let options = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    fs.make_dir(path, options)
        .await
        .must(format!("make_dir (recursive) {path}"));
}

/// A sink at `path` in `mode`.
pub(crate) async fn open_sink(
    fs: &dyn FileSystem,
    path: &VPath,
    mode: SinkMode,
) -> Box<dyn WriteSink> {
    let options = SinkOptions {
        mode,
        permissions: None,
    };
    fs.write_sink(path, options)
        .await
        .must(format!("write_sink {path} {mode:?}"))
}

/// Whether something exists at `path`.
pub(crate) async fn exists(fs: &dyn FileSystem, path: &VPath) -> bool {
    fs.exists(path).await.must(format!("exists {path}"))
}

/// The `(relative path, type)` pairs of a listing, in the order the backend returned them.
pub(crate) async fn listing(
    fs: &dyn FileSystem,
    dir: &VPath,
    recursive: bool,
) -> Vec<(String, FileType)> {
    let entries = fs
        .read_dir(dir, ReadDirOptions { recursive })
        .await
        .must(format!("read_dir {dir} (recursive: {recursive})"));
    for entry in &entries {
        let expected = dir
            .join_relative(&entry.relative)
            .unwrap_or_else(|e| panic!("read_dir {dir}: bad relative path {entry:?}: {e}"));
        assert_eq!(
            entry.path, expected,
            "read_dir {dir}: an entry's path must be the directory joined with its relative path"
        );
    }
    entries
        .into_iter()
        .map(|entry| (entry.relative, entry.file_type))
        .collect()
}

/// The names directly inside `dir`, in the order the backend returned them.
pub(crate) async fn names(fs: &dyn FileSystem, dir: &VPath) -> Vec<String> {
    listing(fs, dir, false)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// Every chunk of a `read_stream`, failing on the first error. Panics if the stream does not end
/// within `expected_max` bytes (plus one chunk) or produces absurdly many chunks.
pub(crate) async fn collect_stream(
    fs: &dyn FileSystem,
    path: &VPath,
    options: StreamOptions,
    expected_max: u64,
) -> Vec<Bytes> {
    let what = format!("read_stream {path} {options:?}");
    let stream = fs.read_stream(path, options).await.must(&what);
    collect_chunks(stream, &what, expected_max + options.chunk_size as u64).await
}

/// Every chunk of `stream`; see [`collect_stream`].
pub(crate) async fn collect_chunks<S>(stream: S, what: &str, max_bytes: u64) -> Vec<Bytes>
where
    S: Stream<Item = FsResult<Bytes>>,
{
    let mut stream = pin!(stream);
    let mut chunks = Vec::new();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.must(format!("{what}: chunk {}", chunks.len()));
        total += chunk.len() as u64;
        chunks.push(chunk);
        assert!(
            total <= max_bytes,
            "{what}: the stream yielded more than {max_bytes} bytes"
        );
        assert!(
            chunks.len() <= 10_000_000,
            "{what}: the stream does not end"
        );
    }
    chunks
}

/// The concatenation of `chunks`.
pub(crate) fn concat(chunks: &[Bytes]) -> Vec<u8> {
    chunks.iter().flat_map(|c| c.iter().copied()).collect()
}

/// Lets other tasks (and, in a browser, nothing else) run once.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}

/// Polls `exists` until `path` is gone, for at most [`WAIT_LIMIT`] (each poll is a real call into
/// the backend, so its background work can make progress on any executor).
pub(crate) async fn wait_until_absent(fs: &dyn FileSystem, path: &VPath, what: &str) {
    let start = Instant::now();
    loop {
        if !exists(fs, path).await {
            return;
        }
        assert!(
            start.elapsed() <= WAIT_LIMIT,
            "{what}: {path} still exists {WAIT_LIMIT:?} later"
        );
        yield_now().await;
    }
}

/// The outcome of [`within`].
pub(crate) enum Waited<T> {
    /// The future finished in time.
    Done(T),
    /// The time ran out first.
    TimedOut,
}

/// Runs `future` for at most `limit`, checking the clock each time the executor polls it. The
/// future is polled in a tight loop (no timer is available without a runtime), so use this only for
/// short waits on something already under way.
pub(crate) async fn within<F: Future>(limit: Duration, future: F) -> Waited<F::Output> {
    let start = Instant::now();
    let mut future = pin!(future);
    poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Waited::Done(out));
        }
        if start.elapsed() > limit {
            return Poll::Ready(Waited::TimedOut);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
