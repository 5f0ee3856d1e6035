//! `rename`: moving a file or directory, atomically and durably.

use std::fs::File;
use std::path::Path;

use fs_core::{ErrorKind, FsError, FsResult, VPath};

use crate::blocking::{run, IoContext};
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
        // The directories are opened before the move: afterwards their paths may name something
        // else (moving a link to a directory changes what `to`'s parent path resolves to).
        let dest_dir = open_parent(&dest);
        let source_dir = if source.parent() != dest.parent() {
            open_parent(&source)
        } else {
            None
        };
        std::fs::rename(&source, &dest).ctx("rename", &vp)?;
        for dir in [dest_dir, source_dir].into_iter().flatten() {
            dir.and_then(|dir| dir.sync_all()).ctx("rename", &vp)?;
        }
        Ok(())
    })
    .await
}

/// The directory holding `path`, opened for an fsync.
fn open_parent(path: &Path) -> Option<std::io::Result<File>> {
    path.parent().map(File::open)
}
