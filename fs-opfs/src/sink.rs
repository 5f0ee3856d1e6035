//! Write sinks: nothing is visible at the path before `close`, and `abort` or drop keeps the old
//! content.
//!
//! Every sink writes a temporary file in the instance's internal directory (through a sync access
//! handle in a dedicated worker, else a writable stream), so that while it is open nothing at the
//! path or in its directory is held or changed: other calls on the path behave as if the sink did
//! not exist. `close` checks the path again (as `MemoryFs` does) and commits:
//!
//! - `Replace` and `CreateNew`: the temporary file is moved over the path (`move()`, or a copy
//!   without it); handles open on the old file keep it (see [`crate::nodes`]);
//! - `Append` to an existing file: one writable stream of the file (`keepExistingData`) gets the
//!   temporary file's bytes at its end and swaps them in on close, so bytes appended by others
//!   while the sink was open are kept; handles open on the old file keep the old bytes;
//! - `Append` to a missing path: like `Replace`.
//!
//! `abort`, a failed commit and drop remove the temporary file (retrying while the browser still
//! holds it after `abort()`).

use std::rc::Rc;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ErrorKind, FsError, FsResult, SinkMode, VPath, WriteSink};
use js_sys::Uint8Array;
use web_sys::{
    FileSystemDirectoryHandle, FileSystemFileHandle, FileSystemGetFileOptions,
    FileSystemReadWriteOptions, FileSystemSyncAccessHandle, FileSystemWritableFileStream,
};

use crate::error::JsResultExt;
use crate::inner::{stream_call, Inner};
use crate::js::{resolve, settle};
use crate::method::FsMethod;
use crate::names;
use crate::nodes::Source;
use crate::options::Strategy;
use crate::read::snapshot;
use crate::tree::Entry;

const METHOD: FsMethod = FsMethod::Sink;

/// Where the bytes go until close.
enum Writer {
    /// A writable stream of the temporary file.
    Stream(FileSystemWritableFileStream),
    /// A sync access handle of the temporary file, and the next write position.
    Access(FileSystemSyncAccessHandle, u64),
}

/// The temporary file a sink writes.
struct Temp {
    name: String,
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
    /// A `write_file` in a worker: the caller writes everything and closes without giving control
    /// to anyone else in between, and the path keeps its identity (handles open on it see the new
    /// bytes, as an in-place write would show them).
    whole: bool,
    /// The JavaScript buffer that chunks pass through on their way to a writable stream.
    staging: Option<Uint8Array>,
}

/// Opens a sink at `path`, with `MemoryFs`'s checks: `AlreadyExists` for `CreateNew` on an
/// existing path (a directory too), `BadResource` at a directory, `NotFound` or `BadResource`
/// for a missing parent or a file among the parents.
///
/// `whole` marks a `write_file` (see [`OpfsSink::whole`]): its `Replace` commit skips the second
/// look at the path (`move()` refuses to replace a directory, and a failed move is explained by a
/// look).
pub(crate) async fn open_sink(
    inner: &Rc<Inner>,
    path: &VPath,
    mode: SinkMode,
    whole: bool,
) -> FsResult<Box<dyn WriteSink>> {
    if path.is_root() {
        return Err(match mode {
            SinkMode::CreateNew => exists(path),
            _ => dir_in_the_way(path),
        });
    }
    let mut sink = OpfsSink {
        inner: inner.clone(),
        path: path.clone(),
        mode,
        writer: None,
        temp: None,
        written: 0,
        whole,
        staging: None,
    };
    // What is at the path changes nothing but the answer: look at it while the temporary file is
    // being created (one browser round trip less per sink).
    let look = async {
        let dir = inner.parent_dir(path, METHOD).await?;
        check(inner.tree.lookup(&dir, path, METHOD).await?, mode, path)
    };
    let (found, opened) = futures::join!(look, sink.open_temp());
    if let Err(e) = found.and(opened) {
        // The check's error is the one to report; a leftover is swept a day later.
        let _ = sink.discard().await;
        return Err(e);
    }
    Ok(Box::new(sink))
}

/// What a sink may do with what is at its path: `AlreadyExists` for anything with `CreateNew`,
/// `BadResource` for a directory.
fn check(
    found: Option<Entry>,
    mode: SinkMode,
    path: &VPath,
) -> FsResult<Option<FileSystemFileHandle>> {
    match found {
        Some(_) if mode == SinkMode::CreateNew => Err(exists(path)),
        Some(Entry::Dir(_)) => Err(dir_in_the_way(path)),
        Some(Entry::File(file)) => Ok(Some(file)),
        None => Ok(None),
    }
}

fn exists(path: &VPath) -> FsError {
    METHOD
        .error(ErrorKind::AlreadyExists, "the path exists")
        .with_path(path)
}

fn dir_in_the_way(path: &VPath) -> FsError {
    METHOD
        .error(ErrorKind::BadResource, "a directory is in the way")
        .with_path(path)
}

impl OpfsSink {
    /// Creates the temporary file and its writer (a sync access handle in a dedicated worker, else
    /// a writable stream).
    async fn open_temp(&mut self) -> FsResult<()> {
        let path = &self.path;
        let (name, handle) = self.inner.internal.new_file("sink", METHOD, path).await?;
        self.temp = Some(Temp {
            name,
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

    /// Commits the closed temporary file at the path.
    async fn commit(&self, temp: &Temp) -> FsResult<()> {
        let inner = &*self.inner;
        let path = &self.path;
        let dir = inner.parent_dir(path, METHOD).await?;
        let name = names::stored(path.file_name().unwrap_or_default());
        let existing = if self.whole && self.mode == SinkMode::Replace {
            None
        } else {
            check(
                inner.tree.lookup(&dir, path, METHOD).await?,
                self.mode,
                path,
            )?
        };
        let source = Source::Internal(temp.name.clone());
        if let (SinkMode::Append, Some(file)) = (self.mode, existing) {
            return self.append(temp, &dir, &name, file).await;
        }
        let moved = if self.whole {
            // In place, as `write_file` is: handles open on the path see the new bytes.
            inner
                .relocate(temp.handle.clone(), &source, &dir, &name, METHOD, path)
                .await
                .map(|_| ())
        } else {
            inner
                .move_file(&temp.handle, &source, &dir, &name, path, METHOD)
                .await
        };
        if moved.is_err() && self.whole {
            // Explain the failure: a directory that appeared at the path since the sink opened.
            if let Ok(Some(Entry::Dir(_))) = inner.tree.lookup(&dir, path, METHOD).await {
                return Err(dir_in_the_way(path));
            }
        }
        moved
    }

    /// Appends the temporary file's bytes to the existing `file` at the path, as a new file: one
    /// writable stream of the path holding the old bytes (of the file now, including what others
    /// appended meanwhile) and then the new ones, swapped in on close. Handles open on the old file
    /// keep it.
    async fn append(
        &self,
        temp: &Temp,
        dir: &FileSystemDirectoryHandle,
        name: &str,
        file: FileSystemFileHandle,
    ) -> FsResult<()> {
        let inner = &*self.inner;
        let path = &self.path;
        let added = snapshot(&temp.handle, path, METHOD).await?;
        let held = inner.nodes.at(path);
        let (target, old) = match held {
            Some(node) => {
                // The open handles keep the old file; a new one takes its place.
                inner.detach(path, false, METHOD).await?;
                let options = FileSystemGetFileOptions::new();
                options.set_create(true);
                let fresh: FileSystemFileHandle =
                    resolve(dir.get_file_handle_with_options(name, &options))
                        .await
                        .fs(METHOD, path)?;
                (fresh, Some(node.handle()))
            }
            None => (file, None),
        };
        let keep = old.is_none();
        let target = &target;
        inner
            .through_writable(target, keep, path, METHOD, |stream| async move {
                match &old {
                    Some(old) => {
                        let old = snapshot(old, path, METHOD).await?;
                        stream_call(stream.write_with_blob(&old), METHOD, path).await?;
                    }
                    None => {
                        let end = snapshot(target, path, METHOD).await?.size();
                        stream_call(stream.seek_with_f64(end), METHOD, path).await?;
                    }
                }
                stream_call(stream.write_with_blob(&added), METHOD, path).await
            })
            .await?;
        inner.internal.remove(&temp.name, METHOD, path).await
    }

    /// Closes the writer without committing, and removes the temporary file.
    async fn discard(&mut self) -> FsResult<()> {
        let aborted = match self.writer.take() {
            Some(Writer::Stream(stream)) => settle(stream.abort()).await.fs(METHOD, &self.path),
            Some(Writer::Access(access, _)) => {
                access.close();
                Ok(())
            }
            None => Ok(()),
        };
        let removed = match self.temp.take() {
            Some(temp) => {
                self.inner
                    .internal
                    .remove(&temp.name, METHOD, &self.path)
                    .await
            }
            None => Ok(()),
        };
        aborted.and(removed)
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
                let Some(staging) = self.staging.as_ref() else {
                    return Err(METHOD.error(ErrorKind::Unknown, "no staging buffer"));
                };
                let staged = staging.subarray(0, chunk.len() as u32);
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
                    return Err(METHOD
                        .error(
                            ErrorKind::WriteZero,
                            format!("the file took {n} of {} bytes", chunk.len()),
                        )
                        .with_path(&self.path));
                }
                *pos += n as u64;
            }
            None => {
                return Err(METHOD
                    .error(ErrorKind::BadResource, "the sink is closed")
                    .with_path(&self.path))
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
            // The close error is the one to report; the temporary file goes either way.
            let _ = self.discard().await;
            return Err(e);
        }
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let committed = self.commit(&temp).await;
        if committed.is_err() {
            // The commit error is the one to report; a leftover is swept a day later.
            let _ = self
                .inner
                .internal
                .remove(&temp.name, METHOD, &self.path)
                .await;
        }
        committed
    }

    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        self.discard().await
    }
}

impl Drop for OpfsSink {
    fn drop(&mut self) {
        if let Some(Writer::Access(access, _)) = &self.writer {
            access.close();
        }
        let writer = self.writer.take();
        let Some(temp) = self.temp.take() else {
            return;
        };
        let inner = self.inner.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(Writer::Stream(stream)) = writer {
                // Best effort: the temporary file is removed below either way.
                let _ = settle(stream.abort()).await;
            }
            inner.internal.remove_later(temp.name);
        });
    }
}
