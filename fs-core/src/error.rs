//! The one error type of every backend: [`FsError`] with an [`ErrorKind`].
//!
//! The kinds are Effect's `SystemErrorReason`s plus four of ours. Callers and tests match on
//! [`FsError::kind`]; the message is for people and follows Effect's format:
//! `NotFound: FileSystem.readFile (/a/b): no such file or directory`.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Result alias used by every method of this crate.
pub type FsResult<T> = Result<T, FsError>;

/// Why a file system call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The path already exists (exclusive create, `make_dir` without `recursive`, copy without overwrite).
    AlreadyExists,
    /// The resource has the wrong type for the call (a directory where a file is needed, or the reverse),
    /// or a handle was used without the needed access (reading a write-only handle, writing a read-only one).
    BadResource,
    /// The resource is locked or in use (an OPFS sync access handle held by someone else).
    Busy,
    /// The data is not valid for the call (bytes that are not UTF-8 for `read_file_string`).
    InvalidData,
    /// The path or one of its parents does not exist.
    NotFound,
    /// The backend refused the call for lack of permission.
    PermissionDenied,
    /// The call did not finish in time.
    TimedOut,
    /// The file ended before the expected number of bytes was read.
    UnexpectedEof,
    /// Anything the other kinds do not describe; the description says what happened.
    Unknown,
    /// The call would block and the backend was asked not to.
    WouldBlock,
    /// A write made no progress.
    WriteZero,
    /// An argument is invalid: a hostile path, a zero chunk size, a flag the call does not accept.
    BadArgument,
    /// The backend cannot do this at all; [`crate::Capabilities`] says so up front.
    Unsupported,
    /// A directory that must be empty (remove without `recursive`, rename over it) is not.
    DirectoryNotEmpty,
    /// No space is left (disk full, quota exceeded).
    StorageFull,
}

impl ErrorKind {
    /// The name used in messages, identical to Effect's reason names where Effect has one.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::BadResource => "BadResource",
            ErrorKind::Busy => "Busy",
            ErrorKind::InvalidData => "InvalidData",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::TimedOut => "TimedOut",
            ErrorKind::UnexpectedEof => "UnexpectedEof",
            ErrorKind::Unknown => "Unknown",
            ErrorKind::WouldBlock => "WouldBlock",
            ErrorKind::WriteZero => "WriteZero",
            ErrorKind::BadArgument => "BadArgument",
            ErrorKind::Unsupported => "Unsupported",
            ErrorKind::DirectoryNotEmpty => "DirectoryNotEmpty",
            ErrorKind::StorageFull => "StorageFull",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed file system call: what kind of failure, which method, which path, and why.
#[derive(Debug, Clone)]
pub struct FsError {
    kind: ErrorKind,
    method: &'static str,
    path: Option<String>,
    description: String,
    source: Option<Arc<dyn StdError + Send + Sync>>,
}

impl FsError {
    /// A new error. `method` is Effect's camelCase method name (`readFile`, `makeDirectory`, …).
    pub fn new(kind: ErrorKind, method: &'static str, description: impl Into<String>) -> Self {
        FsError {
            kind,
            method,
            path: None,
            description: description.into(),
            source: None,
        }
    }

    /// Sets the path (or handle description) the call was about.
    pub fn with_path(mut self, path: impl fmt::Display) -> Self {
        self.path = Some(path.to_string());
        self
    }

    /// Re-labels the error with the method the caller called (when a derived method fails inside a
    /// primitive), keeping kind, path, description and source.
    pub fn in_method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// `Unsupported` for a method this backend cannot perform.
    pub fn unsupported(method: &'static str, backend: &str) -> Self {
        FsError::new(
            ErrorKind::Unsupported,
            method,
            format!("the {backend} backend does not support this call; check Capabilities first"),
        )
    }

    /// Converts an I/O error, keeping it as the source; see [`kind_of_io_error`] for the mapping.
    pub fn from_io(err: std::io::Error, method: &'static str, path: impl fmt::Display) -> Self {
        let kind = kind_of_io_error(&err);
        FsError {
            kind,
            method,
            path: Some(path.to_string()),
            description: err.to_string(),
            source: Some(Arc::new(err)),
        }
    }

    /// What kind of failure this is. Match on this, not on the message.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Effect's name of the method that failed (`readFile`, `File.write`, …).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path the call was about, when there is one.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The human-readable reason.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: FileSystem.{}", self.kind, self.method)?;
        if let Some(path) = &self.path {
            write!(f, " ({path})")?;
        }
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        Ok(())
    }
}

impl StdError for FsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

impl From<std::io::Error> for FsError {
    /// A conversion without call context (method `unknown`); prefer [`FsError::from_io`].
    fn from(err: std::io::Error) -> Self {
        let kind = kind_of_io_error(&err);
        FsError {
            kind,
            method: "unknown",
            path: None,
            description: err.to_string(),
            source: Some(Arc::new(err)),
        }
    }
}

/// Maps an I/O error to an [`ErrorKind`]: first by errno on Unix (ENOTEMPTY, ENOSPC, EISDIR, …, which
/// std reports as unstable kinds), then by `std::io::ErrorKind`.
pub fn kind_of_io_error(err: &std::io::Error) -> ErrorKind {
    #[cfg(unix)]
    if let Some(code) = err.raw_os_error() {
        if let Some(kind) = kind_of_errno(code) {
            return kind;
        }
    }
    use std::io::ErrorKind as Io;
    match err.kind() {
        Io::NotFound => ErrorKind::NotFound,
        Io::PermissionDenied => ErrorKind::PermissionDenied,
        Io::AlreadyExists => ErrorKind::AlreadyExists,
        Io::WouldBlock => ErrorKind::WouldBlock,
        Io::InvalidInput => ErrorKind::BadArgument,
        Io::InvalidData => ErrorKind::InvalidData,
        Io::TimedOut => ErrorKind::TimedOut,
        Io::WriteZero => ErrorKind::WriteZero,
        Io::UnexpectedEof => ErrorKind::UnexpectedEof,
        Io::Unsupported => ErrorKind::Unsupported,
        Io::OutOfMemory => ErrorKind::StorageFull,
        _ => ErrorKind::Unknown,
    }
}

#[cfg(unix)]
fn kind_of_errno(code: i32) -> Option<ErrorKind> {
    // Linux errno values; the ones that differ on other Unixes are matched by io::ErrorKind instead.
    #[cfg(target_os = "linux")]
    {
        const EPERM: i32 = 1;
        const EBUSY: i32 = 16;
        const EEXIST: i32 = 17;
        const ENOTDIR: i32 = 20;
        const EISDIR: i32 = 21;
        const EINVAL: i32 = 22;
        const ETXTBSY: i32 = 26;
        const ENOSPC: i32 = 28;
        const EROFS: i32 = 30;
        const ENAMETOOLONG: i32 = 36;
        const ENOTEMPTY: i32 = 39;
        const ELOOP: i32 = 40;
        const EDQUOT: i32 = 122;
        return match code {
            EPERM | EROFS => Some(ErrorKind::PermissionDenied),
            EBUSY | ETXTBSY => Some(ErrorKind::Busy),
            EEXIST => Some(ErrorKind::AlreadyExists),
            ENOTDIR | EISDIR => Some(ErrorKind::BadResource),
            EINVAL | ENAMETOOLONG | ELOOP => Some(ErrorKind::BadArgument),
            ENOSPC | EDQUOT => Some(ErrorKind::StorageFull),
            ENOTEMPTY => Some(ErrorKind::DirectoryNotEmpty),
            _ => None,
        };
    }
    #[allow(unreachable_code)]
    {
        let _ = code;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_follows_effect_format() {
        let err = FsError::new(ErrorKind::NotFound, "readFile", "no such file").with_path("/a/b");
        assert_eq!(
            err.to_string(),
            "NotFound: FileSystem.readFile (/a/b): no such file"
        );
        let bare = FsError::new(ErrorKind::Busy, "File.write", "");
        assert_eq!(bare.to_string(), "Busy: FileSystem.File.write");
    }

    #[test]
    fn io_errors_map_to_kinds() {
        let not_found = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(
            FsError::from_io(not_found, "stat", "/x").kind(),
            ErrorKind::NotFound
        );
        #[cfg(target_os = "linux")]
        {
            let not_empty = std::io::Error::from_raw_os_error(39);
            assert_eq!(kind_of_io_error(&not_empty), ErrorKind::DirectoryNotEmpty);
            let full = std::io::Error::from_raw_os_error(28);
            assert_eq!(kind_of_io_error(&full), ErrorKind::StorageFull);
            let is_dir = std::io::Error::from_raw_os_error(21);
            assert_eq!(kind_of_io_error(&is_dir), ErrorKind::BadResource);
        }
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::other("boom");
        let err = FsError::from_io(io, "writeFile", "/f");
        assert!(StdError::source(&err).is_some());
        assert_eq!(err.method(), "writeFile");
        assert_eq!(err.path(), Some("/f"));
    }
}
