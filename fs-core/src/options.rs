//! Open flags and the option structs of [`crate::FileSystem`]'s methods.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorKind, FsError};
use crate::path::VPath;

/// The default chunk size of streams: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;

/// How a file is opened, with Effect's (and Node's) flag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OpenFlag {
    /// `r`: read; the file must exist.
    #[default]
    Read,
    /// `r+`: read and write; the file must exist and is not truncated.
    ReadWrite,
    /// `w`: write; created if missing, truncated if present.
    Write,
    /// `wx`: like `w`, but fails with `AlreadyExists` if the path exists.
    WriteExclusive,
    /// `w+`: read and write; created if missing, truncated if present.
    WriteRead,
    /// `wx+`: like `w+`, but fails with `AlreadyExists` if the path exists.
    WriteReadExclusive,
    /// `a`: append; created if missing. Writes go to the end whatever the cursor.
    Append,
    /// `ax`: like `a`, but fails with `AlreadyExists` if the path exists.
    AppendExclusive,
    /// `a+`: read and append; created if missing.
    AppendRead,
    /// `ax+`: like `a+`, but fails with `AlreadyExists` if the path exists.
    AppendReadExclusive,
}

impl OpenFlag {
    /// Every flag, in Effect's order.
    pub const ALL: [OpenFlag; 10] = [
        OpenFlag::Read,
        OpenFlag::ReadWrite,
        OpenFlag::Write,
        OpenFlag::WriteExclusive,
        OpenFlag::WriteRead,
        OpenFlag::WriteReadExclusive,
        OpenFlag::Append,
        OpenFlag::AppendExclusive,
        OpenFlag::AppendRead,
        OpenFlag::AppendReadExclusive,
    ];

    /// Effect's spelling: `r`, `r+`, `w`, `wx`, `w+`, `wx+`, `a`, `ax`, `a+`, `ax+`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpenFlag::Read => "r",
            OpenFlag::ReadWrite => "r+",
            OpenFlag::Write => "w",
            OpenFlag::WriteExclusive => "wx",
            OpenFlag::WriteRead => "w+",
            OpenFlag::WriteReadExclusive => "wx+",
            OpenFlag::Append => "a",
            OpenFlag::AppendExclusive => "ax",
            OpenFlag::AppendRead => "a+",
            OpenFlag::AppendReadExclusive => "ax+",
        }
    }

    /// The handle can read.
    pub fn readable(self) -> bool {
        matches!(
            self,
            OpenFlag::Read
                | OpenFlag::ReadWrite
                | OpenFlag::WriteRead
                | OpenFlag::WriteReadExclusive
                | OpenFlag::AppendRead
                | OpenFlag::AppendReadExclusive
        )
    }

    /// The handle can write.
    pub fn writable(self) -> bool {
        self != OpenFlag::Read
    }

    /// A missing file is created.
    pub fn creates(self) -> bool {
        !matches!(self, OpenFlag::Read | OpenFlag::ReadWrite)
    }

    /// An existing path makes the open fail with `AlreadyExists`.
    pub fn exclusive(self) -> bool {
        matches!(
            self,
            OpenFlag::WriteExclusive
                | OpenFlag::WriteReadExclusive
                | OpenFlag::AppendExclusive
                | OpenFlag::AppendReadExclusive
        )
    }

    /// An existing file is emptied on open.
    pub fn truncates(self) -> bool {
        matches!(
            self,
            OpenFlag::Write
                | OpenFlag::WriteExclusive
                | OpenFlag::WriteRead
                | OpenFlag::WriteReadExclusive
        )
    }

    /// Writes always go to the end of the file and do not move the read cursor.
    pub fn appends(self) -> bool {
        matches!(
            self,
            OpenFlag::Append
                | OpenFlag::AppendExclusive
                | OpenFlag::AppendRead
                | OpenFlag::AppendReadExclusive
        )
    }
}

impl fmt::Display for OpenFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpenFlag {
    type Err = FsError;
    fn from_str(s: &str) -> Result<OpenFlag, FsError> {
        OpenFlag::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                FsError::new(
                    ErrorKind::BadArgument,
                    "open",
                    format!(
                        "unknown open flag {s:?}; use one of r, r+, w, wx, w+, wx+, a, ax, a+, ax+"
                    ),
                )
            })
    }
}

/// Options of [`crate::FileSystem::access`]. With all fields false it checks existence only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccessOptions {
    /// The path must be readable.
    pub readable: bool,
    /// The path must be writable.
    pub writable: bool,
}

/// Options of [`crate::FileSystem::make_dir`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MakeDirOptions {
    /// Create missing parents, and succeed when the directory already exists.
    pub recursive: bool,
    /// Unix permission bits for new directories (backends without permissions ignore it).
    pub mode: Option<u32>,
}

/// Options of [`crate::FileSystem::remove`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoveOptions {
    /// Remove a non-empty directory and everything below it.
    pub recursive: bool,
    /// A missing path is not an error.
    pub force: bool,
}

/// Options of [`crate::FileSystem::copy`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyOptions {
    /// Replace files that exist at the destination (otherwise `AlreadyExists`).
    pub overwrite: bool,
    /// Copy access and modification times (where the backend can set times).
    pub preserve_timestamps: bool,
}

/// Options of [`crate::FileSystem::read_dir`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadDirOptions {
    /// List the whole tree below the directory, not only its direct children.
    pub recursive: bool,
}

/// Options of [`crate::FileSystem::write_file`] and [`crate::FileSystem::open`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// How to open; `write_file` defaults to `w`, `open` to `r`.
    pub flag: OpenFlag,
    /// Unix permission bits for a created file (backends without permissions ignore it).
    pub mode: Option<u32>,
}

impl OpenOptions {
    /// Options with this flag and the default mode.
    pub fn flag(flag: OpenFlag) -> Self {
        OpenOptions { flag, mode: None }
    }

    /// The defaults of `open`: read only.
    pub fn read() -> Self {
        Self::flag(OpenFlag::Read)
    }

    /// The defaults of `write_file`: create or truncate.
    pub fn write() -> Self {
        Self::flag(OpenFlag::Write)
    }
}

/// Options of [`crate::FileSystem::read_stream`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Largest chunk emitted, in bytes (default 64 KiB; zero is `BadArgument`).
    pub chunk_size: usize,
    /// Where to start reading.
    pub offset: u64,
    /// How many bytes to read at most (`None`: to the end).
    pub length: Option<u64>,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            chunk_size: DEFAULT_CHUNK_SIZE,
            offset: 0,
            length: None,
        }
    }
}

/// How a [`crate::WriteSink`] treats an existing file. The new content becomes visible only on close.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SinkMode {
    /// Replace the file (Effect's `w`).
    #[default]
    Replace,
    /// Fail with `AlreadyExists` if the path exists when the sink is opened or closed (Effect's `wx`).
    CreateNew,
    /// Keep the existing bytes and add to them (Effect's `a`); the backend may copy the old bytes.
    Append,
}

/// Options of [`crate::FileSystem::write_sink`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkOptions {
    /// Replace, create new, or append.
    pub mode: SinkMode,
    /// Unix permission bits when the sink creates a new file (an existing file keeps its bits;
    /// backends without permissions ignore it). Named `permissions` because `mode` is the sink mode.
    pub permissions: Option<u32>,
}

/// Options of [`crate::FileSystem::make_temp_dir`] and [`crate::FileSystem::make_temp_file`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TempOptions {
    /// Where to create it (default: the backend's temporary directory, created on demand).
    pub directory: Option<VPath>,
    /// Start of the generated name (must be a valid name on its own when not empty).
    pub prefix: Option<String>,
}

/// Options of [`crate::FileSystem::watch`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Also report changes in subdirectories.
    pub recursive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_and_describe_themselves() {
        for flag in OpenFlag::ALL {
            assert_eq!(flag.as_str().parse::<OpenFlag>().unwrap(), flag);
        }
        assert_eq!(
            "rw".parse::<OpenFlag>().unwrap_err().kind(),
            ErrorKind::BadArgument
        );
        assert!(OpenFlag::ReadWrite.readable() && OpenFlag::ReadWrite.writable());
        assert!(!OpenFlag::ReadWrite.creates() && !OpenFlag::ReadWrite.truncates());
        assert!(OpenFlag::WriteExclusive.exclusive() && OpenFlag::WriteExclusive.truncates());
        assert!(OpenFlag::AppendRead.appends() && OpenFlag::AppendRead.readable());
        assert!(!OpenFlag::Append.readable());
    }
}
