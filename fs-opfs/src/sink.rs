//! Write sinks: nothing is visible at the path before `close`, and `abort` or drop keeps the old
//! content.
//!
//! - Replacing or appending to an existing file on the [`Strategy::Writable`] strategy writes
//!   through a `createWritable` stream of the file itself (appending: `keepExistingData` and a
//!   seek to the end); the browser keeps the new bytes in a swap file (`name.crswap`, visible in
//!   listings while the sink is open) and swaps them in atomically on close.
//! - A new file, a `CreateNew` sink, and every non-appending sink of the
//!   [`Strategy::SyncAccess`] strategy write a hidden temporary sibling (`.sink-{16 hex}.tmp`;
//!   through a sync access handle in a worker) that `close` moves over the path with `move()`
//!   (or copies, without it).

use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{random_name, ErrorKind, FsError, FsResult, SinkMode, VPath, WriteSink};
use js_sys::Uint8Array;
use web_sys::{
    FileSystemCreateWritableOptions, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemGetFileOptions, FileSystemReadWriteOptions, FileSystemSyncAccessHandle,
    FileSystemWritableFileStream,
};

use crate::error::JsResultExt;
use crate::fs::{Inner, Strategy};
use crate::js::{resolve, settle};
use crate::read::snapshot;
use crate::tree::Entry;

const METHOD: &str = "sink";

/// Where the bytes go until close.
enum Writer {
    /// A writable stream (of the target itself, or of the temporary file).
    Stream(FileSystemWritableFileStream),
    /// A sync access handle of the temporary file, and the next write position.
    Access(FileSystemSyncAccessHandle, u64),
}

/// The temporary sibling a sink writes before it is moved over the path.
struct Temp {
    dir: FileSystemDirectoryHandle,
    name: String,
    path: VPath,
    handle: FileSystemFileHandle,
}

/// An open sink.
struct OpfsSink {
    inner: Rc<Inner>,
    path: VPath,
    mode: SinkMode,
    writer: Option<Writer>,
    temp: Option<Temp>,
    written: u64,
    /// The path was checked at open and the caller gave no one a chance to change it since
    /// (see [`open_sink`]'s `whole`).
    checked: bool,
    /// The JavaScript buffer that chunks pass through on their way to a writable stream.
    staging: Option<Uint8Array>,
}

/// Opens a sink at `path`: `NotFound` without a parent directory, `BadResource` at a directory,
/// `AlreadyExists` for `CreateNew` on an existing path.
///
/// `whole` says that the caller writes everything and closes without giving control to anyone
/// else in between (`write_file`): then a `Replace` commit skips its second look at the path
/// (`move()` refuses to replace a directory, and a failed move is explained by a look).
pub(crate) async fn open_sink(
    inner: &Rc<Inner>,
    path: &VPath,
    mode: SinkMode,
    whole: bool,
) -> FsResult<Box<dyn WriteSink>> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(
            FsError::new(ErrorKind::BadResource, METHOD, "the root is a directory").with_path(path),
        );
    };
    let dir = inner.tree.dir(&parent, false, METHOD).await?;
    let mut sink = OpfsSink {
        inner: inner.clone(),
        path: path.clone(),
        mode,
        writer: None,
        temp: None,
        written: 0,
        checked: false,
        staging: None,
    };
    let always_temp = mode == SinkMode::CreateNew
        || (mode == SinkMode::Replace && inner.strategy == Strategy::SyncAccess);
    if always_temp {
        // What is at the path changes nothing but the answer: look at it while the temporary file
        // is being created (one browser round trip less per sink).
        let (found, opened) = futures::join!(
            inner.tree.lookup(&dir, name, path, METHOD),
            sink.open_temp(&dir, &parent)
        );
        if let Err(e) = found
            .and_then(|found| existing_file(found, mode, path))
            .and(opened)
        {
            let _ = sink.discard().await;
            return Err(e);
        }
        sink.checked = whole;
        return Ok(Box::new(sink));
    }
    let existing = existing_file(
        inner.tree.lookup(&dir, name, path, METHOD).await?,
        mode,
        path,
    )?;
    let in_place = match (&existing, mode) {
        (Some(file), SinkMode::Append) => Some((file, true)),
        (Some(file), SinkMode::Replace) if inner.strategy == Strategy::Writable => {
            Some((file, false))
        }
        _ => None,
    };
    if let Some((file, append)) = in_place {
        inner.locks.wait_free(path, false, METHOD).await?;
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(append);
        let stream: FileSystemWritableFileStream =
            resolve(file.create_writable_with_options(&options))
                .await
                .fs(METHOD, path)?;
        sink.writer = Some(Writer::Stream(stream.clone()));
        if append {
            let size = snapshot(file, path, METHOD).await?.size();
            settle(stream.seek_with_f64(size).fs(METHOD, path)?)
                .await
                .fs(METHOD, path)?;
        }
        return Ok(Box::new(sink));
    }
    sink.open_temp(&dir, &parent).await?;
    Ok(Box::new(sink))
}

/// The file at a sink's path, from what a lookup found: `BadResource` for a directory,
/// `AlreadyExists` for a file when `mode` is `CreateNew`.
fn existing_file(
    found: Option<Entry>,
    mode: SinkMode,
    path: &VPath,
) -> FsResult<Option<FileSystemFileHandle>> {
    match found {
        Some(Entry::Dir(_)) => Err(dir_in_the_way(path)),
        Some(Entry::File(_)) if mode == SinkMode::CreateNew => {
            Err(FsError::new(ErrorKind::AlreadyExists, METHOD, "the path exists").with_path(path))
        }
        Some(Entry::File(file)) => Ok(Some(file)),
        None => Ok(None),
    }
}

fn dir_in_the_way(path: &VPath) -> FsError {
    FsError::new(ErrorKind::BadResource, METHOD, "a directory is in the way").with_path(path)
}

impl OpfsSink {
    /// Creates the temporary sibling in `dir` and its writer (a sync access handle in a dedicated
    /// worker, else a writable stream).
    async fn open_temp(&mut self, dir: &FileSystemDirectoryHandle, parent: &VPath) -> FsResult<()> {
        let path = &self.path;
        let temp_name = format!(".sink-{}.tmp", random_name(None));
        let temp_path = parent.join(&temp_name)?;
        let options = FileSystemGetFileOptions::new();
        options.set_create(true);
        let handle: FileSystemFileHandle =
            resolve(dir.get_file_handle_with_options(&temp_name, &options))
                .await
                .fs(METHOD, path)?;
        self.temp = Some(Temp {
            dir: dir.clone(),
            name: temp_name,
            path: temp_path,
            handle: handle.clone(),
        });
        self.writer = Some(if self.inner.strategy == Strategy::SyncAccess {
            let access: FileSystemSyncAccessHandle = resolve(handle.create_sync_access_handle())
                .await
                .fs(METHOD, path)?;
            Writer::Access(access, 0)
        } else {
            Writer::Stream(resolve(handle.create_writable()).await.fs(METHOD, path)?)
        });
        Ok(())
    }

    /// Commits the temporary file over the path.
    async fn commit_temp(&self, temp: &Temp) -> FsResult<()> {
        let inner = &*self.inner;
        let parent = temp.path.parent().unwrap_or_else(VPath::root);
        let name = self.path.file_name().unwrap_or_default();
        let look = !(self.checked && self.mode == SinkMode::Replace);
        if look {
            match inner
                .tree
                .lookup(&temp.dir, name, &self.path, METHOD)
                .await?
            {
                Some(Entry::Dir(_)) => return Err(dir_in_the_way(&self.path)),
                Some(Entry::File(_)) if self.mode == SinkMode::CreateNew => {
                    return Err(FsError::new(
                        ErrorKind::AlreadyExists,
                        METHOD,
                        "the path was created while the sink was open",
                    )
                    .with_path(&self.path))
                }
                _ => {}
            }
        }
        debug_assert!(self.path.starts_with(&parent));
        inner.locks.wait_free(&self.path, false, METHOD).await?;
        let moved = inner
            .move_file(
                &temp.handle,
                &temp.path,
                &temp.dir,
                name,
                &self.path,
                METHOD,
            )
            .await;
        if moved.is_err() && !look {
            // Explain the failure: a directory that appeared at the path since the sink opened.
            if let Ok(Some(Entry::Dir(_))) =
                inner.tree.lookup(&temp.dir, name, &self.path, METHOD).await
            {
                return Err(dir_in_the_way(&self.path));
            }
        }
        moved
    }

    /// Closes the writer without committing (abort), and removes the temporary file.
    async fn discard(&mut self) -> FsResult<()> {
        let aborted = match self.writer.take() {
            Some(Writer::Stream(stream)) => settle(stream.abort()).await.fs(METHOD, &self.path),
            Some(Writer::Access(access, _)) => {
                access.close();
                Ok(())
            }
            None => Ok(()),
        };
        if let Some(temp) = self.temp.take() {
            let _ = settle(temp.dir.remove_entry(&temp.name)).await;
        }
        aborted
    }
}

#[async_trait(?Send)]
impl WriteSink for OpfsSink {
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        match &mut self.writer {
            Some(Writer::Stream(stream)) => {
                // The bytes leave wasm memory through one reused JavaScript buffer: the stream is
                // done with a chunk when its write settles, and a fresh buffer per chunk costs an
                // allocation (and garbage) per chunk.
                let fits = self
                    .staging
                    .as_ref()
                    .is_some_and(|buf| buf.length() as usize >= chunk.len());
                if !fits {
                    self.staging = Some(Uint8Array::new_with_length(chunk.len() as u32));
                }
                let staged = self
                    .staging
                    .as_ref()
                    .expect("staging buffer")
                    .subarray(0, chunk.len() as u32);
                staged.copy_from(&chunk);
                settle(
                    stream
                        .write_with_js_u8_array(&staged)
                        .fs(METHOD, &self.path)?,
                )
                .await
                .fs(METHOD, &self.path)?;
            }
            Some(Writer::Access(access, pos)) => {
                let options = FileSystemReadWriteOptions::new();
                options.set_at(*pos as f64);
                let n = access
                    .write_with_u8_array_and_options(&chunk, &options)
                    .fs(METHOD, &self.path)? as usize;
                if n != chunk.len() {
                    return Err(FsError::new(
                        ErrorKind::WriteZero,
                        METHOD,
                        format!("the file took {n} of {} bytes", chunk.len()),
                    )
                    .with_path(&self.path));
                }
                *pos += n as u64;
            }
            None => {
                return Err(
                    FsError::new(ErrorKind::BadResource, METHOD, "the sink is closed")
                        .with_path(&self.path),
                )
            }
        }
        self.written += chunk.len() as u64;
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.written
    }

    async fn close(mut self: Box<Self>) -> FsResult<()> {
        let closed = match self.writer.take() {
            Some(Writer::Stream(stream)) => {
                let result = settle(stream.close()).await.fs(METHOD, &self.path);
                if result.is_err() {
                    let _ = settle(stream.abort()).await;
                }
                result
            }
            Some(Writer::Access(access, _)) => {
                let flushed = access.flush().fs(METHOD, &self.path);
                access.close();
                flushed
            }
            None => Ok(()),
        };
        if let Err(e) = closed {
            let _ = self.discard().await;
            return Err(e);
        }
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let committed = self.commit_temp(&temp).await;
        if committed.is_err() {
            let _ = settle(temp.dir.remove_entry(&temp.name)).await;
        }
        committed
    }

    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        self.discard().await
    }
}

impl Drop for OpfsSink {
    fn drop(&mut self) {
        if self.writer.is_none() && self.temp.is_none() {
            return;
        }
        if let Some(Writer::Access(access, _)) = &self.writer {
            access.close();
        }
        let writer = self.writer.take();
        let temp = self.temp.take();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(Writer::Stream(stream)) = writer {
                let _ = settle(stream.abort()).await;
            }
            if let Some(temp) = temp {
                let _ = settle(temp.dir.remove_entry(&temp.name)).await;
            }
        });
    }
}
