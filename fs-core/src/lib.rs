//! `fs-core`: the file system abstraction of livestore-filesync.
//!
//! - [`FileSystem`]: Effect's platform FileSystem as an object-safe async trait, with [`File`] handles
//!   (Effect's cursor rules), [`WriteSink`]s (nothing visible before close) and chunked [`ByteStream`]s;
//! - [`FsError`] with an [`ErrorKind`] that is the same on every backend for the same situation;
//! - [`VPath`], the one validated path type, and [`Capabilities`];
//! - [`MemoryFs`], a complete in-memory backend and the oracle of the property tests;
//! - with the `conformance` feature, the shared conformance suite every backend runs.
//!
//! ```
//! use fs_core::{FileSystem, MemoryFs, OpenOptions, VPath};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), fs_core::FsError> {
//! let fs = MemoryFs::new();
//! let path = VPath::new("/hello.txt")?;
//! fs.write_file_string(&path, "hi", OpenOptions::write()).await?;
//! assert_eq!(fs.read_file_string(&path).await?, "hi");
//! # Ok(())
//! # }
//! ```

mod capabilities;
mod error;
mod file;
mod filesystem;
mod info;
mod maybe_send;
mod memory;
mod options;
mod path;
mod temp;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use capabilities::Capabilities;
pub use error::{kind_of_io_error, ErrorKind, FsError, FsResult};
pub use file::{ByteStream, File, WatchStream, WriteSink};
pub use filesystem::FileSystem;
pub use info::{DirEntry, FileInfo, FileType, WatchEvent};
pub use maybe_send::{MaybeSend, MaybeSendBoxFuture, MaybeSendBoxStream, MaybeSync};
pub use memory::MemoryFs;
pub use options::{
    AccessOptions, CopyOptions, MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions,
    RemoveOptions, SinkMode, SinkOptions, StreamOptions, TempOptions, WatchOptions,
    DEFAULT_CHUNK_SIZE,
};
pub use path::{validate_name, VPath, MAX_NAME_BYTES};
pub use temp::{random_name, TempDirGuard, TempFileGuard};
pub use web_time::SystemTime;
