//! One connection from the page: requests posted with their ids, replies routed back to the calls
//! that wait for them, watch items to their streams, and the goodbye when the page lets go.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use fs_core::{Capabilities, ErrorKind, FsError, FsResult, VPath, WatchEvent};
use futures::channel::{mpsc, oneshot};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use web_sys::{ErrorEvent, MessageEvent, MessagePort, Worker};

use super::super::protocol::{FromWorker, Notice, Reply, Request, ToWorker, WatchItem};
use crate::method::FsMethod;

/// A request waiting for its reply.
pub(super) struct Pending {
    pub(super) reply: oneshot::Sender<FsResult<Reply>>,
    /// For requests that create a worker-side resource: the notice that releases it when the
    /// caller stopped waiting before the reply came.
    pub(super) release: Option<fn(u32) -> Notice>,
}

/// The state the port's message handler shares with the connection.
pub(crate) struct Shared {
    pub(super) port: MessagePort,
    next_id: Cell<u32>,
    pub(super) pending: RefCell<HashMap<u32, Pending>>,
    pub(super) watches: RefCell<HashMap<u32, mpsc::UnboundedSender<FsResult<WatchEvent>>>>,
    broken: RefCell<Option<String>>,
}

impl Shared {
    /// A connection on `port`, waiting for nothing yet.
    pub(super) fn new(port: MessagePort) -> Shared {
        Shared {
            port,
            next_id: Cell::new(1),
            pending: RefCell::new(HashMap::new()),
            watches: RefCell::new(HashMap::new()),
            broken: RefCell::new(None),
        }
    }

    fn broken_error(&self, method: FsMethod) -> Option<FsError> {
        self.broken
            .borrow()
            .as_ref()
            .map(|why| method.error(ErrorKind::Unknown, why.clone()))
    }

    /// Fails every waiting request and watch, and every later one: the worker is gone.
    pub(crate) fn fail_all(&self, why: &str) {
        *self.broken.borrow_mut() = Some(why.to_owned());
        let pending: Vec<Pending> = self.pending.borrow_mut().drain().map(|(_, p)| p).collect();
        for p in pending {
            let _ = p.reply.send(Err(
                FsMethod::Bridge.error(ErrorKind::Unknown, why.to_owned())
            ));
        }
        let watches: Vec<_> = self.watches.borrow_mut().drain().map(|(_, w)| w).collect();
        for watch in watches {
            let _ = watch.unbounded_send(Err(
                FsMethod::Watch.error(ErrorKind::Unknown, why.to_owned())
            ));
        }
    }

    fn post(&self, message: &ToWorker) -> Result<(), JsValue> {
        let (object, transfer) = message.encode();
        match transfer.list() {
            Some(buffers) => self.port.post_message_with_transferable(&object, buffers),
            None => self.port.post_message(&object),
        }
    }

    /// Posts a notice (no reply expected); failures are ignored (the worker is gone anyway).
    pub(super) fn notice(&self, notice: Notice) {
        let _ = self.post(&ToWorker::Notice(notice));
    }

    /// Posts a request now (its bytes move to the worker) and returns the future of its reply.
    pub(super) fn call(&self, request: Request) -> LocalBoxFuture<'static, FsResult<Reply>> {
        let method = request.method();
        if let Some(error) = self.broken_error(method) {
            return futures::future::ready(Err(error)).boxed_local();
        }
        let id = self.next_id.get();
        self.next_id.set(id.checked_add(1).unwrap_or(1));
        let release = request.release();
        let (tx, rx) = oneshot::channel();
        self.pending
            .borrow_mut()
            .insert(id, Pending { reply: tx, release });
        if let Err(e) = self.post(&ToWorker::Request { id, request }) {
            self.pending.borrow_mut().remove(&id);
            let error = method.error(
                ErrorKind::Unknown,
                format!("could not post the request to the bridge worker: {e:?}"),
            );
            return futures::future::ready(Err(error)).boxed_local();
        }
        async move {
            rx.await.unwrap_or_else(|_| {
                Err(method.error(
                    ErrorKind::Unknown,
                    "the bridge connection closed before the reply",
                ))
            })
        }
        .boxed_local()
    }

    /// Routes one message from the worker: a reply, or a watch item.
    pub(super) fn on_message(&self, data: JsValue) {
        match FromWorker::decode(&data) {
            None => {}
            Some(FromWorker::Watch { watch, item }) => {
                let item = match item {
                    WatchItem::End => {
                        self.watches.borrow_mut().remove(&watch);
                        return;
                    }
                    WatchItem::Event(event) => Ok(event),
                    WatchItem::Error(error) => Err(error),
                };
                if let Some(sender) = self.watches.borrow().get(&watch) {
                    let _ = sender.unbounded_send(item);
                }
            }
            Some(FromWorker::Reply { id, result }) => {
                let Some(pending) = self.pending.borrow_mut().remove(&id) else {
                    return;
                };
                if let Err(Ok(Reply::Id { id: resource })) = pending.reply.send(result) {
                    // Nobody waits for this new resource any more: release it in the worker.
                    if let Some(release) = pending.release {
                        self.notice(release(resource));
                    }
                }
            }
        }
    }
}

/// One connection: the port, its handler, what the hello said, and the worker it belongs to.
pub(super) struct Conn {
    pub(super) shared: Rc<Shared>,
    pub(super) caps: Cell<Capabilities>,
    pub(super) temp_dir: RefCell<VPath>,
    pub(super) next_watch: Cell<u32>,
    pub(super) on_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    pub(super) _worker: Option<Rc<WorkerInner>>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.shared.notice(Notice::Bye {});
        self.shared.port.set_onmessage(None);
        self.shared.port.close();
        self.on_message.take();
    }
}

impl Conn {
    /// Posts a request now and returns the future of its reply.
    pub(super) fn call(&self, request: Request) -> LocalBoxFuture<'static, FsResult<Reply>> {
        self.shared.call(request)
    }

    /// Posts a notice.
    pub(super) fn notice(&self, notice: Notice) {
        self.shared.notice(notice);
    }
}

/// A worker `error` event handler.
pub(crate) type ErrorHandler = Closure<dyn FnMut(ErrorEvent)>;

/// The worker and what the page knows about it; terminated when the last user is dropped.
pub(crate) struct WorkerInner {
    pub(crate) worker: Worker,
    pub(crate) connections: RefCell<Vec<Weak<Shared>>>,
    pub(crate) on_error: RefCell<Option<ErrorHandler>>,
}

impl Drop for WorkerInner {
    fn drop(&mut self) {
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}
