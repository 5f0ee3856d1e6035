//! The cases of the conformance suite (see the module docs of [`crate::conformance`]).

use std::sync::Arc;

use bytes::Bytes;

use crate::{FileSystem, OpenOptions, VPath};

fn p(path: &str) -> VPath {
    VPath::new(path).expect("test paths are valid")
}

/// Bytes written with `write_file` read back the same through a freshly opened handle.
pub async fn write_then_read_through_fresh_handle(fs: Arc<dyn FileSystem>) {
    let path = p("/fresh.bin");
    fs.write_file(
        &path,
        Bytes::from_static(b"hello world"),
        OpenOptions::write(),
    )
    .await
    .expect("write_file");
    let mut file = fs.open(&path, OpenOptions::read()).await.expect("open");
    let got = file
        .read_alloc(64)
        .await
        .expect("read_alloc")
        .expect("bytes before EOF");
    assert_eq!(&got[..], b"hello world");
    assert_eq!(file.read_alloc(64).await.expect("read at EOF"), None);
    file.close().await.expect("close");
}
