//! Calls on a path while a handle or a sink holds it open: handles hold their file, not its path
//! (as POSIX file descriptors do), and an open sink holds nothing at its path until it closes.

use std::io::SeekFrom;
use std::sync::Arc;

use bytes::Bytes;

use super::support::{expect_kind, names, open_sink, p, random_bytes, read, write, Must};
use crate::{ErrorKind, File, FileSystem, OpenFlag, OpenOptions, RemoveOptions, SinkMode, VPath};

async fn open(fs: &dyn FileSystem, path: &VPath, flag: OpenFlag) -> Box<dyn File> {
    fs.open(path, OpenOptions::flag(flag))
        .await
        .must(format!("open {path} {flag}"))
}

/// Everything from the start of an open file.
async fn whole(file: &mut Box<dyn File>, what: &str) -> Vec<u8> {
    file.seek(SeekFrom::Start(0)).await.must(what);
    let mut out = Vec::new();
    while let Some(bytes) = file.read_alloc(4096).await.must(what) {
        out.extend_from_slice(&bytes);
    }
    out
}

/// A read-only handle that has read to the end sees bytes appended to its file afterwards (the
/// end of a file is where it is now, not where it was when the handle last looked).
pub async fn read_only_handle_reads_bytes_appended_after_its_end(fs: Arc<dyn FileSystem>) {
    let path = p("/grows");
    let first = random_bytes(61, 10);
    let more = random_bytes(62, 10);
    write(&*fs, &path, &first).await;
    let mut file = open(&*fs, &path, OpenFlag::Read).await;
    let read = file.read_alloc(100).await.must("read to the end");
    assert_eq!(read.as_deref(), Some(&first[..]));
    assert_eq!(file.read_alloc(100).await.must("read at the end"), None);
    fs.write_file(
        &path,
        Bytes::from(more.clone()),
        OpenOptions::flag(OpenFlag::Append),
    )
    .await
    .must("append while the handle is open");
    let after = file.read_alloc(100).await.must("read after the append");
    assert_eq!(
        after.as_deref(),
        Some(&more[..]),
        "the handle reads the appended bytes"
    );
    assert_eq!(
        file.seek(SeekFrom::End(0)).await.must("seek to the end"),
        20
    );
    file.close().await.must("close");
}

/// An open handle keeps its file when the path is renamed, replaced (by a rename onto it or a
/// sink's commit) or removed; the path then names the new file (or nothing).
pub async fn handles_keep_their_file_through_rename_replace_and_remove(fs: Arc<dyn FileSystem>) {
    let original = random_bytes(63, 300);
    write(&*fs, &p("/f"), &original).await;
    let mut held = open(&*fs, &p("/f"), OpenFlag::Read).await;
    fs.rename(&p("/f"), &p("/g"))
        .await
        .must("rename the held file");
    assert_eq!(whole(&mut held, "read after rename").await, original);
    write(&*fs, &p("/other"), b"other").await;
    fs.rename(&p("/other"), &p("/g"))
        .await
        .must("rename onto the held file");
    assert_eq!(read(&*fs, &p("/g")).await, b"other");
    assert_eq!(whole(&mut held, "read after replace").await, original);
    let mut second = open(&*fs, &p("/g"), OpenFlag::Read).await;
    let mut replacing = open_sink(&*fs, &p("/g"), SinkMode::Replace).await;
    replacing
        .write(Bytes::from_static(b"from the sink"))
        .await
        .must("sink write");
    replacing.close().await.must("commit over the held file");
    assert_eq!(read(&*fs, &p("/g")).await, b"from the sink");
    assert_eq!(
        whole(&mut second, "read after the sink's commit").await,
        b"other"
    );
    fs.remove(&p("/g"), RemoveOptions::default())
        .await
        .must("remove the held file");
    assert!(!fs.exists(&p("/g")).await.must("exists"));
    assert_eq!(whole(&mut second, "read after remove").await, b"other");
    fs.make_dir(&p("/d"), Default::default())
        .await
        .must("mkdir");
    write(&*fs, &p("/d/inner"), b"inner").await;
    let mut below = open(&*fs, &p("/d/inner"), OpenFlag::Read).await;
    let all = RemoveOptions {
        recursive: true,
        force: false,
    };
    fs.remove(&p("/d"), all)
        .await
        .must("remove the directory above a held file");
    assert_eq!(
        whole(&mut below, "read after the directory went").await,
        b"inner"
    );
    for file in [held, second, below] {
        file.close().await.must("close");
    }
    assert_eq!(names(&*fs, &VPath::root()).await, Vec::<String>::new());
}

/// Writable handles of one file share it: each sees what the others wrote, and `write_file`,
/// `truncate` and `stat` of the path see the handles' bytes (without `random_access_write`, a
/// writable open is `Unsupported`).
pub async fn writable_handles_of_one_file_share_it(fs: Arc<dyn FileSystem>) {
    let path = p("/shared");
    if !fs.capabilities().random_access_write {
        expect_kind(
            fs.open(&path, OpenOptions::flag(OpenFlag::WriteRead)).await,
            ErrorKind::Unsupported,
            "a writable open without random_access_write",
        );
        return;
    }
    let mut first = open(&*fs, &path, OpenFlag::WriteRead).await;
    first.write_all(b"first").await.must("write");
    let mut second = open(&*fs, &path, OpenFlag::ReadWrite).await;
    assert_eq!(
        whole(&mut second, "read the first handle's bytes").await,
        b"first"
    );
    second.write_all(b"+second").await.must("write");
    fs.write_file(
        &path,
        Bytes::from_static(b"!"),
        OpenOptions::flag(OpenFlag::Append),
    )
    .await
    .must("append through the path");
    assert_eq!(whole(&mut first, "read everything").await, b"first+second!");
    assert_eq!(fs.stat(&path).await.must("stat").size, 13);
    fs.truncate(&path, 5).await.must("truncate the path");
    assert_eq!(whole(&mut second, "read after truncate").await, b"first");
    first.close().await.must("close");
    second.close().await.must("close");
    assert_eq!(read(&*fs, &path).await, b"first");
}

/// An `Append` sink appends to the file as it is when the sink closes: bytes others wrote to it
/// meanwhile are kept, and a file created meanwhile is appended to.
pub async fn sink_append_keeps_bytes_written_while_it_was_open(fs: Arc<dyn FileSystem>) {
    let path = p("/log");
    let mut appending = open_sink(&*fs, &path, SinkMode::Append).await;
    appending
        .write(Bytes::from_static(b"+sink"))
        .await
        .must("sink write");
    write(&*fs, &path, b"created meanwhile").await;
    appending.close().await.must("close");
    assert_eq!(read(&*fs, &path).await, b"created meanwhile+sink");
    write(&*fs, &path, b"ab").await;
    let mut appending = open_sink(&*fs, &path, SinkMode::Append).await;
    fs.write_file(
        &path,
        Bytes::from_static(b"c"),
        OpenOptions::flag(OpenFlag::Append),
    )
    .await
    .must("append through the path while the sink is open");
    appending
        .write(Bytes::from_static(b"d"))
        .await
        .must("sink write");
    appending.close().await.must("close");
    assert_eq!(read(&*fs, &path).await, b"abcd");
}

/// While a sink is open on a path, every other call on the path works as if it were not there:
/// the path can be removed, written and replaced; the sink's commit then replaces (or, appending,
/// extends) what is there when it closes.
pub async fn path_with_an_open_sink_stays_usable(fs: Arc<dyn FileSystem>) {
    for mode in [SinkMode::Replace, SinkMode::Append] {
        let path = p("/busy");
        write(&*fs, &path, b"old").await;
        let mut open_sink = open_sink(&*fs, &path, mode).await;
        open_sink
            .write(Bytes::from_static(b"new"))
            .await
            .must("sink write");
        fs.remove(&path, RemoveOptions::default())
            .await
            .must(format!("remove the path of an open {mode:?} sink"));
        write(&*fs, &path, b"rewritten").await;
        fs.write_file(&path, Bytes::from_static(b"w"), OpenOptions::write())
            .await
            .must(format!("write_file w while a {mode:?} sink is open"));
        fs.rename(&path, &p("/moved"))
            .await
            .must("rename the path away");
        open_sink.close().await.must("close");
        // The path was renamed away: either mode finds nothing there and creates the file.
        assert_eq!(read(&*fs, &path).await, b"new", "{mode:?}");
        assert_eq!(read(&*fs, &p("/moved")).await, b"w", "{mode:?}");
        fs.remove(&p("/moved"), RemoveOptions::default())
            .await
            .must("clean up");
        fs.remove(&path, RemoveOptions::default())
            .await
            .must("clean up");
    }
    // A directory that appears at the path while the sink is open wins: the commit fails.
    let open_sink = open_sink(&*fs, &p("/late"), SinkMode::Replace).await;
    fs.make_dir(&p("/late"), Default::default())
        .await
        .must("mkdir at the sink's path");
    expect_kind(
        open_sink.close().await,
        ErrorKind::BadResource,
        "commit onto a directory",
    );
}
