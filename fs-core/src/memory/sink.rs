//! Write sinks of [`super::MemoryFs`]: bytes gather in a private buffer and land at the path on close.
//!
//! Closing works like writing a temporary file and renaming it over the path: the path then names a
//! new inode (hard links to the old file keep the old bytes, open handles keep reading the old inode)
//! with the old file's permission bits and root as its owner.
//! A symbolic link at the path is followed, so the bytes land in the file it points at.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::{ErrorKind, FsResult};
use crate::file::WriteSink;
use crate::options::SinkMode;
use crate::path::VPath;

use super::tree::{fail, last_ino, Lookup, Node, Tree, DEFAULT_FILE_PERMISSIONS};
use super::watch::Change;
use super::Shared;

/// A [`WriteSink`] of [`super::MemoryFs`].
pub(super) struct MemorySink {
    shared: Arc<Shared>,
    path: VPath,
    mode: SinkMode,
    permissions: Option<u32>,
    buffer: Vec<u8>,
}

impl MemorySink {
    /// Checks that a sink at `path` could be committed now (the parent is a directory, the path is not
    /// a directory, and for [`SinkMode::CreateNew`] nothing is there) and creates it.
    pub(super) fn open(
        shared: Arc<Shared>,
        tree: &Tree,
        path: &VPath,
        mode: SinkMode,
        permissions: Option<u32>,
    ) -> FsResult<MemorySink> {
        target(tree, path, mode, "sink")?;
        Ok(MemorySink {
            shared,
            path: path.clone(),
            mode,
            permissions,
            buffer: Vec::new(),
        })
    }
}

/// Where a sink's bytes go: the existing file's chain, or the directory and name of a new one.
fn target(tree: &Tree, path: &VPath, mode: SinkMode, method: &'static str) -> FsResult<Lookup> {
    let follow = mode != SinkMode::CreateNew;
    let lookup = tree
        .walk(path, follow)
        .map_err(|e| e.into_fs(method, path))?;
    if let Lookup::Found(chain) = &lookup {
        if mode == SinkMode::CreateNew {
            return Err(fail(
                ErrorKind::AlreadyExists,
                method,
                path,
                "the path already exists",
            ));
        }
        if tree.is_dir(last_ino(chain)) {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "the path is a directory",
            ));
        }
    }
    Ok(lookup)
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait(?Send))]
impl WriteSink for MemorySink {
    async fn write(&mut self, chunk: Bytes) -> FsResult<()> {
        if self.buffer.try_reserve(chunk.len()).is_err() {
            return Err(fail(
                ErrorKind::StorageFull,
                "Sink.write",
                &self.path,
                "out of memory for the sink's buffer",
            ));
        }
        self.buffer.extend_from_slice(&chunk);
        Ok(())
    }

    fn bytes_written(&self) -> u64 {
        self.buffer.len() as u64
    }

    async fn close(self: Box<Self>) -> FsResult<()> {
        let MemorySink {
            shared,
            path,
            mode,
            permissions,
            buffer,
        } = *self;
        let method = "Sink.close";
        let mut tree = shared.lock();
        match target(&tree, &path, mode, method)? {
            Lookup::Missing { parent, name } => {
                let perm = permissions.unwrap_or(DEFAULT_FILE_PERMISSIONS);
                let chain = tree.create_file(&parent, &name, buffer, perm, method, &path)?;
                tree.notify(Change::Create, &chain);
            }
            Lookup::Found(mut chain) => {
                let old = last_ino(&chain);
                let old_perm = tree.inode(old).perm;
                let content = match mode {
                    SinkMode::Append => {
                        let old_bytes = tree.content(old).map_or(&[][..], Vec::as_slice);
                        let mut joined = Vec::new();
                        if joined
                            .try_reserve_exact(old_bytes.len() + buffer.len())
                            .is_err()
                        {
                            return Err(fail(
                                ErrorKind::StorageFull,
                                method,
                                &path,
                                "out of memory for the appended file",
                            ));
                        }
                        joined.extend_from_slice(old_bytes);
                        joined.extend_from_slice(&buffer);
                        joined
                    }
                    SinkMode::Replace | SinkMode::CreateNew => buffer,
                };
                // The old inode keeps its bytes until its last link and handle are gone, so the new
                // content is charged in full.
                tree.charge(content.len() as u64, method, &path)?;
                // Like `open(2)`'s mode, `permissions` only applies to a file the sink creates.
                let new = tree.alloc(Node::File(content), old_perm);
                let Some((name, _)) = chain.pop() else {
                    return Err(fail(
                        ErrorKind::BadResource,
                        method,
                        &path,
                        "the path is a directory",
                    ));
                };
                tree.swap_entry(last_ino(&chain), &name, new);
                tree.drop_link(old);
                chain.push((name, new));
                tree.notify(Change::Update, &chain);
            }
        }
        Ok(())
    }

    async fn abort(self: Box<Self>) -> FsResult<()> {
        // Nothing reached the tree; dropping the buffer is the whole job.
        Ok(())
    }
}
