//! `read_stream`: chunks read in batches of at most [`BATCH`] bytes (or one chunk, when larger)
//! through `Blob.slice`, so a large file never passes whole through wasm memory; the next batch is
//! requested before the current one is awaited (at most two batches in memory).

use std::collections::VecDeque;
use std::rc::Rc;

use bytes::Bytes;
use fs_core::{ByteStream, ErrorKind, FsResult, StreamOptions, VPath};
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::FileSystemFileHandle;

use crate::error::JsResultExt;
use crate::inner::Inner;
use crate::method::FsMethod;
use crate::read::{handle_range, is_stale, request_range, snapshot};

/// The bytes fetched from the browser per call: fewer, larger calls are much faster than one per
/// small chunk, and 1 MiB keeps memory bounded.
const BATCH: u64 = 1024 * 1024;

const METHOD: FsMethod = FsMethod::Stream;

struct State {
    inner: Rc<Inner>,
    path: VPath,
    handle: FileSystemFileHandle,
    snapshot: Option<web_sys::File>,
    pos: u64,
    end: u64,
    chunk: usize,
    ready: VecDeque<Bytes>,
    /// The next batch, already requested from the browser.
    ahead: Option<Ahead>,
}

/// A batch read the browser is already doing: bytes `start..end` of the current snapshot.
struct Ahead {
    start: u64,
    end: u64,
    buffer: JsFuture,
}

/// Opens the stream: the file must exist now (`NotFound`, `BadResource` for a directory).
pub(crate) async fn stream_file(
    inner: &Rc<Inner>,
    path: &VPath,
    options: StreamOptions,
) -> FsResult<ByteStream> {
    if options.chunk_size == 0 {
        return Err(METHOD
            .error(ErrorKind::BadArgument, "chunk_size must not be 0")
            .with_path(path));
    }
    if path.is_root() {
        return Err(METHOD
            .error(ErrorKind::BadResource, "the root is a directory")
            .with_path(path));
    }
    let handle = inner.tree.file(path, false, METHOD).await?;
    let (size, snap) = match inner.nodes.access(path) {
        Some(open) => (open.get_size().fs(METHOD, path)? as u64, None),
        None => {
            let file = snapshot(&handle, path, METHOD).await?;
            (file.size() as u64, Some(file))
        }
    };
    let start = options.offset.min(size);
    let end = match options.length {
        Some(len) => start.saturating_add(len).min(size),
        None => size,
    };
    let state = State {
        inner: inner.clone(),
        path: path.clone(),
        handle,
        snapshot: snap,
        pos: start,
        end,
        chunk: options.chunk_size,
        ready: VecDeque::new(),
        ahead: None,
    };
    Ok(Box::pin(futures::stream::unfold(
        Some(state),
        |state| async move {
            let mut state = state?;
            if state.ready.is_empty() {
                if state.pos >= state.end {
                    return None;
                }
                match fetch(&mut state).await {
                    Ok(()) => {}
                    Err(e) => return Some((Err(e), None)),
                }
            }
            let chunk = state.ready.pop_front()?;
            Some((Ok(chunk), Some(state)))
        },
    )))
}

/// Reads the next batch and splits it into chunks.
async fn fetch(state: &mut State) -> FsResult<()> {
    let want = BATCH.max(state.chunk as u64).min(state.end - state.pos);
    let batch = read_batch(state, want).await?;
    if batch.is_empty() {
        // The file shrank below the range read so far: end the stream.
        state.pos = state.end;
        return Ok(());
    }
    state.pos += batch.len() as u64;
    let mut offset = 0;
    while offset < batch.len() {
        let next = (offset + state.chunk).min(batch.len());
        state.ready.push_back(batch.slice(offset..next));
        offset = next;
    }
    Ok(())
}

/// The batch at `state.pos` (at most `want` bytes). From a snapshot, the following batch is
/// requested before this one is awaited, so the browser reads it while this one is copied into
/// wasm memory and consumed.
async fn read_batch(state: &mut State, want: u64) -> FsResult<Bytes> {
    if let Some(open) = state.inner.nodes.access(&state.path) {
        state.ahead = None;
        return handle_range(&open, state.pos, want as usize, &state.path, METHOD);
    }
    for _ in 0..2 {
        let file = match &state.snapshot {
            Some(file) => file.clone(),
            None => {
                let file = snapshot(&state.handle, &state.path, METHOD).await?;
                state.snapshot = Some(file.clone());
                file
            }
        };
        let size = file.size() as u64;
        let end = (state.pos + want).min(size);
        if end <= state.pos {
            return Ok(Bytes::new());
        }
        let pending = match state.ahead.take() {
            Some(ahead) if ahead.start == state.pos && ahead.end == end => ahead.buffer,
            _ => request_range(&file, state.pos, end).fs(METHOD, &state.path)?,
        };
        let next_end = (end + BATCH.max(state.chunk as u64))
            .min(state.end)
            .min(size);
        if next_end > end {
            state.ahead = Some(Ahead {
                start: end,
                end: next_end,
                buffer: request_range(&file, end, next_end).fs(METHOD, &state.path)?,
            });
        }
        match pending.await {
            Ok(buffer) => {
                let buffer: ArrayBuffer = buffer.unchecked_into();
                return Ok(Bytes::from(Uint8Array::new(&buffer).to_vec()));
            }
            Err(e) if is_stale(&e) => {
                state.snapshot = None;
                state.ahead = None;
            }
            Err(e) => return Err(e).fs(METHOD, &state.path),
        }
    }
    Err(METHOD
        .error(
            ErrorKind::Busy,
            "the file kept changing while it was streamed",
        )
        .with_path(&state.path))
}
