//! The engine's error type: what went wrong, which file it concerns, and the cause underneath.

use std::error::Error as StdError;
use std::fmt;

use fs_core::FsError;

use crate::catalog::CatalogError;
use crate::services::remote_storage::RemoteError;

/// What went wrong with an engine call or a transfer. [`FileSyncError::kind`] names the kind,
/// [`FileSyncError::file_id`] the file it concerns (when there is one), and
/// [`std::error::Error::source`] the failure underneath (local storage, the catalog or the remote).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FileSyncError {
    /// No live file has this id.
    NotFound {
        /// The id asked for.
        file_id: String,
    },
    /// The content is larger than `max_file_size`.
    TooLarge {
        /// The file being updated (`None` for a new file).
        file_id: Option<String>,
        /// The limit.
        limit: u64,
    },
    /// The input was refused (the message says why); nothing changed.
    InvalidInput {
        /// The file concerned, when there is one.
        file_id: Option<String>,
        /// Why.
        message: String,
    },
    /// The file is not stored on this client yet (resolve it or wait for the download).
    NotLocal {
        /// The file.
        file_id: String,
    },
    /// Local storage failed.
    Storage {
        /// The file concerned, when there is one.
        file_id: Option<String>,
        /// The file system's error.
        source: FsError,
    },
    /// The catalog failed.
    Catalog {
        /// The file concerned, when there is one.
        file_id: Option<String>,
        /// The catalog's error.
        source: CatalogError,
    },
    /// The remote failed (this includes downloaded bytes that do not match the file's hash).
    Remote {
        /// The file concerned, when there is one.
        file_id: Option<String>,
        /// The remote's error (its kind tells offline from refused, and so on).
        source: RemoteError,
    },
    /// The engine was stopped.
    Stopped,
}

/// The kinds of [`FileSyncError`], for matching without the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileSyncErrorKind {
    /// See [`FileSyncError::NotFound`].
    NotFound,
    /// See [`FileSyncError::TooLarge`].
    TooLarge,
    /// See [`FileSyncError::InvalidInput`].
    InvalidInput,
    /// See [`FileSyncError::NotLocal`].
    NotLocal,
    /// See [`FileSyncError::Storage`].
    Storage,
    /// See [`FileSyncError::Catalog`].
    Catalog,
    /// See [`FileSyncError::Remote`].
    Remote,
    /// See [`FileSyncError::Stopped`].
    Stopped,
}

impl FileSyncError {
    /// The kind of failure.
    pub fn kind(&self) -> FileSyncErrorKind {
        match self {
            FileSyncError::NotFound { .. } => FileSyncErrorKind::NotFound,
            FileSyncError::TooLarge { .. } => FileSyncErrorKind::TooLarge,
            FileSyncError::InvalidInput { .. } => FileSyncErrorKind::InvalidInput,
            FileSyncError::NotLocal { .. } => FileSyncErrorKind::NotLocal,
            FileSyncError::Storage { .. } => FileSyncErrorKind::Storage,
            FileSyncError::Catalog { .. } => FileSyncErrorKind::Catalog,
            FileSyncError::Remote { .. } => FileSyncErrorKind::Remote,
            FileSyncError::Stopped => FileSyncErrorKind::Stopped,
        }
    }

    /// The file the error concerns, when there is one.
    pub fn file_id(&self) -> Option<&str> {
        match self {
            FileSyncError::NotFound { file_id } | FileSyncError::NotLocal { file_id } => {
                Some(file_id)
            }
            FileSyncError::TooLarge { file_id, .. }
            | FileSyncError::InvalidInput { file_id, .. }
            | FileSyncError::Storage { file_id, .. }
            | FileSyncError::Catalog { file_id, .. }
            | FileSyncError::Remote { file_id, .. } => file_id.as_deref(),
            FileSyncError::Stopped => None,
        }
    }

    /// The remote's error, when the remote failed.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            FileSyncError::Remote { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Sets the file the error concerns (where the variant has room for one and none is set).
    pub fn for_file(mut self, id: &str) -> Self {
        match &mut self {
            FileSyncError::TooLarge { file_id, .. }
            | FileSyncError::InvalidInput { file_id, .. }
            | FileSyncError::Storage { file_id, .. }
            | FileSyncError::Catalog { file_id, .. }
            | FileSyncError::Remote { file_id, .. } => {
                if file_id.is_none() {
                    *file_id = Some(id.to_owned());
                }
            }
            FileSyncError::NotFound { .. }
            | FileSyncError::NotLocal { .. }
            | FileSyncError::Stopped => {}
        }
        self
    }

    pub(crate) fn not_found(file_id: &str) -> Self {
        FileSyncError::NotFound {
            file_id: file_id.to_owned(),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        FileSyncError::InvalidInput {
            file_id: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for FileSyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(id) = self.file_id() {
            if !matches!(
                self,
                FileSyncError::NotFound { .. } | FileSyncError::NotLocal { .. }
            ) {
                write!(f, "file {id:?}: ")?;
            }
        }
        match self {
            FileSyncError::NotFound { file_id } => {
                write!(f, "no file with id {file_id:?} (it may be deleted)")
            }
            FileSyncError::TooLarge { limit, .. } => write!(
                f,
                "the file is larger than the configured maximum of {limit} bytes (max_file_size)"
            ),
            FileSyncError::InvalidInput { message, .. } => write!(f, "invalid input: {message}"),
            FileSyncError::NotLocal { file_id } => write!(
                f,
                "file {file_id:?} is not stored on this client yet; resolve() it to download it first"
            ),
            FileSyncError::Storage { source, .. } => write!(f, "local storage: {source}"),
            FileSyncError::Catalog { source, .. } => write!(f, "{source}"),
            FileSyncError::Remote { source, .. } => write!(f, "remote storage: {source}"),
            FileSyncError::Stopped => write!(f, "the file sync engine is stopped"),
        }
    }
}

impl StdError for FileSyncError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            FileSyncError::Storage { source, .. } => Some(source),
            FileSyncError::Catalog { source, .. } => Some(source),
            FileSyncError::Remote { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<FsError> for FileSyncError {
    fn from(source: FsError) -> Self {
        FileSyncError::Storage {
            file_id: None,
            source,
        }
    }
}

impl From<CatalogError> for FileSyncError {
    fn from(source: CatalogError) -> Self {
        FileSyncError::Catalog {
            file_id: None,
            source,
        }
    }
}

impl From<RemoteError> for FileSyncError {
    fn from(source: RemoteError) -> Self {
        FileSyncError::Remote {
            file_id: None,
            source,
        }
    }
}

/// Result of an engine call.
pub type FileSyncResult<T> = Result<T, FileSyncError>;
