//! Converting std's [`Metadata`] into fs-core's [`FileInfo`].

use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

use fs_core::{FileInfo, FileType};

/// The [`FileType`] of an OS file type (a symlink only when the metadata did not follow it).
pub(crate) fn file_type_of(kind: std::fs::FileType) -> FileType {
    if kind.is_file() {
        FileType::File
    } else if kind.is_dir() {
        FileType::Directory
    } else if kind.is_symlink() {
        FileType::SymbolicLink
    } else if kind.is_block_device() {
        FileType::BlockDevice
    } else if kind.is_char_device() {
        FileType::CharacterDevice
    } else if kind.is_fifo() {
        FileType::Fifo
    } else if kind.is_socket() {
        FileType::Socket
    } else {
        FileType::Unknown
    }
}

/// Every field of [`FileInfo`], from `lstat`/`stat`/`fstat` metadata. Times the file system does not
/// keep (birth time on some) are `None`.
pub(crate) fn file_info(meta: &Metadata) -> FileInfo {
    FileInfo {
        file_type: file_type_of(meta.file_type()),
        size: meta.len(),
        mtime: meta.modified().ok(),
        atime: meta.accessed().ok(),
        birthtime: meta.created().ok(),
        dev: meta.dev(),
        ino: Some(meta.ino()),
        mode: meta.mode(),
        nlink: Some(meta.nlink()),
        uid: Some(meta.uid()),
        gid: Some(meta.gid()),
        rdev: Some(meta.rdev()),
        blksize: Some(meta.blksize()),
        blocks: Some(meta.blocks()),
    }
}
