//! The package's dedicated worker and what the page asks of it.
//!
//! The worker (`ts/worker.ts` instantiates this wasm module there and calls
//! [`worker_main`]) serves two kinds of connections, each on a `MessagePort` of its own:
//! - fs-opfs bridge connections (`{ connect }`): OPFS with sync access handles, the engine's
//!   transfer file system;
//! - chunk-saver connections (`{ chunkSaver }`, [`saver`]): a download's body, sent by the page as
//!   the `fetch` gave it (JavaScript arrays, transferred), written into its partial file and hashed
//!   here, so the bytes never enter the page's wasm memory and the page's thread never hashes.
//!
//! Both use one [`fs_opfs::OpfsFs`] per set of options ([`shared_opfs`]), so a partial file the
//! saver holds open is the same open file for the bridge (a rename or removal from the page
//! detaches it as fs-opfs does for its own handles).

mod page;
mod saver;

use std::cell::RefCell;
use std::rc::Rc;

use fs_core::{FileSystem, FsResult, MemoryFs};
use fs_opfs::bridge::{Backend, Opener};
use fs_opfs::{OpfsFs, OpfsOptions, Strategy};
use wasm_bindgen::prelude::*;

pub(crate) use page::WorkerSaver;

/// The OPFS options of the transfer file system: the OPFS root, sync access handles.
pub(crate) fn transfer_options() -> OpfsOptions {
    OpfsOptions {
        strategy: Some(Strategy::SyncAccess),
        ..OpfsOptions::default()
    }
}

thread_local! {
    /// The worker's open OPFS file systems, by their options.
    static OPENED: RefCell<Vec<(OpfsOptions, Rc<OpfsFs>)>> = const { RefCell::new(Vec::new()) };
}

/// The worker's one [`OpfsFs`] for `options`, opened on first use.
async fn shared_opfs(options: OpfsOptions) -> FsResult<Rc<OpfsFs>> {
    let found = OPENED.with(|opened| {
        let opened = opened.borrow();
        opened
            .iter()
            .find(|(o, _)| *o == options)
            .map(|(_, fs)| fs.clone())
    });
    if let Some(fs) = found {
        return Ok(fs);
    }
    let fs = Rc::new(OpfsFs::open(options.clone()).await?);
    Ok(OPENED.with(|opened| {
        let mut opened = opened.borrow_mut();
        // Two first uses may race: the one opened first stays the one.
        if let Some((_, first)) = opened.iter().find(|(o, _)| *o == options) {
            return first.clone();
        }
        opened.push((options, fs.clone()));
        fs
    }))
}

/// The worker's entry point (called by `ts/worker.ts` once this module is instantiated): serves
/// bridge connections and chunk savers, then tells the page it is ready.
#[wasm_bindgen(js_name = "__filesyncWorkerMain")]
pub fn worker_main() {
    let open: Opener = Rc::new(|backend| {
        Box::pin(async move {
            match backend {
                Backend::Memory => Ok(Rc::new(MemoryFs::new()) as Rc<dyn FileSystem>),
                Backend::Opfs(options) => Ok(shared_opfs(options).await? as Rc<dyn FileSystem>),
            }
        })
    });
    fs_opfs::bridge::serve_with(open);
    saver::listen();
    fs_opfs::bridge::announce_ready();
}
