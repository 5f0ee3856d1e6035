//! `real_path`: the canonical path inside the namespace.

use fs_core::{ErrorKind, FsError, FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Resolves every symbolic link of `path` (`realpath(3)`) and returns the result as a path of this
/// namespace (the root itself canonicalized too, so a root reached through links works).
///
/// Errors: `NotFound` when the path or a link target is missing; `BadArgument` when the path
/// resolves outside the root; `InvalidData` when a resolved name is not a valid [`VPath`] segment.
pub(crate) async fn real_path(fs: &NativeFs, path: &VPath) -> FsResult<VPath> {
    let os = fs.os_path(path);
    let root = fs.root.clone();
    let vp = path.clone();
    run("realPath", path, move || {
        let real = std::fs::canonicalize(&os).ctx("realPath", &vp)?;
        let real_root = std::fs::canonicalize(&root).ctx("realPath", &vp)?;
        if !real.starts_with(&real_root) {
            return Err(FsError::new(
                ErrorKind::BadArgument,
                "realPath",
                "the path resolves outside the file system's root",
            )
            .with_path(&vp));
        }
        NativeFs::vpath_below(&real_root, &real).ok_or_else(|| {
            FsError::new(
                ErrorKind::InvalidData,
                "realPath",
                "the resolved path has a name that is not a valid path segment",
            )
            .with_path(&vp)
        })
    })
    .await
}
