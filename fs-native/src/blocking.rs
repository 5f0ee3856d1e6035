//! Running blocking system calls on tokio's blocking pool, and attaching call context to their
//! errors.

use std::io;

use fs_core::{ErrorKind, FsError, FsResult, VPath};

/// Runs `work` on tokio's blocking pool and returns its result.
///
/// A task that panicked or was cancelled becomes an `Unknown` error of `method` about `path`.
pub(crate) async fn run<T, F>(method: &'static str, path: &VPath, work: F) -> FsResult<T>
where
    F: FnOnce() -> FsResult<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => Err(join_error(join, method, path)),
    }
}

/// Like [`run`] for work that only does I/O: its `io::Error` gets the method and path after the task
/// returns, so the closure captures nothing but what it needs (the hot path of small reads).
pub(crate) async fn run_io<T, F>(method: &'static str, path: &VPath, work: F) -> FsResult<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.ctx(method, path),
        Err(join) => Err(join_error(join, method, path)),
    }
}

/// The error of a blocking task that did not finish.
pub(crate) fn join_error(
    join: tokio::task::JoinError,
    method: &'static str,
    path: &VPath,
) -> FsError {
    FsError::new(
        ErrorKind::Unknown,
        method,
        format!("the blocking task did not finish: {join}"),
    )
    .with_path(path)
}

/// Attaches Effect's method name and the [`VPath`] to an I/O result.
pub(crate) trait IoContext<T> {
    /// The result with its error converted by [`FsError::from_io`].
    fn ctx(self, method: &'static str, path: &VPath) -> FsResult<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, method: &'static str, path: &VPath) -> FsResult<T> {
        self.map_err(|err| FsError::from_io(err, method, path))
    }
}

/// `BadResource`: the path names the wrong kind of entry for the call.
pub(crate) fn bad_resource(method: &'static str, path: &VPath, why: &str) -> FsError {
    FsError::new(ErrorKind::BadResource, method, why).with_path(path)
}
