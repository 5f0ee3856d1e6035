//! `filesync-js`: the wasm-bindgen face of the `filesync` engine, which the npm package wraps.
//!
//! The TypeScript package (in this folder's `ts/`) owns everything that needs LiveStore or Effect
//! Schema: the schema helpers, the glue object over a LiveStore store, the Promise API. This crate
//! gives it:
//!
//! - `Engine` (`FileSyncEngine` in JavaScript): one engine over a catalog glue object, a file
//!   system (OPFS, or a JavaScript file system object) and a remote; every method returns a
//!   Promise or a plain value, and every error is a JavaScript `Error` with a `code`;
//! - the `filesync::Catalog` over the glue (`catalog`), which calls the glue's methods
//!   (synchronous LiveStore queries, commits of `{name, args}` events, a change subscription).
//!
//! Natively the crate is empty; it exists for wasm32 only.

#![cfg(target_arch = "wasm32")]
// One thread: the engine's shared state holds JS values; `Arc` still shares it between tasks.
#![allow(clippy::arc_with_non_send_sync)]

mod catalog;
mod convert;
mod engine;
mod hash;
mod js;
mod jsfs;
mod logging;
mod worker;

pub use engine::Engine;
pub use jsfs::JsFs;
pub use logging::set_logger;
