//! `make_dir`: creating directories durably.

use std::os::unix::fs::DirBuilderExt;

use fs_core::{FsResult, MakeDirOptions, VPath};

use crate::blocking::{run, IoContext};
use crate::durable::sync_dir;
use crate::NativeFs;

/// Default permission bits of a new directory (less the umask, as `mkdir(2)`).
const DEFAULT_DIR_MODE: u32 = 0o777;

/// Creates the directory `path` with `mode` (less the umask), then fsyncs the parent of every
/// directory it created. With `recursive`, missing parents are created too and an existing
/// directory is fine.
///
/// Errors: `AlreadyExists` when the path exists (without `recursive`, or as a non-directory);
/// `NotFound` for a missing parent without `recursive`; `BadResource` when a file is in the middle
/// of the path.
pub(crate) async fn make_dir(fs: &NativeFs, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
    let fs = fs.clone();
    let vp = path.clone();
    let mode = options.mode.unwrap_or(DEFAULT_DIR_MODE);
    run("makeDirectory", path, move || {
        let ancestors = vp.ancestors_from_root();
        // The deepest ancestor that exists already; everything below it is about to be created.
        let first_new = if options.recursive {
            ancestors
                .iter()
                .rposition(|dir| fs.os_path(dir).exists())
                .map_or(0, |existing| existing + 1)
        } else {
            ancestors.len() - 1
        };
        let os = fs.os_path(&vp);
        std::fs::DirBuilder::new()
            .recursive(options.recursive)
            .mode(mode)
            .create(&os)
            .ctx("makeDirectory", &vp)?;
        for created in ancestors.iter().skip(first_new) {
            if let Some(parent) = created.parent() {
                sync_dir(&fs.os_path(&parent)).ctx("makeDirectory", &vp)?;
            }
        }
        Ok(())
    })
    .await
}
