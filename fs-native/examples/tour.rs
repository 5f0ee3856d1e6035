//! A tour of the crates: the same calls on `NativeFs` (in a directory) and on `MemoryFs`.
//!
//! `cargo run -p fs-native --example tour [DIR]` — without DIR it works in a new temporary directory
//! and removes it afterwards. It writes a file, streams 8 MiB through an atomic sink, reads it back in
//! chunks while hashing, moves a cursor around an open file, lists the tree, and shows how hostile
//! paths and missing files are refused.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use fs_core::{
    FileSystem, MakeDirOptions, MemoryFs, OpenFlag, OpenOptions, ReadDirOptions, SinkOptions,
    StreamOptions, VPath,
};
use fs_native::NativeFs;
use futures::StreamExt;
use sha2::{Digest, Sha256};

const BIG: usize = 8 * 1024 * 1024;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (dir, _guard) = match std::env::args().nth(1) {
        Some(dir) => (PathBuf::from(dir), None),
        None => {
            let temp = tempfile::tempdir()?;
            (temp.path().to_path_buf(), Some(temp))
        }
    };
    std::fs::create_dir_all(&dir)?;
    println!("== NativeFs rooted at {}", dir.display());
    let native = tour(Arc::new(NativeFs::new(&dir))).await?;
    println!("\n== MemoryFs");
    let memory = tour(Arc::new(MemoryFs::new())).await?;
    if native != memory {
        return Err(format!("the backends disagree: {native} vs {memory}").into());
    }
    println!("\nBoth backends produced the same SHA-256: {native}");
    Ok(())
}

/// Runs the tour on one backend and returns the hash of the big file as read back.
async fn tour(fs: Arc<dyn FileSystem>) -> Result<String, Box<dyn std::error::Error>> {
    println!("capabilities: {:?}", fs.capabilities());

    let docs = VPath::new("/docs/notes")?;
    fs.make_dir(
        &docs,
        MakeDirOptions {
            recursive: true,
            mode: None,
        },
    )
    .await?;
    let note = docs.join("hello.txt")?;
    fs.write_file_string(&note, "lorem ipsum dolor sit amet", OpenOptions::write())
        .await?;
    println!("wrote {note}: {:?}", fs.read_file_string(&note).await?);

    let mut file = fs
        .open(&note, OpenOptions::flag(OpenFlag::ReadWrite))
        .await?;
    file.seek(SeekFrom::Start(6)).await?;
    file.write_all(b"IPSUM").await?;
    file.seek(SeekFrom::Start(0)).await?;
    let head = file.read_alloc(11).await?.unwrap_or_default();
    file.close().await?;
    println!(
        "r+ overwrote in place, without truncating: {:?}",
        String::from_utf8_lossy(&head)
    );

    let big = VPath::new("/media/big.bin")?;
    fs.make_dir(
        &big.parent().unwrap_or_else(VPath::root),
        MakeDirOptions {
            recursive: true,
            mode: None,
        },
    )
    .await?;
    let started = Instant::now();
    let mut sink = fs.write_sink(&big, SinkOptions::default()).await?;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut written = 0;
    while written < BIG {
        let len = (BIG - written).min(300_001);
        let chunk: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        sink.write(Bytes::from(chunk)).await?;
        written += len;
    }
    println!("sink open: {big} exists yet? {}", fs.exists(&big).await?);
    sink.close().await?;
    println!(
        "sink closed: {} bytes in {:.1?}",
        fs.stat(&big).await?.size,
        started.elapsed()
    );

    let mut hasher = Sha256::new();
    let mut chunks = 0;
    let mut stream = fs.read_stream(&big, StreamOptions::default()).await?;
    while let Some(chunk) = stream.next().await {
        hasher.update(&chunk?);
        chunks += 1;
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("streamed back in {chunks} chunks of at most 64 KiB, sha256 {hash}");

    println!("tree:");
    for entry in fs
        .read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await?
    {
        println!("  {:<28} {:?}", entry.relative, entry.file_type);
    }

    for hostile in [
        "/docs/../etc/passwd",
        "/a//b",
        "relative/path",
        "/nul\0byte",
        "/back\\slash",
    ] {
        match VPath::new(hostile) {
            Ok(path) => println!("unexpectedly accepted {path}"),
            Err(e) => println!("refused {hostile:?}: {e}"),
        }
    }
    match fs.read_file(&VPath::new("/missing.txt")?).await {
        Ok(_) => println!("unexpectedly read a missing file"),
        Err(e) => println!("missing file: {e}"),
    }
    Ok(hash)
}
