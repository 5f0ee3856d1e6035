//! `stat`: information about a path, following symbolic links.

use std::io;

use fs_core::{FileInfo, FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::info::file_info;
use crate::NativeFs;

/// `stat(2)` of `path`; a dangling symbolic link is reported as itself (`lstat(2)`), with the type
/// `SymbolicLink`, as fs-core's [`FileInfo`] documents.
pub(crate) async fn stat(fs: &NativeFs, path: &VPath) -> FsResult<FileInfo> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("stat", path, move || {
        let meta = match std::fs::metadata(&os) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                match std::fs::symlink_metadata(&os) {
                    Ok(link) if link.file_type().is_symlink() => link,
                    _ => return Err(err).ctx("stat", &vp),
                }
            }
            Err(err) => return Err(err).ctx("stat", &vp),
        };
        Ok(file_info(&meta))
    })
    .await
}
