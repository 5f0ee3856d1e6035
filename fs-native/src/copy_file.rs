//! `copy_file`: one file's bytes to another path, atomically and durably.

use std::io;

use fs_core::{FsResult, VPath};

use crate::blocking::{bad_resource, run, IoContext};
use crate::durable::{commit, create_temp, discard, resolve_target};
use crate::NativeFs;

const METHOD: &str = "copyFile";

/// Copies the file at `from` (links followed) to `to`, replacing a file there, like `write_file`
/// with `w`: into a temporary sibling (`copy_file_range`, so reflinked or done in the kernel where
/// the file system can), fsynced, renamed over `to`, directory fsynced. The copy gets the source's
/// permission bits. Errors: `NotFound` when `from` (or `to`'s parent) is missing, `BadResource` when
/// either is a directory.
pub(crate) async fn copy_file(fs: &NativeFs, from: &VPath, to: &VPath) -> FsResult<()> {
    let source = fs.os_path(from);
    let dest = fs.os_path(to);
    let (from_vp, to_vp) = (from.clone(), to.clone());
    run(METHOD, from, move || {
        let mut input = std::fs::File::open(&source).ctx(METHOD, &from_vp)?;
        let meta = input.metadata().ctx(METHOD, &from_vp)?;
        if meta.is_dir() {
            return Err(bad_resource(METHOD, &from_vp, "the source is a directory"));
        }
        let target = resolve_target(&dest, false, METHOD, &to_vp)?;
        let (mut output, temp) = create_temp(&target.path, 0o600).ctx(METHOD, &to_vp)?;
        let copied = (|| {
            io::copy(&mut input, &mut output)?;
            output.set_permissions(meta.permissions())?;
            output.sync_all()?;
            drop(output);
            commit(&temp, &target.path, false)
        })();
        if copied.is_err() {
            discard(&temp);
        }
        copied.ctx(METHOD, &to_vp)
    })
    .await
}
