//! `chmod`, `chown` and `utimes`: metadata changes, not fsynced.

use std::fs::{FileTimes, Permissions};
use std::os::unix::fs::PermissionsExt;

use fs_core::{FsResult, SystemTime, VPath};

use crate::blocking::{run, IoContext};
use crate::NativeFs;

/// Sets the permission bits of `path` (links followed) with `chmod(2)`. Errors: `NotFound` when
/// missing; `PermissionDenied` when not the owner (root always is).
pub(crate) async fn chmod(fs: &NativeFs, path: &VPath, mode: u32) -> FsResult<()> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("chmod", path, move || {
        std::fs::set_permissions(&os, Permissions::from_mode(mode)).ctx("chmod", &vp)
    })
    .await
}

/// Sets the owner and group of `path` (links followed) with `chown(2)`. Errors: `NotFound` when
/// missing; `PermissionDenied` unless running as root (or giving a file to a group one belongs to).
pub(crate) async fn chown(fs: &NativeFs, path: &VPath, uid: u32, gid: u32) -> FsResult<()> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("chown", path, move || {
        std::os::unix::fs::chown(&os, Some(uid), Some(gid)).ctx("chown", &vp)
    })
    .await
}

/// Sets the access and modification times of `path` (links followed) through a read-only handle
/// (`futimens(2)`), so directories work too. Errors: `NotFound` when missing; `PermissionDenied`
/// when not the owner.
pub(crate) async fn utimes(
    fs: &NativeFs,
    path: &VPath,
    atime: SystemTime,
    mtime: SystemTime,
) -> FsResult<()> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run("utimes", path, move || {
        let file = std::fs::File::open(&os).ctx("utimes", &vp)?;
        let times = FileTimes::new().set_accessed(atime).set_modified(mtime);
        file.set_times(times).ctx("utimes", &vp)
    })
    .await
}
