//! What only the native backend has: OS paths, temporary siblings, permissions kept by atomic
//! replaces, symlink targets mapped into the namespace, `real_path` at the root's edge, inotify
//! events, large streamed files.

use std::io::SeekFrom;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use fs_core::{
    ErrorKind, FileSystem, FileType, MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions,
    SinkMode, SinkOptions, StreamOptions, TempDirGuard, TempOptions, VPath, WatchEvent,
    WatchOptions,
};
use fs_native::NativeFs;
use futures::StreamExt;
use tempfile::TempDir;

fn p(path: &str) -> VPath {
    VPath::new(path).expect("valid test path")
}

fn setup() -> (NativeFs, TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    (NativeFs::new(dir.path()), dir)
}

/// Names in `dir` (OS listing, hidden names included), sorted.
fn os_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn temp_names(dir: &Path) -> Vec<String> {
    os_names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".fsync-tmp"))
        .collect()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn vpaths_map_below_the_root() {
    let (fs, dir) = setup();
    assert_eq!(fs.os_path(&p("/a/b")), dir.path().join("a").join("b"));
    assert_eq!(fs.os_path(&VPath::root()), dir.path());
    fs.make_dir(&p("/a"), MakeDirOptions::default())
        .await
        .unwrap();
    fs.write_file(&p("/a/b"), Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap();
    assert_eq!(std::fs::read(dir.path().join("a/b")).unwrap(), b"x");
}

#[tokio::test]
async fn errors_name_the_vpath_and_the_effect_method() {
    let (fs, dir) = setup();
    let err = fs.read_file(&p("/missing/file")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.method(), "readFile");
    assert_eq!(err.path(), Some("/missing/file"));
    assert!(!err.to_string().contains(&*dir.path().to_string_lossy()));
}

#[tokio::test]
async fn write_file_replaces_atomically_and_leaves_no_temporary_file() {
    let (fs, dir) = setup();
    let path = p("/data.bin");
    fs.write_file(&path, Bytes::from(pattern(100_000)), OpenOptions::write())
        .await
        .unwrap();
    let before = std::fs::metadata(dir.path().join("data.bin"))
        .unwrap()
        .ino();
    fs.write_file(&path, Bytes::from_static(b"short"), OpenOptions::write())
        .await
        .unwrap();
    let after = std::fs::metadata(dir.path().join("data.bin"))
        .unwrap()
        .ino();
    assert_ne!(
        before, after,
        "a replace renames a new file over the old one"
    );
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"short"[..]);
    assert_eq!(os_names(dir.path()), ["data.bin"]);
}

#[tokio::test]
async fn replacing_keeps_the_permissions_and_creating_uses_the_mode() {
    let (fs, dir) = setup();
    let os = dir.path().join("script.sh");
    std::fs::write(&os, b"old").unwrap();
    std::fs::set_permissions(&os, std::fs::Permissions::from_mode(0o750)).unwrap();
    fs.write_file(
        &p("/script.sh"),
        Bytes::from_static(b"new"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::metadata(&os).unwrap().mode() & 0o777, 0o750);

    let options = OpenOptions {
        flag: OpenFlag::Write,
        mode: Some(0o600),
    };
    fs.write_file(&p("/secret"), Bytes::from_static(b"s"), options)
        .await
        .unwrap();
    let mode = std::fs::metadata(dir.path().join("secret")).unwrap().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test]
async fn exclusive_flags_refuse_an_existing_path_and_keep_it() {
    let (fs, dir) = setup();
    let path = p("/once");
    for flag in [OpenFlag::WriteExclusive, OpenFlag::AppendExclusive] {
        fs.write_file(&path, Bytes::from_static(b"first"), OpenOptions::write())
            .await
            .unwrap();
        let err = fs
            .write_file(
                &path,
                Bytes::from_static(b"second"),
                OpenOptions::flag(flag),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{flag}");
        assert_eq!(fs.read_file(&path).await.unwrap(), &b"first"[..]);
        fs.remove(&path, Default::default()).await.unwrap();
        fs.write_file(&path, Bytes::from_static(b"third"), OpenOptions::flag(flag))
            .await
            .unwrap();
        assert_eq!(fs.read_file(&path).await.unwrap(), &b"third"[..]);
        fs.remove(&path, Default::default()).await.unwrap();
    }
    assert!(temp_names(dir.path()).is_empty());
}

#[tokio::test]
async fn in_place_flags_modify_the_same_file() {
    let (fs, dir) = setup();
    let path = p("/log");
    fs.write_file(&path, Bytes::from_static(b"abcdef"), OpenOptions::write())
        .await
        .unwrap();
    let ino = std::fs::metadata(dir.path().join("log")).unwrap().ino();
    fs.write_file(
        &path,
        Bytes::from_static(b"XY"),
        OpenOptions::flag(OpenFlag::ReadWrite),
    )
    .await
    .unwrap();
    fs.write_file(
        &path,
        Bytes::from_static(b"gh"),
        OpenOptions::flag(OpenFlag::Append),
    )
    .await
    .unwrap();
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"XYcdefgh"[..]);
    assert_eq!(
        std::fs::metadata(dir.path().join("log")).unwrap().ino(),
        ino
    );
    let err = fs
        .write_file(
            &p("/nope"),
            Bytes::new(),
            OpenOptions::flag(OpenFlag::ReadWrite),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn writing_through_a_symlink_replaces_the_file_it_points_at() {
    let (fs, dir) = setup();
    fs.write_file(
        &p("/real"),
        Bytes::from_static(b"old"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    fs.symlink("real", &p("/alias")).await.unwrap();
    fs.write_file(
        &p("/alias"),
        Bytes::from_static(b"new"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    assert!(std::fs::symlink_metadata(dir.path().join("alias"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs.read_file(&p("/real")).await.unwrap(), &b"new"[..]);

    fs.symlink("/made-by-link", &p("/dangling")).await.unwrap();
    fs.write_file(
        &p("/dangling"),
        Bytes::from_static(b"created"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    assert_eq!(
        fs.read_file(&p("/made-by-link")).await.unwrap(),
        &b"created"[..]
    );
}

#[tokio::test]
async fn a_name_of_255_bytes_still_gets_a_temporary_sibling() {
    let (fs, _dir) = setup();
    let long = p(&format!("/{}", "n".repeat(255)));
    fs.write_file(&long, Bytes::from_static(b"ok"), OpenOptions::write())
        .await
        .unwrap();
    let mut sink = fs.write_sink(&long, SinkOptions::default()).await.unwrap();
    sink.write(Bytes::from_static(b"sunk")).await.unwrap();
    sink.close().await.unwrap();
    assert_eq!(fs.read_file(&long).await.unwrap(), &b"sunk"[..]);
}

#[tokio::test]
async fn sink_stages_in_a_hidden_sibling_until_close() {
    let (fs, dir) = setup();
    let path = p("/out.bin");
    fs.write_file(&path, Bytes::from_static(b"old"), OpenOptions::write())
        .await
        .unwrap();
    let mut sink = fs.write_sink(&path, SinkOptions::default()).await.unwrap();
    sink.write(Bytes::from(pattern(300_000))).await.unwrap();
    sink.write(Bytes::from_static(b"tail")).await.unwrap();
    let staged = temp_names(dir.path());
    assert_eq!(staged.len(), 1);
    assert!(staged[0].starts_with(".out.bin."), "{staged:?}");
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"old"[..]);
    assert_eq!(sink.bytes_written(), 300_004);
    sink.close().await.unwrap();
    assert!(temp_names(dir.path()).is_empty());
    let mut want = pattern(300_000);
    want.extend_from_slice(b"tail");
    assert_eq!(fs.read_file(&path).await.unwrap(), want);
}

#[tokio::test]
async fn sink_abort_and_drop_remove_the_temporary_file() {
    let (fs, dir) = setup();
    let path = p("/kept.txt");
    fs.write_file(&path, Bytes::from_static(b"keep me"), OpenOptions::write())
        .await
        .unwrap();

    let mut sink = fs.write_sink(&path, SinkOptions::default()).await.unwrap();
    sink.write(Bytes::from(pattern(70_000))).await.unwrap();
    sink.abort().await.unwrap();
    assert!(temp_names(dir.path()).is_empty());

    let mut sink = fs.write_sink(&path, SinkOptions::default()).await.unwrap();
    sink.write(Bytes::from(pattern(70_000))).await.unwrap();
    drop(sink);
    assert!(temp_names(dir.path()).is_empty(), "drop unlinks at once");

    let fresh = p("/never.txt");
    let sink = fs.write_sink(&fresh, SinkOptions::default()).await.unwrap();
    drop(sink);
    assert_eq!(os_names(dir.path()), ["kept.txt"]);
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"keep me"[..]);
}

#[tokio::test]
async fn create_new_sink_checks_at_open_and_again_at_close() {
    let (fs, dir) = setup();
    let path = p("/new.txt");
    let exclusive = SinkOptions {
        mode: SinkMode::CreateNew,
        permissions: None,
    };
    let mut sink = fs.write_sink(&path, exclusive).await.unwrap();
    sink.write(Bytes::from_static(b"mine")).await.unwrap();
    fs.write_file(&path, Bytes::from_static(b"theirs"), OpenOptions::write())
        .await
        .unwrap();
    let err = sink.close().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"theirs"[..]);
    assert!(temp_names(dir.path()).is_empty());
    let err = fs.write_sink(&path, exclusive).await.err().expect("exists");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
}

#[tokio::test]
async fn sink_with_permissions_and_append_mode() {
    let (fs, dir) = setup();
    let path = p("/appended");
    let options = SinkOptions {
        mode: SinkMode::Append,
        permissions: Some(0o640),
    };
    let mut sink = fs.write_sink(&path, options).await.unwrap();
    sink.write(Bytes::from_static(b"one,")).await.unwrap();
    sink.close().await.unwrap();
    let mut sink = fs.write_sink(&path, options).await.unwrap();
    sink.write(Bytes::from_static(b"two")).await.unwrap();
    sink.close().await.unwrap();
    assert_eq!(fs.read_file(&path).await.unwrap(), &b"one,two"[..]);
    let mode = std::fs::metadata(dir.path().join("appended"))
        .unwrap()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[tokio::test]
async fn absolute_symlink_targets_stay_in_the_namespace() {
    let (fs, dir) = setup();
    fs.make_dir(&p("/d"), MakeDirOptions::default())
        .await
        .unwrap();
    fs.write_file(
        &p("/d/f"),
        Bytes::from_static(b"through"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    fs.symlink("/d/f", &p("/abs")).await.unwrap();
    assert_eq!(
        std::fs::read_link(dir.path().join("abs")).unwrap(),
        dir.path().join("d/f")
    );
    assert_eq!(fs.read_link(&p("/abs")).await.unwrap(), "/d/f");
    assert_eq!(fs.read_file(&p("/abs")).await.unwrap(), &b"through"[..]);

    fs.symlink("../d/f", &p("/d/rel")).await.unwrap();
    assert_eq!(
        std::fs::read_link(dir.path().join("d/rel")).unwrap(),
        Path::new("../d/f")
    );
    assert_eq!(fs.read_link(&p("/d/rel")).await.unwrap(), "../d/f");
    assert_eq!(fs.real_path(&p("/d/rel")).await.unwrap(), p("/d/f"));

    let listing = fs
        .read_dir(&VPath::root(), ReadDirOptions::default())
        .await
        .unwrap();
    let abs = listing.iter().find(|e| e.relative == "abs").unwrap();
    assert_eq!(abs.file_type, FileType::SymbolicLink);
}

#[tokio::test]
async fn symlinks_that_would_leave_the_root_are_refused() {
    let (fs, _dir) = setup();
    fs.make_dir(&p("/d"), MakeDirOptions::default())
        .await
        .unwrap();
    for (target, link) in [("../../etc", "/d/up"), ("..", "/top"), ("/a/../b", "/bad")] {
        let err = fs.symlink(target, &p(link)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadArgument, "{target}");
    }
    fs.symlink("../sibling", &p("/d/ok")).await.unwrap();
    fs.symlink("a/../../d", &p("/d/also-ok")).await.unwrap();
}

#[tokio::test]
async fn links_made_outside_the_api_are_reported_honestly() {
    let (fs, dir) = setup();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("x"), b"outside").unwrap();
    std::os::unix::fs::symlink(outside.path().join("x"), dir.path().join("escape")).unwrap();
    let err = fs.read_link(&p("/escape")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let err = fs.real_path(&p("/escape")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadArgument);

    std::fs::write(dir.path().join("back\\slash"), b"").unwrap();
    let err = fs
        .read_dir(&VPath::root(), ReadDirOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.description().contains("back\\\\slash"), "{err}");
}

#[tokio::test]
async fn real_path_works_when_the_root_itself_is_reached_through_a_link() {
    let holder = tempfile::tempdir().unwrap();
    let real = holder.path().join("real");
    std::fs::create_dir(&real).unwrap();
    std::os::unix::fs::symlink(&real, holder.path().join("via")).unwrap();
    let fs = NativeFs::new(holder.path().join("via"));
    fs.make_dir(&p("/x"), MakeDirOptions::default())
        .await
        .unwrap();
    fs.symlink("/x", &p("/to-x")).await.unwrap();
    assert_eq!(fs.real_path(&p("/to-x")).await.unwrap(), p("/x"));
    assert_eq!(fs.real_path(&VPath::root()).await.unwrap(), VPath::root());
    assert_eq!(fs.read_link(&p("/to-x")).await.unwrap(), "/x");
}

#[tokio::test]
async fn a_relative_root_is_made_absolute() {
    let fs = NativeFs::new("relative/root");
    assert!(fs.root().is_absolute());
    assert!(fs.root().ends_with("relative/root"));
}

#[tokio::test]
async fn stat_fills_the_unix_fields_and_reports_dangling_links() {
    let (fs, dir) = setup();
    fs.write_file(&p("/f"), Bytes::from(pattern(10_000)), OpenOptions::write())
        .await
        .unwrap();
    let info = fs.stat(&p("/f")).await.unwrap();
    let meta = std::fs::metadata(dir.path().join("f")).unwrap();
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.size, 10_000);
    assert_eq!(info.ino, Some(meta.ino()));
    assert_eq!(info.dev, meta.dev());
    assert_eq!(info.mode, meta.mode());
    assert_eq!(info.nlink, Some(1));
    assert_eq!(info.uid, Some(meta.uid()));
    assert_eq!(info.gid, Some(meta.gid()));
    assert_eq!(info.blksize, Some(meta.blksize()));
    assert_eq!(info.blocks, Some(meta.blocks()));
    assert!(info.mtime.is_some() && info.atime.is_some());

    fs.link(&p("/f"), &p("/hard")).await.unwrap();
    assert_eq!(fs.stat(&p("/f")).await.unwrap().nlink, Some(2));

    fs.symlink("nowhere", &p("/dangling")).await.unwrap();
    let link = fs.stat(&p("/dangling")).await.unwrap();
    assert_eq!(link.file_type, FileType::SymbolicLink);
    assert!(fs.exists(&p("/dangling")).await.unwrap());
}

#[tokio::test]
async fn attributes_reach_the_os() {
    let (fs, dir) = setup();
    fs.write_file(&p("/f"), Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap();
    fs.chmod(&p("/f"), 0o604).await.unwrap();
    let meta = std::fs::metadata(dir.path().join("f")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o604);
    fs.chown(&p("/f"), meta.uid(), meta.gid()).await.unwrap();
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    fs.utimes(&p("/f"), when, when).await.unwrap();
    let info = fs.stat(&p("/f")).await.unwrap();
    assert_eq!(info.mtime, Some(when));
    assert_eq!(info.atime, Some(when));
    fs.utimes(&VPath::root(), when, when).await.unwrap();
    assert_eq!(fs.stat(&VPath::root()).await.unwrap().mtime, Some(when));
}

#[tokio::test]
async fn file_handles_use_their_own_cursor() {
    let (fs, _dir) = setup();
    let path = p("/cursor");
    fs.write_file(
        &path,
        Bytes::from_static(b"0123456789"),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    let mut file = fs
        .open(&path, OpenOptions::flag(OpenFlag::AppendRead))
        .await
        .unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(file.read(&mut buf).await.unwrap(), 4);
    file.write_all(b"AB").await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 4);
    assert_eq!(
        file.read_alloc(100).await.unwrap().unwrap(),
        &b"456789AB"[..]
    );
    let err = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadArgument);
    assert_eq!(file.seek(SeekFrom::End(-2)).await.unwrap(), 10);
    file.truncate(3).await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(0)).await.unwrap(), 3);
    file.sync().await.unwrap();
    file.close().await.unwrap();

    let mut read_only = fs.open(&path, OpenOptions::read()).await.unwrap();
    let err = read_only.write(b"x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let err = read_only.truncate(0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let mut write_only = fs
        .open(&path, OpenOptions::flag(OpenFlag::Append))
        .await
        .unwrap();
    let err = write_only.read(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let err = fs
        .open(&VPath::root(), OpenOptions::read())
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::BadResource);
}

#[tokio::test]
async fn a_large_file_streams_in_exact_chunks() {
    let (fs, _dir) = setup();
    let path = p("/large.bin");
    let data = pattern(20 * 1024 * 1024 + 12_345);
    let mut sink = fs.write_sink(&path, SinkOptions::default()).await.unwrap();
    for piece in data.chunks(1024 * 1024) {
        sink.write(Bytes::copy_from_slice(piece)).await.unwrap();
    }
    sink.close().await.unwrap();

    let chunk_size = 1024 * 1024;
    let options = StreamOptions {
        chunk_size,
        ..StreamOptions::default()
    };
    let chunks: Vec<Bytes> = fs
        .read_stream(&path, options)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    assert_eq!(chunks.len(), 21);
    assert!(chunks[..20].iter().all(|c| c.len() == chunk_size));
    assert_eq!(chunks[20].len(), 12_345);
    assert!(chunks.concat() == data);

    let window = StreamOptions {
        chunk_size: 100_000,
        offset: 5_000_000,
        length: Some(250_001),
    };
    let chunks: Vec<Bytes> = fs
        .read_stream(&path, window)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
    assert_eq!(sizes, [100_000, 100_000, 50_001]);
    assert!(chunks.concat() == data[5_000_000..5_250_001]);
}

#[tokio::test]
async fn a_huge_chunk_size_is_capped() {
    let (fs, _dir) = setup();
    let path = p("/small");
    fs.write_file(&path, Bytes::from_static(b"tiny"), OpenOptions::write())
        .await
        .unwrap();
    let options = StreamOptions {
        chunk_size: usize::MAX,
        ..StreamOptions::default()
    };
    let chunks: Vec<Bytes> = fs
        .read_stream(&path, options)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    assert_eq!(chunks, [Bytes::from_static(b"tiny")]);
}

/// Collects watch events until `done` says the wanted ones arrived (at most 10 s).
async fn events_until(
    stream: &mut fs_core::WatchStream,
    done: impl Fn(&[WatchEvent]) -> bool,
) -> Vec<WatchEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(&seen) {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(event)) => seen.push(event.expect("watch event")),
            Ok(None) => panic!("the watch stream ended; seen {seen:?}"),
            Err(_) => panic!("timed out; seen {seen:?}"),
        }
    }
    seen
}

#[tokio::test]
async fn watch_reports_create_update_and_remove() {
    let (fs, _dir) = setup();
    fs.make_dir(&p("/w"), MakeDirOptions::default())
        .await
        .unwrap();
    let mut events = fs.watch(&p("/w"), WatchOptions::default()).await.unwrap();
    let file = p("/w/f.txt");

    let mut handle = fs
        .open(&file, OpenOptions::flag(OpenFlag::Write))
        .await
        .unwrap();
    events_until(&mut events, |seen| {
        seen.contains(&WatchEvent::Create(file.clone()))
    })
    .await;
    handle.write_all(b"more").await.unwrap();
    handle.close().await.unwrap();
    events_until(&mut events, |seen| {
        seen.contains(&WatchEvent::Update(file.clone()))
    })
    .await;
    fs.remove(&file, Default::default()).await.unwrap();
    events_until(&mut events, |seen| {
        seen.contains(&WatchEvent::Remove(file.clone()))
    })
    .await;

    // An atomic replace shows up as the new name arriving.
    fs.write_file(&file, Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap();
    events_until(&mut events, |seen| {
        seen.contains(&WatchEvent::Create(file.clone()))
    })
    .await;
}

#[tokio::test]
async fn watch_recursive_sees_subdirectories_and_missing_paths_fail() {
    let (fs, _dir) = setup();
    fs.make_dir(
        &p("/w/sub"),
        MakeDirOptions {
            recursive: true,
            mode: None,
        },
    )
    .await
    .unwrap();
    let recursive = WatchOptions { recursive: true };
    let mut events = fs.watch(&p("/w"), recursive).await.unwrap();
    let deep = p("/w/sub/deep.txt");
    fs.write_file(&deep, Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap();
    events_until(&mut events, |seen| {
        seen.contains(&WatchEvent::Create(deep.clone()))
    })
    .await;
    drop(events);

    let err = fs.watch(&p("/missing"), recursive).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn temp_dirs_default_to_tmp_inside_the_root_and_are_removed_on_drop() {
    let (fs, dir) = setup();
    let fs: Arc<dyn FileSystem> = Arc::new(fs);
    let guard = TempDirGuard::new(fs.clone(), TempOptions::default())
        .await
        .unwrap();
    assert!(guard.path().starts_with(&p("/tmp")));
    let os = dir
        .path()
        .join(guard.path().as_str().trim_start_matches('/'));
    assert!(os.is_dir());
    fs.write_file(
        &guard.path().join("x").unwrap(),
        Bytes::new(),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    drop(guard);
    assert!(!os.exists(), "remove_detached removes at once");

    let custom = NativeFs::new(dir.path()).with_temp_dir(p("/scratch"));
    assert_eq!(custom.temp_dir(), p("/scratch"));
    let made = custom.make_temp_file(TempOptions::default()).await.unwrap();
    assert!(made.starts_with(&p("/scratch")));
}

#[tokio::test]
async fn durable_calls_leave_nothing_behind_when_they_fail() {
    let (fs, dir) = setup();
    fs.make_dir(&p("/dir"), MakeDirOptions::default())
        .await
        .unwrap();
    let err = fs
        .write_file(&p("/dir"), Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let err = fs.copy_file(&p("/dir"), &p("/copy")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    fs.write_file(&p("/src"), Bytes::from_static(b"x"), OpenOptions::write())
        .await
        .unwrap();
    let err = fs.copy_file(&p("/src"), &p("/dir")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let err = fs
        .write_sink(&p("/dir"), SinkOptions::default())
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    assert!(temp_names(dir.path()).is_empty());
    assert!(temp_names(&dir.path().join("dir")).is_empty());
}

#[tokio::test]
async fn copy_file_is_a_fresh_file_with_the_source_permissions() {
    let (fs, dir) = setup();
    fs.write_file(
        &p("/src"),
        Bytes::from(pattern(200_000)),
        OpenOptions::write(),
    )
    .await
    .unwrap();
    fs.chmod(&p("/src"), 0o640).await.unwrap();
    fs.copy_file(&p("/src"), &p("/dst")).await.unwrap();
    assert_eq!(fs.read_file(&p("/dst")).await.unwrap(), pattern(200_000));
    let mode = std::fs::metadata(dir.path().join("dst")).unwrap().mode();
    assert_eq!(mode & 0o777, 0o640);
    fs.copy_file(&p("/src"), &p("/src")).await.unwrap();
    assert_eq!(fs.read_file(&p("/src")).await.unwrap(), pattern(200_000));
    assert!(temp_names(dir.path()).is_empty());
}

#[tokio::test]
async fn make_dir_reports_the_error_kinds_of_the_model() {
    let (fs, _dir) = setup();
    let recursive = MakeDirOptions {
        recursive: true,
        mode: Some(0o700),
    };
    fs.make_dir(&p("/a/b/c"), recursive).await.unwrap();
    fs.make_dir(&p("/a/b/c"), recursive).await.unwrap();
    assert_eq!(fs.stat(&p("/a/b")).await.unwrap().mode & 0o777, 0o700);
    let err = fs
        .make_dir(&p("/a"), MakeDirOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    fs.write_file(&p("/a/file"), Bytes::new(), OpenOptions::write())
        .await
        .unwrap();
    let err = fs.make_dir(&p("/a/file"), recursive).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let err = fs.make_dir(&p("/a/file/x"), recursive).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadResource);
    let err = fs
        .make_dir(&p("/none/x"), MakeDirOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn renaming_a_link_through_itself_moves_the_link_into_its_target() {
    // POSIX: `to`'s parent resolves through the link before the move, so the link lands in /b.
    let (fs, _dir) = setup();
    fs.make_dir(&p("/b"), MakeDirOptions::default())
        .await
        .unwrap();
    fs.symlink("/b", &p("/a")).await.unwrap();
    fs.rename(&p("/a"), &p("/a/a")).await.unwrap();
    assert!(!fs.exists(&p("/a")).await.unwrap());
    assert_eq!(fs.read_link(&p("/b/a")).await.unwrap(), "/b");
}

#[tokio::test]
async fn small_chunks_that_do_not_divide_a_batch_come_out_exact() {
    let (fs, _dir) = setup();
    let path = p("/odd.bin");
    let data = pattern(3 * 1024 * 1024 + 17);
    fs.write_file(&path, Bytes::from(data.clone()), OpenOptions::write())
        .await
        .unwrap();
    let options = StreamOptions {
        chunk_size: 4099,
        offset: 5,
        length: None,
    };
    let chunks: Vec<Bytes> = fs
        .read_stream(&path, options)
        .await
        .unwrap()
        .map(|c| c.unwrap())
        .collect()
        .await;
    let (last, full) = chunks.split_last().unwrap();
    assert!(full.iter().all(|c| c.len() == 4099));
    assert_eq!(last.len(), (data.len() - 5) % 4099);
    assert!(chunks.concat() == data[5..]);
}
