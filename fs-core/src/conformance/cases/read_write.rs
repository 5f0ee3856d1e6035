//! Whole-file reads and writes: `write_file` with each flag, `read_file(_string)`, `truncate`, `stat`,
//! large files compared by hash, and concurrent writes.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::join_all;

use super::support::{
    collect_stream, expect_kind, listing, mkdir, p, random_bytes, read, read_string, sha256_hex,
    sha256_hex_of_chunks, write, Must,
};
use crate::{
    ErrorKind, FileSystem, FileType, OpenFlag, OpenOptions, SinkOptions, StreamOptions, VPath,
    DEFAULT_CHUNK_SIZE,
};

/// Every case starts in an empty namespace: the root is an empty directory.
pub async fn namespace_starts_empty(fs: Arc<dyn FileSystem>) {
    let root = VPath::root();
    assert!(
        listing(&*fs, &root, true).await.is_empty(),
        "the namespace must be empty when a case starts"
    );
    let info = fs.stat(&root).await.must("stat /");
    assert_eq!(info.file_type, FileType::Directory, "/ must be a directory");
    assert!(fs.exists(&root).await.must("exists /"), "/ must exist");
}

/// Bytes written with `write_file` read back the same through a freshly opened handle.
pub async fn write_then_read_through_fresh_handle(fs: Arc<dyn FileSystem>) {
    let path = p("/fresh.bin");
    let data = random_bytes(1, 1000);
    write(&*fs, &path, &data).await;
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    let got = file
        .read_alloc(4096)
        .await
        .must("read_alloc")
        .expect("bytes before EOF");
    let mut all = got.to_vec();
    while let Some(more) = file.read_alloc(4096).await.must("read_alloc") {
        all.extend_from_slice(&more);
    }
    assert_eq!(all, data, "a fresh handle must read what write_file wrote");
    assert_eq!(file.read_alloc(64).await.must("read at EOF"), None);
    file.close().await.must("close");
}

/// `write_file` with the default flag `w` replaces a longer file completely (no old tail left).
pub async fn write_file_replaces_content(fs: Arc<dyn FileSystem>) {
    let path = p("/replace.txt");
    write(&*fs, &path, b"a much longer original content").await;
    write(&*fs, &path, b"short").await;
    assert_eq!(read(&*fs, &path).await, b"short");
    let info = fs.stat(&path).await.must("stat");
    assert_eq!(info.size, 5, "stat must report the new size");
}

/// With [`crate::Capabilities::atomic_write_file`], reads racing a `w` replace of a 4 MiB file see
/// the old or the new content whole, never a prefix or a mix.
pub async fn atomic_write_file_is_never_seen_half_done(fs: Arc<dyn FileSystem>) {
    if !fs.capabilities().atomic_write_file {
        return;
    }
    let path = p("/atomic.bin");
    let old = vec![b'a'; 4 << 20];
    let new = vec![b'b'; 4 << 20];
    write(&*fs, &path, &old).await;
    let replace = fs.write_file(&path, Bytes::from(new.clone()), OpenOptions::write());
    let reads = join_all((0..8).map(|_| fs.read_file(&path)));
    let (replaced, reads) = futures::join!(replace, reads);
    replaced.must("write_file w");
    for (i, seen) in reads.into_iter().enumerate() {
        let seen = seen.must("read_file during the replace");
        assert!(
            seen[..] == old[..] || seen[..] == new[..],
            "read {i} during an atomic write_file saw {} bytes that are neither the old nor the new content",
            seen.len()
        );
    }
    assert_eq!(
        read(&*fs, &path).await,
        new,
        "the new content must be there after the write"
    );
}

/// `write_file_string` and `read_file_string` round-trip non-ASCII text byte for byte.
pub async fn write_file_string_round_trips_unicode(fs: Arc<dyn FileSystem>) {
    let path = p("/text.txt");
    let text = "héllo wörld ✓ 😀\r\n日本語\tend\n";
    fs.write_file_string(&path, text, OpenOptions::write())
        .await
        .must("write_file_string");
    assert_eq!(read_string(&*fs, &path).await, text);
    assert_eq!(read(&*fs, &path).await, text.as_bytes());
}

/// `read_file_string` of bytes that are not UTF-8 is `InvalidData`; `read_file` still reads them.
pub async fn read_file_string_rejects_non_utf8(fs: Arc<dyn FileSystem>) {
    let path = p("/binary.bin");
    let bytes = [b'o', b'k', 0xff, 0xfe, 0x80, b'!'];
    write(&*fs, &path, &bytes).await;
    expect_kind(
        fs.read_file_string(&path).await,
        ErrorKind::InvalidData,
        "read_file_string of non-UTF-8 bytes",
    );
    assert_eq!(read(&*fs, &path).await, bytes);
}

/// An empty file exists, has size 0, reads as empty and streams no bytes.
pub async fn empty_file_round_trips(fs: Arc<dyn FileSystem>) {
    let path = p("/empty");
    write(&*fs, &path, b"").await;
    let info = fs.stat(&path).await.must("stat");
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.size, 0);
    assert!(read(&*fs, &path).await.is_empty());
    assert_eq!(read_string(&*fs, &path).await, "");
    let chunks = collect_stream(&*fs, &path, StreamOptions::default(), 0).await;
    assert!(
        chunks.iter().all(|c| c.is_empty()),
        "an empty file must stream no bytes"
    );
}

/// `wx` creates a missing file, and on an existing one fails with `AlreadyExists` leaving the old
/// content unchanged (Effect's exclusive-create test).
pub async fn write_file_exclusive_keeps_existing(fs: Arc<dyn FileSystem>) {
    let path = p("/exclusive.txt");
    let wx = OpenOptions::flag(OpenFlag::WriteExclusive);
    fs.write_file(&path, Bytes::from_static(b"first"), wx)
        .await
        .must("write_file wx on a missing path");
    expect_kind(
        fs.write_file(&path, Bytes::from_static(b"second"), wx)
            .await,
        ErrorKind::AlreadyExists,
        "write_file wx on an existing file",
    );
    assert_eq!(
        read(&*fs, &path).await,
        b"first",
        "a failed wx must not touch the file"
    );
    for flag in [
        OpenFlag::WriteReadExclusive,
        OpenFlag::AppendExclusive,
        OpenFlag::AppendReadExclusive,
    ] {
        expect_kind(
            fs.write_file(&path, Bytes::from_static(b"x"), OpenOptions::flag(flag))
                .await,
            ErrorKind::AlreadyExists,
            format!("write_file {flag} on an existing file"),
        );
    }
    assert_eq!(read(&*fs, &path).await, b"first");
}

/// `a` creates a missing file and appends to an existing one.
pub async fn write_file_append_flag_appends(fs: Arc<dyn FileSystem>) {
    let path = p("/append.log");
    let append = OpenOptions::flag(OpenFlag::Append);
    fs.write_file(&path, Bytes::from_static(b"foo"), append)
        .await
        .must("write_file a on a missing path");
    fs.write_file(&path, Bytes::from_static(b"bar"), append)
        .await
        .must("write_file a on an existing file");
    fs.write_file(
        &path,
        Bytes::from_static(b"baz"),
        OpenOptions::flag(OpenFlag::AppendRead),
    )
    .await
    .must("write_file a+");
    assert_eq!(read_string(&*fs, &path).await, "foobarbaz");
}

/// Every flag that creates (`w`, `wx`, `w+`, `wx+`, `a`, `ax`, `a+`, `ax+`) makes a missing file with
/// exactly the bytes written.
pub async fn write_file_creating_flags_create_missing_files(fs: Arc<dyn FileSystem>) {
    for flag in OpenFlag::ALL.into_iter().filter(|f| f.creates()) {
        let path = p(&format!("/created-{}", flag.as_str().replace('+', "plus")));
        let data = format!("written with {flag}");
        fs.write_file(&path, Bytes::from(data.clone()), OpenOptions::flag(flag))
            .await
            .must(format!("write_file {flag} on a missing path"));
        assert_eq!(read_string(&*fs, &path).await, data, "content after {flag}");
    }
    assert_eq!(super::support::names(&*fs, &VPath::root()).await.len(), 8);
}

/// `r+` overwrites from the start without truncating, and needs an existing file.
pub async fn write_file_read_write_overwrites_without_truncating(fs: Arc<dyn FileSystem>) {
    let path = p("/rplus.txt");
    write(&*fs, &path, b"hello world").await;
    fs.write_file(
        &path,
        Bytes::from_static(b"HEY"),
        OpenOptions::flag(OpenFlag::ReadWrite),
    )
    .await
    .must("write_file r+");
    assert_eq!(read_string(&*fs, &path).await, "HEYlo world");
    let missing = p("/missing.txt");
    expect_kind(
        fs.write_file(
            &missing,
            Bytes::from_static(b"x"),
            OpenOptions::flag(OpenFlag::ReadWrite),
        )
        .await,
        ErrorKind::NotFound,
        "write_file r+ on a missing file",
    );
    assert!(!fs.exists(&missing).await.must("exists"));
}

/// `truncate` of a path: to 0 (Effect's test), shrinking, and growing with zeros.
pub async fn truncate_path_shrinks_and_grows(fs: Arc<dyn FileSystem>) {
    let path = p("/truncate.txt");
    write(&*fs, &path, b"hello world").await;
    fs.truncate(&path, 0).await.must("truncate to 0");
    assert_eq!(read_string(&*fs, &path).await, "");
    write(&*fs, &path, b"hello world").await;
    fs.truncate(&path, 5).await.must("truncate to 5");
    assert_eq!(read_string(&*fs, &path).await, "hello");
    fs.truncate(&path, 8).await.must("truncate to 8");
    assert_eq!(read(&*fs, &path).await, b"hello\0\0\0");
    assert_eq!(fs.stat(&path).await.must("stat").size, 8);
}

/// `stat` reports the type and size of files and directories.
pub async fn stat_reports_type_and_size(fs: Arc<dyn FileSystem>) {
    let dir = p("/dir");
    let file = p("/dir/file.bin");
    mkdir(&*fs, &dir).await;
    write(&*fs, &file, &random_bytes(2, 12345)).await;
    let info = fs.stat(&file).await.must("stat file");
    assert_eq!(info.file_type, FileType::File);
    assert!(info.is_file() && !info.is_dir());
    assert_eq!(info.size, 12345);
    let info = fs.stat(&dir).await.must("stat dir");
    assert_eq!(info.file_type, FileType::Directory);
    assert!(info.is_dir() && !info.is_file());
}

/// A file of 3 MiB + 17 bytes (many chunks) written with `write_file` reads back with the same
/// SHA-256 through `read_file` and through the concatenated default `read_stream`, whose chunks are
/// never larger than the default chunk size.
pub async fn large_file_through_write_file_keeps_its_hash(fs: Arc<dyn FileSystem>) {
    let path = p("/large.bin");
    let data = random_bytes(3, 3 * 1024 * 1024 + 17);
    let expected = sha256_hex(&data);
    fs.write_file(&path, Bytes::from(data), OpenOptions::write())
        .await
        .must("write_file 3 MiB");
    assert_eq!(fs.stat(&path).await.must("stat").size, 3 * 1024 * 1024 + 17);
    let whole = fs.read_file(&path).await.must("read_file");
    assert_eq!(sha256_hex(&whole), expected, "read_file hash");
    let chunks = collect_stream(&*fs, &path, StreamOptions::default(), whole.len() as u64).await;
    assert!(
        chunks.iter().all(|c| c.len() <= DEFAULT_CHUNK_SIZE),
        "read_stream chunks must not exceed the default chunk size"
    );
    assert_eq!(
        sha256_hex_of_chunks(&chunks),
        expected,
        "read_stream concatenation hash"
    );
}

/// A large file written through a sink in uneven chunks reads back with the same SHA-256.
pub async fn large_file_through_sink_keeps_its_hash(fs: Arc<dyn FileSystem>) {
    let path = p("/sunk.bin");
    let data = random_bytes(4, 3 * 1024 * 1024 + 17);
    let expected = sha256_hex(&data);
    let mut sink = fs
        .write_sink(&path, SinkOptions::default())
        .await
        .must("write_sink");
    let sizes = [1usize, 4093, 65536, 65537, 100_003, 17, 262_149, 0, 7];
    let mut offset = 0;
    let mut turn = 0;
    while offset < data.len() {
        let size = sizes[turn % sizes.len()].min(data.len() - offset);
        turn += 1;
        sink.write(Bytes::copy_from_slice(&data[offset..offset + size]))
            .await
            .must(format!("sink write of {size} bytes at {offset}"));
        offset += size;
        assert_eq!(sink.bytes_written(), offset as u64, "bytes_written");
    }
    sink.close().await.must("sink close");
    let whole = fs.read_file(&path).await.must("read_file");
    assert_eq!(whole.len(), data.len(), "length after the sink closed");
    assert_eq!(sha256_hex(&whole), expected, "read_file hash");
    let options = StreamOptions {
        chunk_size: 100_000,
        ..StreamOptions::default()
    };
    let chunks = collect_stream(&*fs, &path, options, data.len() as u64).await;
    assert!(chunks.iter().all(|c| c.len() <= 100_000));
    assert_eq!(sha256_hex_of_chunks(&chunks), expected, "read_stream hash");
}

/// Sixteen writes to different paths issued at once all land, and concurrent reads see them.
pub async fn concurrent_writes_to_different_paths_all_land(fs: Arc<dyn FileSystem>) {
    let dir = p("/many");
    mkdir(&*fs, &dir).await;
    let paths: Vec<VPath> = (0..16)
        .map(|i| dir.join(&format!("file-{i:02}")).must("join"))
        .collect();
    let writes = paths.iter().enumerate().map(|(i, path)| {
        let fs = &*fs;
        async move {
            let data = random_bytes(100 + i as u64, 1000 + i * 4099);
            fs.write_file(path, Bytes::from(data), OpenOptions::write())
                .await
                .must(format!("concurrent write_file {path}"));
        }
    });
    join_all(writes).await;
    let reads = paths.iter().map(|path| fs.read_file(path));
    for (i, got) in join_all(reads).await.into_iter().enumerate() {
        let got = got.must(format!("concurrent read_file {}", paths[i]));
        assert_eq!(
            got.to_vec(),
            random_bytes(100 + i as u64, 1000 + i * 4099),
            "content of {}",
            paths[i]
        );
    }
    let mut expected: Vec<String> = (0..16).map(|i| format!("file-{i:02}")).collect();
    expected.sort();
    assert_eq!(super::support::names(&*fs, &dir).await, expected);
}

/// `write_file` with the read-only flag `r` never writes: `BadResource` for an existing file (which
/// keeps its bytes), `NotFound` for a missing one, `BadResource` for a directory.
pub async fn write_file_with_the_read_only_flag_never_writes(fs: Arc<dyn FileSystem>) {
    let original = random_bytes(64, 100);
    write(&*fs, &p("/f"), &original).await;
    mkdir(&*fs, &p("/d")).await;
    let read_only = OpenOptions::flag(OpenFlag::Read);
    for (path, kind) in [
        ("/f", ErrorKind::BadResource),
        ("/missing", ErrorKind::NotFound),
        ("/d", ErrorKind::BadResource),
    ] {
        expect_kind(
            fs.write_file(&p(path), Bytes::from_static(b"abc"), read_only)
                .await,
            kind,
            format!("write_file {path} with r"),
        );
    }
    assert_eq!(read(&*fs, &p("/f")).await, original);
    assert!(!fs.exists(&p("/missing")).await.must("exists"));
}
