//! JavaScript failures as [`FsError`]s: DOMException names mapped to [`ErrorKind`]s.

use crate::method::FsMethod;
use fs_core::{ErrorKind, FsError, FsResult, VPath};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

/// Converts a value thrown by an OPFS call into an [`FsError`] for `method` and `path`.
///
/// The kind comes from the exception's name; the description keeps the name and the message
/// (`NotFoundError: A requested file or directory could not be found …`):
///
/// | name | kind |
/// |---|---|
/// | `NotFoundError` | `NotFound` |
/// | `TypeMismatchError` | `BadResource` (a file where a directory is needed, or the reverse) |
/// | `NoModificationAllowedError` | `Busy` (a sync access handle or writable holds the file) |
/// | `InvalidModificationError` | `DirectoryNotEmpty` |
/// | `NotAllowedError`, `SecurityError` | `PermissionDenied` |
/// | `QuotaExceededError` | `StorageFull` |
/// | `TypeError` (an invalid name) | `BadArgument` |
/// | anything else | `Unknown` |
pub fn fs_error_from_js(err: &JsValue, method: &'static str, path: &VPath) -> FsError {
    let (name, message) = describe(err);
    FsError::new(kind_of_js_name(&name), method, format!("{name}: {message}")).with_path(path)
}

/// The [`ErrorKind`] of a DOMException (or JavaScript error) name; see [`fs_error_from_js`].
pub fn kind_of_js_name(name: &str) -> ErrorKind {
    match name {
        "NotFoundError" => ErrorKind::NotFound,
        "TypeMismatchError" => ErrorKind::BadResource,
        "NoModificationAllowedError" => ErrorKind::Busy,
        "InvalidModificationError" => ErrorKind::DirectoryNotEmpty,
        "NotAllowedError" | "SecurityError" => ErrorKind::PermissionDenied,
        "QuotaExceededError" => ErrorKind::StorageFull,
        "TypeError" => ErrorKind::BadArgument,
        _ => ErrorKind::Unknown,
    }
}

/// The name and message of a thrown value (a DOMException, an Error, or anything else).
pub(crate) fn describe(err: &JsValue) -> (String, String) {
    if let Some(dom) = err.dyn_ref::<DomException>() {
        return (dom.name(), dom.message());
    }
    if let Some(error) = err.dyn_ref::<js_sys::Error>() {
        return (String::from(error.name()), String::from(error.message()));
    }
    let text = err
        .as_string()
        .unwrap_or_else(|| String::from(js_sys::JsString::from(err.clone())));
    ("Error".to_owned(), text)
}

/// The DOMException name of a thrown value, if it is one.
pub(crate) fn js_name(err: &JsValue) -> String {
    describe(err).0
}

/// `Result<T, JsValue>` to [`FsResult`].
pub(crate) trait JsResultExt<T> {
    /// Maps the JavaScript error with [`fs_error_from_js`].
    fn fs(self, method: FsMethod, path: &VPath) -> FsResult<T>;
}

impl<T> JsResultExt<T> for Result<T, JsValue> {
    fn fs(self, method: FsMethod, path: &VPath) -> FsResult<T> {
        self.map_err(|e| fs_error_from_js(&e, method.as_str(), path))
    }
}
