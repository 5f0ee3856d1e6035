//! [`Capabilities`]: what a backend can do, so callers and tests branch instead of guessing.

/// What a backend supports. A call outside these answers [`crate::ErrorKind::Unsupported`]; it never
/// panics and never pretends to succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `symlink`, `read_link`, and symlinks reported by `stat`/`read_dir`.
    pub symlinks: bool,
    /// `link` (hard links).
    pub hard_links: bool,
    /// `chmod`, and `mode` options honoured on create.
    pub permissions: bool,
    /// `chown`.
    pub ownership: bool,
    /// `utimes`.
    pub set_times: bool,
    /// `watch`.
    pub watch: bool,
    /// `rename` of a file is atomic (readers see the old or the new file, never neither).
    pub atomic_rename: bool,
    /// `rename` of a directory is atomic.
    pub atomic_dir_rename: bool,
    /// `write_file` with the flag `w` on a path no open handle of this file system holds is
    /// atomic: readers (and a crash) see the old content or the whole new content, never a prefix
    /// or a mix. Callers can then write a file in place instead of a temporary file and a rename.
    pub atomic_write_file: bool,
    /// `open` with a writable flag returns a [`crate::File`] with random-access writes.
    pub random_access_write: bool,
    /// `File::sync` and `WriteSink::close` reach durable storage (fsync or the platform's equivalent).
    pub durable_sync: bool,
    /// `real_path` resolves links; without symlinks it still answers, normalizing the path.
    pub real_path: bool,
}

impl Capabilities {
    /// Everything supported (a full POSIX file system, plus atomic whole-file writes, which POSIX
    /// `write(2)` does not give).
    pub const ALL: Capabilities = Capabilities {
        symlinks: true,
        hard_links: true,
        permissions: true,
        ownership: true,
        set_times: true,
        watch: true,
        atomic_rename: true,
        atomic_dir_rename: true,
        atomic_write_file: true,
        random_access_write: true,
        durable_sync: true,
        real_path: true,
    };
}
