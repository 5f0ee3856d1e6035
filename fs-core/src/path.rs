//! [`VPath`]: the one validated path type every backend takes.
//!
//! A `VPath` is absolute within a backend's namespace (its root, an OPFS sub-root, a native directory):
//! it starts with `/`, and its segments are names that every backend accepts. Validating once, here,
//! means MemoryFs rejects exactly what OPFS rejects, so tests on memory predict the browser.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, FsError, FsResult};

/// The longest segment accepted, in bytes (Linux `NAME_MAX`; OPFS accepts longer names, so this is the
/// common limit).
pub const MAX_NAME_BYTES: usize = 255;

/// A validated, normalized absolute path: `/` or `/seg/seg/…`.
///
/// Rejected with [`ErrorKind::BadArgument`]: an empty string, a path not starting with `/`, empty
/// segments (`//`, a trailing `/`), `.` and `..`, backslashes, NUL, and segments over
/// [`MAX_NAME_BYTES`] bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VPath(String);

impl VPath {
    /// The root of the backend's namespace, `/`.
    pub fn root() -> VPath {
        VPath("/".to_owned())
    }

    /// Parses and validates `path`.
    ///
    /// ```
    /// use fs_core::VPath;
    /// assert_eq!(VPath::new("/a/b.txt").unwrap().as_str(), "/a/b.txt");
    /// assert!(VPath::new("/a/../b").is_err());
    /// ```
    pub fn new(path: &str) -> FsResult<VPath> {
        if path == "/" {
            return Ok(VPath::root());
        }
        let Some(rest) = path.strip_prefix('/') else {
            return Err(bad_path(path, "a path must be absolute and start with '/'"));
        };
        for segment in rest.split('/') {
            validate_name(segment).map_err(|why| bad_path(path, &why))?;
        }
        Ok(VPath(path.to_owned()))
    }

    /// The path as a string, always starting with `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The segments from the root down (none for `/`).
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.0[1..].split('/').filter(|s| !s.is_empty())
    }

    /// The last segment, or `None` for `/`.
    pub fn file_name(&self) -> Option<&str> {
        self.segments().next_back()
    }

    /// The parent directory, or `None` for `/`.
    pub fn parent(&self) -> Option<VPath> {
        if self.is_root() {
            return None;
        }
        let cut = self.0.rfind('/').unwrap_or(0);
        if cut == 0 {
            Some(VPath::root())
        } else {
            Some(VPath(self.0[..cut].to_owned()))
        }
    }

    /// This path with one more segment; `name` must be a single valid segment.
    pub fn join(&self, name: &str) -> FsResult<VPath> {
        validate_name(name).map_err(|why| bad_path(&format!("{}/{name}", self.trimmed()), &why))?;
        Ok(VPath(format!("{}/{name}", self.trimmed())))
    }

    /// This path followed by every segment of the relative path `rel` (`a/b/c`), each validated.
    pub fn join_relative(&self, rel: &str) -> FsResult<VPath> {
        let mut out = self.clone();
        for segment in rel.split('/') {
            out = out.join(segment)?;
        }
        Ok(out)
    }

    /// True when `self` is `prefix` or lies below it (compared by whole segments).
    pub fn starts_with(&self, prefix: &VPath) -> bool {
        prefix.is_root()
            || self.0 == prefix.0
            || (self.0.starts_with(&prefix.0)
                && self.0.as_bytes().get(prefix.0.len()) == Some(&b'/'))
    }

    /// The part of `self` below `prefix`, as a relative path (`""` when equal), or `None` when `self`
    /// is not under `prefix`.
    pub fn strip_prefix(&self, prefix: &VPath) -> Option<&str> {
        if !self.starts_with(prefix) {
            return None;
        }
        if prefix.is_root() {
            return Some(&self.0[1..]);
        }
        let rest = &self.0[prefix.0.len()..];
        Some(rest.strip_prefix('/').unwrap_or(rest))
    }

    /// Every ancestor from the root down to and including `self` (`/`, `/a`, `/a/b`).
    pub fn ancestors_from_root(&self) -> Vec<VPath> {
        let mut out = vec![VPath::root()];
        let mut current = VPath::root();
        for segment in self.segments() {
            current = VPath(format!("{}/{segment}", current.trimmed()));
            out.push(current.clone());
        }
        out
    }

    fn trimmed(&self) -> &str {
        if self.is_root() {
            ""
        } else {
            &self.0
        }
    }
}

/// Checks one path segment (a file or directory name) against the rules of [`VPath`].
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty path segments are not allowed".into());
    }
    if name == "." || name == ".." {
        return Err(format!("the segment {name:?} is not allowed"));
    }
    if name.contains('/') {
        return Err(format!("the name {name:?} contains '/'"));
    }
    if name.contains('\\') {
        return Err(format!("the name {name:?} contains a backslash"));
    }
    if name.contains('\0') {
        return Err("names may not contain NUL".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(format!(
            "a name is {} bytes long; the limit is {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    Ok(())
}

fn bad_path(path: &str, why: &str) -> FsError {
    FsError::new(ErrorKind::BadArgument, "path", why).with_path(format!("{path:?}"))
}

impl fmt::Display for VPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for VPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VPath({:?})", self.0)
    }
}

impl FromStr for VPath {
    type Err = FsError;
    fn from_str(s: &str) -> FsResult<VPath> {
        VPath::new(s)
    }
}

impl TryFrom<&str> for VPath {
    type Error = FsError;
    fn try_from(s: &str) -> FsResult<VPath> {
        VPath::new(s)
    }
}

impl AsRef<str> for VPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_paths() {
        for p in ["/", "/a", "/a/b", "/a b/ü.txt", "/.hidden", "/a..b", "/..."] {
            assert_eq!(VPath::new(p).unwrap().as_str(), p);
        }
    }

    #[test]
    fn rejects_hostile_paths() {
        let long = format!("/{}", "x".repeat(256));
        for p in [
            "", "a", "a/b", "//", "/a/", "/a//b", "/.", "/a/..", "/a/./b", "/a\\b", "/a\0b", &long,
        ] {
            let err = VPath::new(p).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadArgument, "{p:?}");
        }
    }

    #[test]
    fn navigation() {
        let p = VPath::new("/a/b/c").unwrap();
        assert_eq!(p.file_name(), Some("c"));
        assert_eq!(p.parent().unwrap().as_str(), "/a/b");
        assert_eq!(VPath::new("/a").unwrap().parent().unwrap(), VPath::root());
        assert_eq!(VPath::root().parent(), None);
        assert_eq!(VPath::root().join("x").unwrap().as_str(), "/x");
        assert!(p.join("..").is_err());
        assert!(p.join("x/y").is_err());
        assert_eq!(VPath::root().join_relative("a/b").unwrap().as_str(), "/a/b");
        let a = VPath::new("/a").unwrap();
        assert!(p.starts_with(&a));
        assert!(!VPath::new("/ab").unwrap().starts_with(&a));
        assert_eq!(p.strip_prefix(&a), Some("b/c"));
        assert_eq!(a.strip_prefix(&a), Some(""));
        assert_eq!(p.strip_prefix(&VPath::root()), Some("a/b/c"));
        let names: Vec<_> = p
            .ancestors_from_root()
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(names, ["/", "/a", "/a/b", "/a/b/c"]);
    }
}
