//! Unit tests of [`MemoryFs`]: the semantics it promises as the oracle, and what only memory has
//! (inode bookkeeping, watch delivery, the quota, concurrency of shared use).

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};

use super::MemoryFs;
use crate::{
    ErrorKind, FileSystem, FileType, FsResult, MakeDirOptions, OpenFlag, OpenOptions,
    ReadDirOptions, RemoveOptions, SinkMode, SinkOptions, StreamOptions, TempDirGuard, TempOptions,
    WatchEvent, WatchOptions, WatchStream,
};

fn p(path: &str) -> crate::VPath {
    crate::VPath::new(path).expect("test paths are valid")
}

fn kind<T>(result: FsResult<T>) -> ErrorKind {
    match result {
        Ok(_) => panic!("the call should fail"),
        Err(e) => e.kind(),
    }
}

async fn write(fs: &MemoryFs, path: &str, data: &'static [u8]) {
    fs.write_file(&p(path), Bytes::from_static(data), OpenOptions::write())
        .await
        .expect("write_file");
}

async fn read(fs: &MemoryFs, path: &str) -> Vec<u8> {
    fs.read_file(&p(path)).await.expect("read_file").to_vec()
}

async fn mkdir(fs: &MemoryFs, path: &str) {
    let recursive = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    fs.make_dir(&p(path), recursive).await.expect("make_dir");
}

fn recursive() -> RemoveOptions {
    RemoveOptions {
        recursive: true,
        force: false,
    }
}

async fn names(fs: &MemoryFs, path: &str, recursive: bool) -> Vec<(String, FileType)> {
    fs.read_dir(&p(path), ReadDirOptions { recursive })
        .await
        .expect("read_dir")
        .into_iter()
        .map(|e| (e.relative, e.file_type))
        .collect()
}

/// Every event already delivered, without waiting for more.
fn drain(stream: &mut WatchStream) -> Vec<WatchEvent> {
    let mut out = Vec::new();
    while let Some(Some(event)) = stream.next().now_or_never() {
        out.push(event.expect("watch events are not errors"));
    }
    out
}

#[test]
fn memory_fs_is_send_sync_and_cheap_to_share() {
    fn assert_send_sync<T: Send + Sync + Clone + Default>() {}
    assert_send_sync::<MemoryFs>();
    let fs: Arc<dyn FileSystem> = Arc::new(MemoryFs::new());
    let caps = fs.capabilities();
    assert!(!caps.durable_sync);
    assert!(caps.symlinks && caps.hard_links && caps.watch && caps.atomic_dir_rename);
}

#[tokio::test]
async fn stat_reports_posix_modes_and_metadata() {
    let fs = MemoryFs::new();
    write(&fs, "/f", b"abc").await;
    mkdir(&fs, "/d").await;
    fs.symlink("f", &p("/l")).await.expect("symlink");
    let file = fs.stat(&p("/f")).await.expect("stat");
    assert_eq!(file.mode, 0o100644);
    assert_eq!(
        (file.size, file.nlink, file.uid, file.gid),
        (3, Some(1), Some(0), Some(0))
    );
    assert_eq!(file.blocks, Some(1));
    let dir = fs.stat(&p("/d")).await.expect("stat");
    assert_eq!((dir.mode, dir.size, dir.nlink), (0o040755, 0, Some(2)));
    assert_eq!(fs.stat(&p("/")).await.expect("stat root").nlink, Some(3));
    // stat follows the link to the file.
    let through = fs.stat(&p("/l")).await.expect("stat link");
    assert_eq!((through.ino, through.file_type), (file.ino, FileType::File));
    assert_ne!(fs.stat(&p("/d")).await.expect("stat").ino, file.ino);
    // Another MemoryFs is another device.
    assert_ne!(
        MemoryFs::new().stat(&p("/")).await.expect("stat").dev,
        file.dev
    );
}

#[tokio::test]
async fn modes_on_create_and_chmod_chown_utimes_are_stored() {
    let fs = MemoryFs::new();
    let options = OpenOptions {
        flag: OpenFlag::Write,
        mode: Some(0o600),
    };
    fs.write_file(&p("/secret"), Bytes::new(), options)
        .await
        .expect("write_file");
    assert_eq!(fs.stat(&p("/secret")).await.expect("stat").mode, 0o100600);
    let dir_options = MakeDirOptions {
        recursive: true,
        mode: Some(0o700),
    };
    fs.make_dir(&p("/a/b"), dir_options)
        .await
        .expect("make_dir");
    assert_eq!(fs.stat(&p("/a")).await.expect("stat").mode, 0o040700);
    fs.chmod(&p("/a/b"), 0o104751)
        .await
        .expect("chmod keeps only permission bits");
    assert_eq!(fs.stat(&p("/a/b")).await.expect("stat").mode, 0o044751);
    fs.chown(&p("/secret"), 1000, 100).await.expect("chown");
    let info = fs.stat(&p("/secret")).await.expect("stat");
    assert_eq!((info.uid, info.gid), (Some(1000), Some(100)));
    let atime = web_time::UNIX_EPOCH + Duration::from_secs(1_000);
    let mtime = web_time::UNIX_EPOCH + Duration::from_secs(2_000);
    fs.utimes(&p("/secret"), atime, mtime)
        .await
        .expect("utimes");
    let info = fs.stat(&p("/secret")).await.expect("stat");
    assert_eq!((info.atime, info.mtime), (Some(atime), Some(mtime)));
    // Root ignores permission bits.
    fs.chmod(&p("/secret"), 0).await.expect("chmod");
    let all = crate::AccessOptions {
        readable: true,
        writable: true,
    };
    fs.access(&p("/secret"), all)
        .await
        .expect("root may do anything");
    assert_eq!(read(&fs, "/secret").await, b"");
    assert_eq!(kind(fs.access(&p("/nope"), all).await), ErrorKind::NotFound);
    assert_eq!(
        kind(fs.chmod(&p("/nope"), 0o644).await),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn paths_through_files_and_missing_directories() {
    let fs = MemoryFs::new();
    write(&fs, "/file", b"x").await;
    assert_eq!(kind(fs.stat(&p("/file/x")).await), ErrorKind::BadResource);
    assert_eq!(
        kind(fs.read_file(&p("/file/x/y")).await),
        ErrorKind::BadResource
    );
    let w = OpenOptions::write();
    let bytes = Bytes::from_static(b"1");
    assert_eq!(
        kind(fs.write_file(&p("/file/x"), bytes.clone(), w).await),
        ErrorKind::BadResource
    );
    assert_eq!(kind(fs.stat(&p("/missing/x")).await), ErrorKind::NotFound);
    assert_eq!(
        kind(fs.write_file(&p("/missing/x"), bytes, w).await),
        ErrorKind::NotFound
    );
    assert!(!fs.exists(&p("/missing")).await.expect("exists"));
    assert_eq!(kind(fs.exists(&p("/file/x")).await), ErrorKind::BadResource);
}

#[tokio::test]
async fn make_dir_rules() {
    let fs = MemoryFs::new();
    let plain = MakeDirOptions::default();
    let rec = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    assert_eq!(
        kind(fs.make_dir(&p("/a/b"), plain).await),
        ErrorKind::NotFound
    );
    fs.make_dir(&p("/a/b/c"), rec).await.expect("recursive");
    fs.make_dir(&p("/a/b/c"), rec)
        .await
        .expect("existing dir is fine");
    assert_eq!(
        kind(fs.make_dir(&p("/a"), plain).await),
        ErrorKind::AlreadyExists
    );
    write(&fs, "/a/f", b"").await;
    assert_eq!(
        kind(fs.make_dir(&p("/a/f"), rec).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(fs.make_dir(&p("/a/f"), plain).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(fs.make_dir(&p("/a/f/g"), rec).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.make_dir(&p("/a/f/g"), plain).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.make_dir(&p("/"), plain).await),
        ErrorKind::AlreadyExists
    );
    fs.make_dir(&p("/"), rec).await.expect("root exists");
    // Through a link to a directory, and a dangling link in the way.
    fs.symlink("/a/b", &p("/lb")).await.expect("symlink");
    fs.make_dir(&p("/lb/new"), plain)
        .await
        .expect("through a link");
    assert!(fs.exists(&p("/a/b/new")).await.expect("exists"));
    fs.make_dir(&p("/lb"), rec)
        .await
        .expect("a link to a dir counts as a dir");
    fs.symlink("/nowhere", &p("/dangling"))
        .await
        .expect("symlink");
    assert_eq!(
        kind(fs.make_dir(&p("/dangling"), plain).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(fs.make_dir(&p("/dangling"), rec).await),
        ErrorKind::AlreadyExists
    );
}

#[tokio::test]
async fn remove_rules() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/d/sub").await;
    write(&fs, "/d/sub/f", b"1").await;
    let plain = RemoveOptions::default();
    let force = RemoveOptions {
        recursive: false,
        force: true,
    };
    assert_eq!(
        kind(fs.remove(&p("/d"), plain).await),
        ErrorKind::DirectoryNotEmpty
    );
    assert_eq!(
        kind(fs.remove(&p("/"), recursive()).await),
        ErrorKind::BadArgument
    );
    assert_eq!(
        kind(fs.remove(&p("/nope"), plain).await),
        ErrorKind::NotFound
    );
    fs.remove(&p("/nope"), force)
        .await
        .expect("force ignores missing");
    fs.remove(&p("/nope/deeper"), force)
        .await
        .expect("force ignores missing parents");
    fs.remove(&p("/d"), recursive()).await.expect("recursive");
    assert!(!fs.exists(&p("/d")).await.expect("exists"));
    mkdir(&fs, "/empty").await;
    fs.remove(&p("/empty"), plain)
        .await
        .expect("empty dir without recursive");
    // Only the root directory is left; every other inode was freed.
    assert_eq!(fs.lock().inode_count(), 1);
    assert_eq!(fs.lock().used(), 0);
}

#[tokio::test]
async fn remove_and_rename_act_on_links_not_targets() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/dir").await;
    write(&fs, "/dir/f", b"keep").await;
    fs.symlink("dir", &p("/ldir")).await.expect("symlink");
    fs.remove(&p("/ldir"), recursive())
        .await
        .expect("remove link");
    assert_eq!(read(&fs, "/dir/f").await, b"keep");
    fs.symlink("/dir/f", &p("/lf")).await.expect("symlink");
    fs.rename(&p("/lf"), &p("/lf2")).await.expect("rename link");
    assert_eq!(fs.read_link(&p("/lf2")).await.expect("read_link"), "/dir/f");
    assert_eq!(read(&fs, "/lf2").await, b"keep");
}

#[tokio::test]
async fn rename_rules() {
    let fs = MemoryFs::new();
    write(&fs, "/a", b"a").await;
    write(&fs, "/b", b"b").await;
    mkdir(&fs, "/d1/x").await;
    mkdir(&fs, "/d2").await;
    mkdir(&fs, "/full/y").await;
    fs.rename(&p("/a"), &p("/b")).await.expect("file over file");
    assert_eq!(read(&fs, "/b").await, b"a");
    assert!(!fs.exists(&p("/a")).await.expect("exists"));
    fs.rename(&p("/b"), &p("/b")).await.expect("to itself");
    assert_eq!(read(&fs, "/b").await, b"a");
    assert_eq!(
        kind(fs.rename(&p("/b"), &p("/d2")).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.rename(&p("/d2"), &p("/b")).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.rename(&p("/d1"), &p("/full")).await),
        ErrorKind::DirectoryNotEmpty
    );
    assert_eq!(
        kind(fs.rename(&p("/d1"), &p("/d1/x/in")).await),
        ErrorKind::BadArgument
    );
    assert_eq!(
        kind(fs.rename(&p("/d1"), &p("/d1/x")).await),
        ErrorKind::BadArgument
    );
    assert_eq!(
        kind(fs.rename(&p("/nope"), &p("/z")).await),
        ErrorKind::NotFound
    );
    // Like Linux: the destination's parent is checked before the source's existence, and replacing
    // an ancestor of the source is `DirectoryNotEmpty` (even for a file source).
    assert_eq!(
        kind(fs.rename(&p("/nope"), &p("/b/z")).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.rename(&p("/d1/x"), &p("/d1")).await),
        ErrorKind::DirectoryNotEmpty
    );
    write(&fs, "/d1/x/f", b"").await;
    assert_eq!(
        kind(fs.rename(&p("/d1/x/f"), &p("/d1")).await),
        ErrorKind::DirectoryNotEmpty
    );
    fs.remove(&p("/d1/x/f"), RemoveOptions::default())
        .await
        .expect("remove");
    assert_eq!(
        kind(fs.rename(&p("/b"), &p("/nope/z")).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs.rename(&p("/b"), &p("/")).await),
        ErrorKind::BadArgument
    );
    fs.rename(&p("/d1"), &p("/d2"))
        .await
        .expect("dir over empty dir");
    assert_eq!(
        names(&fs, "/d2", false).await,
        [("x".into(), FileType::Directory)]
    );
    fs.rename(&p("/d2"), &p("/full/y/moved"))
        .await
        .expect("into another dir");
    assert!(fs.exists(&p("/full/y/moved/x")).await.expect("exists"));
    // A directory moved by a name reached through a link into its own subtree is still refused.
    fs.symlink("/full/y", &p("/ly")).await.expect("symlink");
    assert_eq!(
        kind(fs.rename(&p("/full"), &p("/ly/inside")).await),
        ErrorKind::BadArgument
    );
    assert_eq!(fs.lock().inode_count(), 7);
}

#[tokio::test]
async fn copy_file_and_copy_tree() {
    let fs = MemoryFs::new();
    let options = OpenOptions {
        flag: OpenFlag::Write,
        mode: Some(0o640),
    };
    fs.write_file(&p("/src"), Bytes::from_static(b"data"), options)
        .await
        .expect("write_file");
    fs.copy_file(&p("/src"), &p("/dst"))
        .await
        .expect("copy_file");
    assert_eq!(read(&fs, "/dst").await, b"data");
    assert_eq!(fs.stat(&p("/dst")).await.expect("stat").mode, 0o100640);
    write(&fs, "/src", b"changed").await;
    assert_eq!(read(&fs, "/dst").await, b"data", "a copy, not a link");
    fs.copy_file(&p("/src"), &p("/src"))
        .await
        .expect("onto itself is a no-op");
    assert_eq!(read(&fs, "/src").await, b"changed");
    mkdir(&fs, "/dir/sub").await;
    assert_eq!(
        kind(fs.copy_file(&p("/dir"), &p("/x")).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.copy_file(&p("/src"), &p("/dir")).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.copy_file(&p("/src"), &p("/no/x")).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs.copy_file(&p("/no"), &p("/x")).await),
        ErrorKind::NotFound
    );
    write(&fs, "/dir/sub/f", b"deep").await;
    fs.symlink("sub/f", &p("/dir/link")).await.expect("symlink");
    fs.copy(&p("/dir"), &p("/copy"), Default::default())
        .await
        .expect("copy tree");
    assert_eq!(read(&fs, "/copy/sub/f").await, b"deep");
    assert_eq!(
        fs.read_link(&p("/copy/link")).await.expect("read_link"),
        "sub/f"
    );
    assert_eq!(read(&fs, "/copy/link").await, b"deep");
}

#[tokio::test]
async fn write_file_honours_every_flag() {
    let fs = MemoryFs::new();
    let put = |flag: OpenFlag, data: &'static [u8]| {
        let fs = fs.clone();
        async move {
            fs.write_file(&p("/f"), Bytes::from_static(data), OpenOptions::flag(flag))
                .await
        }
    };
    assert_eq!(kind(put(OpenFlag::Read, b"x").await), ErrorKind::NotFound);
    assert_eq!(
        kind(put(OpenFlag::ReadWrite, b"x").await),
        ErrorKind::NotFound
    );
    put(OpenFlag::Write, b"hello world").await.expect("w");
    assert_eq!(
        kind(put(OpenFlag::Read, b"x").await),
        ErrorKind::BadResource
    );
    put(OpenFlag::ReadWrite, b"HE").await.expect("r+");
    assert_eq!(
        read(&fs, "/f").await,
        b"HEllo world",
        "r+ does not truncate"
    );
    put(OpenFlag::WriteRead, b"w+").await.expect("w+");
    assert_eq!(read(&fs, "/f").await, b"w+");
    for flag in [
        OpenFlag::WriteExclusive,
        OpenFlag::WriteReadExclusive,
        OpenFlag::AppendExclusive,
        OpenFlag::AppendReadExclusive,
    ] {
        assert_eq!(
            kind(put(flag, b"x").await),
            ErrorKind::AlreadyExists,
            "{flag}"
        );
    }
    put(OpenFlag::Append, b"!").await.expect("a");
    put(OpenFlag::AppendRead, b"?").await.expect("a+");
    assert_eq!(read(&fs, "/f").await, b"w+!?");
    put(OpenFlag::Write, b"")
        .await
        .expect("w with nothing empties");
    assert_eq!(read(&fs, "/f").await, b"");
    for flag in [
        OpenFlag::WriteExclusive,
        OpenFlag::WriteReadExclusive,
        OpenFlag::AppendExclusive,
        OpenFlag::AppendReadExclusive,
        OpenFlag::Append,
        OpenFlag::AppendRead,
        OpenFlag::WriteRead,
    ] {
        fs.remove(&p("/f"), RemoveOptions::default())
            .await
            .expect("remove");
        put(flag, b"new").await.expect("creates");
        assert_eq!(read(&fs, "/f").await, b"new", "{flag}");
    }
    mkdir(&fs, "/dir").await;
    for flag in OpenFlag::ALL {
        let result = fs
            .write_file(
                &p("/dir"),
                Bytes::from_static(b"x"),
                OpenOptions::flag(flag),
            )
            .await;
        let expected = if flag.exclusive() {
            ErrorKind::AlreadyExists
        } else {
            ErrorKind::BadResource
        };
        assert_eq!(kind(result), expected, "{flag}");
    }
}

#[tokio::test]
async fn handle_cursor_follows_effect_rules() {
    let fs = MemoryFs::new();
    let path = p("/f");
    let mut file = fs
        .open(&path, OpenOptions::flag(OpenFlag::WriteRead))
        .await
        .expect("open w+");
    file.write_all(b"hello").await.expect("write");
    assert_eq!(file.seek(SeekFrom::Current(0)).await.expect("seek"), 5);
    assert_eq!(file.seek(SeekFrom::Start(8)).await.expect("seek"), 8);
    file.write_all(b"!").await.expect("write past the end");
    assert_eq!(read(&fs, "/f").await, b"hello\0\0\0!");
    assert_eq!(
        kind(file.seek(SeekFrom::Current(-100)).await),
        ErrorKind::BadArgument
    );
    assert_eq!(
        kind(file.seek(SeekFrom::End(-100)).await),
        ErrorKind::BadArgument
    );
    assert_eq!(file.seek(SeekFrom::End(-4)).await.expect("seek"), 5);
    file.truncate(2).await.expect("truncate below the cursor");
    assert_eq!(file.seek(SeekFrom::Current(0)).await.expect("seek"), 2);
    file.truncate(10).await.expect("grow");
    assert_eq!(file.seek(SeekFrom::Current(0)).await.expect("seek"), 2);
    assert_eq!(file.stat().await.expect("stat").size, 10);
    file.seek(SeekFrom::Start(0)).await.expect("seek");
    let got = file.read_alloc(3).await.expect("read").expect("bytes");
    assert_eq!(&got[..], b"he\0");
    file.sync().await.expect("sync");
    file.close().await.expect("close");

    let mut append = fs
        .open(&path, OpenOptions::flag(OpenFlag::AppendRead))
        .await
        .expect("open a+");
    append.write_all(b"END").await.expect("append");
    assert_eq!(append.seek(SeekFrom::Current(0)).await.expect("seek"), 0);
    let got = append.read_alloc(2).await.expect("read").expect("bytes");
    assert_eq!(&got[..], b"he", "reads go on from the untouched cursor");
    append.seek(SeekFrom::Start(1)).await.expect("seek");
    append
        .write_all(b"!")
        .await
        .expect("append ignores the cursor");
    assert_eq!(append.seek(SeekFrom::Current(0)).await.expect("seek"), 1);
    assert_eq!(read(&fs, "/f").await, b"he\0\0\0\0\0\0\0\0END!");

    let mut read_only = fs.open(&path, OpenOptions::read()).await.expect("open r");
    assert_eq!(kind(read_only.write(b"x").await), ErrorKind::BadResource);
    assert_eq!(kind(read_only.truncate(0).await), ErrorKind::BadResource);
    let mut write_only = fs
        .open(&path, OpenOptions::flag(OpenFlag::Append))
        .await
        .expect("open a");
    let mut buf = [0u8; 4];
    assert_eq!(
        kind(write_only.read(&mut buf).await),
        ErrorKind::BadResource
    );
    read_only
        .seek(SeekFrom::Start(1_000))
        .await
        .expect("seek far");
    assert_eq!(
        read_only.read(&mut buf).await.expect("read past the end"),
        0
    );
    assert_eq!(read_only.read_alloc(4).await.expect("read_alloc"), None);
    assert_eq!(write_only.write(b"").await.expect("empty write"), 0);
    assert_eq!(
        kind(fs.open(&p("/"), OpenOptions::read()).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.open(&p("/nope"), OpenOptions::read()).await),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn handles_outlive_rename_and_remove() {
    let fs = MemoryFs::new();
    write(&fs, "/f", b"old").await;
    let mut handle = fs
        .open(&p("/f"), OpenOptions::flag(OpenFlag::ReadWrite))
        .await
        .expect("open");
    fs.rename(&p("/f"), &p("/g")).await.expect("rename");
    handle.seek(SeekFrom::End(0)).await.expect("seek");
    handle
        .write_all(b"+renamed")
        .await
        .expect("write after rename");
    assert_eq!(read(&fs, "/g").await, b"old+renamed");
    fs.remove(&p("/g"), RemoveOptions::default())
        .await
        .expect("remove");
    assert_eq!(fs.lock().inode_count(), 2, "the unlinked file lives on");
    handle
        .write_all(b"+gone")
        .await
        .expect("write after remove");
    handle.seek(SeekFrom::Start(0)).await.expect("seek");
    let got = handle.read_alloc(64).await.expect("read").expect("bytes");
    assert_eq!(&got[..], b"old+renamed+gone");
    assert_eq!(handle.stat().await.expect("stat").nlink, Some(0));
    let stream = {
        write(&fs, "/s", b"streamed").await;
        let stream = fs
            .read_stream(&p("/s"), StreamOptions::default())
            .await
            .expect("stream");
        fs.remove(&p("/s"), RemoveOptions::default())
            .await
            .expect("remove");
        stream
    };
    handle.close().await.expect("close");
    assert_eq!(
        fs.lock().inode_count(),
        2,
        "the stream still holds its file"
    );
    let chunks: Vec<Bytes> = stream.map(|c| c.expect("chunk")).collect().await;
    assert_eq!(chunks.concat(), b"streamed");
    assert_eq!(fs.lock().inode_count(), 1, "released when the stream ended");
    assert_eq!(fs.lock().used(), 0);
    let dropped = fs
        .open(&p("/t"), OpenOptions::flag(OpenFlag::Write))
        .await
        .expect("open");
    fs.remove(&p("/t"), RemoveOptions::default())
        .await
        .expect("remove");
    drop(dropped);
    assert_eq!(fs.lock().inode_count(), 1, "dropping releases too");
}

#[tokio::test]
async fn read_stream_options() {
    let fs = MemoryFs::new();
    let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    fs.write_file(&p("/f"), Bytes::from(data.clone()), OpenOptions::write())
        .await
        .expect("write");
    let collect = |options: StreamOptions| {
        let fs = fs.clone();
        async move {
            let stream = fs.read_stream(&p("/f"), options).await?;
            let chunks: Vec<Bytes> = stream.map(|c| c.expect("chunk")).collect().await;
            FsResult::Ok(chunks)
        }
    };
    let chunks = collect(StreamOptions {
        chunk_size: 3_000,
        ..Default::default()
    })
    .await
    .expect("stream");
    let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
    assert_eq!(sizes, [3_000, 3_000, 3_000, 1_000]);
    assert_eq!(chunks.concat(), data);
    let part = collect(StreamOptions {
        chunk_size: 7,
        offset: 100,
        length: Some(20),
    })
    .await
    .expect("stream");
    assert_eq!(part.concat(), &data[100..120]);
    assert!(part.iter().all(|c| c.len() <= 7));
    let past = collect(StreamOptions {
        offset: 20_000,
        ..Default::default()
    })
    .await
    .expect("stream");
    assert!(past.is_empty());
    let zero = StreamOptions {
        chunk_size: 0,
        ..Default::default()
    };
    assert_eq!(kind(collect(zero).await), ErrorKind::BadArgument);
    let missing = fs.read_stream(&p("/nope"), StreamOptions::default()).await;
    assert_eq!(kind(missing.map(|_| ())), ErrorKind::NotFound);
    let dir = fs.read_stream(&p("/"), StreamOptions::default()).await;
    assert_eq!(kind(dir.map(|_| ())), ErrorKind::BadResource);
}

#[tokio::test]
async fn sinks_commit_on_close_only() {
    let fs = MemoryFs::new();
    write(&fs, "/f", b"old").await;
    let replace = SinkOptions::default();
    let mut sink = fs.write_sink(&p("/f"), replace).await.expect("sink");
    sink.write(Bytes::from_static(b"new "))
        .await
        .expect("write");
    sink.write(Bytes::from_static(b"bytes"))
        .await
        .expect("write");
    assert_eq!(sink.bytes_written(), 9);
    assert_eq!(
        read(&fs, "/f").await,
        b"old",
        "nothing visible before close"
    );
    sink.close().await.expect("close");
    assert_eq!(read(&fs, "/f").await, b"new bytes");

    let mut aborted = fs.write_sink(&p("/f"), replace).await.expect("sink");
    aborted
        .write(Bytes::from_static(b"lost"))
        .await
        .expect("write");
    aborted.abort().await.expect("abort");
    let mut dropped = fs.write_sink(&p("/g"), replace).await.expect("sink");
    dropped
        .write(Bytes::from_static(b"lost"))
        .await
        .expect("write");
    drop(dropped);
    assert_eq!(read(&fs, "/f").await, b"new bytes");
    assert!(!fs.exists(&p("/g")).await.expect("exists"));

    let append = SinkOptions {
        mode: SinkMode::Append,
        permissions: None,
    };
    let mut sink = fs.write_sink(&p("/f"), append).await.expect("sink");
    sink.write(Bytes::from_static(b"+more"))
        .await
        .expect("write");
    sink.close().await.expect("close");
    assert_eq!(read(&fs, "/f").await, b"new bytes+more");
    let mut sink = fs.write_sink(&p("/fresh"), append).await.expect("sink");
    sink.write(Bytes::from_static(b"a")).await.expect("write");
    sink.close().await.expect("append creates");
    assert_eq!(read(&fs, "/fresh").await, b"a");

    let create_new = SinkOptions {
        mode: SinkMode::CreateNew,
        permissions: Some(0o600),
    };
    assert_eq!(
        kind(fs.write_sink(&p("/f"), create_new).await.map(|_| ())),
        ErrorKind::AlreadyExists
    );
    let mut racing = fs.write_sink(&p("/new"), create_new).await.expect("sink");
    racing
        .write(Bytes::from_static(b"late"))
        .await
        .expect("write");
    write(&fs, "/new", b"first").await;
    assert_eq!(kind(racing.close().await), ErrorKind::AlreadyExists);
    assert_eq!(read(&fs, "/new").await, b"first");
    let sink = fs.write_sink(&p("/n2"), create_new).await.expect("sink");
    sink.close().await.expect("empty commit");
    let info = fs.stat(&p("/n2")).await.expect("stat");
    assert_eq!((info.size, info.mode), (0, 0o100600));

    assert_eq!(
        kind(fs.write_sink(&p("/"), replace).await.map(|_| ())),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.write_sink(&p("/no/f"), replace).await.map(|_| ())),
        ErrorKind::NotFound
    );
    let parent_goes = fs.write_sink(&p("/d/f"), replace).await;
    assert_eq!(kind(parent_goes.map(|_| ())), ErrorKind::NotFound);
    mkdir(&fs, "/d").await;
    let sink = fs.write_sink(&p("/d/f"), replace).await.expect("sink");
    fs.remove(&p("/d"), recursive()).await.expect("remove");
    assert_eq!(kind(sink.close().await), ErrorKind::NotFound);
}

#[tokio::test]
async fn sink_replaces_the_inode_like_a_rename() {
    let fs = MemoryFs::new();
    write(&fs, "/f", b"old").await;
    fs.chmod(&p("/f"), 0o600).await.expect("chmod");
    fs.link(&p("/f"), &p("/hard")).await.expect("link");
    fs.symlink("f", &p("/soft")).await.expect("symlink");
    let mut sink = fs
        .write_sink(&p("/soft"), SinkOptions::default())
        .await
        .expect("sink");
    sink.write(Bytes::from_static(b"new")).await.expect("write");
    sink.close().await.expect("close");
    assert_eq!(read(&fs, "/f").await, b"new", "the link was followed");
    assert_eq!(fs.read_link(&p("/soft")).await.expect("still a link"), "f");
    assert_eq!(
        read(&fs, "/hard").await,
        b"old",
        "the hard link keeps the old inode"
    );
    let info = fs.stat(&p("/f")).await.expect("stat");
    assert_eq!((info.mode, info.nlink), (0o100600, Some(1)));
    let with_mode = SinkOptions {
        mode: SinkMode::Replace,
        permissions: Some(0o640),
    };
    let sink = fs.write_sink(&p("/f"), with_mode).await.expect("sink");
    sink.close().await.expect("close");
    let info = fs.stat(&p("/f")).await.expect("stat");
    assert_eq!(
        info.mode, 0o100600,
        "an existing file keeps its permission bits"
    );
}

#[tokio::test]
async fn hard_links_share_content_and_count_names() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/d").await;
    write(&fs, "/a", b"one").await;
    fs.link(&p("/a"), &p("/d/b")).await.expect("link");
    let (a, b) = (
        fs.stat(&p("/a")).await.expect("stat"),
        fs.stat(&p("/d/b")).await.expect("stat"),
    );
    assert_eq!((a.ino, a.nlink, b.nlink), (b.ino, Some(2), Some(2)));
    let mut handle = fs
        .open(&p("/d/b"), OpenOptions::flag(OpenFlag::Append))
        .await
        .expect("open");
    handle.write_all(b"+two").await.expect("write");
    assert_eq!(read(&fs, "/a").await, b"one+two");
    fs.truncate(&p("/a"), 3).await.expect("truncate");
    assert_eq!(read(&fs, "/d/b").await, b"one");
    fs.chmod(&p("/a"), 0o600).await.expect("chmod");
    assert_eq!(fs.stat(&p("/d/b")).await.expect("stat").mode, 0o100600);
    fs.remove(&p("/a"), RemoveOptions::default())
        .await
        .expect("remove");
    assert_eq!(fs.stat(&p("/d/b")).await.expect("stat").nlink, Some(1));
    assert_eq!(read(&fs, "/d/b").await, b"one");
    fs.link(&p("/d/b"), &p("/c")).await.expect("link");
    // A recursive remove drops one name of a file that has another outside the tree.
    fs.remove(&p("/d"), recursive()).await.expect("remove");
    assert_eq!(read(&fs, "/c").await, b"one");
    assert_eq!(
        kind(fs.link(&p("/c"), &p("/c")).await),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        kind(fs.link(&p("/nope"), &p("/x")).await),
        ErrorKind::NotFound
    );
    mkdir(&fs, "/dir").await;
    assert_eq!(
        kind(fs.link(&p("/dir"), &p("/x")).await),
        ErrorKind::PermissionDenied
    );
    // Renaming one hard link onto another name of the same file does nothing.
    fs.link(&p("/c"), &p("/c2")).await.expect("link");
    fs.rename(&p("/c"), &p("/c2")).await.expect("rename");
    assert!(fs.exists(&p("/c")).await.expect("exists"));
    drop(handle);
    assert_eq!(fs.lock().inode_count(), 3);
}

#[tokio::test]
async fn symlinks_resolve_like_posix() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/a/b").await;
    write(&fs, "/a/b/file", b"target").await;
    fs.symlink("b/file", &p("/a/rel")).await.expect("relative");
    fs.symlink("/a/b", &p("/abs")).await.expect("absolute");
    fs.symlink("../../a/./b/../b/file", &p("/a/b/dots"))
        .await
        .expect("dots");
    assert_eq!(read(&fs, "/a/rel").await, b"target");
    assert_eq!(read(&fs, "/abs/file").await, b"target");
    assert_eq!(read(&fs, "/a/b/dots").await, b"target");
    assert_eq!(
        fs.real_path(&p("/abs/dots")).await.expect("real_path"),
        p("/a/b/file")
    );
    assert_eq!(
        fs.real_path(&p("/a/b")).await.expect("real_path"),
        p("/a/b")
    );
    assert_eq!(
        fs.read_link(&p("/a/rel")).await.expect("read_link"),
        "b/file"
    );
    assert_eq!(
        kind(fs.read_link(&p("/a/b/file")).await),
        ErrorKind::BadArgument
    );
    assert_eq!(kind(fs.read_link(&p("/nope")).await), ErrorKind::NotFound);
    // `..` after a link goes to the parent of the directory reached, not of the link.
    mkdir(&fs, "/x/y/z").await;
    mkdir(&fs, "/d").await;
    fs.symlink("/x/y/z", &p("/d/l")).await.expect("symlink");
    fs.symlink("l/../..", &p("/d/phys")).await.expect("symlink");
    assert_eq!(
        fs.real_path(&p("/d/phys")).await.expect("real_path"),
        p("/x")
    );
    // Targets stay inside the namespace.
    for (target, link) in [
        ("../x", "/up"),
        ("a/../../..", "/d/up"),
        ("/a/../b", "/d/up"),
        ("/a/", "/up"),
    ] {
        assert_eq!(
            kind(fs.symlink(target, &p(link)).await),
            ErrorKind::BadArgument,
            "{target}"
        );
    }
    fs.symlink("../x", &p("/d/ok"))
        .await
        .expect("climbing to the root is fine");

    // A dangling link: stat reports the link itself, reading through it fails, read_dir lists it as
    // a link, and O_CREAT writes create its target.
    fs.symlink("/a/created", &p("/dangling"))
        .await
        .expect("symlink");
    let info = fs
        .stat(&p("/dangling"))
        .await
        .expect("stat of a dangling link");
    assert_eq!(
        (info.file_type, info.mode, info.size),
        (FileType::SymbolicLink, 0o120777, 10)
    );
    assert!(fs.exists(&p("/dangling")).await.expect("exists"));
    assert_eq!(
        kind(fs.read_file(&p("/dangling")).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs.access(&p("/dangling"), Default::default()).await),
        ErrorKind::NotFound
    );
    fs.symlink("/nowhere/deeper", &p("/dangling2"))
        .await
        .expect("symlink");
    assert_eq!(
        fs.stat(&p("/dangling2")).await.expect("stat").file_type,
        FileType::SymbolicLink
    );
    assert!(names(&fs, "/", false)
        .await
        .contains(&("dangling".into(), FileType::SymbolicLink)));
    assert_eq!(
        kind(
            fs.write_file(
                &p("/dangling"),
                Bytes::new(),
                OpenOptions::flag(OpenFlag::WriteExclusive)
            )
            .await
        ),
        ErrorKind::AlreadyExists
    );
    write(&fs, "/dangling", b"made").await;
    assert_eq!(read(&fs, "/a/created").await, b"made");

    // Loops.
    fs.symlink("loop2", &p("/loop1")).await.expect("symlink");
    fs.symlink("loop1", &p("/loop2")).await.expect("symlink");
    fs.symlink("me", &p("/me")).await.expect("symlink");
    assert_eq!(kind(fs.stat(&p("/loop1")).await), ErrorKind::BadArgument);
    assert_eq!(kind(fs.read_file(&p("/me")).await), ErrorKind::BadArgument);
    assert_eq!(kind(fs.stat(&p("/me/x")).await), ErrorKind::BadArgument);
    assert_eq!(fs.read_link(&p("/me")).await.expect("read_link"), "me");
    fs.remove(&p("/me"), RemoveOptions::default())
        .await
        .expect("remove a loop");

    // A link to a file used as a directory.
    assert_eq!(kind(fs.stat(&p("/a/rel/x")).await), ErrorKind::BadResource);
    assert_eq!(
        kind(fs.symlink("", &p("/empty")).await),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(fs.symlink("a\0b", &p("/nul")).await),
        ErrorKind::BadArgument
    );
    assert_eq!(
        kind(fs.symlink("x", &p("/a/rel")).await),
        ErrorKind::AlreadyExists
    );
    // A target naming something no path can hold fails when used to create.
    fs.symlink("bad\\name", &p("/a/bad"))
        .await
        .expect("symlink");
    assert_eq!(
        kind(
            fs.write_file(&p("/a/bad"), Bytes::new(), OpenOptions::write())
                .await
        ),
        ErrorKind::BadArgument
    );
    // The recursive listing does not follow links into directories.
    let listed = names(&fs, "/", true).await;
    assert!(listed.contains(&("d/l".into(), FileType::SymbolicLink)));
    assert!(listed.contains(&("x/y/z".into(), FileType::Directory)));
    assert!(!listed.iter().any(|(n, _)| n.starts_with("d/l/")));
}

#[tokio::test]
async fn read_dir_sorts_by_relative_path() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/r/a/b").await;
    mkdir(&fs, "/r/a-c").await;
    write(&fs, "/r/a/b/f", b"").await;
    write(&fs, "/r/z", b"").await;
    let flat = names(&fs, "/r", false).await;
    let expected_flat: Vec<(String, FileType)> = vec![
        ("a".into(), FileType::Directory),
        ("a-c".into(), FileType::Directory),
        ("z".into(), FileType::File),
    ];
    assert_eq!(flat, expected_flat);
    let deep: Vec<String> = names(&fs, "/r", true)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(deep, ["a", "a-c", "a/b", "a/b/f", "z"]);
    let entries = fs
        .read_dir(&p("/r"), ReadDirOptions { recursive: true })
        .await
        .expect("read_dir");
    assert_eq!(entries[3].path, p("/r/a/b/f"));
    assert_eq!(
        kind(fs.read_dir(&p("/r/z"), Default::default()).await),
        ErrorKind::BadResource
    );
    assert_eq!(
        kind(fs.read_dir(&p("/nope"), Default::default()).await),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn truncate_by_path() {
    let fs = MemoryFs::new();
    write(&fs, "/f", b"abcdef").await;
    fs.truncate(&p("/f"), 2).await.expect("shrink");
    assert_eq!(read(&fs, "/f").await, b"ab");
    fs.truncate(&p("/f"), 4).await.expect("grow");
    assert_eq!(read(&fs, "/f").await, b"ab\0\0");
    assert_eq!(kind(fs.truncate(&p("/"), 0).await), ErrorKind::BadResource);
    assert_eq!(kind(fs.truncate(&p("/nope"), 0).await), ErrorKind::NotFound);
    assert_eq!(fs.lock().used(), 4);
}

#[tokio::test]
async fn watch_reports_children_and_optionally_the_subtree() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/w/sub").await;
    let mut flat = fs
        .watch(&p("/w"), WatchOptions::default())
        .await
        .expect("watch");
    let mut deep = fs
        .watch(&p("/w"), WatchOptions { recursive: true })
        .await
        .expect("watch");
    write(&fs, "/w/f", b"1").await;
    write(&fs, "/w/f", b"2").await;
    write(&fs, "/w/sub/g", b"3").await;
    write(&fs, "/elsewhere", b"4").await;
    fs.rename(&p("/w/f"), &p("/w/h")).await.expect("rename");
    fs.remove(&p("/w/sub"), recursive()).await.expect("remove");
    fs.chmod(&p("/w"), 0o700).await.expect("chmod");
    let expected_flat = vec![
        WatchEvent::Create(p("/w/f")),
        WatchEvent::Update(p("/w/f")),
        WatchEvent::Remove(p("/w/f")),
        WatchEvent::Create(p("/w/h")),
        WatchEvent::Remove(p("/w/sub")),
        WatchEvent::Update(p("/w")),
    ];
    assert_eq!(drain(&mut flat), expected_flat);
    let expected_deep = vec![
        WatchEvent::Create(p("/w/f")),
        WatchEvent::Update(p("/w/f")),
        WatchEvent::Create(p("/w/sub/g")),
        WatchEvent::Remove(p("/w/f")),
        WatchEvent::Create(p("/w/h")),
        WatchEvent::Remove(p("/w/sub/g")),
        WatchEvent::Remove(p("/w/sub")),
        WatchEvent::Update(p("/w")),
    ];
    assert_eq!(drain(&mut deep), expected_deep);
    assert_eq!(
        kind(
            fs.watch(&p("/nope"), WatchOptions::default())
                .await
                .map(|_| ())
        ),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn watch_a_file_through_a_link_and_handle_writes() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/real").await;
    write(&fs, "/real/f", b"").await;
    fs.symlink("/real", &p("/via")).await.expect("symlink");
    let mut dir = fs
        .watch(&p("/via"), WatchOptions::default())
        .await
        .expect("watch");
    let mut file = fs
        .watch(&p("/real/f"), WatchOptions::default())
        .await
        .expect("watch");
    let mut handle = fs
        .open(&p("/via/f"), OpenOptions::flag(OpenFlag::ReadWrite))
        .await
        .expect("open");
    handle.write_all(b"x").await.expect("write");
    handle.truncate(0).await.expect("truncate");
    fs.rename(&p("/real/f"), &p("/real/moved"))
        .await
        .expect("rename");
    handle
        .write_all(b"y")
        .await
        .expect("write after rename: nothing reported at /real/f");
    assert_eq!(
        drain(&mut dir),
        [
            WatchEvent::Update(p("/via/f")),
            WatchEvent::Update(p("/via/f")),
            WatchEvent::Remove(p("/via/f")),
            WatchEvent::Create(p("/via/moved")),
        ]
    );
    assert_eq!(
        drain(&mut file),
        [
            WatchEvent::Update(p("/real/f")),
            WatchEvent::Update(p("/real/f")),
            WatchEvent::Remove(p("/real/f")),
        ]
    );
    // The watch is by path: a new file at the watched path is reported.
    write(&fs, "/real/f", b"again").await;
    assert_eq!(drain(&mut file), [WatchEvent::Create(p("/real/f"))]);
}

#[tokio::test]
async fn dropped_watch_streams_are_pruned() {
    let fs = MemoryFs::new();
    let kept = fs
        .watch(&p("/"), WatchOptions::default())
        .await
        .expect("watch");
    let dropped = fs
        .watch(&p("/"), WatchOptions::default())
        .await
        .expect("watch");
    assert_eq!(fs.lock().watchers.len(), 2);
    drop(dropped);
    write(&fs, "/f", b"").await;
    assert_eq!(fs.lock().watchers.len(), 1);
    drop(kept);
    let _another = fs
        .watch(&p("/"), WatchOptions::default())
        .await
        .expect("watch");
    assert_eq!(
        fs.lock().watchers.len(),
        1,
        "pruned when a new watch starts"
    );
}

#[tokio::test]
async fn watch_events_arrive_across_tasks() {
    let fs = MemoryFs::new();
    let mut stream = fs
        .watch(&p("/"), WatchOptions::default())
        .await
        .expect("watch");
    let writer = fs.clone();
    tokio::spawn(async move {
        writer
            .write_file(&p("/late"), Bytes::from_static(b"x"), OpenOptions::write())
            .await
            .expect("write");
    });
    let event = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("no error");
    assert_eq!(event, WatchEvent::Create(p("/late")));
}

#[tokio::test]
async fn quota_refuses_and_changes_nothing() {
    let fs = MemoryFs::with_quota(10);
    write(&fs, "/a", b"12345678").await;
    let too_much = fs
        .write_file(&p("/b"), Bytes::from_static(b"abc"), OpenOptions::write())
        .await;
    assert_eq!(kind(too_much), ErrorKind::StorageFull);
    assert!(
        !fs.exists(&p("/b")).await.expect("exists"),
        "nothing created"
    );
    assert_eq!(
        kind(fs.truncate(&p("/a"), 11).await),
        ErrorKind::StorageFull
    );
    let mut handle = fs
        .open(&p("/a"), OpenOptions::flag(OpenFlag::Append))
        .await
        .expect("open");
    assert_eq!(kind(handle.write(b"abc").await), ErrorKind::StorageFull);
    handle.write_all(b"ab").await.expect("fits exactly");
    assert_eq!(read(&fs, "/a").await, b"12345678ab");
    let mut sink = fs
        .write_sink(&p("/a"), SinkOptions::default())
        .await
        .expect("sink");
    sink.write(Bytes::from_static(b"x"))
        .await
        .expect("buffered");
    assert_eq!(
        kind(sink.close().await),
        ErrorKind::StorageFull,
        "old and new bytes both count until the old inode is gone"
    );
    assert_eq!(
        kind(fs.copy_file(&p("/a"), &p("/c")).await),
        ErrorKind::StorageFull
    );
    fs.truncate(&p("/a"), 0).await.expect("shrink");
    fs.copy_file(&p("/a"), &p("/c")).await.expect("empty copy");
    write(&fs, "/b", b"0123456789").await;
    drop(handle);
    assert_eq!(fs.lock().used(), 10);
}

#[tokio::test]
async fn temp_files_and_guards() {
    let memory = MemoryFs::new();
    let fs: Arc<dyn FileSystem> = Arc::new(memory.clone());
    let dir = TempDirGuard::new(fs.clone(), TempOptions::default())
        .await
        .expect("temp dir");
    assert!(dir.path().starts_with(&p("/tmp")));
    let options = TempOptions {
        directory: Some(dir.path().clone()),
        prefix: Some("up-".into()),
    };
    let file = fs.make_temp_file(options).await.expect("temp file");
    assert!(file.file_name().expect("a name").starts_with("up-"));
    assert_eq!(fs.read_file(&file).await.expect("empty file").len(), 0);
    drop(dir);
    assert!(!fs.exists(&file).await.expect("exists"), "removed on drop");
    assert_eq!(memory.lock().inode_count(), 2, "only / and /tmp remain");
}

#[tokio::test]
async fn large_sequential_writes_and_reads() {
    let fs = MemoryFs::new();
    let chunk: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut file = fs
        .open(&p("/big"), OpenOptions::flag(OpenFlag::Write))
        .await
        .expect("open");
    for _ in 0..512 {
        file.write_all(&chunk).await.expect("write");
    }
    file.close().await.expect("close");
    let size = 512 * chunk.len();
    assert_eq!(fs.stat(&p("/big")).await.expect("stat").size, size as u64);
    let stream = fs
        .read_stream(&p("/big"), StreamOptions::default())
        .await
        .expect("stream");
    let mut total = 0;
    let mut chunks = stream;
    while let Some(next) = chunks.next().await {
        let next = next.expect("chunk");
        assert_eq!(&next[..], &chunk[..], "chunk {}", total / chunk.len());
        total += next.len();
    }
    assert_eq!(total, size);
    let mut sink = fs
        .write_sink(&p("/big2"), SinkOptions::default())
        .await
        .expect("sink");
    for _ in 0..512 {
        sink.write(Bytes::from(chunk.clone())).await.expect("write");
    }
    sink.close().await.expect("close");
    assert_eq!(fs.stat(&p("/big2")).await.expect("stat").size, size as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_use_from_many_tasks_is_consistent() {
    let fs = MemoryFs::new();
    mkdir(&fs, "/shared").await;
    let mut tasks = Vec::new();
    for task in 0..16u8 {
        let fs = fs.clone();
        tasks.push(tokio::spawn(async move {
            let mut log = fs
                .open(&p("/shared/log"), OpenOptions::flag(OpenFlag::Append))
                .await
                .expect("open");
            for i in 0..100u8 {
                let own = p(&format!("/shared/t{task}"));
                fs.write_file(
                    &own,
                    Bytes::from(vec![task; usize::from(i) + 1]),
                    OpenOptions::write(),
                )
                .await
                .expect("write own file");
                log.write_all(&[task; 8]).await.expect("append");
                let back = fs.read_file(&own).await.expect("read own file");
                assert_eq!(back.len(), usize::from(i) + 1);
                assert!(back.iter().all(|&b| b == task));
                let tmp = p(&format!("/shared/tmp{task}"));
                fs.write_file(&tmp, Bytes::from_static(b"x"), OpenOptions::write())
                    .await
                    .expect("write tmp");
                fs.rename(&tmp, &p(&format!("/shared/renamed{task}")))
                    .await
                    .expect("rename");
                tokio::task::yield_now().await;
            }
            log.close().await.expect("close");
        }));
    }
    for task in tasks {
        task.await.expect("task finished without panicking");
    }
    let log = fs.read_file(&p("/shared/log")).await.expect("read log");
    assert_eq!(log.len(), 16 * 100 * 8);
    // Appends are atomic: every 8-byte record is one task's.
    assert!(log
        .chunks(8)
        .all(|record| record.iter().all(|&b| b == record[0])));
    let entries = names(&fs, "/shared", false).await;
    assert_eq!(entries.len(), 1 + 16 * 2);
}

#[tokio::test]
async fn deep_trees_need_no_deep_recursion() {
    let fs = MemoryFs::new();
    let depth = 1_000;
    let deep = (0..depth).fold(crate::VPath::root(), |path, _| {
        path.join("d").expect("a valid name")
    });
    let rec = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    fs.make_dir(&deep, rec).await.expect("make_dir");
    write(&fs, &format!("{deep}/f"), b"bottom").await;
    let mut events = fs
        .watch(&p("/"), WatchOptions { recursive: true })
        .await
        .expect("watch");
    fs.remove(&p("/d"), recursive()).await.expect("remove");
    let removed = drain(&mut events);
    assert_eq!(removed.len(), depth + 1);
    assert_eq!(removed.last(), Some(&WatchEvent::Remove(p("/d"))));
    assert_eq!(fs.lock().inode_count(), 1);
}

#[tokio::test]
async fn quota_checks_come_after_the_open_checks() {
    let fs = MemoryFs::with_quota(4);
    write(&fs, "/f", b"1234").await;
    let big = Bytes::from_static(b"too big for the quota");
    let read_only = fs
        .write_file(&p("/f"), big.clone(), OpenOptions::flag(OpenFlag::Read))
        .await;
    assert_eq!(kind(read_only), ErrorKind::BadResource);
    let missing = fs
        .write_file(
            &p("/g"),
            big.clone(),
            OpenOptions::flag(OpenFlag::ReadWrite),
        )
        .await;
    assert_eq!(kind(missing), ErrorKind::NotFound);
    let exclusive = fs
        .write_file(
            &p("/f"),
            big.clone(),
            OpenOptions::flag(OpenFlag::WriteExclusive),
        )
        .await;
    assert_eq!(kind(exclusive), ErrorKind::AlreadyExists);
    let replace = fs.write_file(&p("/f"), big, OpenOptions::write()).await;
    assert_eq!(kind(replace), ErrorKind::StorageFull);
    assert_eq!(
        read(&fs, "/f").await,
        b"1234",
        "a refused write truncates nothing"
    );
}
