//! `truncate`: setting a file's length by path.

use fs_core::{FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Sets the length of the file at `path`, zero-filling when it grows, and fsyncs it. Errors:
/// `NotFound` when missing, `BadResource` for a directory.
pub(crate) async fn truncate(fs: &NativeFs, path: &VPath, len: u64) -> FsResult<()> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("truncate", path, move || {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&os)
            .ctx("truncate", &vp)?;
        file.set_len(len).ctx("truncate", &vp)?;
        file.sync_all().ctx("truncate", &vp)
    })
    .await
}
