//! Atomic, durable replacement of a file: the new bytes go to a temporary sibling, which is fsynced
//! and then renamed (or, for an exclusive create, hard-linked) over the target, and the directory is
//! fsynced so that the new name survives a crash.
//!
//! Used by `write_file`, `copy_file` and the write sink. Everything here blocks.

use std::fs::{File, Permissions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use fs_core::{random_name, ErrorKind, FsError, FsResult, VPath};

use crate::blocking::{bad_resource, IoContext};

/// Suffix of the temporary siblings.
const TEMP_SUFFIX: &str = ".fsync-tmp";

/// How many bytes of the target's name a temporary name keeps, so that
/// `.{name}.{16 hex}.fsync-tmp` stays within the 255 bytes of a Linux name.
const KEPT_NAME_BYTES: usize = 200;

/// How many symbolic links [`resolve_target`] follows before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

/// The place a replacing write will rename its temporary file to.
#[derive(Debug)]
pub(crate) struct Target {
    /// The path to replace: the given one, or the file its symbolic links lead to.
    pub(crate) path: PathBuf,
    /// The permissions of the file being replaced, kept by the new one; `None` when creating.
    pub(crate) permissions: Option<Permissions>,
}

/// Finds what a replacing write of `os` replaces, following symbolic links like `open(2)` would,
/// so that writing through a link replaces the file it points at (and a dangling link creates its
/// target).
///
/// Errors: `AlreadyExists` when `exclusive` and anything (even a dangling link) is at `os`;
/// `BadResource` for a directory or another non-regular file; the OS error (e.g. `NotFound` for a
/// missing parent) otherwise.
pub(crate) fn resolve_target(
    os: &Path,
    exclusive: bool,
    method: &'static str,
    vp: &VPath,
) -> FsResult<Target> {
    let mut current = os.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&current) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Ok(Target {
                    path: current,
                    permissions: None,
                })
            }
            Err(err) => return Err(err).ctx(method, vp),
        };
        if exclusive {
            return Err(
                FsError::new(ErrorKind::AlreadyExists, method, "the path exists").with_path(vp),
            );
        }
        let kind = meta.file_type();
        if kind.is_symlink() {
            let link = std::fs::read_link(&current).ctx(method, vp)?;
            current = match current.parent() {
                Some(dir) => dir.join(link),
                None => link,
            };
            continue;
        }
        if kind.is_dir() {
            return Err(bad_resource(method, vp, "the path is a directory"));
        }
        if !kind.is_file() {
            return Err(bad_resource(method, vp, "the path is not a regular file"));
        }
        return Ok(Target {
            path: current,
            permissions: Some(meta.permissions()),
        });
    }
    Err(FsError::new(
        ErrorKind::BadArgument,
        method,
        "too many levels of symbolic links",
    )
    .with_path(vp))
}

/// Creates a new, empty temporary sibling of `target` (`.{name}.{16 hex}.fsync-tmp`, exclusive
/// create) with the permission bits `mode` (less the umask), and returns it with its path.
pub(crate) fn create_temp(target: &Path, mode: u32) -> io::Result<(File, PathBuf)> {
    let dir = target.parent().unwrap_or(Path::new("/"));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut cut = name.len().min(KEPT_NAME_BYTES);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let kept = &name[..cut];
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..8 {
        let temp = dir.join(format!(".{kept}.{}{TEMP_SUFFIX}", random_name(None)));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => return Ok((file, temp)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => last = err,
            Err(err) => return Err(err),
        }
    }
    Err(last)
}

/// True for the name of a temporary sibling made by [`create_temp`] (or one that looks like it).
pub(crate) fn is_temp_name(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .is_some_and(|n| n.starts_with('.') && n.ends_with(TEMP_SUFFIX))
}

/// Moves a finished (fsynced and closed) temporary file to `target` and fsyncs the directory.
///
/// Without `exclusive` it renames over whatever file is there. With `exclusive` it hard-links the
/// temporary file to `target`, which fails with `EEXIST` when something appeared there in the
/// meantime, and then unlinks the temporary name (a failure of that unlink leaves a stray temporary
/// file but does not undo the commit, so it is not reported). Exclusive commits therefore need a
/// file system with hard links.
pub(crate) fn commit(temp: &Path, target: &Path, exclusive: bool) -> io::Result<()> {
    if exclusive {
        std::fs::hard_link(temp, target)?;
        let _ = std::fs::remove_file(temp);
    } else {
        std::fs::rename(temp, target)?;
    }
    sync_parent(target)
}

/// Fsyncs the directory that holds `path`, making a new or removed name in it durable.
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => Ok(()),
    }
}

/// Fsyncs a directory.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Removes a temporary file after a failure, ignoring errors: the failure being reported matters
/// more, and a leftover is only a hidden stray file.
pub(crate) fn discard(temp: &Path) {
    let _ = std::fs::remove_file(temp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_hidden_siblings_within_name_max() {
        let dir = tempfile::tempdir().unwrap();
        let long = "é".repeat(127);
        for name in ["plain.txt", long.as_str()] {
            let (_file, temp) = create_temp(&dir.path().join(name), 0o600).unwrap();
            assert_eq!(temp.parent(), Some(dir.path()));
            let temp_name = temp.file_name().unwrap().to_str().unwrap();
            assert!(temp_name.starts_with('.') && temp_name.ends_with(TEMP_SUFFIX));
            assert!(temp_name.len() <= 255, "{}", temp_name.len());
            assert!(is_temp_name(temp.file_name().unwrap()));
            std::fs::remove_file(&temp).unwrap();
        }
    }
}
