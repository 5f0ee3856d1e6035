//! The worker side: serves a [`FileSystem`] to pages over `MessagePort`s.
//!
//! `mod.rs` holds the connections (ports, posting, watches, goodbye) and the serving entry points;
//! `dispatch.rs` executes each [`Request`](super::protocol::Request) with one exhaustive `match`.

mod dispatch;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use fs_core::{File, FileSystem, FsResult, WatchEvent, WriteSink};
use futures::StreamExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, MessagePort};

use super::protocol::{get, obj, set, FromWorker, Reply, ToWorker, WatchItem};
use super::Backend;
use dispatch::{abort_sink, dispatch, notice, StreamState, Table, Watch};

/// Opens the file system a connecting page asked for (its [`Backend`]), in the worker.
pub type Opener =
    Rc<dyn Fn(Backend) -> Pin<Box<dyn Future<Output = FsResult<Rc<dyn FileSystem>>>>>>;

/// A port's `message` event handler.
type MessageHandler = Closure<dyn FnMut(MessageEvent)>;

/// One page's connection: its file system, its port, and the resources it opened.
struct Connection {
    fs: Rc<dyn FileSystem>,
    port: MessagePort,
    next_id: Cell<u32>,
    files: Table<Box<dyn File>>,
    sinks: Table<Box<dyn WriteSink>>,
    streams: Table<StreamState>,
    watches: RefCell<HashMap<u32, Rc<Watch>>>,
    on_message: RefCell<Option<MessageHandler>>,
}

impl Connection {
    /// A fresh id for a resource the page opens.
    fn new_id(&self) -> u32 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }

    fn post(&self, message: &FromWorker) {
        post_to(&self.port, message);
    }

    /// Posts the reply to request `id` (after the watch events the request caused).
    fn reply(&self, id: u32, result: FsResult<Reply>) {
        self.flush_watches();
        self.post(&FromWorker::Reply { id, result });
    }

    /// Posts one watch item (`None`: the watch ended).
    fn post_watch_item(&self, watch: u32, item: Option<FsResult<WatchEvent>>) {
        let item = match item {
            Some(Ok(event)) => WatchItem::Event(event),
            Some(Err(error)) => WatchItem::Error(error),
            None => {
                if self.watches.borrow_mut().remove(&watch).is_none() {
                    return;
                }
                WatchItem::End
            }
        };
        self.post(&FromWorker::Watch { watch, item });
    }

    /// Posts the events every watch has buffered, so that the events an operation caused reach the
    /// page before the operation's reply (a page that waits for them without yielding to its event
    /// loop still sees them).
    fn flush_watches(&self) {
        if self.watches.borrow().is_empty() {
            return;
        }
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
        self.files.clear();
        for sink in self.sinks.drain() {
            spawn_local(abort_sink(sink));
        }
        self.streams.clear();
        for (_, watch) in self.watches.borrow_mut().drain() {
            watch.abort.abort();
        }
        // The handler itself is dropped last, outside of its own call.
        let handler = self.on_message.borrow_mut().take();
        spawn_local(async move { drop(handler) });
    }
}

/// Posts `message` on `port`, its buffers transferred; a failure is logged (the page is gone).
fn post_to(port: &MessagePort, message: &FromWorker) {
    let (object, transfer) = message.encode();
    let result = match transfer.list() {
        Some(buffers) => port.post_message_with_transferable(&object, buffers),
        None => port.post_message(&object),
    };
    if let Err(e) = result {
        web_sys::console::warn_2(&"fs-opfs bridge: a reply could not be posted".into(), &e);
    }
}

/// Handles one message from the page: a request runs in its own task and gets its reply; a notice
/// runs now.
fn on_message(conn: &Rc<Connection>, message: JsValue) {
    match ToWorker::decode(&message) {
        Ok(ToWorker::Request { id, request }) => {
            let conn = conn.clone();
            spawn_local(async move {
                let result = dispatch(&conn, request).await;
                conn.reply(id, result);
            });
        }
        Ok(ToWorker::Notice(n)) => notice(conn, n),
        Err((Some(id), error)) => conn.reply(id, Err(error)),
        Err((None, error)) => {
            web_sys::console::warn_1(&format!("fs-opfs bridge: {error}").into());
        }
    }
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
        files: Table::default(),
        sinks: Table::default(),
        streams: Table::default(),
        watches: RefCell::default(),
        on_message: RefCell::new(None),
    });
    // The handler holds the connection and the connection its handler: the cycle keeps both alive
    // while the page is connected, and `bye` breaks it.
    let held = conn.clone();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        on_message(&held, event.data());
    });
    conn.port
        .set_onmessage(Some(handler.as_ref().unchecked_ref()));
    *conn.on_message.borrow_mut() = Some(handler);
    let hello = Reply::Hello {
        caps: conn.fs.capabilities(),
        temp_dir: conn.fs.temp_dir(),
    };
    conn.reply(0, Ok(hello));
}

/// Serves connections on the current dedicated worker: every `{ connect: backend }` message that
/// carries a `MessagePort` gets a file system from `open` and is served on that port.
///
/// A connection whose backend cannot be opened gets the error as its hello, and the port closes.
/// Messages without `connect` are left alone, so the worker may listen for messages of its own.
pub fn serve_with(open: Opener) {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let request = get(&data, "connect");
        if request.is_undefined() {
            // Not a connection request: left to the worker's other listeners.
            return;
        }
        let Some(port) = event.ports().get(0).dyn_into::<MessagePort>().ok() else {
            return;
        };
        let backend = Backend::decode(&request);
        let open = open.clone();
        spawn_local(async move {
            let opened = match backend {
                Ok(backend) => open(backend).await,
                Err(e) => Err(e),
            };
            match opened {
                Ok(fs) => serve_port(fs, port),
                Err(error) => {
                    let result = Err(error);
                    post_to(&port, &FromWorker::Reply { id: 0, result });
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

/// Tells the page that spawned (or attached) this worker that it is ready for connections: what a
/// worker entry of its own calls once it serves (see [`super::BridgeWorker::attach`]).
pub fn announce_ready() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let message = obj();
    set(&message, "ready", true);
    let _ = scope.post_message(&message);
}
