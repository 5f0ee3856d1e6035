//! Whole-file writes and copies of [`Inner`]: through a writable stream, or through the sync access
//! handle of a file a writable handle holds open.

use std::future::Future;

use fs_core::{FsResult, OpenFlag, VPath};
use js_sys::Promise;
use wasm_bindgen::JsValue;
use web_sys::{
    FileSystemCreateWritableOptions, FileSystemFileHandle, FileSystemSyncAccessHandle,
    FileSystemWritableFileStream,
};

use super::{write_all_at, Inner};
use crate::error::JsResultExt;
use crate::js::{js_bytes, resolve, settle, while_locked};
use crate::method::FsMethod;
use crate::read::{blob_range, snapshot};

/// Awaits one call of a writable stream (`write`, `seek`, `truncate`).
pub(crate) async fn stream_call(
    call: Result<Promise, JsValue>,
    method: FsMethod,
    path: &VPath,
) -> FsResult<()> {
    settle(call.fs(method, path)?).await.fs(method, path)
}

/// Bytes read per call when a copy goes through a sync access handle.
const COPY_BATCH: u64 = 1024 * 1024;

impl Inner {
    /// Runs `body` with a writable stream of `handle` (keeping the existing bytes or not), then
    /// closes it, which commits atomically; a failure aborts it, which changes nothing. Waits while
    /// another tab or worker holds the file.
    pub(crate) async fn through_writable<F, Fut>(
        &self,
        handle: &FileSystemFileHandle,
        keep_existing: bool,
        path: &VPath,
        method: FsMethod,
        body: F,
    ) -> FsResult<()>
    where
        F: FnOnce(FileSystemWritableFileStream) -> Fut,
        Fut: Future<Output = FsResult<()>>,
    {
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(keep_existing);
        let stream: FileSystemWritableFileStream =
            while_locked(self.lock_timeout, method, path, || {
                resolve(handle.create_writable_with_options(&options))
            })
            .await?;
        let result = async {
            body(stream.clone()).await?;
            settle(stream.close()).await.fs(method, path)
        }
        .await;
        if result.is_err() {
            // The body's (or the close's) error is the one to report.
            let _ = settle(stream.abort()).await;
        }
        result
    }

    /// Writes `data` into `handle` through a writable stream: replacing the content, or keeping it
    /// and writing at `at` (`None`: at the end).
    pub(crate) async fn write_through_stream(
        &self,
        handle: &FileSystemFileHandle,
        data: &[u8],
        keep: Option<Option<u64>>,
        path: &VPath,
        method: FsMethod,
    ) -> FsResult<()> {
        self.through_writable(handle, keep.is_some(), path, method, |stream| async move {
            if let Some(at) = keep {
                let at = match at {
                    Some(at) => at,
                    None => snapshot(handle, path, method).await?.size() as u64,
                };
                stream_call(stream.seek_with_f64(at as f64), method, path).await?;
            }
            if !data.is_empty() {
                stream_call(stream.write_with_js_u8_array(&js_bytes(data)), method, path).await?;
            }
            Ok(())
        })
        .await
    }

    /// Writes through the sync access handle of an open file (`write_file` on a path whose file a
    /// writable handle holds: the bytes go where the handle sees them).
    pub(crate) fn write_through_access(
        access: &FileSystemSyncAccessHandle,
        data: &[u8],
        flag: OpenFlag,
        path: &VPath,
        method: FsMethod,
    ) -> FsResult<()> {
        if flag.truncates() {
            access.truncate_with_f64(0.0).fs(method, path)?;
        }
        let at = if flag.appends() {
            access.get_size().fs(method, path)?
        } else {
            0.0
        };
        write_all_at(access, data, at as u64, path, method)?;
        access.flush().fs(method, path)
    }

    /// Copies the bytes of `from` over `to` (created when missing) in one writable stream; an open
    /// sync access handle of `from_path` is flushed first.
    pub(crate) async fn copy_bytes(
        &self,
        from: &FileSystemFileHandle,
        from_path: Option<&VPath>,
        to: &FileSystemFileHandle,
        to_path: &VPath,
        method: FsMethod,
    ) -> FsResult<()> {
        if let Some(open) = from_path.and_then(|p| self.nodes.access(p)) {
            open.flush().fs(method, to_path)?;
        }
        let source = snapshot(from, to_path, method).await?;
        self.through_writable(to, false, to_path, method, |stream| async move {
            stream_call(stream.write_with_blob(&source), method, to_path).await
        })
        .await
    }

    /// Copies the bytes of `from` into the open sync access handle `to` (replacing its content),
    /// one batch of at most [`COPY_BATCH`] bytes at a time.
    pub(crate) async fn copy_into_access(
        &self,
        from: &FileSystemFileHandle,
        from_path: &VPath,
        to: &FileSystemSyncAccessHandle,
        to_path: &VPath,
        method: FsMethod,
    ) -> FsResult<()> {
        if let Some(open) = self.nodes.access(from_path) {
            open.flush().fs(method, to_path)?;
        }
        let source = snapshot(from, from_path, method).await?;
        let size = source.size() as u64;
        // Batch by batch, so a large file never sits whole in memory. The handles hold this file,
        // so there is no temporary file to swap in: a read that fails midway leaves the batches
        // before it written (as an interrupted in-place write would).
        let mut at = 0;
        while at < size {
            let end = (at + COPY_BATCH).min(size);
            let batch = blob_range(&source, at, end).await.fs(method, from_path)?;
            write_all_at(to, &batch, at, to_path, method)?;
            at = end;
        }
        to.truncate_with_f64(size as f64).fs(method, to_path)?;
        to.flush().fs(method, to_path)
    }
}
