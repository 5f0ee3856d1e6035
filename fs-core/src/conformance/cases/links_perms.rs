//! Capability-gated calls: symlinks, hard links, permissions, ownership, times and `real_path`.
//!
//! Each case checks the behaviour when the backend claims the capability, and `Unsupported` (with
//! nothing changed) when it does not; no case skips silently.

use std::io::SeekFrom;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use web_time::{SystemTime, UNIX_EPOCH};

use super::support::{
    exists, expect_kind, expect_kind_in, listing, mkdir, p, read, read_string, write, Must,
};
use crate::{
    CopyOptions, ErrorKind, FileSystem, FileType, MakeDirOptions, OpenFlag, OpenOptions,
    RemoveOptions, SinkOptions, VPath,
};

/// Symlinks: `read_link` returns the stored target, `stat` and reads follow the link (also through a
/// linked directory and a `../` target), `read_dir` reports the link itself, and `remove` deletes
/// the link, not the target.
pub async fn symlinks_follow_and_list(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/target"), b"content").await;
    if !fs.capabilities().symlinks {
        expect_kind(
            fs.symlink("target", &p("/link")).await,
            ErrorKind::Unsupported,
            "symlink without the symlinks capability",
        );
        expect_kind(
            fs.read_link(&p("/target")).await,
            ErrorKind::Unsupported,
            "read_link without the symlinks capability",
        );
        assert!(!exists(&*fs, &p("/link")).await);
        return;
    }
    fs.symlink("target", &p("/link")).await.must("symlink");
    assert_eq!(fs.read_link(&p("/link")).await.must("read_link"), "target");
    let info = fs.stat(&p("/link")).await.must("stat of a link");
    assert_eq!(
        info.file_type,
        FileType::File,
        "stat follows a link to its target"
    );
    assert_eq!(info.size, 7);
    assert_eq!(read_string(&*fs, &p("/link")).await, "content");
    mkdir(&*fs, &p("/dir")).await;
    write(&*fs, &p("/dir/inner"), b"inner").await;
    fs.symlink("dir", &p("/dirlink"))
        .await
        .must("symlink to a directory");
    assert!(fs.stat(&p("/dirlink")).await.must("stat").is_dir());
    assert_eq!(read_string(&*fs, &p("/dirlink/inner")).await, "inner");
    fs.symlink("../target", &p("/dir/up"))
        .await
        .must("symlink with ../");
    assert_eq!(
        fs.read_link(&p("/dir/up")).await.must("read_link"),
        "../target"
    );
    assert_eq!(read_string(&*fs, &p("/dir/up")).await, "content");
    assert_eq!(
        listing(&*fs, &VPath::root(), false).await,
        vec![
            ("dir".to_owned(), FileType::Directory),
            ("dirlink".to_owned(), FileType::SymbolicLink),
            ("link".to_owned(), FileType::SymbolicLink),
            ("target".to_owned(), FileType::File),
        ]
    );
    fs.remove(&p("/link"), RemoveOptions::default())
        .await
        .must("remove a link");
    assert!(!exists(&*fs, &p("/link")).await);
    assert_eq!(read_string(&*fs, &p("/target")).await, "content");
}

/// Symlink errors and dangling links: an existing link path is `AlreadyExists`, `read_link` of a
/// missing path `NotFound` and of a regular file an error; a dangling link exists, `stat`s as a
/// `SymbolicLink`, and reading through it is `NotFound`.
pub async fn symlink_errors_and_dangling_links(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"x").await;
    if !fs.capabilities().symlinks {
        expect_kind(
            fs.symlink("nowhere", &p("/dangling")).await,
            ErrorKind::Unsupported,
            "symlink without the symlinks capability",
        );
        return;
    }
    expect_kind(
        fs.symlink("anything", &p("/file")).await,
        ErrorKind::AlreadyExists,
        "symlink over an existing file",
    );
    assert_eq!(read(&*fs, &p("/file")).await, b"x");
    expect_kind(
        fs.read_link(&p("/missing")).await,
        ErrorKind::NotFound,
        "read_link of a missing path",
    );
    expect_kind_in(
        fs.read_link(&p("/file")).await,
        &[ErrorKind::BadArgument, ErrorKind::BadResource],
        "read_link of a regular file",
    );
    expect_kind(
        fs.symlink("x", &p("/missing/link")).await,
        ErrorKind::NotFound,
        "symlink into a missing directory",
    );
    fs.symlink("nowhere", &p("/dangling"))
        .await
        .must("symlink to a missing target");
    assert!(
        exists(&*fs, &p("/dangling")).await,
        "a dangling link exists"
    );
    assert_eq!(
        fs.stat(&p("/dangling")).await.must("stat").file_type,
        FileType::SymbolicLink,
        "stat of a dangling link reports the link"
    );
    expect_kind(
        fs.read_file(&p("/dangling")).await,
        ErrorKind::NotFound,
        "read_file through a dangling link",
    );
}

/// Hard links name the same file: the content is shared (also for in-place writes), and removing one
/// name keeps the other.
pub async fn hard_links_share_content(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/a"), b"shared content").await;
    if !fs.capabilities().hard_links {
        expect_kind(
            fs.link(&p("/a"), &p("/b")).await,
            ErrorKind::Unsupported,
            "link without the hard_links capability",
        );
        assert!(!exists(&*fs, &p("/b")).await);
        return;
    }
    fs.link(&p("/a"), &p("/b")).await.must("link");
    assert_eq!(read_string(&*fs, &p("/b")).await, "shared content");
    if let Some(nlink) = fs.stat(&p("/a")).await.must("stat").nlink {
        assert_eq!(nlink, 2, "two names, two links");
    }
    if fs.capabilities().random_access_write {
        let mut file = fs
            .open(&p("/a"), OpenOptions::flag(OpenFlag::ReadWrite))
            .await
            .must("open r+");
        file.seek(SeekFrom::Start(0)).await.must("seek");
        file.write_all(b"SHARED").await.must("write_all");
        file.close().await.must("close");
        assert_eq!(read_string(&*fs, &p("/b")).await, "SHARED content");
    }
    expect_kind(
        fs.link(&p("/a"), &p("/b")).await,
        ErrorKind::AlreadyExists,
        "link onto an existing path",
    );
    expect_kind(
        fs.link(&p("/missing"), &p("/c")).await,
        ErrorKind::NotFound,
        "link of a missing file",
    );
    fs.remove(&p("/a"), RemoveOptions::default())
        .await
        .must("remove one name");
    assert!(read_string(&*fs, &p("/b")).await.ends_with(" content"));
}

/// `chmod` sets the permission bits `stat` reports, and `mode` options apply on create (file,
/// directory, sink).
pub async fn permissions_chmod_and_create_modes(fs: Arc<dyn FileSystem>) {
    let file = p("/file");
    write(&*fs, &file, b"x").await;
    if !fs.capabilities().permissions {
        expect_kind(
            fs.chmod(&file, 0o600).await,
            ErrorKind::Unsupported,
            "chmod without the permissions capability",
        );
        return;
    }
    let mode_of = |path: VPath| {
        let fs = fs.clone();
        async move { fs.stat(&path).await.must(format!("stat {path}")).mode & 0o777 }
    };
    for mode in [0o640, 0o600, 0o755] {
        fs.chmod(&file, mode).await.must(format!("chmod {mode:o}"));
        assert_eq!(
            mode_of(file.clone()).await,
            mode,
            "mode after chmod {mode:o}"
        );
    }
    assert_eq!(read(&*fs, &file).await, b"x");
    mkdir(&*fs, &p("/dir")).await;
    fs.chmod(&p("/dir"), 0o750).await.must("chmod a directory");
    assert_eq!(mode_of(p("/dir")).await, 0o750);
    fs.write_file(
        &p("/created"),
        Bytes::from_static(b"y"),
        OpenOptions {
            flag: OpenFlag::Write,
            mode: Some(0o600),
        },
    )
    .await
    .must("write_file with mode 600");
    assert_eq!(mode_of(p("/created")).await, 0o600, "mode on create");
    fs.make_dir(
        &p("/private"),
        MakeDirOptions {
            recursive: false,
            mode: Some(0o700),
        },
    )
    .await
    .must("make_dir with mode 700");
    assert_eq!(
        mode_of(p("/private")).await,
        0o700,
        "directory mode on create"
    );
    let sink = fs
        .write_sink(
            &p("/sunk"),
            SinkOptions {
                permissions: Some(0o600),
                ..SinkOptions::default()
            },
        )
        .await
        .must("write_sink with permissions 600");
    sink.close().await.must("close");
    assert_eq!(mode_of(p("/sunk")).await, 0o600, "sink permissions");
    expect_kind(
        fs.chmod(&p("/missing"), 0o600).await,
        ErrorKind::NotFound,
        "chmod of a missing path",
    );
}

/// `chown` to the owner a fresh file already has succeeds and keeps it.
pub async fn ownership_chown_to_current_owner(fs: Arc<dyn FileSystem>) {
    let file = p("/owned");
    write(&*fs, &file, b"x").await;
    if !fs.capabilities().ownership {
        expect_kind(
            fs.chown(&file, 0, 0).await,
            ErrorKind::Unsupported,
            "chown without the ownership capability",
        );
        return;
    }
    let info = fs.stat(&file).await.must("stat");
    let uid = info
        .uid
        .expect("a backend with ownership reports the owner's uid");
    let gid = info
        .gid
        .expect("a backend with ownership reports the owner's gid");
    fs.chown(&file, uid, gid).await.must("chown");
    let after = fs.stat(&file).await.must("stat");
    assert_eq!((after.uid, after.gid), (Some(uid), Some(gid)));
    expect_kind(
        fs.chown(&p("/missing"), uid, gid).await,
        ErrorKind::NotFound,
        "chown of a missing path",
    );
}

fn assert_close(got: Option<SystemTime>, want: SystemTime, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: a backend with set_times reports it"));
    let diff = match got.duration_since(want) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        diff <= Duration::from_secs(1),
        "{what}: {got:?} is more than 1 s away from {want:?}"
    );
}

/// `utimes` sets the times `stat` reports (within 1 s), and `copy` with `preserve_timestamps` keeps
/// the modification time.
pub async fn set_times_utimes(fs: Arc<dyn FileSystem>) {
    let file = p("/timed");
    write(&*fs, &file, b"x").await;
    let atime = UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    let mtime = UNIX_EPOCH + Duration::from_millis(1_600_000_000_250);
    if !fs.capabilities().set_times {
        expect_kind(
            fs.utimes(&file, atime, mtime).await,
            ErrorKind::Unsupported,
            "utimes without the set_times capability",
        );
        return;
    }
    fs.utimes(&file, atime, mtime).await.must("utimes");
    let info = fs.stat(&file).await.must("stat");
    assert_close(info.mtime, mtime, "mtime after utimes");
    if info.atime.is_some() {
        assert_close(info.atime, atime, "atime after utimes");
    }
    let preserve = CopyOptions {
        overwrite: false,
        preserve_timestamps: true,
    };
    fs.copy(&file, &p("/copied"), preserve)
        .await
        .must("copy preserving timestamps");
    let copied = fs.stat(&p("/copied")).await.must("stat copy");
    assert_close(
        copied.mtime,
        mtime,
        "mtime of a copy with preserve_timestamps",
    );
    expect_kind(
        fs.utimes(&p("/missing"), atime, mtime).await,
        ErrorKind::NotFound,
        "utimes of a missing path",
    );
}

/// `real_path` returns the canonical path: unchanged for plain paths, the target for links, and
/// `NotFound` for missing paths.
pub async fn real_path_canonicalizes(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/dir")).await;
    write(&*fs, &p("/dir/file"), b"x").await;
    if !fs.capabilities().real_path {
        expect_kind(
            fs.real_path(&p("/dir/file")).await,
            ErrorKind::Unsupported,
            "real_path without the real_path capability",
        );
        return;
    }
    for path in ["/", "/dir", "/dir/file"] {
        assert_eq!(
            fs.real_path(&p(path))
                .await
                .must(format!("real_path {path}")),
            p(path)
        );
    }
    expect_kind(
        fs.real_path(&p("/missing")).await,
        ErrorKind::NotFound,
        "real_path of a missing path",
    );
    if fs.capabilities().symlinks {
        fs.symlink("dir", &p("/alias")).await.must("symlink");
        assert_eq!(
            fs.real_path(&p("/alias/file"))
                .await
                .must("real_path through a link"),
            p("/dir/file")
        );
        fs.symlink("file", &p("/dir/again")).await.must("symlink");
        assert_eq!(
            fs.real_path(&p("/alias/again"))
                .await
                .must("real_path through two links"),
            p("/dir/file")
        );
    }
}
