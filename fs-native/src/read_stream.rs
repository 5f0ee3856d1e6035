//! `read_stream`: a file as a stream of chunks, never whole in memory.

use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use fs_core::{ByteStream, ErrorKind, FsError, FsResult, StreamOptions, VPath};
use futures::stream::{self, StreamExt};
use tokio::task::JoinHandle;

use crate::blocking::{bad_resource, join_error, run, IoContext};
use crate::NativeFs;

const METHOD: &str = "stream";

/// The largest chunk emitted, whatever `chunk_size` asks for: a buffer at least this large is
/// allocated per read, so a huge `chunk_size` must not become a huge allocation.
pub const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// How many bytes one read on the blocking pool fetches when chunks are smaller: the chunks are then
/// slices of one buffer, so each hop to the pool serves many chunks.
const BATCH_BYTES: usize = 1024 * 1024;

/// Opens `path` now (so a missing file or a directory fails here, with `NotFound` or `BadResource`)
/// and returns a stream of chunks of exactly `chunk_size` bytes (at most [`MAX_CHUNK_SIZE`]; the
/// last one may be shorter), starting at `offset`, for at most `length` bytes.
///
/// Small chunks are read in batches of about 1 MiB (a whole number of chunks) with one positional
/// read on the blocking pool each, and the next batch is read while the current one is handed out.
/// So at most two batches (or two chunks, when chunks are larger) are held by the stream, and a chunk
/// the consumer keeps holds its batch's buffer alive. A zero `chunk_size` is `BadArgument`. An I/O
/// error is the stream's last item.
pub(crate) async fn read_stream(
    fs: &NativeFs,
    path: &VPath,
    options: StreamOptions,
) -> FsResult<ByteStream> {
    if options.chunk_size == 0 {
        return Err(FsError::new(
            ErrorKind::BadArgument,
            METHOD,
            "the chunk size must be at least one byte",
        )
        .with_path(path));
    }
    let os = fs.os_path(path);
    let vp = path.clone();
    let file = run(METHOD, path, move || {
        let file = std::fs::File::open(&os).ctx(METHOD, &vp)?;
        if file.metadata().ctx(METHOD, &vp)?.is_dir() {
            return Err(bad_resource(METHOD, &vp, "the path is a directory"));
        }
        Ok(file)
    })
    .await?;
    let state = Chunks {
        file: Arc::new(file),
        path: path.clone(),
        chunk_size: options.chunk_size.min(MAX_CHUNK_SIZE),
        position: options.offset,
        remaining: options.length.unwrap_or(u64::MAX),
        ready: Bytes::new(),
        ahead: None,
        at_end: false,
    };
    Ok(stream::unfold(Some(state), next_chunk).boxed())
}

/// Where the stream is; `None` once it has ended.
struct Chunks {
    file: Arc<std::fs::File>,
    path: VPath,
    /// The size of the chunks handed out (already capped at [`MAX_CHUNK_SIZE`]).
    chunk_size: usize,
    /// Where the next batch read starts.
    position: u64,
    /// How many bytes batch reads may still fetch.
    remaining: u64,
    /// Read and not handed out yet.
    ready: Bytes,
    /// The read of the next batch, with the length it asked for.
    ahead: Option<(usize, JoinHandle<FsResult<Vec<u8>>>)>,
    /// A batch came back short: the file ends after `ready`.
    at_end: bool,
}

impl Chunks {
    /// Starts reading the next batch on the blocking pool; `None` when nothing is left to read.
    fn start_read(&mut self) -> Option<(usize, JoinHandle<FsResult<Vec<u8>>>)> {
        let per_batch = if self.chunk_size >= BATCH_BYTES {
            self.chunk_size
        } else {
            BATCH_BYTES / self.chunk_size * self.chunk_size
        };
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(per_batch);
        if want == 0 || self.at_end {
            return None;
        }
        let file = self.file.clone();
        let vp = self.path.clone();
        let at = self.position;
        self.position += want as u64;
        self.remaining -= want as u64;
        // Allocated on the runtime's thread, where the consumer usually frees it.
        let mut batch = vec![0u8; want];
        let read = tokio::task::spawn_blocking(move || {
            let mut filled = 0;
            while filled < want {
                match file.read_at(&mut batch[filled..], at + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err).ctx(METHOD, &vp),
                }
            }
            batch.truncate(filled);
            Ok(batch)
        });
        Some((want, read))
    }
}

/// Hands out the next chunk from the current batch, waiting for the next batch when it is used up;
/// starts reading the batch after it as soon as one is being handed out.
async fn next_chunk(state: Option<Chunks>) -> Option<(FsResult<Bytes>, Option<Chunks>)> {
    let mut state = state?;
    if state.ready.is_empty() {
        let (want, read) = match state.ahead.take() {
            Some(started) => started,
            None => state.start_read()?,
        };
        let batch = match read.await {
            Ok(Ok(batch)) => batch,
            Ok(Err(err)) => return Some((Err(err), None)),
            Err(join) => return Some((Err(join_error(join, METHOD, &state.path)), None)),
        };
        state.at_end = batch.len() < want;
        if batch.is_empty() {
            return None;
        }
        state.ready = Bytes::from(batch);
    }
    let chunk = state
        .ready
        .split_to(state.chunk_size.min(state.ready.len()));
    if state.ahead.is_none() {
        state.ahead = state.start_read();
    }
    Some((Ok(chunk), Some(state)))
}
