//! `read_dir`: listing a directory or a whole tree.

use std::path::PathBuf;

use fs_core::{validate_name, DirEntry, ErrorKind, FsError, FsResult, ReadDirOptions, VPath};

use crate::blocking::{run, IoContext};
use crate::info::file_type_of;
use crate::NativeFs;

const METHOD: &str = "readDirectory";

/// The entries of the directory `path` (with `recursive`, of its whole tree), sorted by relative
/// path. Types come from the directory entries without following links: a symbolic link is listed as
/// `SymbolicLink`, and a recursive listing does not descend into linked directories.
///
/// Errors: `NotFound` when missing; `BadResource` for a file; `InvalidData` when an entry's name is
/// not a valid [`VPath`] segment (not UTF-8, or with a backslash), naming the entry, because such an
/// entry could not be addressed through this API (it can still be removed with its directory).
pub(crate) async fn read_dir(
    fs: &NativeFs,
    path: &VPath,
    options: ReadDirOptions,
) -> FsResult<Vec<DirEntry>> {
    let os = fs.os_path(path);
    let vp = path.clone();
    run(METHOD, path, move || {
        let mut entries = Vec::new();
        let mut pending: Vec<(PathBuf, VPath)> = vec![(os, vp.clone())];
        while let Some((dir, dir_vp)) = pending.pop() {
            for entry in std::fs::read_dir(&dir).ctx(METHOD, &dir_vp)? {
                let entry = entry.ctx(METHOD, &dir_vp)?;
                let name = entry.file_name();
                let name = name
                    .to_str()
                    .ok_or_else(|| invalid_name(&dir_vp, &name.to_string_lossy(), "not UTF-8"))?;
                validate_name(name).map_err(|why| invalid_name(&dir_vp, name, &why))?;
                let entry_vp = dir_vp.join(name)?;
                let kind = entry.file_type().ctx(METHOD, &entry_vp)?;
                if options.recursive && kind.is_dir() {
                    pending.push((entry.path(), entry_vp.clone()));
                }
                let relative = entry_vp.strip_prefix(&vp).unwrap_or(name).to_owned();
                entries.push(DirEntry {
                    relative,
                    path: entry_vp,
                    file_type: file_type_of(kind),
                });
            }
        }
        entries.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(entries)
    })
    .await
}

fn invalid_name(dir: &VPath, name: &str, why: &str) -> FsError {
    FsError::new(
        ErrorKind::InvalidData,
        METHOD,
        format!("the entry {name:?} cannot be named by a path: {why}"),
    )
    .with_path(dir)
}
