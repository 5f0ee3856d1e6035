//! Starting a dedicated worker that runs this same wasm module, and connecting pages to it.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use fs_core::{ErrorKind, FsError, FsResult};
use futures::channel::oneshot;
use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    Blob, BlobPropertyBag, ErrorEvent, MessageChannel, MessageEvent, Url, Worker, WorkerOptions,
    WorkerType,
};

use super::page::{BridgeFs, WorkerInner};
use super::protocol::{get, obj, set};
use super::Backend;
use crate::method::FsMethod;

/// The name under which [`super::worker_main`] is exported from the wasm-bindgen JS glue.
pub const WORKER_ENTRY: &str = "__fsOpfsBridgeWorkerMain";

#[wasm_bindgen]
extern "C" {
    /// The URL of the wasm-bindgen JS glue this code was loaded by (`import.meta.url` inside it).
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: String;
}

/// The worker's bootstrap module: waits for `{ glue, module, entry }`, imports the glue, instantiates
/// the posted `WebAssembly.Module` (compiled once, on the page) and calls the entry, which installs
/// the connection handler and posts `{ ready: true }`.
const BOOTSTRAP: &str = r#"
self.addEventListener("message", async (event) => {
  try {
    const glue = await import(event.data.glue);
    await glue.default({ module_or_path: event.data.module });
    glue[event.data.entry]();
  } catch (error) {
    self.postMessage({ bootError: String((error && error.stack) || error) });
  }
}, { once: true });
"#;

/// How to start the worker.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// The URL of the wasm-bindgen glue (`--target web`) to import in the worker; by default the glue
    /// this code was loaded from (`import.meta.url`), which is right unless a bundler moved it.
    pub glue_url: Option<String>,
    /// The exported function to call in the worker once the module is instantiated; by default
    /// [`WORKER_ENTRY`] ([`super::worker_main`]). A custom entry must serve connections (for example
    /// with [`super::serve_with`]) and then post `{ ready: true }` to the page.
    pub entry: Option<String>,
    /// The worker's name (shown in developer tools).
    pub name: Option<String>,
}

/// A dedicated worker running this wasm module and serving file systems to the page.
///
/// Every [`BridgeWorker::connect`] opens a new connection (its own `MessagePort`, its own file
/// system). The worker is terminated when the `BridgeWorker` and every [`BridgeFs`] connected
/// through it are dropped.
pub struct BridgeWorker {
    inner: Rc<WorkerInner>,
}

fn spawn_error(what: impl std::fmt::Display) -> FsError {
    FsMethod::Bridge.error(
        ErrorKind::Unknown,
        format!("could not start the bridge worker: {what}"),
    )
}

fn js_error(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| {
            value
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{value:?}"))
}

impl BridgeWorker {
    /// Starts the worker with the default options and waits until it serves connections.
    pub async fn spawn() -> FsResult<BridgeWorker> {
        BridgeWorker::spawn_with(SpawnOptions::default()).await
    }

    /// Starts a module worker from a Blob URL whose script imports the glue, instantiates this wasm
    /// module (posted as a compiled `WebAssembly.Module`) and calls the entry; waits for its
    /// `{ ready }` (or its boot error).
    pub async fn spawn_with(options: SpawnOptions) -> FsResult<BridgeWorker> {
        let bag = BlobPropertyBag::new();
        bag.set_type("text/javascript");
        let parts = Array::of1(&JsValue::from_str(BOOTSTRAP));
        let blob = Blob::new_with_str_sequence_and_options(&parts, &bag)
            .map_err(|e| spawn_error(js_error(&e)))?;
        let url = Url::create_object_url_with_blob(&blob).map_err(|e| spawn_error(js_error(&e)))?;
        let worker_options = WorkerOptions::new();
        worker_options.set_type(WorkerType::Module);
        if let Some(name) = &options.name {
            worker_options.set_name(name);
        }
        let worker = Worker::new_with_options(&url, &worker_options);
        // The worker has fetched its script once it answers; the URL may go now or later.
        let worker = worker.map_err(|e| {
            let _ = Url::revoke_object_url(&url);
            spawn_error(js_error(&e))
        })?;
        let glue = match options.glue_url.clone() {
            Some(url) => url,
            None => GLUE_URL.with(Clone::clone),
        };
        let booted = BridgeWorker::boot(worker, glue, options).await;
        let _ = Url::revoke_object_url(&url);
        booted
    }

    /// Boots a worker the caller started from a script of its own (for example a file the app
    /// serves, where a Content-Security-Policy forbids `blob:` workers, or a bundler's worker
    /// chunk). The script must do what [`BridgeWorker::spawn`]'s bootstrap does: take the first
    /// message `{ glue, module, entry }`, instantiate this wasm module from `module` (a compiled
    /// `WebAssembly.Module`) with its glue (it may import its own copy of the glue and ignore
    /// `glue`), call the exported function named `entry`, and post `{ bootError }` if any of that
    /// fails. `glue` is `options.glue_url` or empty: unlike [`BridgeWorker::spawn`], attaching
    /// never reads `import.meta.url`, so code that only attaches keeps its glue free of it (Node
    /// then still loads that glue as CommonJS). `options.name` is ignored (the caller named the
    /// worker).
    pub async fn attach(worker: Worker, options: SpawnOptions) -> FsResult<BridgeWorker> {
        let glue = options.glue_url.clone().unwrap_or_default();
        BridgeWorker::boot(worker, glue, options).await
    }

    /// Posts the boot message (`glue` and the entry of `options`) to `worker` and waits for its
    /// `{ ready }` (or its boot error).
    async fn boot(worker: Worker, glue: String, options: SpawnOptions) -> FsResult<BridgeWorker> {
        let entry = options.entry.unwrap_or_else(|| WORKER_ENTRY.to_owned());
        let (tx, rx) = oneshot::channel::<Result<(), String>>();
        let tx = Rc::new(RefCell::new(Some(tx)));
        let on_boot_message = {
            let tx = tx.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let outcome = if get(&data, "ready").as_bool() == Some(true) {
                    Ok(())
                } else if let Some(error) = get(&data, "bootError").as_string() {
                    Err(error)
                } else {
                    return;
                };
                if let Some(tx) = tx.borrow_mut().take() {
                    let _ = tx.send(outcome);
                }
            })
        };
        let on_boot_error = {
            let tx = tx.clone();
            Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
                if let Some(tx) = tx.borrow_mut().take() {
                    let _ = tx.send(Err(format!("worker error: {}", event.message())));
                }
            })
        };
        worker.set_onmessage(Some(on_boot_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_boot_error.as_ref().unchecked_ref()));
        let inner = Rc::new(WorkerInner {
            worker,
            connections: RefCell::new(Vec::new()),
            on_error: RefCell::new(None),
        });

        let boot = obj();
        set(&boot, "glue", glue.as_str());
        set(&boot, "module", wasm_bindgen::module());
        set(&boot, "entry", entry.as_str());
        inner
            .worker
            .post_message(&boot)
            .map_err(|e| spawn_error(js_error(&e)))?;
        let outcome = rx.await;
        inner.worker.set_onmessage(None);
        drop(on_boot_message);
        drop(on_boot_error);
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(why)) => return Err(spawn_error(why)),
            Err(_) => return Err(spawn_error("the worker never answered")),
        }

        // From now on an uncaught error in the worker fails every connection: its state is unknown.
        let weak = Rc::downgrade(&inner);
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            let Some(inner) = weak.upgrade() else { return };
            let why = format!("the bridge worker failed: {}", event.message());
            for shared in inner.connections.borrow().iter().filter_map(Weak::upgrade) {
                shared.fail_all(&why);
            }
        });
        inner
            .worker
            .set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *inner.on_error.borrow_mut() = Some(on_error);
        Ok(BridgeWorker { inner })
    }

    /// Opens a new connection to the worker, served by the file system `backend` names (a fresh one
    /// per connection for [`Backend::Memory`]), and waits for its hello.
    pub async fn connect(&self, backend: &Backend) -> FsResult<BridgeFs> {
        let channel = MessageChannel::new().map_err(|e| spawn_error(js_error(&e)))?;
        let (fs, hello) = BridgeFs::start(channel.port1(), Some(self.inner.clone()));
        {
            let mut connections = self.inner.connections.borrow_mut();
            connections.retain(|c| c.strong_count() > 0);
            connections.push(fs.shared_weak());
        }
        let message = obj();
        set(&message, "connect", backend.encode());
        let port = channel.port2();
        self.inner
            .worker
            .post_message_with_transfer(&message, &Array::of1(&port))
            .map_err(|e| spawn_error(js_error(&e)))?;
        hello.await?;
        Ok(fs)
    }

    /// The underlying `Worker`.
    pub fn worker(&self) -> &Worker {
        &self.inner.worker
    }
}
