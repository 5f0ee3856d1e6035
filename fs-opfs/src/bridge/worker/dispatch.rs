//! Executing requests and notices against a connection's file system and the resources it keeps
//! for the page (open files, read streams, write sinks, watches), by id.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::task::Waker;

use bytes::Bytes;
use fs_core::{ByteStream, ErrorKind, File, FsError, FsResult, WatchStream, WriteSink};
use futures::future::{poll_fn, AbortHandle, Abortable};
use futures::lock::Mutex;
use futures::{FutureExt, StreamExt};
use wasm_bindgen_futures::spawn_local;

use super::super::protocol::{bytes_to_js, js_to_bytes, Notice, Reply, Request};
use super::Connection;
use crate::method::FsMethod;

/// A resource the page uses by id; `None` once closed (a call that waited for it then fails).
type Slot<T> = Rc<Mutex<Option<T>>>;

/// The resources of one kind a connection keeps for its page, by id.
pub(super) struct Table<T> {
    slots: RefCell<HashMap<u32, Slot<T>>>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            slots: RefCell::new(HashMap::new()),
        }
    }
}

impl<T> Table<T> {
    /// Keeps `value` under `id`.
    fn insert(&self, id: u32, value: T) {
        self.slots
            .borrow_mut()
            .insert(id, Rc::new(Mutex::new(Some(value))));
    }

    /// The slot of `id`.
    fn get(&self, id: u32, kind: &str, method: FsMethod) -> FsResult<Slot<T>> {
        self.slots
            .borrow()
            .get(&id)
            .cloned()
            .ok_or_else(|| missing(kind, id, method))
    }

    /// Forgets `id`; its slot, if it had one.
    fn remove(&self, id: u32) -> Option<Slot<T>> {
        self.slots.borrow_mut().remove(&id)
    }

    /// Forgets everything.
    pub(super) fn clear(&self) {
        self.slots.borrow_mut().clear();
    }

    /// Forgets everything; the slots.
    pub(super) fn drain(&self) -> Vec<Slot<T>> {
        self.slots.borrow_mut().drain().map(|(_, s)| s).collect()
    }
}

fn missing(kind: &str, id: u32, method: FsMethod) -> FsError {
    method.error(
        ErrorKind::BadResource,
        format!("the {kind} (bridge id {id}) is closed or unknown"),
    )
}

/// Aborts a sink the page dropped.
pub(super) async fn abort_sink(sink: Slot<Box<dyn WriteSink>>) {
    let taken = sink.lock().await.take();
    if let Some(sink) = taken {
        let _ = sink.abort().await;
    }
}

/// Runs a file handle operation with the handle locked (operations on one handle run in order).
async fn with_file<R>(
    conn: &Connection,
    id: u32,
    method: FsMethod,
    op: impl AsyncFnOnce(&mut Box<dyn File>) -> FsResult<R>,
) -> FsResult<R> {
    let file = conn.files.get(id, "file handle", method)?;
    let mut guard = file.lock().await;
    match guard.as_mut() {
        Some(handle) => op(handle).await,
        None => Err(missing("file handle", id, method)),
    }
}

/// Removes a file or sink from its table and takes it out of its slot (after the calls already
/// using it).
async fn take<T>(table: &Table<T>, id: u32, kind: &str, method: FsMethod) -> FsResult<T> {
    let slot = table.remove(id).ok_or_else(|| missing(kind, id, method))?;
    let taken = slot.lock().await.take();
    taken.ok_or_else(|| missing(kind, id, method))
}

/// A read stream kept for a page, with what it said after the last batch.
pub(super) struct StreamState {
    stream: ByteStream,
    /// An error met after a batch was already gathered, for the next request.
    error: Option<FsError>,
    /// The stream ended after the last batch (it must not be polled again).
    finished: bool,
}

/// The most bytes one batch of a stream gathers from chunks that are ready without waiting.
const STREAM_BATCH_BYTES: usize = 1024 * 1024;

/// The next chunks of a stream: one awaited, then those ready at once, up to
/// [`STREAM_BATCH_BYTES`]; empty at the end. An error after the first chunk waits for the next call.
async fn next_batch(state: &mut StreamState) -> FsResult<Vec<Bytes>> {
    if let Some(error) = state.error.take() {
        return Err(error);
    }
    if state.finished {
        return Ok(Vec::new());
    }
    let first = match state.stream.next().await {
        Some(chunk) => chunk?,
        None => return Ok(Vec::new()),
    };
    let mut total = first.len();
    let mut chunks = vec![first];
    while total < STREAM_BATCH_BYTES {
        match state.stream.next().now_or_never() {
            Some(Some(Ok(chunk))) => {
                total += chunk.len();
                chunks.push(chunk);
            }
            Some(Some(Err(error))) => {
                state.error = Some(error);
                break;
            }
            Some(None) => {
                state.finished = true;
                break;
            }
            None => break,
        }
    }
    Ok(chunks)
}

/// The next batch of stream `id`; the stream is forgotten at its end or error.
async fn stream_next(conn: &Connection, id: u32) -> FsResult<Reply> {
    let stream = conn.streams.get(id, "read stream", FsMethod::Stream)?;
    let mut guard = stream.lock().await;
    let batch = match guard.as_mut() {
        Some(state) => next_batch(state).await,
        None => Ok(Vec::new()),
    };
    if !matches!(&batch, Ok(chunks) if !chunks.is_empty()) {
        guard.take();
        conn.streams.remove(id);
    }
    let batch = batch?;
    if batch.is_empty() {
        return Ok(Reply::End {});
    }
    Ok(Reply::Chunks {
        chunks: batch.iter().map(|chunk| bytes_to_js(chunk)).collect(),
    })
}

fn unit(result: FsResult<()>) -> FsResult<Reply> {
    result.map(|()| Reply::Unit {})
}

fn bytes(data: &[u8]) -> Reply {
    Reply::Bytes {
        data: bytes_to_js(data),
    }
}

fn number(value: u64) -> Reply {
    Reply::Number { value }
}

/// Executes one request against the connection's file system or one of its resources.
pub(super) async fn dispatch(conn: &Rc<Connection>, request: Request) -> FsResult<Reply> {
    let fs = &conn.fs;
    match request {
        Request::Access { path, options } => unit(fs.access(&path, options).await),
        Request::Exists { path } => Ok(Reply::Bool {
            value: fs.exists(&path).await?,
        }),
        Request::Stat { path } => Ok(Reply::Info {
            info: fs.stat(&path).await?,
        }),
        Request::ReadDir { path, options } => Ok(Reply::Entries {
            entries: fs.read_dir(&path, options).await?,
        }),
        Request::MakeDir { path, options } => unit(fs.make_dir(&path, options).await),
        Request::Remove { path, options } => unit(fs.remove(&path, options).await),
        Request::Rename { from, to } => unit(fs.rename(&from, &to).await),
        Request::CopyFile { from, to } => unit(fs.copy_file(&from, &to).await),
        Request::Copy { from, to, options } => unit(fs.copy(&from, &to, options).await),
        Request::ReadFile { path } => Ok(bytes(&fs.read_file(&path).await?)),
        Request::ReadFileString { path } => Ok(Reply::Text {
            text: fs.read_file_string(&path).await?,
        }),
        Request::WriteFile {
            path,
            data,
            options,
        } => {
            let data = js_to_bytes(&data);
            unit(fs.write_file(&path, data, options).await)
        }
        Request::WriteFileString {
            path,
            data,
            options,
        } => unit(fs.write_file_string(&path, &data, options).await),
        Request::Truncate { path, len } => unit(fs.truncate(&path, len).await),
        Request::Open { path, options } => {
            let file = fs.open(&path, options).await?;
            let id = conn.new_id();
            conn.files.insert(id, file);
            Ok(Reply::Id { id })
        }
        Request::ReadStream { path, options } => {
            let stream = fs.read_stream(&path, options).await?;
            let id = conn.new_id();
            let state = StreamState {
                stream,
                error: None,
                finished: false,
            };
            conn.streams.insert(id, state);
            Ok(Reply::Id { id })
        }
        Request::WriteSink { path, options } => {
            let sink = fs.write_sink(&path, options).await?;
            let id = conn.new_id();
            conn.sinks.insert(id, sink);
            Ok(Reply::Id { id })
        }
        Request::MakeTempDir { options } => Ok(Reply::Path {
            path: fs.make_temp_dir(options).await?,
        }),
        Request::MakeTempFile { options } => Ok(Reply::Path {
            path: fs.make_temp_file(options).await?,
        }),
        Request::RealPath { path } => Ok(Reply::Path {
            path: fs.real_path(&path).await?,
        }),
        Request::Chmod { path, mode } => unit(fs.chmod(&path, mode).await),
        Request::Chown { path, uid, gid } => unit(fs.chown(&path, uid, gid).await),
        Request::Utimes { path, atime, mtime } => unit(fs.utimes(&path, atime, mtime).await),
        Request::Link { from, to } => unit(fs.link(&from, &to).await),
        Request::Symlink { target, link } => unit(fs.symlink(&target, &link).await),
        Request::ReadLink { path } => Ok(Reply::Text {
            text: fs.read_link(&path).await?,
        }),
        Request::Watch {
            path,
            watch,
            options,
        } => {
            let stream = fs.watch(&path, options).await?;
            start_watch(conn, watch, stream);
            Ok(Reply::Unit {})
        }
        Request::FileStat { file } => {
            let info = with_file(conn, file, FsMethod::FileStat, async |f| f.stat().await).await?;
            Ok(Reply::Info { info })
        }
        Request::FileSeek { file, pos } => {
            let at = with_file(conn, file, FsMethod::FileSeek, async |f| f.seek(pos).await).await?;
            Ok(number(at))
        }
        Request::FileRead { file, len } => {
            let data = with_file(conn, file, FsMethod::FileRead, async |f| {
                let mut buf = vec![0u8; len];
                let n = f.read(&mut buf).await?;
                buf.truncate(n);
                Ok(buf)
            })
            .await?;
            Ok(bytes(&data))
        }
        Request::FileReadAlloc { file, len } => {
            let data = with_file(conn, file, FsMethod::FileReadAlloc, async |f| {
                f.read_alloc(len).await
            })
            .await?;
            Ok(data.map_or(Reply::End {}, |data| bytes(&data)))
        }
        Request::FileWrite { file, data } => {
            let data = js_to_bytes(&data);
            let n = with_file(conn, file, FsMethod::FileWrite, async |f| {
                f.write(&data).await
            })
            .await?;
            Ok(number(n as u64))
        }
        Request::FileWriteAll { file, data } => {
            let data = js_to_bytes(&data);
            unit(
                with_file(conn, file, FsMethod::FileWriteAll, async |f| {
                    f.write_all(&data).await
                })
                .await,
            )
        }
        Request::FileTruncate { file, len } => unit(
            with_file(conn, file, FsMethod::FileTruncate, async |f| {
                f.truncate(len).await
            })
            .await,
        ),
        Request::FileSync { file } => {
            unit(with_file(conn, file, FsMethod::FileSync, async |f| f.sync().await).await)
        }
        Request::FileClose { file } => {
            let handle = take(&conn.files, file, "file handle", FsMethod::FileClose).await?;
            unit(handle.close().await)
        }
        Request::StreamNext { stream } => stream_next(conn, stream).await,
        Request::SinkWrite { sink, data } => {
            let data = js_to_bytes(&data);
            let slot = conn.sinks.get(sink, "write sink", FsMethod::SinkWrite)?;
            let mut guard = slot.lock().await;
            let open = guard
                .as_mut()
                .ok_or_else(|| missing("write sink", sink, FsMethod::SinkWrite))?;
            open.write(data).await?;
            Ok(number(open.bytes_written()))
        }
        Request::SinkClose { sink } => {
            let open = take(&conn.sinks, sink, "write sink", FsMethod::SinkClose).await?;
            unit(open.close().await)
        }
        Request::SinkAbort { sink } => {
            let open = take(&conn.sinks, sink, "write sink", FsMethod::SinkAbort).await?;
            unit(open.abort().await)
        }
    }
}

/// Handles a notice (no reply): releases a resource, or removes a path in the background.
pub(super) fn notice(conn: &Rc<Connection>, notice: Notice) {
    match notice {
        Notice::FileDrop { file } => {
            conn.files.remove(file);
        }
        Notice::StreamDrop { stream } => {
            conn.streams.remove(stream);
        }
        Notice::SinkDrop { sink } => {
            if let Some(sink) = conn.sinks.remove(sink) {
                spawn_local(abort_sink(sink));
            }
        }
        Notice::WatchDrop { watch } => {
            if let Some(watch) = conn.watches.borrow_mut().remove(&watch) {
                watch.abort.abort();
            }
        }
        Notice::RemoveDetached { path } => conn.fs.remove_detached(&path),
        Notice::Bye {} => conn.shut_down(),
    }
}

/// A watch the page asked for: its stream (shared by the pump and
/// [`Connection::flush_watches`]).
pub(super) struct Watch {
    pub(super) stream: RefCell<WatchStream>,
    /// The pump's waker, woken again after a flush polled the stream with another one.
    pub(super) waker: RefCell<Option<Waker>>,
    pub(super) abort: AbortHandle,
}

/// Keeps the watch `id` and forwards its events until it ends or the page drops it.
fn start_watch(conn: &Rc<Connection>, id: u32, stream: WatchStream) {
    let (abort, registration) = AbortHandle::new_pair();
    let watch = Rc::new(Watch {
        stream: RefCell::new(stream),
        waker: RefCell::new(None),
        abort,
    });
    conn.watches.borrow_mut().insert(id, watch.clone());
    let weak = Rc::downgrade(conn);
    spawn_local(async move {
        let _ = Abortable::new(pump_watch(weak, id, watch), registration).await;
    });
}

/// Forwards a watch's events to the page as they come, until it ends or is dropped.
async fn pump_watch(conn: Weak<Connection>, id: u32, watch: Rc<Watch>) {
    loop {
        let item = poll_fn(|cx| {
            *watch.waker.borrow_mut() = Some(cx.waker().clone());
            watch.stream.borrow_mut().poll_next_unpin(cx)
        })
        .await;
        let Some(conn) = conn.upgrade() else { return };
        let ended = item.is_none();
        conn.post_watch_item(id, item);
        if ended {
            return;
        }
    }
}
