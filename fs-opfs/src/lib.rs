//! `fs-opfs`: the OPFS backend of [`fs_core::FileSystem`] for browsers (wasm32 only; empty elsewhere).
#![cfg(target_arch = "wasm32")]
