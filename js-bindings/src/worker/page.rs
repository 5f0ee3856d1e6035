//! The page side of a chunk saver ([`WorkerSaver`]): a download's body goes to the package's
//! worker as the `fetch` gave it, a window of [`WINDOW_BYTES`] at most in flight.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use filesync::{ChunkSaver, ContentHash, SaveChunks, SaveChunksError, SavedChunks};
use fs_core::{ErrorKind, FsError};
use futures::channel::mpsc;
use futures::StreamExt;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, MessageChannel, MessageEvent, MessagePort, Worker};

use super::saver::METHOD;
use crate::js::{get, get_string};
use crate::jsfs::kind_of_code;

/// At most this many bytes are sent to the worker and not yet written.
const WINDOW_BYTES: u64 = 16 << 20;

/// Progress is reported after at least this many more bytes (and at the end).
const PROGRESS_BYTES: u64 = 1 << 20;

/// Replies waiting for their download, by id.
type Jobs = Rc<RefCell<HashMap<u32, mpsc::UnboundedSender<JsValue>>>>;

/// A connection to the chunk saver of the package's worker.
pub(crate) struct WorkerSaver {
    port: MessagePort,
    next_id: Cell<u32>,
    jobs: Jobs,
    /// Why the worker cannot save (it could not open OPFS), once it said so.
    broken: Rc<RefCell<Option<JsValue>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    /// The worker's `error` listener (removed when the saver goes).
    on_error: Closure<dyn FnMut(ErrorEvent)>,
    worker: Worker,
}

impl Drop for WorkerSaver {
    fn drop(&mut self) {
        let _ = self
            .worker
            .remove_event_listener_with_callback("error", self.on_error.as_ref().unchecked_ref());
    }
}

impl WorkerSaver {
    /// Connects to the chunk saver of `worker` (started by `ts/worker.ts` and booted).
    pub(crate) fn connect(worker: &Worker) -> Result<Rc<WorkerSaver>, JsValue> {
        let channel = MessageChannel::new()?;
        let jobs: Jobs = Rc::default();
        let broken: Rc<RefCell<Option<JsValue>>> = Rc::default();
        let on_message = {
            let jobs = jobs.clone();
            let broken = broken.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let message = event.data();
                let id = get(&message, "id").as_f64().unwrap_or(0.0) as u32;
                if id == 0 {
                    // The saver could not start: every download fails with its reason.
                    *broken.borrow_mut() = Some(get(&message, "error"));
                    for (_, tx) in jobs.borrow_mut().drain() {
                        let _ = tx.unbounded_send(message.clone());
                    }
                    return;
                }
                if let Some(tx) = jobs.borrow().get(&id) {
                    let _ = tx.unbounded_send(message);
                }
            })
        };
        // An uncaught error in the worker leaves its state unknown: every download in flight
        // fails (and is tried again later), and so does every later one.
        let on_error = {
            let jobs = jobs.clone();
            let broken = broken.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                let error = Object::new();
                set(&error, "code", &"Unknown".into());
                let why = format!("the file sync worker failed: {}", event.message());
                set(&error, "message", &why.into());
                let message = Object::new();
                set(&message, "error", &error);
                *broken.borrow_mut() = Some(error.into());
                for (_, tx) in jobs.borrow_mut().drain() {
                    let _ = tx.unbounded_send(message.clone().into());
                }
            })
        };
        worker.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())?;
        let port = channel.port1();
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let hello = Object::new();
        let saver = Object::new();
        Reflect::set(&saver, &"root".into(), &JsValue::NULL)?;
        Reflect::set(&hello, &"chunkSaver".into(), &saver)?;
        worker.post_message_with_transfer(&hello, &Array::of1(&channel.port2()))?;
        Ok(Rc::new(WorkerSaver {
            port,
            next_id: Cell::new(1),
            jobs,
            broken,
            _on_message: on_message,
            on_error,
            worker: worker.clone(),
        }))
    }

    /// The engine's [`ChunkSaver`] over this connection.
    pub(crate) fn chunk_saver(self: &Rc<Self>) -> ChunkSaver {
        let saver = self.clone();
        Arc::new(move |job| {
            let saver = saver.clone();
            Box::pin(async move { saver.save(job).await })
        })
    }

    async fn save(self: Rc<Self>, job: SaveChunks) -> Result<SavedChunks, SaveChunksError> {
        if let Some(why) = self.broken.borrow().clone() {
            return Err(SaveChunksError::Local(fs_error(&why)));
        }
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1).max(1));
        let (tx, mut rx) = mpsc::unbounded();
        self.jobs.borrow_mut().insert(id, tx);
        let mut guard = Guard {
            saver: &self,
            id,
            open: true,
        };
        let begin = message("begin", id);
        set(&begin, "path", &job.path.as_str().into());
        set(&begin, "start", &(job.start as f64).into());
        self.send(&begin, None)?;

        let SaveChunks {
            start,
            mut chunks,
            progress,
            ..
        } = job;
        let mut sent = start;
        let mut written = start;
        let mut reported = start;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => return Err(SaveChunksError::Body(e)),
            };
            // What came back meanwhile; then wait while the window is full.
            while let Ok(reply) = rx.try_recv() {
                written = written.max(acked(&reply)?);
            }
            while sent - written > WINDOW_BYTES {
                let reply = rx.next().await.ok_or_else(gone)?;
                written = written.max(acked(&reply)?);
            }
            let len = u64::from(chunk.length());
            let whole =
                chunk.byte_offset() == 0 && chunk.byte_length() == chunk.buffer().byte_length();
            let chunk = if whole {
                chunk
            } else {
                chunk.slice(0, chunk.length())
            };
            let message = message("chunk", id);
            set(&message, "bytes", &chunk);
            self.send(&message, Some(&chunk.buffer().into()))?;
            sent += len;
            if sent - reported >= PROGRESS_BYTES {
                reported = sent;
                progress(sent);
            }
        }
        if sent != reported {
            progress(sent);
        }
        self.send(&message("end", id), None)?;
        guard.open = false;
        loop {
            let reply = rx.next().await.ok_or_else(gone)?;
            let done = get(&reply, "done");
            if done.is_undefined() {
                acked(&reply)?;
                continue;
            }
            let size = get(&done, "size").as_f64().unwrap_or(0.0) as u64;
            let hash = get_string(&done, "hash").unwrap_or_default();
            let hash = ContentHash::parse(&hash).map_err(|_| {
                SaveChunksError::Local(FsError::new(
                    ErrorKind::InvalidData,
                    METHOD,
                    format!("the worker answered {hash:?} as a hash"),
                ))
            })?;
            return Ok(SavedChunks { size, hash });
        }
    }

    /// Posts `message` on the port, transferring `buffer`.
    fn send(&self, message: &Object, buffer: Option<&JsValue>) -> Result<(), SaveChunksError> {
        let posted = match buffer {
            Some(buffer) => self
                .port
                .post_message_with_transferable(message, &Array::of1(buffer)),
            None => self.port.post_message(message),
        };
        posted.map_err(|e| {
            SaveChunksError::Local(FsError::new(
                ErrorKind::Unknown,
                METHOD,
                format!("cannot reach the worker: {}", crate::js::message_of(&e)),
            ))
        })
    }
}

/// Ends a download the page stopped sending (cancelled, or its body failed): the worker closes
/// the partial file, keeping what was written, and the replies are no longer waited for.
struct Guard<'a> {
    saver: &'a WorkerSaver,
    id: u32,
    open: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.saver.port.post_message(&message("abort", self.id));
        }
        self.saver.jobs.borrow_mut().remove(&self.id);
    }
}

/// `{ op, id }`.
fn message(op: &str, id: u32) -> Object {
    let message = Object::new();
    set(&message, "op", &op.into());
    set(&message, "id", &id.into());
    message
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

/// The size a reply acknowledges, or its error.
fn acked(reply: &JsValue) -> Result<u64, SaveChunksError> {
    let error = get(reply, "error");
    if !error.is_undefined() {
        return Err(SaveChunksError::Local(fs_error(&error)));
    }
    Ok(get(reply, "ack").as_f64().unwrap_or(0.0) as u64)
}

/// The [`FsError`] of the worker's `{ code, message }`.
fn fs_error(error: &JsValue) -> FsError {
    let kind = get_string(error, "code")
        .and_then(|code| kind_of_code(&code))
        .unwrap_or(ErrorKind::Unknown);
    let text = get_string(error, "message").unwrap_or_else(|| "the worker failed".into());
    FsError::new(kind, METHOD, text)
}

fn gone() -> SaveChunksError {
    SaveChunksError::Local(FsError::new(
        ErrorKind::Unknown,
        METHOD,
        "the worker stopped answering",
    ))
}
