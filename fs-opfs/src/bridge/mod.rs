//! The page→worker bridge: use, from a page, a [`FileSystem`](fs_core::FileSystem) that lives in a
//! dedicated worker.
//!
//! OPFS sync access handles (3–8× faster for large files) exist only in dedicated workers, so the
//! page reaches a worker-side file system through this bridge, with the same trait:
//!
//! - in the worker, [`serve`] (one file system for every page) or [`serve_with`] (one per connection,
//!   chosen by its [`Backend`]) answers requests arriving on `MessagePort`s;
//! - on the page, [`BridgeFs`] implements `FileSystem` by posting requests and awaiting replies;
//! - [`BridgeWorker::spawn`] starts a dedicated module worker running this same wasm module (the
//!   `--target web` output of wasm-bindgen) and its exported entry [`worker_main`], which serves
//!   [`Backend::Memory`] and [`Backend::Opfs`] connections.
//!
//! ```ignore
//! let worker = BridgeWorker::spawn().await?;
//! let fs = worker.connect(&Backend::Memory).await?;
//! fs.write_file(&VPath::new("/a")?, Bytes::from_static(b"hi"), OpenOptions::write()).await?;
//! ```
//!
//! # Protocol
//!
//! Every connection is a `MessagePort` of its own. A request is `{ id, op, ...arguments }` and gets
//! exactly one reply `{ id, ok: true, v }` or `{ id, ok: false, e: { kind, method, path?,
//! description } }`; the first reply (id 0) is the connection's hello with the capabilities and the
//! temporary directory, which the page caches. `op` is the trait method in Effect's camelCase
//! (`readFile`, `makeDir`, …), or `file.*` / `stream.next` / `sink.*` for the resources the worker
//! keeps by id: open [`File`](fs_core::File)s, read streams (pulled one chunk per request, one chunk
//! read ahead) and write sinks. Notices without `id` get no reply: `file.drop`, `stream.drop`,
//! `sink.drop` (aborts), `watch.drop`, `removeDetached` and `bye`. Watch events are pushed as
//! `{ w, ev }`, `{ w, e }` and `{ w, end }`. Bytes are `Uint8Array`s whose buffers are transferred,
//! and integers above 2^53 travel as `BigInt`s.

mod page;
mod protocol;
mod spawn;
mod worker;

use std::rc::Rc;

use fs_core::{FileSystem, FsResult, MemoryFs};
use wasm_bindgen::prelude::*;

pub use page::BridgeFs;
pub use spawn::{BridgeWorker, SpawnOptions, WORKER_ENTRY};
pub use worker::{serve, serve_port, serve_with, Opener};

use protocol::{get, get_str, malformed, obj, set};

/// The file system a connection asks the worker for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A fresh, empty in-memory file system for this connection alone.
    Memory,
    /// OPFS in the worker (sync access handles), rooted at the directory `root` below the origin's
    /// OPFS root (`""` for the root itself; created when missing).
    Opfs {
        /// The sub-root, as `a/b` (no leading slash).
        root: String,
    },
}

impl Backend {
    fn encode(&self) -> JsValue {
        let out = obj();
        match self {
            Backend::Memory => set(&out, "backend", "memory"),
            Backend::Opfs { root } => {
                set(&out, "backend", "opfs");
                set(&out, "root", root.as_str());
            }
        }
        out.into()
    }

    fn decode(value: &JsValue) -> FsResult<Backend> {
        match get_str(value, "backend")?.as_str() {
            "memory" => Ok(Backend::Memory),
            "opfs" => Ok(Backend::Opfs {
                root: get(value, "root").as_string().unwrap_or_default(),
            }),
            other => Err(malformed(format!("unknown backend {other:?}"))),
        }
    }
}

/// Opens the backends this crate knows, in the worker.
fn default_opener() -> Opener {
    Rc::new(|backend| {
        Box::pin(async move {
            match backend {
                Backend::Memory => Ok(Rc::new(MemoryFs::new()) as Rc<dyn FileSystem>),
                Backend::Opfs { root } => open_opfs(&root).await,
            }
        })
    })
}

/// OPFS with sync access handles, rooted at `root`.
async fn open_opfs(root: &str) -> FsResult<Rc<dyn FileSystem>> {
    Err(fs_core::FsError::unsupported("open", "bridge worker").with_path(root))
}

/// The worker's entry point, called by the bootstrap script of [`BridgeWorker::spawn`] once the wasm
/// module is instantiated in the worker: serves every connecting page with the backend it asks for,
/// then tells the page it is ready.
#[wasm_bindgen(js_name = "__fsOpfsBridgeWorkerMain")]
pub fn worker_main() {
    serve_with(default_opener());
    worker::announce_ready();
}
