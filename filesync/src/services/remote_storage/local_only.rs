//! [`LocalOnly`]: the remote of local-only mode.

use async_trait::async_trait;

use super::{
    Download, RemoteError, RemoteErrorKind, RemoteResult, RemoteStorage, SignedUrl, UploadRequest,
};

/// No remote: [`RemoteStorage::is_local_only`] is true and every call fails with
/// [`RemoteErrorKind::LocalOnly`] (the engine never makes them).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalOnly;

fn refused() -> RemoteError {
    RemoteError::new(
        RemoteErrorKind::LocalOnly,
        "no remote storage is configured (local-only mode)",
    )
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl RemoteStorage for LocalOnly {
    fn is_local_only(&self) -> bool {
        true
    }
    async fn health(&self) -> RemoteResult<()> {
        Err(refused())
    }
    async fn upload(&self, _req: UploadRequest) -> RemoteResult<()> {
        Err(refused())
    }
    async fn download(&self, _key: &str, _offset: u64) -> RemoteResult<Download> {
        Err(refused())
    }
    async fn delete(&self, _key: &str) -> RemoteResult<()> {
        Err(refused())
    }
    async fn download_url(&self, _key: &str) -> RemoteResult<SignedUrl> {
        Err(refused())
    }
}
