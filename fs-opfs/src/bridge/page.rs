//! The page side: [`BridgeFs`], a [`FileSystem`] whose calls run in a worker.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io::SeekFrom;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, CopyOptions, DirEntry, ErrorKind, File, FileInfo,
    FileSystem, FsError, FsResult, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions,
    SinkOptions, StreamOptions, SystemTime, TempOptions, VPath, WatchEvent, WatchOptions,
    WatchStream, WriteSink,
};
use futures::channel::{mpsc, oneshot};
use futures::future::LocalBoxFuture;
use futures::{FutureExt, Stream};
use js_sys::{Object, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageEvent, MessagePort};

use super::protocol::*;
use super::spawn::WorkerInner;

/// A request waiting for its reply.
struct Pending {
    reply: oneshot::Sender<FsResult<JsValue>>,
    /// For requests that create a worker-side resource: the notice (and its id field) that releases
    /// it when the caller stopped waiting before the reply came.
    release: Option<(&'static str, &'static str)>,
}

/// The state the port's message handler shares with the connection.
pub(crate) struct Shared {
    port: MessagePort,
    next_id: Cell<u32>,
    pending: RefCell<HashMap<u32, Pending>>,
    watches: RefCell<HashMap<u32, mpsc::UnboundedSender<FsResult<WatchEvent>>>>,
    broken: RefCell<Option<String>>,
}

impl Shared {
    fn broken_error(&self, method: &'static str) -> Option<FsError> {
        self.broken
            .borrow()
            .as_ref()
            .map(|why| FsError::new(ErrorKind::Unknown, method, why.clone()))
    }

    /// Fails every waiting request and watch, and every later one: the worker is gone.
    pub(crate) fn fail_all(&self, why: &str) {
        *self.broken.borrow_mut() = Some(why.to_owned());
        let pending: Vec<Pending> = self.pending.borrow_mut().drain().map(|(_, p)| p).collect();
        for p in pending {
            let _ = p.reply.send(Err(FsError::new(
                ErrorKind::Unknown,
                BRIDGE_METHOD,
                why.to_owned(),
            )));
        }
        let watches: Vec<_> = self.watches.borrow_mut().drain().map(|(_, w)| w).collect();
        for watch in watches {
            let _ = watch.unbounded_send(Err(FsError::new(
                ErrorKind::Unknown,
                "watch",
                why.to_owned(),
            )));
        }
    }

    fn post(&self, message: &Object, transfer: Option<&Uint8Array>) -> Result<(), JsValue> {
        match transfer {
            Some(array) => self
                .port
                .post_message_with_transferable(message, &transfer_of(array)),
            None => self.port.post_message(message),
        }
    }

    /// Posts a notice (no reply expected); failures are ignored (the worker is gone anyway).
    fn notice(&self, op: &str, message: Object) {
        set(&message, "op", op);
        let _ = self.post(&message, None);
    }

    /// Posts a request now and returns the future of its reply.
    fn request(
        &self,
        method: &'static str,
        op: &str,
        message: Object,
        transfer: Option<&Uint8Array>,
        release: Option<(&'static str, &'static str)>,
    ) -> LocalBoxFuture<'static, FsResult<JsValue>> {
        if let Some(error) = self.broken_error(method) {
            return futures::future::ready(Err(error)).boxed_local();
        }
        let id = self.next_id.get();
        self.next_id.set(id.checked_add(1).unwrap_or(1));
        set(&message, "id", id);
        set(&message, "op", op);
        let (tx, rx) = oneshot::channel();
        self.pending
            .borrow_mut()
            .insert(id, Pending { reply: tx, release });
        if let Err(e) = self.post(&message, transfer) {
            self.pending.borrow_mut().remove(&id);
            let error = FsError::new(
                ErrorKind::Unknown,
                method,
                format!("could not post the request to the bridge worker: {e:?}"),
            );
            return futures::future::ready(Err(error)).boxed_local();
        }
        async move {
            rx.await.unwrap_or_else(|_| {
                Err(FsError::new(
                    ErrorKind::Unknown,
                    method,
                    "the bridge connection closed before the reply",
                ))
            })
        }
        .boxed_local()
    }

    /// Routes one message from the worker: a reply, or a watch event.
    fn on_message(&self, data: JsValue) {
        let watch = get(&data, "w");
        if !watch.is_undefined() {
            let Some(id) = js_to_u64(&watch).and_then(|w| u32::try_from(w).ok()) else {
                return;
            };
            if get_bool(&data, "end") {
                self.watches.borrow_mut().remove(&id);
                return;
            }
            let item = if get(&data, "e").is_undefined() {
                decode_event(&get(&data, "ev"))
            } else {
                Err(decode_error(&get(&data, "e")))
            };
            if let Some(sender) = self.watches.borrow().get(&id) {
                let _ = sender.unbounded_send(item);
            }
            return;
        }
        let Some(id) = js_to_u64(&get(&data, "id")).and_then(|i| u32::try_from(i).ok()) else {
            return;
        };
        let Some(pending) = self.pending.borrow_mut().remove(&id) else {
            return;
        };
        let result = if get_bool(&data, "ok") {
            Ok(get(&data, "v"))
        } else {
            Err(decode_error(&get(&data, "e")))
        };
        if let Err(Ok(resource)) = pending.reply.send(result) {
            // Nobody waits for this new resource any more: release it in the worker.
            if let Some((op, key)) = pending.release {
                let message = obj();
                set(&message, key, resource);
                self.notice(op, message);
            }
        }
    }
}

/// One connection: the port, its handler, what the hello said, and the worker it belongs to.
struct Conn {
    shared: Rc<Shared>,
    caps: Cell<Capabilities>,
    temp_dir: RefCell<VPath>,
    next_watch: Cell<u32>,
    on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    _worker: Option<Rc<WorkerInner>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.shared.notice("bye", obj());
        self.shared.port.set_onmessage(None);
        self.shared.port.close();
        self.on_message.take();
    }
}

impl Conn {
    fn request(
        &self,
        method: &'static str,
        op: &str,
        message: Object,
    ) -> LocalBoxFuture<'static, FsResult<JsValue>> {
        self.shared.request(method, op, message, None, None)
    }
}

/// A [`FileSystem`] that lives in a dedicated worker, used from the page.
///
/// Every call posts one request to the worker and awaits its reply; errors arrive with their kind,
/// method, path and description (their `source` stays in the worker). Capabilities and the temporary
/// directory are fetched once, when the connection opens. Get one from
/// [`super::BridgeWorker::connect`] or, for a port already served by [`super::serve_port`], from
/// [`BridgeFs::over_port`]. Dropping the last clone (and every file, stream and sink opened through
/// it) closes the connection; the worker then drops everything the page left open.
#[derive(Clone)]
pub struct BridgeFs {
    conn: Rc<Conn>,
}

fn path_message(path: &VPath) -> Object {
    let message = obj();
    set(&message, "path", path.as_str());
    message
}

fn two_paths(from: &VPath, to: &VPath) -> Object {
    let message = obj();
    set(&message, "from", from.as_str());
    set(&message, "to", to.as_str());
    message
}

fn unit(value: FsResult<JsValue>) -> FsResult<()> {
    value.map(|_| ())
}

fn as_path(value: FsResult<JsValue>) -> FsResult<VPath> {
    let value = value?;
    VPath::new(
        &value
            .as_string()
            .ok_or_else(|| malformed("expected a path"))?,
    )
}

fn as_string(value: FsResult<JsValue>) -> FsResult<String> {
    value?
        .as_string()
        .ok_or_else(|| malformed("expected a string"))
}

fn as_id(value: FsResult<JsValue>) -> FsResult<u32> {
    js_to_u64(&value?)
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| malformed("expected a resource id"))
}

fn set_open_options(message: &Object, options: OpenOptions) {
    set(message, "flag", options.flag.as_str());
    if let Some(mode) = options.mode {
        set(message, "mode", mode);
    }
}

fn temp_message(options: &TempOptions) -> Object {
    let message = obj();
    if let Some(dir) = &options.directory {
        set(&message, "directory", dir.as_str());
    }
    if let Some(prefix) = &options.prefix {
        set(&message, "prefix", prefix.as_str());
    }
    message
}

impl BridgeFs {
    /// Starts a dedicated worker of its own (see [`super::BridgeWorker::spawn`]) and connects to
    /// `backend` in it; the worker is terminated when this file system and everything opened
    /// through it are dropped.
    pub async fn spawn(backend: &super::Backend) -> FsResult<BridgeFs> {
        super::BridgeWorker::spawn().await?.connect(backend).await
    }

    /// Connects over `port`, whose other end a worker serves with [`super::serve_port`]; waits for
    /// the hello.
    pub async fn over_port(port: MessagePort) -> FsResult<BridgeFs> {
        let (fs, hello) = BridgeFs::start(port, None);
        hello.await?;
        Ok(fs)
    }

    /// Starts listening on `port`; the returned future completes when the hello (reply 0) arrived and
    /// the capabilities are known.
    pub(crate) fn start(
        port: MessagePort,
        worker: Option<Rc<WorkerInner>>,
    ) -> (BridgeFs, LocalBoxFuture<'static, FsResult<()>>) {
        let shared = Rc::new(Shared {
            port,
            next_id: Cell::new(1),
            pending: RefCell::new(HashMap::new()),
            watches: RefCell::new(HashMap::new()),
            broken: RefCell::new(None),
        });
        let (tx, rx) = oneshot::channel();
        shared.pending.borrow_mut().insert(
            0,
            Pending {
                reply: tx,
                release: None,
            },
        );
        let handler = {
            let shared = shared.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                shared.on_message(event.data());
            })
        };
        // Setting `onmessage` also starts the port.
        shared
            .port
            .set_onmessage(Some(handler.as_ref().unchecked_ref()));
        let conn = Rc::new(Conn {
            shared,
            caps: Cell::new(Capabilities {
                symlinks: false,
                hard_links: false,
                permissions: false,
                ownership: false,
                set_times: false,
                watch: false,
                atomic_rename: false,
                atomic_dir_rename: false,
                random_access_write: false,
                durable_sync: false,
                real_path: false,
            }),
            temp_dir: RefCell::new(VPath::root()),
            next_watch: Cell::new(1),
            on_message: Some(handler),
            _worker: worker,
        });
        let hello_conn = conn.clone();
        let hello = async move {
            let hello = rx.await.unwrap_or_else(|_| {
                Err(FsError::new(
                    ErrorKind::Unknown,
                    BRIDGE_METHOD,
                    "the bridge connection closed before its hello",
                ))
            })?;
            hello_conn.caps.set(decode_caps(&get(&hello, "caps")));
            *hello_conn.temp_dir.borrow_mut() = get_path(&hello, "tempDir")?;
            Ok(())
        }
        .boxed_local();
        (BridgeFs { conn }, hello)
    }

    /// The connection's shared state, for the worker's error handler.
    pub(crate) fn shared_weak(&self) -> Weak<Shared> {
        Rc::downgrade(&self.conn.shared)
    }

    fn request(
        &self,
        method: &'static str,
        op: &str,
        message: Object,
    ) -> LocalBoxFuture<'static, FsResult<JsValue>> {
        self.conn.request(method, op, message)
    }
}

#[async_trait(?Send)]
impl FileSystem for BridgeFs {
    fn capabilities(&self) -> Capabilities {
        self.conn.caps.get()
    }

    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "readable", options.readable);
        set(&message, "writable", options.writable);
        unit(self.request("access", "access", message).await)
    }

    async fn exists(&self, path: &VPath) -> FsResult<bool> {
        let value = self.request("exists", "exists", path_message(path)).await?;
        value
            .as_bool()
            .ok_or_else(|| malformed("expected a boolean"))
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        decode_info(&self.request("stat", "stat", path_message(path)).await?)
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        let message = path_message(path);
        set(&message, "recursive", options.recursive);
        decode_entries(&self.request("readDirectory", "readDir", message).await?)
    }

    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "recursive", options.recursive);
        if let Some(mode) = options.mode {
            set(&message, "mode", mode);
        }
        unit(self.request("makeDirectory", "makeDir", message).await)
    }

    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "recursive", options.recursive);
        set(&message, "force", options.force);
        unit(self.request("remove", "remove", message).await)
    }

    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        unit(self.request("rename", "rename", two_paths(from, to)).await)
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        unit(
            self.request("copyFile", "copyFile", two_paths(from, to))
                .await,
        )
    }

    async fn copy(&self, from: &VPath, to: &VPath, options: CopyOptions) -> FsResult<()> {
        let message = two_paths(from, to);
        set(&message, "overwrite", options.overwrite);
        set(&message, "preserveTimestamps", options.preserve_timestamps);
        unit(self.request("copy", "copy", message).await)
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        js_to_bytes(
            &self
                .request("readFile", "readFile", path_message(path))
                .await?,
        )
    }

    async fn read_file_string(&self, path: &VPath) -> FsResult<String> {
        as_string(
            self.request("readFileString", "readFileString", path_message(path))
                .await,
        )
    }

    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        let message = path_message(path);
        set_open_options(&message, options);
        let array = bytes_to_js(&data);
        drop(data);
        set(&message, "data", array.clone());
        let reply = self
            .conn
            .shared
            .request("writeFile", "writeFile", message, Some(&array), None);
        drop(array);
        unit(reply.await)
    }

    async fn write_file_string(
        &self,
        path: &VPath,
        data: &str,
        options: OpenOptions,
    ) -> FsResult<()> {
        let message = path_message(path);
        set_open_options(&message, options);
        set(&message, "data", data);
        unit(
            self.request("writeFileString", "writeFileString", message)
                .await,
        )
    }

    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "len", u64_to_js(len));
        unit(self.request("truncate", "truncate", message).await)
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let message = path_message(path);
        set_open_options(&message, options);
        let reply =
            self.conn
                .shared
                .request("open", "open", message, None, Some(("file.drop", "h")));
        let id = as_id(reply.await)?;
        Ok(Box::new(BridgeFile {
            conn: self.conn.clone(),
            id,
            open: true,
        }))
    }

    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        let message = path_message(path);
        set(&message, "chunkSize", u64_to_js(options.chunk_size as u64));
        set(&message, "offset", u64_to_js(options.offset));
        if let Some(length) = options.length {
            set(&message, "length", u64_to_js(length));
        }
        let reply = self.conn.shared.request(
            "readStream",
            "readStream",
            message,
            None,
            Some(("stream.drop", "s")),
        );
        let id = as_id(reply.await)?;
        Ok(Box::pin(BridgeStream {
            conn: self.conn.clone(),
            id,
            buffered: VecDeque::new(),
            in_flight: None,
            done: false,
        }))
    }

    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let message = path_message(path);
        set(&message, "mode", sink_mode_name(options.mode));
        if let Some(permissions) = options.permissions {
            set(&message, "permissions", permissions);
        }
        let reply = self.conn.shared.request(
            "writeSink",
            "writeSink",
            message,
            None,
            Some(("sink.drop", "k")),
        );
        let id = as_id(reply.await)?;
        Ok(Box::new(BridgeSink {
            conn: self.conn.clone(),
            id,
            gathered: Vec::new(),
            gathered_len: 0,
            written: 0,
            finished: false,
        }))
    }

    fn temp_dir(&self) -> VPath {
        self.conn.temp_dir.borrow().clone()
    }

    async fn make_temp_dir(&self, options: TempOptions) -> FsResult<VPath> {
        as_path(
            self.request("makeTempDirectory", "makeTempDir", temp_message(&options))
                .await,
        )
    }

    async fn make_temp_file(&self, options: TempOptions) -> FsResult<VPath> {
        as_path(
            self.request("makeTempFile", "makeTempFile", temp_message(&options))
                .await,
        )
    }

    fn remove_detached(&self, path: &VPath) {
        self.conn
            .shared
            .notice("removeDetached", path_message(path));
    }

    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        as_path(
            self.request("realPath", "realPath", path_message(path))
                .await,
        )
    }

    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "mode", mode);
        unit(self.request("chmod", "chmod", message).await)
    }

    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "uid", uid);
        set(&message, "gid", gid);
        unit(self.request("chown", "chown", message).await)
    }

    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        let message = path_message(path);
        set(&message, "atime", encode_time(atime));
        set(&message, "mtime", encode_time(mtime));
        unit(self.request("utimes", "utimes", message).await)
    }

    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        unit(self.request("link", "link", two_paths(from, to)).await)
    }

    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        let message = obj();
        set(&message, "target", target);
        set(&message, "link", link.as_str());
        unit(self.request("symlink", "symlink", message).await)
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        as_string(
            self.request("readLink", "readLink", path_message(path))
                .await,
        )
    }

    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream> {
        // The page names the watch, and listens for it before asking, so no event can be missed.
        let id = self.conn.next_watch.get();
        self.conn.next_watch.set(id.wrapping_add(1));
        let (tx, rx) = mpsc::unbounded();
        self.conn.shared.watches.borrow_mut().insert(id, tx);
        let guard = WatchGuard {
            conn: self.conn.clone(),
            id,
        };
        let message = path_message(path);
        set(&message, "w", id);
        set(&message, "recursive", options.recursive);
        // On failure (or if this future is dropped) the guard unregisters and releases the watch.
        unit(self.request("watch", "watch", message).await)?;
        Ok(Box::pin(BridgeWatch { rx, _guard: guard }))
    }
}

/// A file handle kept open in the worker, used by id.
struct BridgeFile {
    conn: Rc<Conn>,
    id: u32,
    open: bool,
}

impl BridgeFile {
    fn message(&self) -> Object {
        let message = obj();
        set(&message, "h", self.id);
        message
    }
}

impl Drop for BridgeFile {
    fn drop(&mut self) {
        if self.open {
            self.conn.shared.notice("file.drop", self.message());
        }
    }
}

#[async_trait(?Send)]
impl File for BridgeFile {
    async fn stat(&self) -> FsResult<FileInfo> {
        decode_info(
            &self
                .conn
                .request("File.stat", "file.stat", self.message())
                .await?,
        )
    }

    async fn seek(&mut self, pos: SeekFrom) -> FsResult<u64> {
        let message = self.message();
        let (whence, offset) = match pos {
            SeekFrom::Start(at) => ("start", u64_to_js(at)),
            SeekFrom::End(by) => ("end", i64_to_js(by)),
            SeekFrom::Current(by) => ("current", i64_to_js(by)),
        };
        set(&message, "whence", whence);
        set(&message, "o", offset);
        let at = self.conn.request("File.seek", "file.seek", message).await?;
        js_to_u64(&at).ok_or_else(|| malformed("expected a position"))
    }

    async fn read(&mut self, buf: &mut [u8]) -> FsResult<usize> {
        let message = self.message();
        set(&message, "len", u64_to_js(buf.len() as u64));
        let value = self.conn.request("File.read", "file.read", message).await?;
        let array = value
            .dyn_into::<Uint8Array>()
            .map_err(|_| malformed("expected bytes"))?;
        let n = (array.length() as usize).min(buf.len());
        array.subarray(0, n as u32).copy_to(&mut buf[..n]);
        Ok(n)
    }

    async fn read_alloc(&mut self, size: usize) -> FsResult<Option<Bytes>> {
        let message = self.message();
        set(&message, "len", u64_to_js(size as u64));
        let value = self
            .conn
            .request("File.readAlloc", "file.readAlloc", message)
            .await?;
        if value.is_null() || value.is_undefined() {
            return Ok(None);
        }
        js_to_bytes(&value).map(Some)
    }

    async fn write(&mut self, data: &[u8]) -> FsResult<usize> {
        let message = self.message();
        let array = bytes_to_js(data);
        set(&message, "data", array.clone());
        let reply =
            self.conn
                .shared
                .request("File.write", "file.write", message, Some(&array), None);
        let n = reply.await?;
        js_to_u64(&n)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| malformed("expected a byte count"))
    }

    async fn write_all(&mut self, data: &[u8]) -> FsResult<()> {
        let message = self.message();
        let array = bytes_to_js(data);
        set(&message, "data", array.clone());
        let reply = self.conn.shared.request(
            "File.writeAll",
            "file.writeAll",
            message,
            Some(&array),
            None,
        );
        unit(reply.await)
    }

    async fn truncate(&mut self, len: u64) -> FsResult<()> {
        let message = self.message();
        set(&message, "len", u64_to_js(len));
        unit(
            self.conn
                .request("File.truncate", "file.truncate", message)
                .await,
        )
    }

    async fn sync(&mut self) -> FsResult<()> {
        unit(
            self.conn
                .request("File.sync", "file.sync", self.message())
                .await,
        )
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        self.open = false;
        unit(
            self.conn
                .request("File.close", "file.close", self.message())
                .await,
        )
    }
}

/// A read stream kept in the worker. Each request brings the next batch (the chunks the worker had
/// ready, at most about 1 MiB); the next batch is requested as soon as one arrives, so at most two
/// batches are held on the page.
struct BridgeStream {
    conn: Rc<Conn>,
    id: u32,
    buffered: VecDeque<Bytes>,
    in_flight: Option<LocalBoxFuture<'static, FsResult<JsValue>>>,
    done: bool,
}

impl BridgeStream {
    fn ask(&self) -> LocalBoxFuture<'static, FsResult<JsValue>> {
        let message = obj();
        set(&message, "s", self.id);
        self.conn.request("readStream", "stream.next", message)
    }

    /// Takes a batch in; a malformed one ends the stream with an error.
    fn take_batch(&mut self, value: JsValue) -> FsResult<()> {
        let chunks = value
            .dyn_into::<js_sys::Array>()
            .map_err(|_| malformed("expected an array of chunks"))?;
        for chunk in chunks.iter() {
            self.buffered.push_back(js_to_bytes(&chunk)?);
        }
        Ok(())
    }
}

impl Stream for BridgeStream {
    type Item = FsResult<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.buffered.pop_front() {
                return Poll::Ready(Some(Ok(chunk)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let in_flight = this.in_flight.get_or_insert_with(|| {
                let message = obj();
                set(&message, "s", this.id);
                this.conn.request("readStream", "stream.next", message)
            });
            let result = match in_flight.poll_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            };
            this.in_flight = None;
            match result {
                Ok(value) if value.is_null() || value.is_undefined() => this.done = true,
                Ok(value) => match this.take_batch(value) {
                    Ok(()) => this.in_flight = Some(this.ask()),
                    Err(error) => {
                        // The worker still holds the stream: release it, then end here.
                        this.in_flight = None;
                        let message = obj();
                        set(&message, "s", this.id);
                        this.conn.shared.notice("stream.drop", message);
                        this.done = true;
                        this.buffered.clear();
                        return Poll::Ready(Some(Err(error)));
                    }
                },
                // The worker forgets a stream after its error.
                Err(error) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
            }
        }
    }
}

impl Drop for BridgeStream {
    fn drop(&mut self) {
        if !self.done {
            let message = obj();
            set(&message, "s", self.id);
            self.conn.shared.notice("stream.drop", message);
        }
    }
}

/// Chunks smaller than this are gathered on the page and sent together (one round trip per MiB
/// instead of one per chunk).
const SINK_BATCH_BYTES: usize = 1024 * 1024;

/// A write sink kept in the worker; dropping it without `close` aborts it there.
///
/// Small chunks are gathered on the page up to [`SINK_BATCH_BYTES`] before they cross, so an error
/// of the worker's sink (storage full, say) may surface at a later `write` or at `close` rather
/// than at the `write` that caused it. Nothing is visible at the path before `close` either way.
struct BridgeSink {
    conn: Rc<Conn>,
    id: u32,
    gathered: Vec<Bytes>,
    gathered_len: usize,
    written: u64,
    finished: bool,
}

impl BridgeSink {
    fn message(&self) -> Object {
        let message = obj();
        set(&message, "k", self.id);
        message
    }

    /// Sends `array` as one write of the worker's sink.
    async fn send(&self, array: Uint8Array) -> FsResult<()> {
        let message = self.message();
        set(&message, "data", array.clone());
        let reply =
            self.conn
                .shared
                .request("WriteSink.write", "sink.write", message, Some(&array), None);
        drop(array);
        unit(reply.await)
    }

    /// Sends what was gathered, as one write.
    async fn flush(&mut self) -> FsResult<()> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let array = Uint8Array::new_with_length(self.gathered_len as u32);
        let mut at = 0u32;
        for chunk in self.gathered.drain(..) {
            let end = at + chunk.len() as u32;
            array.subarray(at, end).copy_from(&chunk);
            at = end;
        }
        self.gathered_len = 0;
        self.send(array).await
    }
}

impl Drop for BridgeSink {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.shared.notice("sink.drop", self.message());
        }
    }
}

#[async_trait(?Send)]
impl WriteSink for BridgeSink {
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        let len = chunk.len();
        if self.gathered.is_empty() && len >= SINK_BATCH_BYTES {
            let array = bytes_to_js(&chunk);
            drop(chunk);
            self.send(array).await?;
        } else {
            self.gathered.push(chunk);
            self.gathered_len += len;
            if self.gathered_len >= SINK_BATCH_BYTES {
                self.flush().await?;
            }
        }
        self.written += len as u64;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        // A failed flush leaves the sink unfinished: dropping it aborts it in the worker.
        self.flush().await?;
        self.finished = true;
        unit(
            self.conn
                .request("WriteSink.close", "sink.close", self.message())
                .await,
        )
    }

    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        self.finished = true;
        self.gathered.clear();
        unit(
            self.conn
                .request("WriteSink.abort", "sink.abort", self.message())
                .await,
        )
    }
}

/// Unregisters a watch on the page and releases it in the worker when dropped.
struct WatchGuard {
    conn: Rc<Conn>,
    id: u32,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.conn.shared.watches.borrow_mut().remove(&self.id);
        let message = obj();
        set(&message, "w", self.id);
        self.conn.shared.notice("watch.drop", message);
    }
}

/// The events of one watch, pushed by the worker.
struct BridgeWatch {
    rx: mpsc::UnboundedReceiver<FsResult<WatchEvent>>,
    _guard: WatchGuard,
}

impl Stream for BridgeWatch {
    type Item = FsResult<WatchEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}
