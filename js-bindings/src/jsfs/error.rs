//! What a JavaScript file system throws, as an [`FsError`]: the `code` (Node's, or one of our kind
//! names), a `DOMException`'s `name`, or a thrown string that is one of those; anything else is
//! `Unknown` with its message.

use std::fmt::Display;

use fs_core::{ErrorKind, FsError};
use wasm_bindgen::JsValue;

use super::values::get_string;

/// The kind of a Node-style error code (`ENOENT`, ...), of one of [`ErrorKind`]'s names
/// (`NotFound`, ...), or of a `DOMException` name (`NotFoundError`, ...); `None` for anything else.
/// The Node codes map as fs-core maps Linux's errno values.
pub(crate) fn kind_of_code(code: &str) -> Option<ErrorKind> {
    let kind = match code {
        "ENOENT" | "NotFound" | "NotFoundError" => ErrorKind::NotFound,
        "EEXIST" | "AlreadyExists" => ErrorKind::AlreadyExists,
        "ENOTDIR" | "EISDIR" | "EBADF" | "BadResource" | "TypeMismatchError" => {
            ErrorKind::BadResource
        }
        "ENOTEMPTY" | "DirectoryNotEmpty" => ErrorKind::DirectoryNotEmpty,
        "EACCES" | "EPERM" | "EROFS" | "PermissionDenied" | "NotAllowedError" | "SecurityError" => {
            ErrorKind::PermissionDenied
        }
        "ENOSPC" | "EDQUOT" | "ENOMEM" | "StorageFull" | "QuotaExceededError" => {
            ErrorKind::StorageFull
        }
        "EBUSY" | "ETXTBSY" | "Busy" => ErrorKind::Busy,
        "EINVAL" | "ENAMETOOLONG" | "ELOOP" | "BadArgument" => ErrorKind::BadArgument,
        "ETIMEDOUT" | "TimedOut" | "TimeoutError" => ErrorKind::TimedOut,
        "EAGAIN" | "EWOULDBLOCK" | "WouldBlock" => ErrorKind::WouldBlock,
        "ENOSYS" | "ENOTSUP" | "EOPNOTSUPP" | "Unsupported" | "NotSupportedError" => {
            ErrorKind::Unsupported
        }
        "InvalidData" => ErrorKind::InvalidData,
        "UnexpectedEof" => ErrorKind::UnexpectedEof,
        "WriteZero" => ErrorKind::WriteZero,
        "Unknown" => ErrorKind::Unknown,
        _ => return None,
    };
    Some(kind)
}

/// The [`FsError`] of a value a JavaScript file system threw (or rejected with) in `method` about
/// `path`.
pub(crate) fn thrown(value: &JsValue, method: &'static str, path: impl Display) -> FsError {
    let (kind, description) = describe(value);
    FsError::new(kind, method, description).with_path(path)
}

/// The kind and the description of a thrown value.
fn describe(value: &JsValue) -> (ErrorKind, String) {
    if let Some(text) = value.as_string() {
        let kind = kind_of_code(text.trim()).unwrap_or(ErrorKind::Unknown);
        return (kind, format!("the file system failed: {text}"));
    }
    if value.is_object() {
        let message = get_string(value, "message");
        let code = get_string(value, "code");
        let name = get_string(value, "name");
        let kind = code
            .as_deref()
            .and_then(kind_of_code)
            .or_else(|| name.as_deref().and_then(kind_of_code))
            .unwrap_or(ErrorKind::Unknown);
        let description = match (message.filter(|m| !m.is_empty()), code) {
            (Some(message), Some(code)) if !message.contains(code.as_str()) => {
                format!("{code}: {message}")
            }
            (Some(message), _) => message,
            (None, Some(code)) => format!("the file system failed with code {code}"),
            (None, None) => format!("the file system threw {}", shown(value)),
        };
        return (kind, description);
    }
    (
        ErrorKind::Unknown,
        format!("the file system threw {}", shown(value)),
    )
}

/// A short rendering of any JavaScript value for messages: numbers and booleans as they are,
/// others as JSON where they have one.
fn shown(value: &JsValue) -> String {
    if let Some(number) = value.as_f64() {
        return number.to_string();
    }
    if let Some(flag) = value.as_bool() {
        return flag.to_string();
    }
    if value.is_undefined() {
        return "undefined".to_owned();
    }
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}

/// `InvalidData`: the JavaScript file system answered something that is not what the interface
/// promises (`what` says what was expected).
pub(crate) fn invalid(method: &'static str, path: impl Display, what: impl Display) -> FsError {
    FsError::new(
        ErrorKind::InvalidData,
        method,
        format!("the JavaScript file system answered {what}"),
    )
    .with_path(path)
}
