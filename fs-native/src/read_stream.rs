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

/// The largest chunk emitted, whatever `chunk_size` asks for: a buffer of this size is allocated per
/// chunk, so a huge `chunk_size` must not become a huge allocation.
pub const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// Opens `path` now (so a missing file or a directory fails here, with `NotFound` or `BadResource`)
/// and returns a stream of chunks of exactly `chunk_size` bytes (at most [`MAX_CHUNK_SIZE`]; the
/// last one may be shorter), starting at `offset`, for at most `length` bytes. Each chunk is one
/// positional read on the blocking pool, started when the previous chunk is handed out (one chunk
/// of read-ahead, so at most two chunks are in memory besides the consumer's). A zero `chunk_size`
/// is `BadArgument`. An I/O error is the stream's last item.
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
        chunk_size: options.chunk_size,
        position: options.offset,
        remaining: options.length.unwrap_or(u64::MAX),
        ahead: None,
    };
    Ok(stream::unfold(Some(state), next_chunk).boxed())
}

/// Where the stream is; `None` once it has ended.
struct Chunks {
    file: Arc<std::fs::File>,
    path: VPath,
    chunk_size: usize,
    /// Where the next read starts.
    position: u64,
    /// How many bytes may still be read.
    remaining: u64,
    /// The read of the next chunk (with its wanted length), started when the previous chunk was
    /// handed out, so that reading overlaps with whatever the consumer does with a chunk.
    ahead: Option<(usize, JoinHandle<FsResult<Vec<u8>>>)>,
}

impl Chunks {
    /// Starts reading the next chunk on the blocking pool; `None` when nothing is left to read.
    fn start_read(&self) -> Option<(usize, JoinHandle<FsResult<Vec<u8>>>)> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(self.chunk_size)
            .min(MAX_CHUNK_SIZE);
        if want == 0 {
            return None;
        }
        let file = self.file.clone();
        let vp = self.path.clone();
        let at = self.position;
        // Allocated on the runtime's thread, where the consumer usually frees it.
        let mut chunk = vec![0u8; want];
        let read = tokio::task::spawn_blocking(move || {
            let mut filled = 0;
            while filled < want {
                match file.read_at(&mut chunk[filled..], at + filled as u64) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err).ctx(METHOD, &vp),
                }
            }
            chunk.truncate(filled);
            Ok(chunk)
        });
        Some((want, read))
    }
}

/// Hands out the next chunk: a buffer of `min(chunk_size, remaining)` bytes filled unless the file
/// ends first, and starts reading the one after it. A short chunk means the end, so the stream stops
/// without another read.
async fn next_chunk(state: Option<Chunks>) -> Option<(FsResult<Bytes>, Option<Chunks>)> {
    let mut state = state?;
    let (want, read) = match state.ahead.take() {
        Some(started) => started,
        None => state.start_read()?,
    };
    let chunk = match read.await {
        Ok(Ok(chunk)) => chunk,
        Ok(Err(err)) => return Some((Err(err), None)),
        Err(join) => return Some((Err(join_error(join, METHOD, &state.path)), None)),
    };
    if chunk.is_empty() {
        return None;
    }
    let n = chunk.len();
    if n < want {
        return Some((Ok(Bytes::from(chunk)), None));
    }
    state.position += n as u64;
    state.remaining -= n as u64;
    state.ahead = state.start_read();
    Some((Ok(Bytes::from(chunk)), Some(state)))
}
