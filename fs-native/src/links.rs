//! `link`, `symlink` and `read_link`.

use std::path::{Path, PathBuf};

use fs_core::{ErrorKind, FsError, FsResult, VPath};

use crate::blocking::{run, IoContext};
use crate::durable::sync_parent;
use crate::NativeFs;

/// Creates the hard link `to` naming the same file as `from` (`link(2)`; a symbolic link at `from`
/// is linked itself) and fsyncs `to`'s directory. Errors: `NotFound` when `from` is missing,
/// `AlreadyExists` when `to` exists, `PermissionDenied` for a directory.
pub(crate) async fn link(fs: &NativeFs, from: &VPath, to: &VPath) -> FsResult<()> {
    let (source, dest) = (fs.os_path(from), fs.os_path(to));
    let vp = to.clone();
    run("link", to, move || {
        std::fs::hard_link(&source, &dest).ctx("link", &vp)?;
        sync_parent(&dest).ctx("link", &vp)
    })
    .await
}

/// Creates the symbolic link `link` pointing at `target` and fsyncs its directory.
///
/// An absolute `target` is a path of this namespace: `/x` is stored as `root/x` (it must be a valid
/// [`VPath`], otherwise `BadArgument`). A relative target is stored as given, but one that climbs
/// above the root (counting `..` lexically from the link's directory) is `BadArgument`. Other
/// errors: `AlreadyExists` when `link` exists, `NotFound` for a missing parent.
pub(crate) async fn symlink(fs: &NativeFs, target: &str, link: &VPath) -> FsResult<()> {
    let stored = stored_target(fs, target, link)?;
    let os = fs.os_path(link);
    let vp = link.clone();
    run("symlink", link, move || {
        std::os::unix::fs::symlink(&stored, &os).ctx("symlink", &vp)?;
        sync_parent(&os).ctx("symlink", &vp)
    })
    .await
}

/// The OS target stored for the namespace target `target` of a link at `link`.
fn stored_target(fs: &NativeFs, target: &str, link: &VPath) -> FsResult<PathBuf> {
    let refuse = |why: String| FsError::new(ErrorKind::BadArgument, "symlink", why).with_path(link);
    if target.starts_with('/') {
        let inside = VPath::new(target).map_err(|e| refuse(e.description().to_owned()))?;
        return Ok(fs.os_path(&inside));
    }
    let mut depth = link.segments().count().saturating_sub(1);
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| refuse(format!("the target {target:?} leaves the root")))?;
            }
            _ => depth += 1,
        }
    }
    Ok(PathBuf::from(target))
}

/// The target the symbolic link at `path` stores, as given to `symlink`: an absolute OS target
/// below the root comes back as a namespace path (`root/x` as `/x`).
///
/// Errors: `NotFound` when missing; `BadArgument` when `path` is not a symbolic link (`EINVAL`);
/// `InvalidData` for an absolute target outside the root (a link made by someone else) or one that
/// is not UTF-8.
pub(crate) async fn read_link(fs: &NativeFs, path: &VPath) -> FsResult<String> {
    let os = fs.os_path(path);
    let root = fs.root.clone();
    let vp = path.clone();
    run("readLink", path, move || {
        let stored = std::fs::read_link(&os).ctx("readLink", &vp)?;
        namespace_target(&root, &stored).ok_or_else(|| {
            FsError::new(
                ErrorKind::InvalidData,
                "readLink",
                format!("the link's target {stored:?} is outside this file system's namespace"),
            )
            .with_path(&vp)
        })
    })
    .await
}

/// The namespace form of a stored OS target, or `None` when it has none.
fn namespace_target(root: &Path, stored: &Path) -> Option<String> {
    if stored.is_absolute() {
        NativeFs::vpath_below(root, stored).map(|vp| vp.to_string())
    } else {
        stored.to_str().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> VPath {
        VPath::new(path).unwrap()
    }

    #[test]
    fn absolute_targets_are_stored_below_the_root() {
        let fs = NativeFs::new("/srv/root");
        let stored = stored_target(&fs, "/a/b", &p("/link")).unwrap();
        assert_eq!(stored, Path::new("/srv/root/a/b"));
        let real = NativeFs::new("/");
        assert_eq!(
            stored_target(&real, "/etc", &p("/l")).unwrap(),
            Path::new("/etc")
        );
    }

    #[test]
    fn relative_targets_may_climb_only_to_the_root() {
        let fs = NativeFs::new("/srv/root");
        assert!(stored_target(&fs, "../x", &p("/d/link")).is_ok());
        assert!(stored_target(&fs, "./../x/../../y", &p("/d/e/link")).is_ok());
        for (target, link) in [
            ("../x", "/link"),
            ("../../x", "/d/link"),
            ("a/../../..", "/d/l"),
        ] {
            let err = stored_target(&fs, target, &p(link)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadArgument, "{target} at {link}");
        }
    }

    #[test]
    fn stored_targets_map_back() {
        let root = Path::new("/srv/root");
        assert_eq!(
            namespace_target(root, Path::new("/srv/root/a")).as_deref(),
            Some("/a")
        );
        assert_eq!(
            namespace_target(root, Path::new("/srv/root")).as_deref(),
            Some("/")
        );
        assert_eq!(
            namespace_target(root, Path::new("../b")).as_deref(),
            Some("../b")
        );
        assert_eq!(namespace_target(root, Path::new("/srv/rootx")), None);
        assert_eq!(namespace_target(root, Path::new("/etc")), None);
    }
}
