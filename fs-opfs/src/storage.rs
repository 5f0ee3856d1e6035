//! Storage-wide helpers: persistence and quota.

use fs_core::{FsResult, VPath};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::JsResultExt;
use crate::js::{resolve, storage_manager};
use crate::method::FsMethod;

/// Asks the browser to keep this origin's storage (OPFS included) under storage pressure
/// (`navigator.storage.persist()`). Returns whether storage is now persistent; browsers may
/// refuse without asking the user (Chromium grants it to installed or often-used sites).
pub async fn persist() -> FsResult<bool> {
    let root = VPath::root();
    let storage = storage_manager().fs(FsMethod::Persist, &root)?;
    let granted: JsValue = resolve(storage.persist().fs(FsMethod::Persist, &root)?)
        .await
        .fs(FsMethod::Persist, &root)?;
    Ok(granted.as_bool().unwrap_or(false))
}

/// How much storage this origin uses and may use, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StorageEstimate {
    /// Bytes used by this origin (all storage APIs together).
    pub usage: u64,
    /// Bytes this origin may use; writes beyond fail with `StorageFull`.
    pub quota: u64,
}

/// `navigator.storage.estimate()`: usage and quota of this origin.
pub async fn estimate() -> FsResult<crate::StorageEstimate> {
    let root = VPath::root();
    let storage = storage_manager().fs(FsMethod::Estimate, &root)?;
    let estimate: web_sys::StorageEstimate =
        resolve::<JsValue>(storage.estimate().fs(FsMethod::Estimate, &root)?)
            .await
            .fs(FsMethod::Estimate, &root)?
            .unchecked_into();
    Ok(StorageEstimate {
        usage: estimate.get_usage().unwrap_or(0.0) as u64,
        quota: estimate.get_quota().unwrap_or(0.0) as u64,
    })
}
