//! The durable queue of remote deletes: a record per key on the engine's own file system
//! (`…/{storeId}/.deletes/{sha256(key)}.json`, `{"key","dueAt"}`), so deletes survive restarts.

use bytes::Bytes;
use fs_core::{
    ErrorKind, FsResult, MakeDirOptions, ReadDirOptions, RemoveOptions, SinkOptions, VPath,
};
use serde::{Deserialize, Serialize};

use crate::services::hash::hash_bytes;
use crate::services::local_file_storage::LocalFileStorage;

const DELETES_DIR: &str = ".deletes";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteRecord {
    key: String,
    due_at: i64,
}

/// The durable queue of remote deletes.
pub(super) struct DeleteQueue {
    storage: LocalFileStorage,
}

impl DeleteQueue {
    pub(super) fn new(storage: LocalFileStorage) -> Self {
        DeleteQueue { storage }
    }

    fn dir(&self) -> VPath {
        self.storage
            .dir()
            .join(DELETES_DIR)
            .expect("a constant name is a valid path segment")
    }

    fn path(&self, key: &str) -> VPath {
        self.dir()
            .join(&format!("{}.json", hash_bytes(key.as_bytes())))
            .expect("a hash is a valid path segment")
    }

    pub(super) async fn put(&self, key: &str, due_at: i64) -> FsResult<()> {
        let fs = self.storage.fs();
        fs.make_dir(
            &self.dir(),
            MakeDirOptions {
                recursive: true,
                mode: None,
            },
        )
        .await?;
        let json = serde_json::to_vec(&DeleteRecord {
            key: key.to_owned(),
            due_at,
        })
        .expect("a record serializes");
        let mut sink = fs
            .write_sink(&self.path(key), SinkOptions::default())
            .await?;
        if let Err(e) = sink.write(Bytes::from(json)).await {
            if let Err(abort) = sink.abort().await {
                tracing::warn!(key, error = %abort, "cannot discard a pending delete's record");
            }
            return Err(e);
        }
        sink.close().await
    }

    pub(super) async fn get(&self, key: &str) -> FsResult<Option<i64>> {
        match self.storage.fs().read_file(&self.path(key)).await {
            Ok(data) => Ok(serde_json::from_slice::<DeleteRecord>(&data)
                .ok()
                .map(|r| r.due_at)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn remove(&self, key: &str) -> FsResult<()> {
        self.storage
            .fs()
            .remove(
                &self.path(key),
                RemoveOptions {
                    recursive: false,
                    force: true,
                },
            )
            .await
    }

    /// Every pending delete as (key, due time). Unreadable records are skipped.
    pub(super) async fn list(&self) -> FsResult<Vec<(String, i64)>> {
        let fs = self.storage.fs();
        let entries = match fs.read_dir(&self.dir(), ReadDirOptions::default()).await {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in entries {
            if let Ok(data) = fs.read_file(&entry.path).await {
                if let Ok(r) = serde_json::from_slice::<DeleteRecord>(&data) {
                    out.push((r.key, r.due_at));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
