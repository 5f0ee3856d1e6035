//! `access`: existence and permission checks with `access(2)`.

use fs_core::{AccessOptions, FsResult, VPath};
use rustix::fs::Access;

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Asks the kernel with `access(2)` (real user id, links followed) whether `path` exists and, when
/// asked, is readable or writable. Running as root, only a read-only mount refuses a write.
pub(crate) async fn access(fs: &NativeFs, path: &VPath, options: AccessOptions) -> FsResult<()> {
    let os = fs.os_path(path);
    let vp = path.clone();
    let mut mode = Access::EXISTS;
    if options.readable {
        mode |= Access::READ_OK;
    }
    if options.writable {
        mode |= Access::WRITE_OK;
    }
    run("access", path, move || {
        rustix::fs::access(&os, mode)
            .map_err(std::io::Error::from)
            .ctx("access", &vp)
    })
    .await
}
