//! What `stat`, `read_dir` and `watch` report.

use web_time::SystemTime;

use crate::path::VPath;

/// The type of a file system entry, with Effect's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (reported by `read_dir`, and by `stat` only for a dangling link).
    SymbolicLink,
    /// A block device.
    BlockDevice,
    /// A character device.
    CharacterDevice,
    /// A named pipe.
    Fifo,
    /// A Unix socket.
    Socket,
    /// Anything else.
    Unknown,
}

/// Information about a file, like Effect's `File.Info`. Fields a backend cannot know are `None`
/// (or zero for `dev` and `mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// File, directory, link, …
    pub file_type: FileType,
    /// Size in bytes (zero for directories on backends without a directory size).
    pub size: u64,
    /// Last modification.
    pub mtime: Option<SystemTime>,
    /// Last access.
    pub atime: Option<SystemTime>,
    /// Creation.
    pub birthtime: Option<SystemTime>,
    /// Device id.
    pub dev: u64,
    /// Inode number.
    pub ino: Option<u64>,
    /// Unix permission and type bits (0 where unknown).
    pub mode: u32,
    /// Number of hard links.
    pub nlink: Option<u64>,
    /// Owner user id.
    pub uid: Option<u32>,
    /// Owner group id.
    pub gid: Option<u32>,
    /// Device id of a special file.
    pub rdev: Option<u64>,
    /// Preferred I/O block size.
    pub blksize: Option<u64>,
    /// Allocated 512-byte blocks.
    pub blocks: Option<u64>,
}

impl FileInfo {
    /// An info with only a type and size; every other field unknown.
    pub fn basic(file_type: FileType, size: u64) -> Self {
        FileInfo {
            file_type,
            size,
            mtime: None,
            atime: None,
            birthtime: None,
            dev: 0,
            ino: None,
            mode: 0,
            nlink: None,
            uid: None,
            gid: None,
            rdev: None,
            blksize: None,
            blocks: None,
        }
    }

    /// True for a regular file.
    pub fn is_file(&self) -> bool {
        self.file_type == FileType::File
    }

    /// True for a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Directory
    }
}

/// One entry of [`crate::FileSystem::read_dir`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DirEntry {
    /// The path relative to the listed directory (`name`, or `sub/name` in a recursive listing).
    pub relative: String,
    /// The entry's full path.
    pub path: VPath,
    /// Its type (a symlink is reported as a link, not followed).
    pub file_type: FileType,
}

/// A change seen by [`crate::FileSystem::watch`], with Effect's three tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WatchEvent {
    /// Something was created at this path.
    Create(VPath),
    /// The content or metadata at this path changed.
    Update(VPath),
    /// This path was removed (or renamed away).
    Remove(VPath),
}

impl WatchEvent {
    /// The path the event is about.
    pub fn path(&self) -> &VPath {
        match self {
            WatchEvent::Create(p) | WatchEvent::Update(p) | WatchEvent::Remove(p) => p,
        }
    }
}
