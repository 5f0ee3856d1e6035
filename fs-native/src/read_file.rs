//! `read_file`: a whole file in memory.

use bytes::Bytes;
use fs_core::{FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Reads the whole file at `path` (`NotFound` when missing, `BadResource` for a directory). Prefer
/// `read_stream` for large files.
pub(crate) async fn read_file(fs: &NativeFs, path: &VPath) -> FsResult<Bytes> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("readFile", path, move || {
        std::fs::read(&os).map(Bytes::from).ctx("readFile", &vp)
    })
    .await
}
