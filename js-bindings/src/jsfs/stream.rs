//! `read_stream` of [`super::JsFs`]: batches of about 1 MiB read through an open handle (which
//! holds the file while the stream lives) or, without `fileHandles`, by ranged `readFile` calls,
//! handed out in chunks of at most `chunk_size`.

use std::io::SeekFrom;
use std::rc::Rc;

use bytes::Bytes;
use fs_core::{ByteStream, File, FsResult, VPath};
use futures::stream::{self, StreamExt};

use super::error::invalid;
use super::file::JsFile;
use super::object::{FsObject, Js};
use super::values::{bytes_from_js, number, object};

/// The largest chunk handed out, whatever `chunk_size` asks for (a batch is at least one chunk).
pub(crate) const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// How many bytes one call fetches when chunks are smaller.
const BATCH_BYTES: usize = 1024 * 1024;

/// Effect's name of the method, for errors.
const METHOD: &str = "stream";

/// Where the bytes come from.
pub(crate) enum Source {
    /// An open handle (closed when the stream ends or is dropped).
    Handle(Box<JsFile>),
    /// Ranged `readFile` calls on the path.
    Path(Rc<FsObject>),
}

/// Where a stream is.
struct Chunks {
    /// Where the bytes come from.
    source: Source,
    /// The streamed path (for errors).
    path: VPath,
    /// The largest chunk handed out.
    chunk_size: usize,
    /// Where the next batch starts.
    position: u64,
    /// How many bytes batches may still fetch.
    remaining: u64,
    /// Read and not handed out yet.
    ready: Bytes,
    /// A batch came back short: the file ends after `ready`.
    at_end: bool,
}

impl Chunks {
    /// The next batch (empty at the end of the file).
    async fn batch(&mut self, want: usize) -> FsResult<Bytes> {
        match &mut self.source {
            Source::Handle(file) => {
                file.seek(SeekFrom::Start(self.position))
                    .await
                    .map_err(|e| e.in_method(METHOD))?;
                let read = file
                    .read_alloc(want)
                    .await
                    .map_err(|e| e.in_method(METHOD))?;
                Ok(read.unwrap_or_default())
            }
            Source::Path(fs) => {
                // Nothing lies beyond what a JavaScript number can address.
                let Some(offset) = number(self.position) else {
                    return Ok(Bytes::new());
                };
                let range = object(&[
                    ("offset", offset),
                    ("length", wasm_bindgen::JsValue::from_f64(want as f64)),
                ]);
                let answer = fs
                    .call(
                        Js::ReadFile,
                        &[self.path.as_str().into(), range],
                        METHOD,
                        &self.path,
                    )
                    .await?;
                let mut bytes =
                    bytes_from_js(&answer).map_err(|e| invalid(METHOD, &self.path, e))?;
                bytes.truncate(want);
                Ok(bytes)
            }
        }
    }
}

/// A stream of `source` from `offset`, for at most `length` bytes, in chunks of at most
/// `chunk_size` (non-zero; capped at [`MAX_CHUNK_SIZE`]).
pub(crate) fn chunks(
    source: Source,
    path: VPath,
    chunk_size: usize,
    offset: u64,
    length: Option<u64>,
) -> ByteStream {
    let state = Chunks {
        source,
        path,
        chunk_size: chunk_size.clamp(1, MAX_CHUNK_SIZE),
        position: offset,
        remaining: length.unwrap_or(u64::MAX),
        ready: Bytes::new(),
        at_end: false,
    };
    stream::unfold(Some(state), next_chunk).boxed_local()
}

/// Hands out the next chunk, reading the next batch when the current one is used up.
async fn next_chunk(state: Option<Chunks>) -> Option<(FsResult<Bytes>, Option<Chunks>)> {
    let mut state = state?;
    if state.ready.is_empty() {
        let per_batch = if state.chunk_size >= BATCH_BYTES {
            state.chunk_size
        } else {
            BATCH_BYTES / state.chunk_size * state.chunk_size
        };
        let want = usize::try_from(state.remaining)
            .unwrap_or(usize::MAX)
            .min(per_batch);
        if want == 0 || state.at_end {
            return None;
        }
        let batch = match state.batch(want).await {
            Ok(batch) => batch,
            Err(e) => return Some((Err(e), None)),
        };
        state.position += batch.len() as u64;
        state.remaining -= batch.len() as u64;
        state.at_end = batch.len() < want;
        if batch.is_empty() {
            return None;
        }
        state.ready = batch;
    }
    let chunk = state
        .ready
        .split_to(state.chunk_size.min(state.ready.len()));
    Some((Ok(chunk), Some(state)))
}
