//! `remove` and `remove_detached`.

use std::io;
use std::path::Path;

use fs_core::{ErrorKind, FsError, FsResult, RemoveOptions, VPath};

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Removes the file, link or directory at `path` (links are removed, not followed); a non-empty
/// directory only with `recursive`. Not fsynced: a crash may bring the entry back.
///
/// Errors: `BadArgument` for `/`; `NotFound` when missing (unless `force`); `DirectoryNotEmpty`
/// for a non-empty directory without `recursive`; `BadResource` when a file is in the middle of the
/// path.
pub(crate) async fn remove(fs: &NativeFs, path: &VPath, options: RemoveOptions) -> FsResult<()> {
    if path.is_root() {
        return Err(FsError::new(
            ErrorKind::BadArgument,
            "remove",
            "the root cannot be removed",
        )
        .with_path(path));
    }
    let os = fs.os_path(path);
    let vp = path.clone();
    run("remove", path, move || {
        match remove_entry(&os, options.recursive) {
            Err(err) if options.force && err.kind() == io::ErrorKind::NotFound => Ok(()),
            result => result.ctx("remove", &vp),
        }
    })
    .await
}

/// Removes `path` at once with blocking calls, ignoring every error; never the root.
pub(crate) fn remove_now(fs: &NativeFs, path: &VPath) {
    if !path.is_root() {
        let _ = remove_entry(&fs.os_path(path), true);
    }
}

/// Removes one entry, judging its type by `lstat(2)`.
fn remove_entry(os: &Path, recursive: bool) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(os)?;
    if !meta.is_dir() {
        std::fs::remove_file(os)
    } else if recursive {
        std::fs::remove_dir_all(os)
    } else {
        std::fs::remove_dir(os)
    }
}
