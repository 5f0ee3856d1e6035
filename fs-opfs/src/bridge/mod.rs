//! The page→worker bridge: use, from a page, a [`FileSystem`] that lives in a
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
//!   [`Backend::Memory`] and [`Backend::Opfs`] connections (OPFS with sync access handles).
//!
//! ```ignore
//! let worker = BridgeWorker::spawn().await?;
//! let fs = worker.connect(&Backend::Memory).await?;
//! fs.write_file(&VPath::new("/a")?, Bytes::from_static(b"hi"), OpenOptions::write()).await?;
//! ```
//!
//! # Protocol
//!
//! Every connection is a `MessagePort` of its own. The messages are typed (`protocol/`): the page
//! sends a `Request` `{ id, op, ...fields }`, which gets exactly one reply `{ id, ok: true, t,
//! ...fields }` (a `Reply`) or `{ id, ok: false, e: { kind, method, path?, description } }` (the
//! error's `source` stays in the worker), or a `Notice` `{ n, ...fields }`, which gets none; `op`,
//! `n` and `t` are variant indexes (both ends run the same wasm module), and each enum has one codec.
//! The worker executes a request with one exhaustive `match`, so a new request does not compile
//! until it is handled. The first reply (id 0) is the connection's hello with the capabilities and
//! the temporary directory, which the page caches. Requests are the trait's methods, and those of
//! the resources the worker keeps by id: open [`File`](fs_core::File)s (sync access handles with
//! OPFS), read streams and write sinks. Notices release them when the page drops them (a dropped
//! sink is aborted), drop watches, remove detached paths, and say goodbye (the page's connection is
//! gone: everything it left open is dropped). Watch items are pushed as `{ w, ev }`, `{ w, e }` and
//! `{ w, end }`, and the events an operation caused are posted before its reply. Bytes are
//! `Uint8Array`s whose buffers are transferred, and integers above 2^53 travel as `BigInt`s.
//!
//! Streams are pulled: each `StreamNext` request brings one batch (the chunks the worker has ready, at
//! most about 1 MiB, chunk boundaries kept), and the page asks for the next batch when one arrives.
//! Sinks gather chunks smaller than 1 MiB on the page and send them as one write, so a sink error
//! may surface at a later `write` or at `close`.
//!
//! # Where the glue comes from
//!
//! The worker imports the wasm-bindgen JS glue (`--target web`) by the URL the glue has on the page
//! (`import.meta.url`) and instantiates the `WebAssembly.Module` the page posts, so it runs exactly
//! the page's code. A bundler that renames or inlines the glue needs [`SpawnOptions::glue_url`].
//! The page and the worker each have their own memory (no threads, no `SharedArrayBuffer`).

mod page;
mod protocol;
mod spawn;
mod worker;

use std::rc::Rc;
use std::time::Duration;

use fs_core::{FileSystem, FsResult, MemoryFs};
use wasm_bindgen::prelude::*;

pub use page::BridgeFs;
pub use spawn::{BridgeWorker, SpawnOptions, WORKER_ENTRY};
pub use worker::{announce_ready, serve, serve_port, serve_with, Opener};

use crate::{OpfsFs, OpfsOptions, Strategy};
use protocol::{field, malformed, obj, put, set, Transfer};

/// The file system a connection asks the worker for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A fresh, empty in-memory file system for this connection alone.
    Memory,
    /// [`OpfsFs`] opened in the worker with these options (with the default strategy, sync access
    /// handles).
    Opfs(OpfsOptions),
}

impl Backend {
    fn encode(&self) -> JsValue {
        let out = obj();
        let mut transfer = Transfer::default();
        match self {
            Backend::Memory => set(&out, "backend", "memory"),
            Backend::Opfs(options) => {
                set(&out, "backend", "opfs");
                put(&out, "root", &options.root, &mut transfer);
                let strategy = options.strategy.map(|s| match s {
                    Strategy::Writable => "writable".to_owned(),
                    Strategy::SyncAccess => "syncAccess".to_owned(),
                });
                put(&out, "strategy", &strategy, &mut transfer);
                let lock_timeout =
                    options.lock_timeout.as_millis().min(u128::from(u64::MAX)) as u64;
                put(&out, "lockTimeoutMs", &lock_timeout, &mut transfer);
                put(&out, "useMove", &options.use_move, &mut transfer);
            }
        }
        out.into()
    }

    fn decode(value: &JsValue) -> FsResult<Backend> {
        match field::<String>(value, "backend")?.as_str() {
            "memory" => Ok(Backend::Memory),
            "opfs" => {
                let defaults = OpfsOptions::default();
                let strategy = match field::<Option<String>>(value, "strategy")?.as_deref() {
                    None => None,
                    Some("writable") => Some(Strategy::Writable),
                    Some("syncAccess") => Some(Strategy::SyncAccess),
                    Some(other) => return Err(malformed(format!("unknown strategy {other:?}"))),
                };
                Ok(Backend::Opfs(OpfsOptions {
                    root: field(value, "root")?,
                    strategy,
                    lock_timeout: field::<Option<u64>>(value, "lockTimeoutMs")?
                        .map(Duration::from_millis)
                        .unwrap_or(defaults.lock_timeout),
                    use_move: field::<Option<bool>>(value, "useMove")?.unwrap_or(defaults.use_move),
                }))
            }
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
                Backend::Opfs(options) => {
                    Ok(Rc::new(OpfsFs::open(options).await?) as Rc<dyn FileSystem>)
                }
            }
        })
    })
}

/// The worker's entry point, called by the bootstrap script of [`BridgeWorker::spawn`] once the wasm
/// module is instantiated in the worker: serves every connecting page with the backend it asks for,
/// then tells the page it is ready.
#[wasm_bindgen(js_name = "__fsOpfsBridgeWorkerMain")]
pub fn worker_main() {
    serve_with(default_opener());
    worker::announce_ready();
}
