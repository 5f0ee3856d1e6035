//! `read_file`: a whole file in memory.

use bytes::Bytes;
use fs_core::{FsResult, VPath};

use crate::blocking::run_io;
use crate::NativeFs;

/// Reads the whole file at `path` (`NotFound` when missing, `BadResource` for a directory). Prefer
/// `read_stream` for large files.
pub(crate) async fn read_file(fs: &NativeFs, path: &VPath) -> FsResult<Bytes> {
    let os = fs.os_path(path);
    run_io("readFile", path, move || std::fs::read(os).map(Bytes::from)).await
}
