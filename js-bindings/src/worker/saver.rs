//! The worker side of a chunk saver: one `MessagePort` per page, one task per download.
//!
//! Page to worker: `{ op: "begin", id, path, start }`, then `{ op: "chunk", id, bytes }` (a
//! `Uint8Array`, its buffer transferred) for each chunk, then `{ op: "end", id }` or
//! `{ op: "abort", id }`. Worker to page: `{ id, ack }` (the partial file's size, every
//! [`ACK_BYTES`]), then `{ id, done: { size, hash } }` after `end`, or `{ id, error: { code,
//! message } }` as soon as something fails (later chunks of that download are dropped). A job's
//! messages are handled in order by its own task; the file stays whatever was written, for a
//! resume, whenever a job stops.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use fs_core::{ErrorKind, FileSystem, FsError, FsResult, OpenFlag, OpenOptions, VPath};
use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

use super::{shared_opfs, transfer_options};
use crate::js::get;

/// How many bytes the worker writes between two acknowledgements.
pub(super) const ACK_BYTES: u64 = 4 << 20;

/// The method chunk-saver errors name.
pub(super) const METHOD: &str = "ChunkSaver.write";

/// Listens on the worker's global scope for `{ chunkSaver: { root } }` messages carrying a port,
/// and serves each port with the worker's shared OPFS under that root.
pub(super) fn listen() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let hello = get(&event.data(), "chunkSaver");
        if hello.is_undefined() {
            return;
        }
        let Ok(port) = event.ports().get(0).dyn_into::<MessagePort>() else {
            return;
        };
        let root = get(&hello, "root").as_string();
        spawn_local(async move {
            let opened = async {
                let root = root.as_deref().map(VPath::new).transpose()?;
                let options = fs_opfs::OpfsOptions {
                    root,
                    ..transfer_options()
                };
                shared_opfs(options).await
            };
            match opened.await {
                Ok(fs) => serve(fs, port),
                Err(e) => {
                    // Every download on this port fails with the reason.
                    post(&port, 0, "error", &error_value(&e));
                }
            }
        });
    });
    let _ = scope.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    // The worker's listener lives as long as the worker.
    handler.forget();
}

/// Serves downloads on `port`, each job fed by its own channel.
fn serve(fs: Rc<dyn FileSystem>, port: MessagePort) {
    let jobs: Rc<RefCell<HashMap<u32, mpsc::UnboundedSender<JsValue>>>> = Rc::default();
    let reply_port = port.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let message = event.data();
        let Some(id) = get(&message, "id").as_f64().map(|id| id as u32) else {
            return;
        };
        let op = get(&message, "op").as_string().unwrap_or_default();
        let mut jobs = jobs.borrow_mut();
        match op.as_str() {
            "begin" => {
                let (tx, rx) = mpsc::unbounded();
                jobs.insert(id, tx);
                let job = Job {
                    fs: fs.clone(),
                    port: reply_port.clone(),
                    id,
                };
                let path = get(&message, "path").as_string().unwrap_or_default();
                let start = get(&message, "start").as_f64().unwrap_or(0.0) as u64;
                spawn_local(job.run(path, start, rx));
            }
            "end" | "abort" => {
                if let Some(tx) = jobs.remove(&id) {
                    let _ = tx.unbounded_send(message);
                }
            }
            _ => {
                if let Some(tx) = jobs.get(&id) {
                    let _ = tx.unbounded_send(message);
                }
            }
        }
    });
    port.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // The port's handler lives as long as the worker: pages connect once per engine.
    handler.forget();
}

/// One download's task.
struct Job {
    fs: Rc<dyn FileSystem>,
    port: MessagePort,
    id: u32,
}

impl Job {
    async fn run(self, path: String, start: u64, mut rx: mpsc::UnboundedReceiver<JsValue>) {
        match self.write(&path, start, &mut rx).await {
            Ok(Some((size, hash))) => {
                let done = Object::new();
                let _ = Reflect::set(&done, &"size".into(), &(size as f64).into());
                let _ = Reflect::set(&done, &"hash".into(), &hash.into());
                post(&self.port, self.id, "done", &done);
            }
            Ok(None) => {}
            Err(e) => post(&self.port, self.id, "error", &error_value(&e)),
        }
    }

    /// Hashes the partial file's first `start` bytes, then appends and hashes every chunk until
    /// `end` (answers the size and the hash) or `abort` (answers `None`).
    async fn write(
        &self,
        path: &str,
        start: u64,
        rx: &mut mpsc::UnboundedReceiver<JsValue>,
    ) -> FsResult<Option<(u64, String)>> {
        let path = VPath::new(path)?;
        let flag = if start == 0 {
            OpenFlag::Write
        } else {
            OpenFlag::ReadWrite
        };
        let mut file = self.fs.open(&path, OpenOptions::flag(flag)).await?;
        let mut hasher = filesync::Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        if start > 0 {
            let size = file.stat().await?.size;
            if size != start {
                return Err(FsError::new(
                    ErrorKind::InvalidData,
                    METHOD,
                    format!("the partial file holds {size} bytes, not the {start} the download resumes after"),
                )
                .with_path(&path));
            }
            let mut read = 0u64;
            while read < start {
                let want = usize::try_from(start - read).map_or(buf.len(), |n| n.min(buf.len()));
                let n = file.read(&mut buf[..want]).await?;
                if n == 0 {
                    return Err(FsError::new(
                        ErrorKind::UnexpectedEof,
                        METHOD,
                        "the partial file ended early",
                    )
                    .with_path(&path));
                }
                hasher.update(&buf[..n]);
                read += n as u64;
            }
        }
        let mut written = start;
        let mut acked = start;
        while let Some(message) = rx.next().await {
            match get(&message, "op").as_string().as_deref() {
                Some("chunk") => {
                    let Ok(chunk) = get(&message, "bytes").dyn_into::<Uint8Array>() else {
                        continue;
                    };
                    let n = chunk.length() as usize;
                    if buf.len() < n {
                        buf.resize(n, 0);
                    }
                    chunk.copy_to(&mut buf[..n]);
                    hasher.update(&buf[..n]);
                    file.write_all(&buf[..n]).await?;
                    written += n as u64;
                    if written - acked >= ACK_BYTES {
                        acked = written;
                        post(&self.port, self.id, "ack", &(written as f64).into());
                    }
                }
                Some("end") => {
                    file.sync().await?;
                    file.close().await?;
                    return Ok(Some((written, hasher.finalize().to_hex())));
                }
                _ => break,
            }
        }
        // Aborted, or the page went away: what was written stays for a resume.
        file.sync().await?;
        file.close().await?;
        Ok(None)
    }
}

/// `{ id, [key]: value }` to the page.
fn post(port: &MessagePort, id: u32, key: &str, value: &JsValue) {
    let message = Object::new();
    let _ = Reflect::set(&message, &"id".into(), &id.into());
    let _ = Reflect::set(&message, &key.into(), value);
    let _ = port.post_message(&message);
}

/// `{ code, message }` of an error: its kind's name and its text.
fn error_value(e: &FsError) -> JsValue {
    let value = Object::new();
    let _ = Reflect::set(&value, &"code".into(), &e.kind().as_str().into());
    let _ = Reflect::set(&value, &"message".into(), &e.to_string().into());
    value.into()
}
