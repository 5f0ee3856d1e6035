//! `rename`: moving a file or directory, atomically and durably.

use fs_core::{ErrorKind, FsError, FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::durable::sync_parent;
use crate::NativeFs;

/// `rename(2)` of `from` to `to`, then fsyncs `to`'s directory (and `from`'s when it differs) so the
/// move survives a crash. Replaces a file or an empty directory at `to`.
///
/// Errors: `BadArgument` when either path is `/` or a directory would move into its own subtree;
/// `NotFound` when `from` is missing; `DirectoryNotEmpty` over a non-empty directory; `BadResource`
/// when a file would replace a directory or the reverse. The error's path is `from`.
pub(crate) async fn rename(fs: &NativeFs, from: &VPath, to: &VPath) -> FsResult<()> {
    if from.is_root() || to.is_root() {
        return Err(FsError::new(
            ErrorKind::BadArgument,
            "rename",
            "the root cannot be moved or replaced",
        )
        .with_path(from));
    }
    let (source, dest) = (fs.os_path(from), fs.os_path(to));
    let vp = from.clone();
    run("rename", from, move || {
        std::fs::rename(&source, &dest).ctx("rename", &vp)?;
        sync_parent(&dest).ctx("rename", &vp)?;
        if source.parent() != dest.parent() {
            sync_parent(&source).ctx("rename", &vp)?;
        }
        Ok(())
    })
    .await
}
