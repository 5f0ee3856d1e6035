//! `read_stream` (chunking and ranges) and `write_sink` (nothing visible before close).

use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;

use super::support::{
    collect_chunks, collect_stream, concat, exists, expect_kind, mkdir, names, open_sink, p,
    random_bytes, read, read_string, write, Must,
};
use crate::{ErrorKind, FileSystem, SinkMode, SinkOptions, StreamOptions, VPath, WriteSink};

fn range(chunk_size: usize, offset: u64, length: Option<u64>) -> StreamOptions {
    StreamOptions {
        chunk_size,
        offset,
        length,
    }
}

async fn sink_write(sink: &mut Box<dyn WriteSink>, data: &[u8]) {
    sink.write(Bytes::copy_from_slice(data))
        .await
        .must("sink write");
}

/// No chunk is larger than `chunk_size`, and the chunks add up to the file, for several sizes.
pub async fn read_stream_respects_chunk_size(fs: Arc<dyn FileSystem>) {
    let path = p("/chunks.bin");
    let data = random_bytes(20, 1000);
    write(&*fs, &path, &data).await;
    for chunk_size in [1usize, 7, 999, 1000, 1001, 65536] {
        let chunks = collect_stream(&*fs, &path, range(chunk_size, 0, None), 1000).await;
        assert!(
            chunks.iter().all(|c| c.len() <= chunk_size),
            "chunk_size {chunk_size}: a chunk is larger ({:?})",
            chunks.iter().map(|c| c.len()).max()
        );
        assert_eq!(
            concat(&chunks),
            data,
            "chunk_size {chunk_size}: the chunks must add up to the file"
        );
    }
}

/// A range in the middle (`offset` + `length`) streams exactly those bytes, in small chunks too.
pub async fn read_stream_range_in_the_middle(fs: Arc<dyn FileSystem>) {
    let path = p("/range.bin");
    let data = random_bytes(21, 200_000);
    write(&*fs, &path, &data).await;
    for (chunk_size, offset, length) in [
        (65536, 100, 50),
        (7, 100, 50),
        (65536, 65_000, 70_000),
        (4096, 1, 199_998),
    ] {
        let chunks =
            collect_stream(&*fs, &path, range(chunk_size, offset, Some(length)), length).await;
        assert!(chunks.iter().all(|c| c.len() <= chunk_size));
        assert_eq!(
            concat(&chunks),
            &data[offset as usize..(offset + length) as usize],
            "offset {offset} length {length} chunk_size {chunk_size}"
        );
    }
}

/// An offset at the end of the file, or a zero length, streams no bytes.
pub async fn read_stream_empty_ranges(fs: Arc<dyn FileSystem>) {
    let path = p("/eof.bin");
    write(&*fs, &path, &random_bytes(22, 1000)).await;
    let at_eof = collect_stream(&*fs, &path, range(64, 1000, None), 0).await;
    assert!(concat(&at_eof).is_empty(), "offset at EOF streams nothing");
    let at_eof = collect_stream(&*fs, &path, range(64, 1000, Some(10)), 0).await;
    assert!(
        concat(&at_eof).is_empty(),
        "offset at EOF with a length streams nothing"
    );
    let zero = collect_stream(&*fs, &path, range(64, 10, Some(0)), 0).await;
    assert!(concat(&zero).is_empty(), "a zero length streams nothing");
}

/// A length reaching past the end of the file streams the rest of the file.
pub async fn read_stream_length_beyond_eof_reads_rest(fs: Arc<dyn FileSystem>) {
    let path = p("/rest.bin");
    let data = random_bytes(23, 1000);
    write(&*fs, &path, &data).await;
    let chunks = collect_stream(&*fs, &path, range(300, 900, Some(5000)), 100).await;
    assert_eq!(concat(&chunks), &data[900..]);
    let chunks = collect_stream(&*fs, &path, range(300, 0, Some(u64::MAX)), 1000).await;
    assert_eq!(concat(&chunks), data);
}

/// `read_stream` fails before the stream exists for a missing file (`NotFound`) and a zero chunk
/// size (`BadArgument`); a directory is `BadResource` (on the call or as the first item).
pub async fn read_stream_errors(fs: Arc<dyn FileSystem>) {
    expect_kind(
        fs.read_stream(&p("/missing"), StreamOptions::default())
            .await,
        ErrorKind::NotFound,
        "read_stream of a missing file",
    );
    expect_kind(
        fs.read_stream(&p("/missing/below"), StreamOptions::default())
            .await,
        ErrorKind::NotFound,
        "read_stream below a missing directory",
    );
    write(&*fs, &p("/file"), b"content").await;
    expect_kind(
        fs.read_stream(&p("/file"), range(0, 0, None)).await,
        ErrorKind::BadArgument,
        "read_stream with chunk_size 0",
    );
    mkdir(&*fs, &p("/dir")).await;
    match fs.read_stream(&p("/dir"), StreamOptions::default()).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::BadResource,
            "read_stream of a directory: {e}"
        ),
        Ok(mut stream) => match stream.next().await {
            Some(Err(e)) => assert_eq!(
                e.kind(),
                ErrorKind::BadResource,
                "read_stream of a directory, first item: {e}"
            ),
            Some(Ok(chunk)) => panic!("read_stream of a directory yielded {} bytes", chunk.len()),
            None => panic!("read_stream of a directory ended without an error"),
        },
    }
}

/// Two streams of one file, read side by side with different chunk sizes, each deliver the whole
/// file.
pub async fn read_streams_run_side_by_side(fs: Arc<dyn FileSystem>) {
    let path = p("/twice.bin");
    let data = random_bytes(24, 300_000);
    write(&*fs, &path, &data).await;
    let first = fs
        .read_stream(&path, range(10_000, 0, None))
        .await
        .must("read_stream 1");
    let second = fs
        .read_stream(&path, range(33_333, 0, None))
        .await
        .must("read_stream 2");
    let (a, b) = futures::future::join(
        collect_chunks(first, "stream 1", 400_000),
        collect_chunks(second, "stream 2", 400_000),
    )
    .await;
    assert_eq!(concat(&a), data);
    assert_eq!(concat(&b), data);
}

/// A sink's new file is absent until `close`, then holds exactly what was written.
pub async fn sink_hides_new_file_until_close(fs: Arc<dyn FileSystem>) {
    let path = p("/sink-new.txt");
    let mut sink = open_sink(&*fs, &path, SinkMode::Replace).await;
    sink_write(&mut sink, b"hello ").await;
    sink_write(&mut sink, b"world").await;
    assert!(
        !exists(&*fs, &path).await,
        "a sink's file must not be visible before close"
    );
    assert_eq!(sink.bytes_written(), 11);
    sink.close().await.must("sink close");
    assert_eq!(read_string(&*fs, &path).await, "hello world");
    assert_eq!(
        names(&*fs, &VPath::root()).await,
        ["sink-new.txt"],
        "a closed sink leaves nothing else behind"
    );
}

/// While a sink replaces a file, the old content stays readable; after `close` the new content
/// (shorter, without an old tail) is there.
pub async fn sink_keeps_old_content_visible_until_close(fs: Arc<dyn FileSystem>) {
    let path = p("/sink-old.txt");
    write(&*fs, &path, b"the old content, rather long").await;
    let mut sink = open_sink(&*fs, &path, SinkMode::Replace).await;
    sink_write(&mut sink, b"new").await;
    assert_eq!(
        read_string(&*fs, &path).await,
        "the old content, rather long",
        "the old content must stay readable while a sink is open"
    );
    sink.close().await.must("sink close");
    assert_eq!(read_string(&*fs, &path).await, "new");
}

/// `abort` keeps the old content (or leaves the path absent) and leaves nothing else behind.
pub async fn sink_abort_keeps_old_content(fs: Arc<dyn FileSystem>) {
    let dir = p("/abort");
    mkdir(&*fs, &dir).await;
    let old = p("/abort/old.txt");
    write(&*fs, &old, b"old").await;
    let mut sink = open_sink(&*fs, &old, SinkMode::Replace).await;
    sink_write(&mut sink, &random_bytes(25, 100_000)).await;
    sink.abort().await.must("sink abort");
    assert_eq!(read_string(&*fs, &old).await, "old");
    let new = p("/abort/new.txt");
    let mut sink = open_sink(&*fs, &new, SinkMode::Replace).await;
    sink_write(&mut sink, b"never").await;
    sink.abort().await.must("sink abort");
    assert!(!exists(&*fs, &new).await, "an aborted sink creates nothing");
    assert_eq!(
        names(&*fs, &dir).await,
        ["old.txt"],
        "an aborted sink leaves nothing behind"
    );
}

/// Dropping a sink without `close` behaves like `abort`: the old content stays.
pub async fn dropped_sink_keeps_old_content(fs: Arc<dyn FileSystem>) {
    let old = p("/dropped.txt");
    write(&*fs, &old, b"old").await;
    let mut sink = open_sink(&*fs, &old, SinkMode::Replace).await;
    sink_write(&mut sink, b"new content that must not land").await;
    drop(sink);
    assert_eq!(read_string(&*fs, &old).await, "old");
    let new = p("/dropped-new.txt");
    let mut sink = open_sink(&*fs, &new, SinkMode::Replace).await;
    sink_write(&mut sink, b"never").await;
    drop(sink);
    assert!(!exists(&*fs, &new).await, "a dropped sink creates nothing");
    assert_eq!(read_string(&*fs, &old).await, "old");
}

/// A `CreateNew` sink on an existing path fails with `AlreadyExists` when opened; on a missing path
/// it creates the file on close.
pub async fn sink_create_new_on_existing_path_fails(fs: Arc<dyn FileSystem>) {
    let path = p("/exists.txt");
    write(&*fs, &path, b"keep").await;
    let options = SinkOptions {
        mode: SinkMode::CreateNew,
        permissions: None,
    };
    expect_kind(
        fs.write_sink(&path, options).await,
        ErrorKind::AlreadyExists,
        "write_sink CreateNew on an existing file",
    );
    assert_eq!(read_string(&*fs, &path).await, "keep");
    let fresh = p("/fresh.txt");
    let mut sink = open_sink(&*fs, &fresh, SinkMode::CreateNew).await;
    sink_write(&mut sink, b"created").await;
    sink.close().await.must("close");
    assert_eq!(read_string(&*fs, &fresh).await, "created");
}

/// A `CreateNew` sink whose path was created by someone else meanwhile fails on `close` with
/// `AlreadyExists`, and the other content stays.
pub async fn sink_create_new_loses_to_a_file_created_meanwhile(fs: Arc<dyn FileSystem>) {
    let path = p("/race.txt");
    let mut sink = open_sink(&*fs, &path, SinkMode::CreateNew).await;
    sink_write(&mut sink, b"from the sink").await;
    write(&*fs, &path, b"from elsewhere").await;
    expect_kind(
        sink.close().await,
        ErrorKind::AlreadyExists,
        "closing a CreateNew sink whose path now exists",
    );
    assert_eq!(read_string(&*fs, &path).await, "from elsewhere");
}

/// An `Append` sink adds to the old bytes on close (old content alone visible before), and creates a
/// missing file.
pub async fn sink_append_adds_to_old_content(fs: Arc<dyn FileSystem>) {
    let path = p("/log.txt");
    write(&*fs, &path, b"foo").await;
    let mut sink = open_sink(&*fs, &path, SinkMode::Append).await;
    sink_write(&mut sink, b"bar").await;
    sink_write(&mut sink, b"baz").await;
    assert_eq!(read_string(&*fs, &path).await, "foo");
    assert_eq!(
        sink.bytes_written(),
        6,
        "bytes_written counts the bytes given to write, not the old content"
    );
    sink.close().await.must("close");
    assert_eq!(read_string(&*fs, &path).await, "foobarbaz");
    let fresh = p("/fresh-log.txt");
    let mut sink = open_sink(&*fs, &fresh, SinkMode::Append).await;
    sink_write(&mut sink, b"first").await;
    sink.close().await.must("close");
    assert_eq!(read_string(&*fs, &fresh).await, "first");
}

/// A sink closed without any write creates (or empties) the file; empty chunks are accepted.
pub async fn empty_sink_creates_empty_file(fs: Arc<dyn FileSystem>) {
    let path = p("/nothing.txt");
    let sink = open_sink(&*fs, &path, SinkMode::Replace).await;
    assert_eq!(sink.bytes_written(), 0);
    sink.close().await.must("close");
    assert_eq!(fs.stat(&path).await.must("stat").size, 0);
    write(&*fs, &path, b"something").await;
    let mut sink = open_sink(&*fs, &path, SinkMode::Replace).await;
    sink.write(Bytes::new()).await.must("write an empty chunk");
    sink.close().await.must("close");
    assert!(read(&*fs, &path).await.is_empty());
}

/// Two sinks on one path never mix: the one closed last wins, whole.
pub async fn concurrent_sinks_last_close_wins(fs: Arc<dyn FileSystem>) {
    let path = p("/contested.bin");
    let a_data = random_bytes(26, 100_000);
    let b_data = random_bytes(27, 50_000);
    let mut a = open_sink(&*fs, &path, SinkMode::Replace).await;
    let mut b = open_sink(&*fs, &path, SinkMode::Replace).await;
    sink_write(&mut a, &a_data[..50_000]).await;
    sink_write(&mut b, &b_data).await;
    sink_write(&mut a, &a_data[50_000..]).await;
    a.close().await.must("close a");
    assert_eq!(read(&*fs, &path).await, a_data);
    b.close().await.must("close b");
    assert_eq!(read(&*fs, &path).await, b_data);
    assert_eq!(names(&*fs, &VPath::root()).await, ["contested.bin"]);
}

/// A sink into a missing directory is `NotFound`, a sink at a directory's path `BadResource` (when
/// opened or at the latest on close); neither changes anything.
pub async fn sink_errors(fs: Arc<dyn FileSystem>) {
    let missing = p("/missing/file.txt");
    match fs.write_sink(&missing, SinkOptions::default()).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::NotFound,
            "write_sink into a missing directory: {e}"
        ),
        Ok(mut sink) => {
            let written = sink.write(Bytes::from_static(b"x")).await;
            if let Err(e) = written {
                assert_eq!(e.kind(), ErrorKind::NotFound, "sink write: {e}");
            } else {
                expect_kind(
                    sink.close().await,
                    ErrorKind::NotFound,
                    "closing a sink into a missing directory",
                );
            }
        }
    }
    assert!(!exists(&*fs, &p("/missing")).await);
    mkdir(&*fs, &p("/dir")).await;
    write(&*fs, &p("/dir/inside"), b"inside").await;
    match fs.write_sink(&p("/dir"), SinkOptions::default()).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::BadResource,
            "write_sink at a directory: {e}"
        ),
        Ok(mut sink) => {
            let written = sink.write(Bytes::from_static(b"x")).await;
            if let Err(e) = written {
                assert_eq!(e.kind(), ErrorKind::BadResource, "sink write: {e}");
            } else {
                expect_kind(
                    sink.close().await,
                    ErrorKind::BadResource,
                    "closing a sink at a directory",
                );
            }
        }
    }
    assert!(fs.stat(&p("/dir")).await.must("stat").is_dir());
    assert_eq!(read_string(&*fs, &p("/dir/inside")).await, "inside");
}

/// Aborted sinks, dropped sinks and `CreateNew` sinks that lose to an existing file leave nothing
/// behind, however fast they follow each other (a browser may still hold a file for a moment
/// after a writable stream is aborted): a few hundred of them, then the tree is what it was.
pub async fn sinks_that_end_without_commit_leave_nothing(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/kept"), b"kept").await;
    for i in 0..300u32 {
        let path = p(&format!("/new-{}", i % 7));
        match i % 3 {
            0 => {
                let mut sink = open_sink(&*fs, &path, SinkMode::Replace).await;
                sink.write(Bytes::from(random_bytes(u64::from(i), 10)))
                    .await
                    .must("sink write");
                sink.abort().await.must("abort");
            }
            1 => {
                let mut sink = open_sink(&*fs, &path, SinkMode::CreateNew).await;
                sink.write(Bytes::from_static(b"lost"))
                    .await
                    .must("sink write");
                write(&*fs, &path, b"winner").await;
                expect_kind(
                    sink.close().await,
                    ErrorKind::AlreadyExists,
                    "CreateNew sink after the path appeared",
                );
                fs.remove(&path, Default::default()).await.must("remove");
            }
            _ => {
                let options = SinkOptions {
                    mode: SinkMode::CreateNew,
                    permissions: None,
                };
                expect_kind(
                    fs.write_sink(&p("/kept"), options).await,
                    ErrorKind::AlreadyExists,
                    "CreateNew sink on an existing path",
                );
            }
        }
    }
    assert_eq!(names(&*fs, &VPath::root()).await, vec!["kept".to_owned()]);
    assert_eq!(read(&*fs, &p("/kept")).await, b"kept");
}
