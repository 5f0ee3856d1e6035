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
    /// `open` with a writable flag returns a [`crate::File`] with random-access writes.
    pub random_access_write: bool,
    /// `File::sync` and `WriteSink::close` reach durable storage (fsync or the platform's equivalent).
    pub durable_sync: bool,
    /// `real_path` resolves links; without symlinks it still answers, normalizing the path.
    pub real_path: bool,
}

impl Capabilities {
    /// Everything supported (a full POSIX file system).
    pub const ALL: Capabilities = Capabilities {
        symlinks: true,
        hard_links: true,
        permissions: true,
        ownership: true,
        set_times: true,
        watch: true,
        atomic_rename: true,
        atomic_dir_rename: true,
        random_access_write: true,
        durable_sync: true,
        real_path: true,
    };
}
