//! The page side: [`BridgeFs`], a [`FileSystem`] whose calls run in a worker.
//!
//! `connection.rs` posts requests and routes replies; the resources the worker keeps for the page
//! have their page-side handles in `file.rs` (open files), `stream.rs` (read streams), `sink.rs`
//! (write sinks) and `watch.rs` (watches).

mod connection;
mod file;
mod sink;
mod stream;
mod watch;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{
    AccessOptions, ByteStream, Capabilities, CopyOptions, DirEntry, ErrorKind, File, FileInfo,
    FileSystem, FsResult, MakeDirOptions, OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions,
    StreamOptions, SystemTime, TempOptions, VPath, WatchOptions, WatchStream, WriteSink,
};
use futures::channel::{mpsc, oneshot};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, MessagePort};

use super::protocol::{bytes_to_js, js_to_bytes, no_capabilities, Notice, Reply, Request};
use crate::method::FsMethod;
use connection::{Conn, Pending};
pub(crate) use connection::{Shared, WorkerInner};
use file::BridgeFile;
use sink::BridgeSink;
use stream::BridgeStream;
use watch::{BridgeWatch, WatchGuard};

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
        let shared = Rc::new(Shared::new(port));
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
            caps: Cell::new(no_capabilities()),
            temp_dir: RefCell::new(VPath::root()),
            next_watch: Cell::new(1),
            on_message: Some(handler),
            _worker: worker,
        });
        let hello_conn = conn.clone();
        let hello = async move {
            let hello = rx.await.unwrap_or_else(|_| {
                Err(FsMethod::Bridge.error(
                    ErrorKind::Unknown,
                    "the bridge connection closed before its hello",
                ))
            })?;
            let (caps, temp_dir) = hello.into_hello()?;
            hello_conn.caps.set(caps);
            *hello_conn.temp_dir.borrow_mut() = temp_dir;
            Ok(())
        }
        .boxed_local();
        (BridgeFs { conn }, hello)
    }

    /// The connection's shared state, for the worker's error handler.
    pub(crate) fn shared_weak(&self) -> Weak<Shared> {
        Rc::downgrade(&self.conn.shared)
    }

    /// Posts `request` now; its reply.
    async fn call(&self, request: Request) -> FsResult<Reply> {
        self.conn.call(request).await
    }
}

#[async_trait(?Send)]
impl FileSystem for BridgeFs {
    fn capabilities(&self) -> Capabilities {
        self.conn.caps.get()
    }

    async fn access(&self, path: &VPath, options: AccessOptions) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Access { path, options })
            .await?
            .into_unit()
    }

    async fn exists(&self, path: &VPath) -> FsResult<bool> {
        let path = path.clone();
        self.call(Request::Exists { path }).await?.into_bool()
    }

    async fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        let path = path.clone();
        self.call(Request::Stat { path }).await?.into_info()
    }

    async fn read_dir(&self, path: &VPath, options: ReadDirOptions) -> FsResult<Vec<DirEntry>> {
        let path = path.clone();
        self.call(Request::ReadDir { path, options })
            .await?
            .into_entries()
    }

    async fn make_dir(&self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::MakeDir { path, options })
            .await?
            .into_unit()
    }

    async fn remove(&self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Remove { path, options })
            .await?
            .into_unit()
    }

    async fn rename(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        let (from, to) = (from.clone(), to.clone());
        self.call(Request::Rename { from, to }).await?.into_unit()
    }

    async fn copy_file(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        let (from, to) = (from.clone(), to.clone());
        self.call(Request::CopyFile { from, to }).await?.into_unit()
    }

    async fn copy(&self, from: &VPath, to: &VPath, options: CopyOptions) -> FsResult<()> {
        let (from, to) = (from.clone(), to.clone());
        self.call(Request::Copy { from, to, options })
            .await?
            .into_unit()
    }

    async fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        let path = path.clone();
        let data = self.call(Request::ReadFile { path }).await?.into_data()?;
        Ok(js_to_bytes(&data))
    }

    async fn read_file_string(&self, path: &VPath) -> FsResult<String> {
        let path = path.clone();
        self.call(Request::ReadFileString { path })
            .await?
            .into_text()
    }

    async fn write_file(&self, path: &VPath, data: Bytes, options: OpenOptions) -> FsResult<()> {
        let path = path.clone();
        let array = bytes_to_js(&data);
        // The bytes are in JS memory now (and move to the worker): free them here first.
        drop(data);
        let reply = self.conn.call(Request::WriteFile {
            path,
            data: array,
            options,
        });
        reply.await?.into_unit()
    }

    async fn write_file_string(
        &self,
        path: &VPath,
        data: &str,
        options: OpenOptions,
    ) -> FsResult<()> {
        let path = path.clone();
        let data = data.to_owned();
        self.call(Request::WriteFileString {
            path,
            data,
            options,
        })
        .await?
        .into_unit()
    }

    async fn truncate(&self, path: &VPath, len: u64) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Truncate { path, len })
            .await?
            .into_unit()
    }

    async fn open(&self, path: &VPath, options: OpenOptions) -> FsResult<Box<dyn File>> {
        let path = path.clone();
        let id = self
            .call(Request::Open { path, options })
            .await?
            .into_id()?;
        Ok(Box::new(BridgeFile::new(self.conn.clone(), id)))
    }

    async fn read_stream(&self, path: &VPath, options: StreamOptions) -> FsResult<ByteStream> {
        let path = path.clone();
        let id = self
            .call(Request::ReadStream { path, options })
            .await?
            .into_id()?;
        Ok(Box::pin(BridgeStream::new(self.conn.clone(), id)))
    }

    async fn write_sink(&self, path: &VPath, options: SinkOptions) -> FsResult<Box<dyn WriteSink>> {
        let path = path.clone();
        let id = self
            .call(Request::WriteSink { path, options })
            .await?
            .into_id()?;
        Ok(Box::new(BridgeSink::new(self.conn.clone(), id)))
    }

    fn temp_dir(&self) -> VPath {
        self.conn.temp_dir.borrow().clone()
    }

    async fn make_temp_dir(&self, options: TempOptions) -> FsResult<VPath> {
        self.call(Request::MakeTempDir { options })
            .await?
            .into_path()
    }

    async fn make_temp_file(&self, options: TempOptions) -> FsResult<VPath> {
        self.call(Request::MakeTempFile { options })
            .await?
            .into_path()
    }

    fn remove_detached(&self, path: &VPath) {
        let path = path.clone();
        self.conn.notice(Notice::RemoveDetached { path });
    }

    async fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        let path = path.clone();
        self.call(Request::RealPath { path }).await?.into_path()
    }

    async fn chmod(&self, path: &VPath, mode: u32) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Chmod { path, mode }).await?.into_unit()
    }

    async fn chown(&self, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Chown { path, uid, gid })
            .await?
            .into_unit()
    }

    async fn utimes(&self, path: &VPath, atime: SystemTime, mtime: SystemTime) -> FsResult<()> {
        let path = path.clone();
        self.call(Request::Utimes { path, atime, mtime })
            .await?
            .into_unit()
    }

    async fn link(&self, from: &VPath, to: &VPath) -> FsResult<()> {
        let (from, to) = (from.clone(), to.clone());
        self.call(Request::Link { from, to }).await?.into_unit()
    }

    async fn symlink(&self, target: &str, link: &VPath) -> FsResult<()> {
        let (target, link) = (target.to_owned(), link.clone());
        self.call(Request::Symlink { target, link })
            .await?
            .into_unit()
    }

    async fn read_link(&self, path: &VPath) -> FsResult<String> {
        let path = path.clone();
        self.call(Request::ReadLink { path }).await?.into_text()
    }

    async fn watch(&self, path: &VPath, options: WatchOptions) -> FsResult<WatchStream> {
        // The page names the watch, and listens for it before asking, so no event can be missed.
        let watch = self.conn.next_watch.get();
        self.conn.next_watch.set(watch.wrapping_add(1));
        let (tx, rx) = mpsc::unbounded();
        self.conn.shared.watches.borrow_mut().insert(watch, tx);
        let guard = WatchGuard::new(self.conn.clone(), watch);
        let path = path.clone();
        // On failure (or if this future is dropped) the guard unregisters and releases the watch.
        self.call(Request::Watch {
            path,
            watch,
            options,
        })
        .await?
        .into_unit()?;
        Ok(Box::pin(BridgeWatch::new(rx, guard)))
    }
}
