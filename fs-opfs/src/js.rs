//! Small bindings and helpers over the browser: promises, timers, the storage manager, `move()`,
//! and retrying while a file is locked.

use std::time::Duration;

use fs_core::{ErrorKind, FsError, FsResult, VPath};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DedicatedWorkerGlobalScope, FileSystemDirectoryHandle, FileSystemHandle, StorageManager,
    WorkerGlobalScope,
};
use web_time::Instant;

use crate::error::{js_name, JsResultExt};
use crate::method::FsMethod;

#[wasm_bindgen]
extern "C" {
    /// A file handle seen with its `move()` method, which web-sys does not bind.
    #[wasm_bindgen(extends = FileSystemHandle, extends = js_sys::Object, js_name = FileSystemFileHandle)]
    pub(crate) type MovableFileHandle;

    /// `FileSystemFileHandle.move(parent, name)`: renames the file, replacing a file at the target.
    #[wasm_bindgen(method, catch, js_name = "move")]
    pub(crate) fn move_to(
        this: &MovableFileHandle,
        parent: &FileSystemDirectoryHandle,
        name: &str,
    ) -> Result<Promise, JsValue>;
}

/// Awaits a promise and casts its value.
pub(crate) async fn resolve<T: JsCast>(promise: Promise) -> Result<T, JsValue> {
    let value = JsFuture::from(promise).await?;
    value.dyn_into::<T>().map_err(|v| {
        let expected = std::any::type_name::<T>();
        JsValue::from(js_sys::TypeError::new(&format!(
            "unexpected value from the browser (wanted {expected}): {v:?}"
        )))
    })
}

/// Awaits a promise whose value does not matter.
pub(crate) async fn settle(promise: Promise) -> Result<(), JsValue> {
    JsFuture::from(promise).await.map(|_| ())
}

/// `navigator.storage` of the page or of any worker.
pub(crate) fn storage_manager() -> Result<StorageManager, JsValue> {
    if let Some(window) = web_sys::window() {
        return Ok(window.navigator().storage());
    }
    let global = js_sys::global();
    match global.dyn_ref::<WorkerGlobalScope>() {
        Some(worker) => Ok(worker.navigator().storage()),
        None => {
            Err(js_sys::TypeError::new("no window or worker global: OPFS is unavailable").into())
        }
    }
}

/// True in a dedicated worker whose file handles have `createSyncAccessHandle`.
pub(crate) fn sync_access_handles_available() -> bool {
    js_sys::global()
        .dyn_ref::<DedicatedWorkerGlobalScope>()
        .is_some()
        && file_handle_prototype_has("createSyncAccessHandle")
}

/// True when file handles have `move()` (Chromium 110+, Safari, Firefox 111+).
pub(crate) fn move_available() -> bool {
    file_handle_prototype_has("move")
}

fn file_handle_prototype_has(method: &str) -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &JsValue::from_str("FileSystemFileHandle"))
        .and_then(|class| Reflect::get(&class, &JsValue::from_str("prototype")))
        .and_then(|proto| Reflect::get(&proto, &JsValue::from_str(method)))
        .map(|f| f.is_function())
        .unwrap_or(false)
}

/// Waits `duration` with the global `setTimeout` (on the page and in workers).
pub(crate) async fn sleep(duration: Duration) {
    let ms = duration.as_millis().min(i32::MAX as u128) as i32;
    let promise = Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        let timer = Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let scheduled = timer
            .map(|f| f.call2(&global, &resolve, &JsValue::from(ms)).is_ok())
            .unwrap_or(false);
        if !scheduled {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// A copy of `data` in JavaScript memory (safe to hand to asynchronous browser calls, which must
/// not hold views into wasm memory that can move when it grows).
pub(crate) fn js_bytes(data: &[u8]) -> Uint8Array {
    Uint8Array::from(data)
}

/// Polls `attempt` while the browser says the file is locked (`NoModificationAllowedError`: a sync
/// access handle or a writable stream of another tab, worker or task), for up to `limit`; then
/// `Busy`.
pub(crate) async fn while_locked<T, F, Fut>(
    limit: Duration,
    method: FsMethod,
    path: &VPath,
    mut attempt: F,
) -> FsResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, JsValue>>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) if js_name(&e) == "NoModificationAllowedError" => {
                if start.elapsed() >= limit {
                    return Err(stayed_locked(&e, limit, method, path));
                }
                sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(e).fs(method, path),
        }
    }
}

/// The `Busy` error of a file that stayed locked (`NoModificationAllowedError` `err`) for `limit`.
pub(crate) fn stayed_locked(
    err: &JsValue,
    limit: Duration,
    method: FsMethod,
    path: &VPath,
) -> FsError {
    let (name, message) = crate::error::describe(err);
    method
        .error(
            ErrorKind::Busy,
            format!(
            "the file stayed locked for longer than {limit:?} by another tab, worker or writer \
             ({name}: {message}); close it there and retry, or raise OpfsOptions::lock_timeout"
        ),
        )
        .with_path(path)
}
