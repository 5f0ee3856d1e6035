//! Crossing the boundary: engine errors as JavaScript `Error`s with a `code`, engine events as the
//! package's event objects, and JavaScript content as [`Content`].

use bytes::Bytes;
use filesync::{
    CatalogErrorKind, Content, Direction, FileSyncError, FileSyncErrorKind, FileSyncEvent,
    RemoteErrorKind,
};
use fs_core::ErrorKind;
use futures::StreamExt;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::js;

/// Sets `object[key] = value` (objects made here are plain and extensible, so this cannot fail).
pub(crate) fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(object, &JsValue::from_str(key), &value.into());
}

/// The package's error code for an engine error (`ts/errors.ts` maps codes to classes).
pub(crate) fn error_code(error: &FileSyncError) -> &'static str {
    match error.kind() {
        FileSyncErrorKind::NotFound => "FILE_NOT_FOUND",
        FileSyncErrorKind::TooLarge => "FILE_TOO_LARGE",
        FileSyncErrorKind::InvalidInput => "INVALID_INPUT",
        FileSyncErrorKind::NotLocal => "NOT_LOCAL",
        FileSyncErrorKind::Storage => match error {
            FileSyncError::Storage { source, .. } if source.kind() == ErrorKind::StorageFull => {
                "STORAGE_FULL"
            }
            _ => "STORAGE",
        },
        FileSyncErrorKind::Catalog => match error {
            FileSyncError::Catalog { source, .. } if source.kind == CatalogErrorKind::Invalid => {
                "CATALOG_REFUSED"
            }
            _ => "CATALOG_UNAVAILABLE",
        },
        FileSyncErrorKind::Remote => match error.remote().map(|r| r.kind) {
            Some(RemoteErrorKind::Offline) => "OFFLINE",
            Some(RemoteErrorKind::Unauthorized) => "UNAUTHORIZED",
            Some(RemoteErrorKind::Forbidden) => "FORBIDDEN",
            Some(RemoteErrorKind::Corrupt) => "CORRUPT_DOWNLOAD",
            _ => "REMOTE",
        },
        FileSyncErrorKind::Stopped => "STOPPED",
        _ => "UNKNOWN",
    }
}

/// An engine error as a JavaScript `Error` with `code`, `fileId` (when there is one) and, for a
/// remote failure, `status` (the HTTP status, when there was one).
pub(crate) fn js_error(error: &FileSyncError) -> JsValue {
    let out = js_sys::Error::new(&error.to_string());
    set(&out, "code", error_code(error));
    if let Some(id) = error.file_id() {
        set(&out, "fileId", id);
    }
    if let Some(status) = error.remote().and_then(|r| r.status) {
        set(&out, "status", status);
    }
    out.into()
}

/// A plain error for what the JavaScript side got wrong (bad options, bad arguments).
pub(crate) fn input_error(message: impl AsRef<str>) -> JsValue {
    let out = js_sys::Error::new(message.as_ref());
    set(&out, "code", "INVALID_INPUT");
    out.into()
}

fn kind_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Upload => "upload",
        Direction::Download => "download",
    }
}

/// An engine event as the package's event object (`{type: "upload:start", fileId}`, …), or `None`
/// for an event the package does not report.
pub(crate) fn js_event(event: &FileSyncEvent) -> Option<JsValue> {
    let out = Object::new();
    let typed = |t: String| set(&out, "type", t);
    match event {
        FileSyncEvent::Online => typed("online".into()),
        FileSyncEvent::Offline => typed("offline".into()),
        FileSyncEvent::SyncStart => typed("sync:start".into()),
        FileSyncEvent::SyncComplete => typed("sync:complete".into()),
        FileSyncEvent::SyncError { error } => {
            typed("sync:error".into());
            set(&out, "error", js_error(error));
        }
        FileSyncEvent::TransferStart { direction, file_id } => {
            typed(format!("{}:start", kind_name(*direction)));
            set(&out, "fileId", file_id.as_str());
        }
        FileSyncEvent::TransferProgress {
            direction,
            file_id,
            done,
            total,
        } => {
            typed(format!("{}:progress", kind_name(*direction)));
            set(&out, "fileId", file_id.as_str());
            let progress = Object::new();
            set(&progress, "kind", kind_name(*direction));
            set(&progress, "fileId", file_id.as_str());
            set(&progress, "status", "inProgress");
            set(&progress, "loaded", *done as f64);
            set(&progress, "total", *total as f64);
            set(&out, "progress", progress);
        }
        FileSyncEvent::TransferComplete { direction, file_id } => {
            typed(format!("{}:complete", kind_name(*direction)));
            set(&out, "fileId", file_id.as_str());
        }
        FileSyncEvent::TransferError {
            direction,
            file_id,
            error,
            will_retry,
        } => {
            typed(format!("{}:error", kind_name(*direction)));
            set(&out, "fileId", file_id.as_str());
            set(&out, "error", js_error(error));
            set(&out, "willRetry", *will_retry);
        }
        FileSyncEvent::TransferExhausted {
            direction,
            file_id,
            error,
        } => {
            typed("transfer:exhausted".into());
            set(&out, "kind", kind_name(*direction));
            set(&out, "fileId", file_id.as_str());
            set(&out, "error", js_error(error));
        }
        FileSyncEvent::ErrorRetry { file_ids } => {
            typed("sync:error-retry-start".into());
            let ids: js_sys::Array = file_ids.iter().map(|id| JsValue::from_str(id)).collect();
            set(&out, "fileIds", ids);
        }
        FileSyncEvent::RemoteDeleted { key } => {
            typed("remote:deleted".into());
            set(&out, "key", key.as_str());
        }
        _ => return None,
    }
    Some(out.into())
}

/// Blobs up to this size are read whole (one copy into wasm memory); larger ones are streamed.
const WHOLE_BLOB_MAX: f64 = 8.0 * 1024.0 * 1024.0;

/// JavaScript content (`Uint8Array`, `ArrayBuffer`, or a `Blob`/`File`) as [`Content`].
pub(crate) async fn content(value: JsValue) -> Result<Content, JsValue> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        return Ok(Content::Bytes(Bytes::from(bytes.to_vec())));
    }
    if let Some(buffer) = value.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Content::Bytes(Bytes::from(
            Uint8Array::new(buffer).to_vec(),
        )));
    }
    if let Some(blob) = value.dyn_ref::<web_sys::Blob>() {
        if blob.size() <= WHOLE_BLOB_MAX {
            let buffer = JsFuture::from(blob.array_buffer()).await?;
            return Ok(Content::Bytes(Bytes::from(
                Uint8Array::new(&buffer).to_vec(),
            )));
        }
        return Ok(Content::Stream(blob_stream(blob)));
    }
    Err(input_error(
        "the file content must be a File, a Blob, a Uint8Array or an ArrayBuffer",
    ))
}

/// The chunks of `blob.stream()`.
pub(crate) fn blob_stream(blob: &web_sys::Blob) -> fs_core::ByteStream {
    let reader: web_sys::ReadableStreamDefaultReader = blob.stream().get_reader().unchecked_into();
    futures::stream::unfold(Some(reader), |reader| async move {
        let reader = reader?;
        match JsFuture::from(reader.read()).await {
            Err(error) => Some((
                Err(fs_core::FsError::new(
                    ErrorKind::Unknown,
                    "Blob.stream",
                    format!("reading the file failed: {}", js::message_of(&error)),
                )),
                None,
            )),
            Ok(step) => {
                if js::get(&step, "done").as_bool().unwrap_or(true) {
                    return None;
                }
                let chunk: Uint8Array = js::get(&step, "value").unchecked_into();
                Some((Ok(Bytes::from(chunk.to_vec())), Some(reader)))
            }
        }
    })
    .boxed_local()
}
