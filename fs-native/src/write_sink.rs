//! `write_sink` and [`NativeSink`]: streamed writes that become visible all at once.
//!
//! The chunks go to a temporary sibling of the target (see [`crate::durable`]); `close` fsyncs it and
//! renames it over the target, so readers see the old content until then, and `abort` or a drop
//! removes it. Each `write` hands its chunk to the blocking pool and returns once the previous chunk
//! is on its way to the file, so producing the next chunk overlaps with writing this one; an error
//! of a chunk is reported by the next `write` or by `close`.

use std::fs::Permissions;
use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use fs_core::{ErrorKind, FsError, FsResult, SinkMode, SinkOptions, VPath, WriteSink};
use tokio::task::JoinHandle;

use crate::blocking::{join_error, run, IoContext};
use crate::durable::{commit, create_temp, discard, resolve_target};
use crate::write_file::DEFAULT_FILE_MODE;
use crate::NativeFs;

/// Opens a sink for `path`: checks the target and creates the temporary file now, so a missing
/// parent (`NotFound`), a directory at the path (`BadResource`) or, with [`SinkMode::CreateNew`], an
/// existing path (`AlreadyExists`) fail here.
///
/// With [`SinkMode::Append`] the temporary file gets only the new bytes; `close` joins them to the
/// file as it is then (see [`NativeSink::close`]), so bytes appended by someone else while the sink
/// was open are kept.
pub(crate) async fn open_sink(
    fs: &NativeFs,
    path: &VPath,
    options: SinkOptions,
) -> FsResult<NativeSink> {
    let os = fs.os_path(path);
    let vp = path.clone();
    let mode = options.permissions.unwrap_or(DEFAULT_FILE_MODE);
    let exclusive = options.mode == SinkMode::CreateNew;
    let append = options.mode == SinkMode::Append;
    let os_path = os.clone();
    let (file, temp, target, permissions) = run("sink", path, move || {
        let target = resolve_target(&os, exclusive, "sink", &vp)?;
        let (file, temp) = create_temp(&target.path, mode).ctx("sink", &vp)?;
        Ok((file, temp, target.path, target.permissions))
    })
    .await?;
    Ok(NativeSink {
        state: State::Idle(file),
        temp: Some(temp),
        target,
        os: os_path,
        permissions,
        exclusive,
        append,
        mode,
        path: path.clone(),
        written: 0,
    })
}

/// A [`WriteSink`] of a [`NativeFs`]: nothing is visible at the path before [`WriteSink::close`],
/// which makes the new content durable (fsync of the file, rename, fsync of the directory).
/// [`WriteSink::abort`] and dropping the sink remove the temporary file (a drop does it with a
/// blocking `unlink(2)`) and keep the old content. A `write` whose future is dropped while it waits
/// for the previous chunk leaves the sink failed (only `abort` or a drop remain); a dropped `close`
/// discards like a drop, unless its commit was already running, which then completes.
#[derive(Debug)]
pub struct NativeSink {
    state: State,
    /// The temporary file; `None` once committed or discarded.
    temp: Option<PathBuf>,
    /// Where `close` renames the temporary file to.
    target: PathBuf,
    /// The path in the OS namespace (an appending close looks at it again).
    os: PathBuf,
    /// Permission bits of the replaced file, kept by the new one.
    permissions: Option<Permissions>,
    exclusive: bool,
    /// [`SinkMode::Append`]: the temporary file holds only the new bytes.
    append: bool,
    /// Permission bits for a file the sink creates.
    mode: u32,
    path: VPath,
    written: u64,
}

/// Who holds the temporary file.
#[derive(Debug)]
enum State {
    /// The sink does; no write is running.
    Idle(std::fs::File),
    /// A write on the blocking pool does, and hands the file back when done.
    Writing(JoinHandle<std::io::Result<std::fs::File>>),
    /// A write failed; the sink can only be aborted (or dropped).
    Failed,
}

impl NativeSink {
    /// Waits for the running write, if any, and takes the file back.
    async fn take_file(&mut self, method: &'static str) -> FsResult<std::fs::File> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::Idle(file) => Ok(file),
            State::Writing(task) => match task.await {
                Ok(Ok(file)) => Ok(file),
                Ok(Err(err)) => Err(FsError::from_io(err, method, &self.path)),
                Err(join) => Err(join_error(join, method, &self.path)),
            },
            State::Failed => Err(FsError::new(
                ErrorKind::BadResource,
                method,
                "an earlier write of this sink failed; abort it",
            )
            .with_path(&self.path)),
        }
    }
}

#[async_trait]
impl WriteSink for NativeSink {
    /// Queues `chunk` for the temporary file once the previous chunk is written. Errors: the error of
    /// the previous chunk (then every later call fails with `BadResource`).
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut file = self.take_file("Sink.write").await?;
        self.written += chunk.len() as u64;
        self.state = State::Writing(tokio::task::spawn_blocking(move || {
            file.write_all(&chunk)?;
            Ok(file)
        }));
        Ok(())
    }

    /// Bytes accepted by `write` so far (in append mode, not counting the old bytes).
    fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Waits for the last chunk, fsyncs the temporary file, renames it over the target (with
    /// [`SinkMode::CreateNew`], hard-links it, failing with `AlreadyExists` if the path appeared
    /// since the sink was opened) and fsyncs the directory. On error the temporary file is removed
    /// and the old content stays.
    ///
    /// Appending, the target is looked at again: when a file is there, a second temporary file
    /// gets its bytes as they are now and then the new ones (`copy_file_range`, in the kernel where
    /// the file system can), and replaces it the same way; otherwise the new bytes become the file.
    async fn close(mut self: Box<Self>) -> FsResult<()> {
        let file = match self.take_file("Sink.close").await {
            Ok(file) => file,
            Err(err) => {
                self.discard_now().await;
                return Err(err);
            }
        };
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let target = self.target.clone();
        let permissions = self.permissions.take();
        let exclusive = self.exclusive;
        let vp = self.path.clone();
        if self.append {
            let os = self.os.clone();
            let mode = self.mode;
            return run("Sink.close", &self.path, move || {
                // The new bytes are copied into a second temporary file, which is the one fsynced;
                // this one is only read and then removed.
                drop(file);
                let committed = commit_append(&temp, &os, mode, &vp);
                discard(&temp);
                committed
            })
            .await;
        }
        run("Sink.close", &self.path, move || {
            let committed = (|| {
                if let Some(permissions) = permissions {
                    file.set_permissions(permissions)?;
                }
                file.sync_all()?;
                drop(file);
                commit(&temp, &target, exclusive)
            })();
            if committed.is_err() {
                discard(&temp);
            }
            committed.ctx("Sink.close", &vp)
        })
        .await
    }

    /// Waits for the running write (ignoring its error) and removes the temporary file (already gone
    /// is fine).
    async fn abort(mut self: Box<Self>) -> FsResult<()> {
        let _ = self.take_file("Sink.abort").await;
        let Some(temp) = self.temp.take() else {
            return Ok(());
        };
        let vp = self.path.clone();
        run(
            "Sink.abort",
            &self.path,
            move || match std::fs::remove_file(&temp) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    Err(err).ctx("Sink.abort", &vp)
                }
                _ => Ok(()),
            },
        )
        .await
    }
}

/// The commit of an appending sink whose new bytes are in `temp`: they are joined to the file at
/// `os` as it is now (followed through symbolic links), or become it when there is none.
fn commit_append(
    temp: &std::path::Path,
    os: &std::path::Path,
    mode: u32,
    vp: &VPath,
) -> FsResult<()> {
    const METHOD: &str = "Sink.close";
    let target = resolve_target(os, false, METHOD, vp)?;
    let Some(permissions) = target.permissions else {
        // Nothing there: the new bytes become the file.
        return commit(temp, &target.path, false).ctx(METHOD, vp);
    };
    let (mut joined, joined_path) = create_temp(&target.path, mode).ctx(METHOD, vp)?;
    let written = (|| {
        std::io::copy(&mut std::fs::File::open(&target.path)?, &mut joined)?;
        std::io::copy(&mut std::fs::File::open(temp)?, &mut joined)?;
        joined.set_permissions(permissions)?;
        joined.sync_all()?;
        drop(joined);
        commit(&joined_path, &target.path, false)
    })();
    if written.is_err() {
        discard(&joined_path);
    }
    written.ctx(METHOD, vp)
}

impl NativeSink {
    /// Removes the temporary file on the blocking pool, ignoring errors (used when an error is
    /// already being reported).
    async fn discard_now(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = tokio::task::spawn_blocking(move || discard(&temp)).await;
        }
    }
}

impl Drop for NativeSink {
    /// Removes the temporary file of a sink that was neither closed nor aborted, with a blocking
    /// `unlink(2)` (a write still running then goes to the unlinked file and is lost).
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            discard(&temp);
        }
    }
}
