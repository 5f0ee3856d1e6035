//! The worker side: serves a [`FileSystem`] to pages over `MessagePort`s.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io::SeekFrom;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, CopyOptions, ErrorKind, File, FileSystem, FsError, FsResult,
    MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions, StreamOptions,
    TempOptions, WatchOptions, WriteSink,
};
use futures::future::poll_fn;
use futures::future::{AbortHandle, Abortable};
use futures::lock::Mutex;
use futures::{FutureExt, StreamExt};
use js_sys::{Array, Object};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

use super::protocol::*;
use super::Backend;

/// Opens the file system a connecting page asked for (its [`Backend`]), in the worker.
pub type Opener =
    Rc<dyn Fn(Backend) -> Pin<Box<dyn Future<Output = FsResult<Rc<dyn FileSystem>>>>>>;

/// A successful reply: the value and, for bytes, the buffers that move with it.
struct Reply {
    value: JsValue,
    transfer: Option<Array>,
}

impl Reply {
    fn unit() -> FsResult<Reply> {
        Ok(Reply::value(JsValue::UNDEFINED))
    }

    fn value(value: impl Into<JsValue>) -> Reply {
        Reply {
            value: value.into(),
            transfer: None,
        }
    }

    fn bytes(data: &[u8]) -> Reply {
        let array = bytes_to_js(data);
        Reply {
            transfer: Some(transfer_of(&array)),
            value: array.into(),
        }
    }

    /// Several chunks as an array of `Uint8Array`s, every buffer transferred.
    fn chunks(chunks: &[Bytes]) -> Reply {
        let values = Array::new();
        let buffers = Array::new();
        for chunk in chunks {
            let array = bytes_to_js(chunk);
            buffers.push(&array.buffer());
            values.push(&array);
        }
        Reply {
            value: values.into(),
            transfer: Some(buffers),
        }
    }
}

/// A read stream kept for a page, with what it said after the last batch.
struct StreamState {
    stream: ByteStream,
    /// An error met after a batch was already gathered, for the next request.
    error: Option<FsError>,
    /// The stream ended after the last batch (it must not be polled again).
    finished: bool,
}

/// The most bytes one `stream.next` reply gathers from chunks that are ready without waiting.
const STREAM_BATCH_BYTES: usize = 1024 * 1024;

type Slot<T> = Rc<Mutex<Option<T>>>;

/// A port's `message` event handler.
type MessageHandler = Closure<dyn FnMut(MessageEvent)>;

/// One page's connection: its file system, its port, and the resources it opened.
struct Connection {
    fs: Rc<dyn FileSystem>,
    port: MessagePort,
    next_id: Cell<u32>,
    files: RefCell<HashMap<u32, Slot<Box<dyn File>>>>,
    sinks: RefCell<HashMap<u32, Slot<Box<dyn WriteSink>>>>,
    streams: RefCell<HashMap<u32, Slot<StreamState>>>,
    watches: RefCell<HashMap<u32, Rc<Watch>>>,
    on_message: RefCell<Option<MessageHandler>>,
}

impl Connection {
    fn new_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    fn post(&self, message: &Object, transfer: Option<&Array>) {
        let result = match transfer {
            Some(buffers) => self.port.post_message_with_transferable(message, buffers),
            None => self.port.post_message(message),
        };
        if let Err(e) = result {
            web_sys::console::warn_2(&"fs-opfs bridge: a reply could not be posted".into(), &e);
        }
    }

    fn reply(&self, id: JsValue, result: FsResult<Reply>) {
        self.flush_watches();
        let message = obj();
        set(&message, "id", id);
        match result {
            Ok(reply) => {
                set(&message, "ok", true);
                set(&message, "v", reply.value);
                self.post(&message, reply.transfer.as_ref());
            }
            Err(error) => {
                set(&message, "ok", false);
                set(&message, "e", encode_error(&error));
                self.post(&message, None);
            }
        }
    }

    /// Posts one watch item (`None`: the watch ended).
    fn post_watch_item(&self, id: u32, item: Option<FsResult<fs_core::WatchEvent>>) {
        let message = obj();
        set(&message, "w", id);
        match item {
            Some(Ok(event)) => set(&message, "ev", encode_event(&event)),
            Some(Err(error)) => set(&message, "e", encode_error(&error)),
            None => {
                if self.watches.borrow_mut().remove(&id).is_none() {
                    return;
                }
                set(&message, "end", true);
            }
        }
        self.post(&message, None);
    }

    /// Posts the events every watch has buffered, so that the events an operation caused reach the
    /// page before the operation's reply (a page that waits for them without yielding to its event
    /// loop still sees them).
    fn flush_watches(&self) {
        let watches: Vec<(u32, Rc<Watch>)> = self
            .watches
            .borrow()
            .iter()
            .map(|(id, w)| (*id, w.clone()))
            .collect();
        for (id, watch) in watches {
            let mut cx = Context::from_waker(futures::task::noop_waker_ref());
            loop {
                let polled = watch.stream.borrow_mut().poll_next_unpin(&mut cx);
                match polled {
                    Poll::Ready(Some(item)) => self.post_watch_item(id, Some(item)),
                    Poll::Ready(None) => {
                        self.post_watch_item(id, None);
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            // The pump's registration was replaced by the no-op waker: let it poll (and register)
            // again.
            if let Some(waker) = watch.waker.borrow().as_ref() {
                waker.wake_by_ref();
            }
        }
    }

    /// Drops everything the page opened and stops listening: the page is gone.
    fn shut_down(&self) {
        self.port.set_onmessage(None);
        self.port.close();
        self.files.borrow_mut().clear();
        for (_, sink) in self.sinks.borrow_mut().drain() {
            spawn_local(abort_sink(sink));
        }
        self.streams.borrow_mut().clear();
        for (_, watch) in self.watches.borrow_mut().drain() {
            watch.abort.abort();
        }
        // The handler itself is dropped last, outside of its own call.
        let handler = self.on_message.borrow_mut().take();
        spawn_local(async move { drop(handler) });
    }
}

async fn abort_sink(sink: Slot<Box<dyn WriteSink>>) {
    let taken = sink.lock().await.take();
    if let Some(sink) = taken {
        let _ = sink.abort().await;
    }
}

fn missing(kind: &str, id: u32, method: &'static str) -> FsError {
    FsError::new(
        ErrorKind::BadResource,
        method,
        format!("the {kind} (bridge id {id}) is closed or unknown"),
    )
}

fn get_resource<T>(
    map: &RefCell<HashMap<u32, Slot<T>>>,
    id: u32,
    kind: &str,
    method: &'static str,
) -> FsResult<Slot<T>> {
    map.borrow()
        .get(&id)
        .cloned()
        .ok_or_else(|| missing(kind, id, method))
}

/// Runs a file handle operation with the handle locked (operations on one handle run in order).
async fn with_file<R>(
    conn: &Connection,
    msg: &JsValue,
    method: &'static str,
    op: impl AsyncFnOnce(&mut Box<dyn File>) -> FsResult<R>,
) -> FsResult<R> {
    let id = get_u32(msg, "h")?;
    let file = get_resource(&conn.files, id, "file handle", method)?;
    let mut guard = file.lock().await;
    match guard.as_mut() {
        Some(handle) => op(handle).await,
        None => Err(missing("file handle", id, method)),
    }
}

fn seek_from(msg: &JsValue) -> FsResult<SeekFrom> {
    let offset = get(msg, "o");
    match get_str(msg, "whence")?.as_str() {
        "start" => js_to_u64(&offset).map(SeekFrom::Start),
        "end" => js_to_i64(&offset).map(SeekFrom::End),
        "current" => js_to_i64(&offset).map(SeekFrom::Current),
        _ => None,
    }
    .ok_or_else(|| malformed("bad seek"))
}

fn temp_options(msg: &JsValue) -> FsResult<TempOptions> {
    Ok(TempOptions {
        directory: get_opt_path(msg, "directory")?,
        prefix: get_opt_str(msg, "prefix")?,
    })
}

fn open_options(msg: &JsValue) -> FsResult<OpenOptions> {
    Ok(OpenOptions {
        flag: get_flag(msg, "flag")?,
        mode: get_opt_u32(msg, "mode")?,
    })
}

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

/// Executes one request against the connection's file system.
async fn dispatch(conn: &Rc<Connection>, op: &str, msg: &JsValue) -> FsResult<Reply> {
    let fs = &conn.fs;
    let path = || get_path(msg, "path");
    match op {
        "access" => {
            let options = AccessOptions {
                readable: get_bool(msg, "readable"),
                writable: get_bool(msg, "writable"),
            };
            fs.access(&path()?, options).await?;
            Reply::unit()
        }
        "exists" => Ok(Reply::value(fs.exists(&path()?).await?)),
        "stat" => Ok(Reply::value(encode_info(&fs.stat(&path()?).await?))),
        "readDir" => {
            let options = ReadDirOptions {
                recursive: get_bool(msg, "recursive"),
            };
            Ok(Reply::value(encode_entries(
                &fs.read_dir(&path()?, options).await?,
            )))
        }
        "makeDir" => {
            let options = MakeDirOptions {
                recursive: get_bool(msg, "recursive"),
                mode: get_opt_u32(msg, "mode")?,
            };
            fs.make_dir(&path()?, options).await?;
            Reply::unit()
        }
        "remove" => {
            let options = RemoveOptions {
                recursive: get_bool(msg, "recursive"),
                force: get_bool(msg, "force"),
            };
            fs.remove(&path()?, options).await?;
            Reply::unit()
        }
        "rename" => {
            fs.rename(&get_path(msg, "from")?, &get_path(msg, "to")?)
                .await?;
            Reply::unit()
        }
        "copyFile" => {
            fs.copy_file(&get_path(msg, "from")?, &get_path(msg, "to")?)
                .await?;
            Reply::unit()
        }
        "copy" => {
            let options = CopyOptions {
                overwrite: get_bool(msg, "overwrite"),
                preserve_timestamps: get_bool(msg, "preserveTimestamps"),
            };
            fs.copy(&get_path(msg, "from")?, &get_path(msg, "to")?, options)
                .await?;
            Reply::unit()
        }
        "readFile" => Ok(Reply::bytes(&fs.read_file(&path()?).await?)),
        "readFileString" => Ok(Reply::value(fs.read_file_string(&path()?).await?)),
        "writeFile" => {
            let data = get_bytes(msg, "data")?;
            fs.write_file(&path()?, data, open_options(msg)?).await?;
            Reply::unit()
        }
        "writeFileString" => {
            let data = get_str(msg, "data")?;
            fs.write_file_string(&path()?, &data, open_options(msg)?)
                .await?;
            Reply::unit()
        }
        "truncate" => {
            fs.truncate(&path()?, get_u64(msg, "len")?).await?;
            Reply::unit()
        }
        "open" => {
            let file = fs.open(&path()?, open_options(msg)?).await?;
            let id = conn.new_id();
            conn.files
                .borrow_mut()
                .insert(id, Rc::new(Mutex::new(Some(file))));
            Ok(Reply::value(id))
        }
        "file.stat" => {
            let info = with_file(conn, msg, "File.stat", async |f| f.stat().await).await?;
            Ok(Reply::value(encode_info(&info)))
        }
        "file.seek" => {
            let pos = seek_from(msg)?;
            let at = with_file(conn, msg, "File.seek", async |f| f.seek(pos).await).await?;
            Ok(Reply::value(u64_to_js(at)))
        }
        "file.read" => {
            let len = get_usize(msg, "len")?;
            let data = with_file(conn, msg, "File.read", async |f| {
                let mut buf = vec![0u8; len];
                let n = f.read(&mut buf).await?;
                buf.truncate(n);
                Ok(buf)
            })
            .await?;
            Ok(Reply::bytes(&data))
        }
        "file.readAlloc" => {
            let size = get_usize(msg, "len")?;
            match with_file(conn, msg, "File.readAlloc", async |f| {
                f.read_alloc(size).await
            })
            .await?
            {
                Some(data) => Ok(Reply::bytes(&data)),
                None => Ok(Reply::value(JsValue::NULL)),
            }
        }
        "file.write" => {
            let data = get_bytes(msg, "data")?;
            let n = with_file(conn, msg, "File.write", async |f| f.write(&data).await).await?;
            Ok(Reply::value(u64_to_js(n as u64)))
        }
        "file.writeAll" => {
            let data = get_bytes(msg, "data")?;
            with_file(conn, msg, "File.writeAll", async |f| {
                f.write_all(&data).await
            })
            .await?;
            Reply::unit()
        }
        "file.truncate" => {
            let len = get_u64(msg, "len")?;
            with_file(conn, msg, "File.truncate", async |f| f.truncate(len).await).await?;
            Reply::unit()
        }
        "file.sync" => {
            with_file(conn, msg, "File.sync", async |f| f.sync().await).await?;
            Reply::unit()
        }
        "file.close" => {
            let id = get_u32(msg, "h")?;
            let file = conn.files.borrow_mut().remove(&id);
            let file = file.ok_or_else(|| missing("file handle", id, "File.close"))?;
            let taken = file.lock().await.take();
            match taken {
                Some(handle) => handle.close().await?,
                None => return Err(missing("file handle", id, "File.close")),
            }
            Reply::unit()
        }
        "readStream" => {
            let options = StreamOptions {
                chunk_size: get_usize(msg, "chunkSize")?,
                offset: get_u64(msg, "offset")?,
                length: get_opt_u64(msg, "length")?,
            };
            let stream = fs.read_stream(&path()?, options).await?;
            let id = conn.new_id();
            let state = StreamState {
                stream,
                error: None,
                finished: false,
            };
            conn.streams
                .borrow_mut()
                .insert(id, Rc::new(Mutex::new(Some(state))));
            Ok(Reply::value(id))
        }
        "stream.next" => {
            let id = get_u32(msg, "s")?;
            let stream = get_resource(&conn.streams, id, "read stream", "readStream")?;
            let mut guard = stream.lock().await;
            let batch = match guard.as_mut() {
                Some(state) => next_batch(state).await,
                None => Ok(Vec::new()),
            };
            if !matches!(&batch, Ok(chunks) if !chunks.is_empty()) {
                guard.take();
                conn.streams.borrow_mut().remove(&id);
            }
            let batch = batch?;
            if batch.is_empty() {
                Ok(Reply::value(JsValue::NULL))
            } else {
                Ok(Reply::chunks(&batch))
            }
        }
        "writeSink" => {
            let options = SinkOptions {
                mode: get_sink_mode(msg, "mode")?,
                permissions: get_opt_u32(msg, "permissions")?,
            };
            let sink = fs.write_sink(&path()?, options).await?;
            let id = conn.new_id();
            conn.sinks
                .borrow_mut()
                .insert(id, Rc::new(Mutex::new(Some(sink))));
            Ok(Reply::value(id))
        }
        "sink.write" => {
            let id = get_u32(msg, "k")?;
            let data = get_bytes(msg, "data")?;
            let sink = get_resource(&conn.sinks, id, "write sink", "WriteSink.write")?;
            let mut guard = sink.lock().await;
            let sink = guard
                .as_mut()
                .ok_or_else(|| missing("write sink", id, "WriteSink.write"))?;
            sink.write(data).await?;
            Ok(Reply::value(u64_to_js(sink.bytes_written())))
        }
        "sink.close" | "sink.abort" => {
            let id = get_u32(msg, "k")?;
            let method = if op == "sink.close" {
                "WriteSink.close"
            } else {
                "WriteSink.abort"
            };
            let sink = conn.sinks.borrow_mut().remove(&id);
            let sink = sink.ok_or_else(|| missing("write sink", id, method))?;
            let taken = sink.lock().await.take();
            let sink = taken.ok_or_else(|| missing("write sink", id, method))?;
            if op == "sink.close" {
                sink.close().await?;
            } else {
                sink.abort().await?;
            }
            Reply::unit()
        }
        "makeTempDir" => {
            let dir = fs.make_temp_dir(temp_options(msg)?).await?;
            Ok(Reply::value(dir.as_str()))
        }
        "makeTempFile" => {
            let file = fs.make_temp_file(temp_options(msg)?).await?;
            Ok(Reply::value(file.as_str()))
        }
        "realPath" => Ok(Reply::value(fs.real_path(&path()?).await?.as_str())),
        "chmod" => {
            fs.chmod(&path()?, get_u32(msg, "mode")?).await?;
            Reply::unit()
        }
        "chown" => {
            fs.chown(&path()?, get_u32(msg, "uid")?, get_u32(msg, "gid")?)
                .await?;
            Reply::unit()
        }
        "utimes" => {
            let atime = decode_time(&get(msg, "atime"))?;
            let mtime = decode_time(&get(msg, "mtime"))?;
            fs.utimes(&path()?, atime, mtime).await?;
            Reply::unit()
        }
        "link" => {
            fs.link(&get_path(msg, "from")?, &get_path(msg, "to")?)
                .await?;
            Reply::unit()
        }
        "symlink" => {
            fs.symlink(&get_str(msg, "target")?, &get_path(msg, "link")?)
                .await?;
            Reply::unit()
        }
        "readLink" => Ok(Reply::value(fs.read_link(&path()?).await?)),
        "watch" => {
            let id = get_u32(msg, "w")?;
            let options = WatchOptions {
                recursive: get_bool(msg, "recursive"),
            };
            let stream = fs.watch(&path()?, options).await?;
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
            Reply::unit()
        }
        other => Err(malformed(format!("unknown operation {other:?}"))),
    }
}

/// A watch the page asked for: its stream (shared by the pump and [`Connection::flush_watches`]).
struct Watch {
    stream: RefCell<fs_core::WatchStream>,
    /// The pump's waker, woken again after a flush polled the stream with another one.
    waker: RefCell<Option<Waker>>,
    abort: AbortHandle,
}

/// Forwards a watch's events to the page as they come, until it ends or is dropped.
async fn pump_watch(conn: std::rc::Weak<Connection>, id: u32, watch: Rc<Watch>) {
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

/// Handles a notice (no reply): releases a resource, or removes a path in the background.
fn notice(conn: &Rc<Connection>, op: &str, msg: &JsValue) -> FsResult<()> {
    match op {
        "file.drop" => {
            conn.files.borrow_mut().remove(&get_u32(msg, "h")?);
        }
        "stream.drop" => {
            conn.streams.borrow_mut().remove(&get_u32(msg, "s")?);
        }
        "sink.drop" => {
            let sink = conn.sinks.borrow_mut().remove(&get_u32(msg, "k")?);
            if let Some(sink) = sink {
                spawn_local(abort_sink(sink));
            }
        }
        "watch.drop" => {
            if let Some(watch) = conn.watches.borrow_mut().remove(&get_u32(msg, "w")?) {
                watch.abort.abort();
            }
        }
        "removeDetached" => conn.fs.remove_detached(&get_path(msg, "path")?),
        "bye" => conn.shut_down(),
        other => return Err(malformed(format!("unknown notice {other:?}"))),
    }
    Ok(())
}

fn on_request(conn: &Rc<Connection>, msg: JsValue) {
    let op = get(&msg, "op").as_string().unwrap_or_default();
    let id = get(&msg, "id");
    if id.is_undefined() {
        if let Err(e) = notice(conn, &op, &msg) {
            web_sys::console::warn_1(&format!("fs-opfs bridge: {e}").into());
        }
        return;
    }
    let conn = conn.clone();
    spawn_local(async move {
        let result = dispatch(&conn, &op, &msg).await;
        conn.reply(id, result);
    });
}

/// The hello a new connection sends first (as the reply to request 0): capabilities and temp dir.
fn hello(fs: &dyn FileSystem) -> Reply {
    let value = obj();
    set(&value, "caps", encode_caps(&fs.capabilities()));
    set(&value, "tempDir", fs.temp_dir().as_str());
    Reply::value(value)
}

/// Serves `fs` on `port` until the page says goodbye (or its [`super::BridgeFs`] is dropped).
///
/// The first message on the port is the hello (capabilities and temporary directory) that
/// [`super::BridgeFs::over_port`] waits for.
pub fn serve_port(fs: Rc<dyn FileSystem>, port: MessagePort) {
    let conn = Rc::new(Connection {
        fs,
        port,
        next_id: Cell::new(1),
        files: RefCell::default(),
        sinks: RefCell::default(),
        streams: RefCell::default(),
        watches: RefCell::default(),
        on_message: RefCell::new(None),
    });
    // The handler holds the connection and the connection its handler: the cycle keeps both alive
    // while the page is connected, and `bye` breaks it.
    let held = conn.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        on_request(&held, event.data());
    });
    conn.port
        .set_onmessage(Some(handler.as_ref().unchecked_ref()));
    *conn.on_message.borrow_mut() = Some(handler);
    conn.reply(JsValue::from(0), Ok(hello(&*conn.fs)));
}

/// Serves connections on the current dedicated worker: every `{ connect: backend }` message that
/// carries a `MessagePort` gets a file system from `open` and is served on that port.
///
/// A connection whose backend cannot be opened gets the error as its hello, and the port closes.
pub fn serve_with(open: Opener) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let Some(port) = event.ports().get(0).dyn_into::<MessagePort>().ok() else {
            return;
        };
        let backend = Backend::decode(&get(&data, "connect"));
        let open = open.clone();
        spawn_local(async move {
            let opened = match backend {
                Ok(backend) => open(backend).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(fs) => serve_port(fs, port),
                Err(error) => {
                    let message = obj();
                    set(&message, "id", 0);
                    set(&message, "ok", false);
                    set(&message, "e", encode_error(&error));
                    let _ = port.post_message(&message);
                    port.close();
                }
            }
        });
    });
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The worker's global handler lives as long as the worker.
    handler.forget();
}

/// Serves the same `fs` to every page that connects to the current dedicated worker, whatever
/// backend it asks for.
pub fn serve(fs: Rc<dyn FileSystem>) {
    serve_with(Rc::new(move |_backend| {
        let fs = fs.clone();
        Box::pin(async move { Ok(fs) })
    }));
}

/// Tells the page that spawned this worker that it is ready for connections.
pub(crate) fn announce_ready() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let message = obj();
    set(&message, "ready", true);
    let _ = scope.post_message(&message);
}
