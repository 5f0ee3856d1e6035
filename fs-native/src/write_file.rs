//! `write_file`: whole-file writes, atomic and durable for the replacing flags.

use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use bytes::Bytes;
use fs_core::{ErrorKind, FsError, FsResult, OpenFlag, OpenOptions, VPath};

use crate::blocking::{run, IoContext};
use crate::durable::{commit, create_temp, discard, resolve_target, sync_parent};
use crate::NativeFs;

const METHOD: &str = "writeFile";

/// Permission bits of a created file when the options give none (less the umask, as `open(2)`).
pub(crate) const DEFAULT_FILE_MODE: u32 = 0o666;

/// Writes `data` to `path` as the flag says:
///
/// - `w`, `w+`, `wx`, `wx+`, `ax`, `ax+`: atomic replace through a temporary sibling (see
///   [`crate::durable`]); the exclusive ones fail with `AlreadyExists` when the path exists, checked
///   before writing and again, atomically, when committing;
/// - `a`, `a+`: appended in place and fsynced;
/// - `r+`: written in place from offset 0 without truncating, and fsynced; the file must exist;
/// - `r`: `BadResource`, the flag does not write (after the checks of opening: `NotFound` first).
pub(crate) async fn write_file(
    fs: &NativeFs,
    path: &VPath,
    data: Bytes,
    options: OpenOptions,
) -> FsResult<()> {
    let flag = options.flag;
    let os = fs.os_path(path);
    let vp = path.clone();
    let mode = options.mode.unwrap_or(DEFAULT_FILE_MODE);
    run(METHOD, path, move || match flag {
        OpenFlag::Read => refuse_read_only(&os, &vp),
        OpenFlag::ReadWrite => overwrite_in_place(&os, &data).ctx(METHOD, &vp),
        OpenFlag::Append | OpenFlag::AppendRead => append_in_place(&os, &data, mode, &vp),
        _ => replace(&os, &data, mode, flag.exclusive(), &vp),
    })
    .await
}

/// The atomic path: temporary sibling, write, fsync, rename (or link when exclusive), fsync of the
/// directory. An existing file's permission bits are kept; a new file gets `mode`.
fn replace(os: &Path, data: &[u8], mode: u32, exclusive: bool, vp: &VPath) -> FsResult<()> {
    let target = resolve_target(os, exclusive, METHOD, vp)?;
    let (mut file, temp) = create_temp(&target.path, mode).ctx(METHOD, vp)?;
    let written = (|| {
        file.write_all(data)?;
        if let Some(permissions) = target.permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        drop(file);
        commit(&temp, &target.path, exclusive)
    })();
    if written.is_err() {
        discard(&temp);
    }
    written.ctx(METHOD, vp)
}

/// `r`: opens like `open(2)` would (so a missing file is `NotFound`, a directory `BadResource`),
/// then refuses to write with `BadResource`.
fn refuse_read_only(os: &Path, vp: &VPath) -> FsResult<()> {
    std::fs::File::open(os).ctx(METHOD, vp)?;
    Err(FsError::new(
        ErrorKind::BadResource,
        METHOD,
        "the flag \"r\" opens the file read-only",
    )
    .with_path(vp))
}

/// `r+`: the bytes replace the start of the existing file, the rest stays.
fn overwrite_in_place(os: &Path, data: &[u8]) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).open(os)?;
    file.write_all_at(data, 0)?;
    file.sync_all()
}

/// `a`: the bytes go after the existing ones (the file is created when missing, and then its
/// directory is fsynced too).
fn append_in_place(os: &Path, data: &[u8], mode: u32, vp: &VPath) -> FsResult<()> {
    let existed = std::fs::symlink_metadata(os).is_ok();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(mode)
        .open(os)
        .ctx(METHOD, vp)?;
    file.write_all(data).ctx(METHOD, vp)?;
    file.sync_all().ctx(METHOD, vp)?;
    if !existed {
        sync_parent(os).ctx(METHOD, vp)?;
    }
    Ok(())
}
