//! Reading bytes: `File` snapshots sliced as Blobs, or the sync access handle this instance holds.

use std::time::Duration;

use bytes::Bytes;
use fs_core::{FileInfo, FileType, FsResult, SystemTime, VPath};
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{FileSystemFileHandle, FileSystemReadWriteOptions, FileSystemSyncAccessHandle};

use crate::error::{js_name, JsResultExt};
use crate::js::resolve;
use crate::method::FsMethod;

/// A `File` snapshot of `handle` (its size and bytes as of now).
pub(crate) async fn snapshot(
    handle: &FileSystemFileHandle,
    path: &VPath,
    method: FsMethod,
) -> FsResult<web_sys::File> {
    resolve(handle.get_file()).await.fs(method, path)
}

/// Asks the browser for bytes `start..end` of a Blob. The whole Blob is read without `slice()`,
/// which costs the browser a new Blob (a round trip of its own, measured at about a third of a
/// 100 KiB read in Chromium).
pub(crate) fn request_range(
    blob: &web_sys::Blob,
    start: u64,
    end: u64,
) -> Result<JsFuture, JsValue> {
    let promise = if start == 0 && end as f64 >= blob.size() {
        blob.array_buffer()
    } else {
        blob.slice_with_f64_and_f64(start as f64, end as f64)?
            .array_buffer()
    };
    Ok(JsFuture::from(promise))
}

/// Bytes `start..end` of a Blob, copied into wasm memory.
pub(crate) async fn blob_range(
    blob: &web_sys::Blob,
    start: u64,
    end: u64,
) -> Result<Bytes, JsValue> {
    let buffer: ArrayBuffer = request_range(blob, start, end)?.await?.unchecked_into();
    Ok(Bytes::from(Uint8Array::new(&buffer).to_vec()))
}

/// Up to `len` bytes at `at` through an open sync access handle.
pub(crate) fn handle_range(
    handle: &FileSystemSyncAccessHandle,
    at: u64,
    len: usize,
    path: &VPath,
    method: FsMethod,
) -> FsResult<Bytes> {
    let mut buf = vec![0u8; len];
    let n = read_into(handle, &mut buf, at, path, method)?;
    buf.truncate(n);
    Ok(Bytes::from(buf))
}

/// Reads into `buf` at `at` through an open sync access handle; returns the bytes read.
pub(crate) fn read_into(
    handle: &FileSystemSyncAccessHandle,
    buf: &mut [u8],
    at: u64,
    path: &VPath,
    method: FsMethod,
) -> FsResult<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let options = FileSystemReadWriteOptions::new();
    options.set_at(at as f64);
    let n = handle
        .read_with_u8_array_and_options(buf, &options)
        .fs(method, path)?;
    Ok(n as usize)
}

/// True when a thrown value says a `File` snapshot is stale: `NotReadableError` (the file
/// changed) or `NotFoundError` (the file moved away, for example into the internal directory
/// while a handle holds it).
pub(crate) fn is_stale(err: &wasm_bindgen::JsValue) -> bool {
    matches!(js_name(err).as_str(), "NotReadableError" | "NotFoundError")
}

/// The info of a file from its `File` snapshot.
pub(crate) fn file_info(file: &web_sys::File) -> FileInfo {
    let mut info = FileInfo::basic(FileType::File, file.size() as u64);
    let ms = file.last_modified();
    if ms.is_finite() && ms >= 0.0 {
        info.mtime = Some(SystemTime::UNIX_EPOCH + Duration::from_millis(ms as u64));
    }
    info
}
