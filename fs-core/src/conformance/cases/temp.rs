//! Temporary files and directories, and the guards that remove them.

use std::sync::Arc;

use super::support::{exists, expect_kind, mkdir, names, p, read, wait_until_absent, write, Must};
use crate::{ErrorKind, FileSystem, FileType, TempDirGuard, TempFileGuard, TempOptions};

fn in_dir(dir: &str, prefix: Option<&str>) -> TempOptions {
    TempOptions {
        directory: Some(p(dir)),
        prefix: prefix.map(str::to_owned),
    }
}

/// Effect's `makeTempDirectory`: an empty directory below `temp_dir()` (created on demand), with a new
/// name on each call.
pub async fn make_temp_dir_creates_unique_empty_dirs(fs: Arc<dyn FileSystem>) {
    let first = fs
        .make_temp_dir(TempOptions::default())
        .await
        .must("make_temp_dir");
    let second = fs
        .make_temp_dir(TempOptions::default())
        .await
        .must("make_temp_dir again");
    assert_ne!(first, second, "two temporary directories share a name");
    let temp = fs.temp_dir();
    for dir in [&first, &second] {
        assert_eq!(
            dir.parent().as_ref(),
            Some(&temp),
            "{dir} is not in temp_dir() {temp}"
        );
        let info = fs.stat(dir).await.must(format!("stat {dir}"));
        assert_eq!(info.file_type, FileType::Directory);
        assert!(names(&*fs, dir).await.is_empty(), "{dir} is not empty");
    }
    write(&*fs, &first.join("inside").must("join"), b"usable").await;
}

/// `make_temp_dir` honours the directory and the prefix it is given.
pub async fn make_temp_dir_honours_directory_and_prefix(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/work/area")).await;
    let dir = fs
        .make_temp_dir(in_dir("/work/area", Some("upload-")))
        .await
        .must("make_temp_dir with directory and prefix");
    assert_eq!(dir.parent(), Some(p("/work/area")));
    let name = dir.file_name().expect("a temp dir has a name");
    assert!(
        name.starts_with("upload-") && name.len() > "upload-".len(),
        "{name:?} must start with the prefix and add something"
    );
    assert!(fs.stat(&dir).await.must("stat").is_dir());
}

/// `make_temp_file` creates an empty file with a new name on each call, honouring directory and
/// prefix.
pub async fn make_temp_file_creates_empty_unique_files(fs: Arc<dyn FileSystem>) {
    let first = fs
        .make_temp_file(TempOptions::default())
        .await
        .must("make_temp_file");
    let info = fs.stat(&first).await.must("stat");
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.size, 0);
    assert_eq!(first.parent(), Some(fs.temp_dir()));
    mkdir(&*fs, &p("/mine")).await;
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(
            fs.make_temp_file(in_dir("/mine", Some(".part-")))
                .await
                .must("make_temp_file in /mine"),
        );
    }
    for path in &made {
        assert_eq!(path.parent(), Some(p("/mine")));
        assert!(path
            .file_name()
            .is_some_and(|name| name.starts_with(".part-")));
    }
    assert_eq!(
        names(&*fs, &p("/mine")).await.len(),
        5,
        "five distinct files"
    );
}

/// Temporary names reject hostile prefixes (`BadArgument`) and need an existing directory
/// (`NotFound`, or `BadResource` for a file).
pub async fn make_temp_errors(fs: Arc<dyn FileSystem>) {
    for prefix in ["a/b", "..", "x\\y", "nul\0"] {
        expect_kind(
            fs.make_temp_dir(TempOptions {
                directory: None,
                prefix: Some(prefix.to_owned()),
            })
            .await,
            ErrorKind::BadArgument,
            format!("make_temp_dir with prefix {prefix:?}"),
        );
        expect_kind(
            fs.make_temp_file(TempOptions {
                directory: None,
                prefix: Some(prefix.to_owned()),
            })
            .await,
            ErrorKind::BadArgument,
            format!("make_temp_file with prefix {prefix:?}"),
        );
    }
    expect_kind(
        fs.make_temp_dir(in_dir("/missing", None)).await,
        ErrorKind::NotFound,
        "make_temp_dir in a missing directory",
    );
    expect_kind(
        fs.make_temp_file(in_dir("/missing", None)).await,
        ErrorKind::NotFound,
        "make_temp_file in a missing directory",
    );
    write(&*fs, &p("/file"), b"x").await;
    expect_kind(
        fs.make_temp_file(in_dir("/file", None)).await,
        ErrorKind::BadResource,
        "make_temp_file below a file",
    );
    assert!(!exists(&*fs, &p("/missing")).await);
}

/// `TempDirGuard::remove` deletes the directory and everything in it.
pub async fn temp_dir_guard_remove_deletes_tree(fs: Arc<dyn FileSystem>) {
    let guard = TempDirGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempDirGuard::new");
    let dir = guard.path().clone();
    mkdir(&*fs, &dir.join("sub").must("join")).await;
    write(&*fs, &dir.join_relative("sub/f").must("join"), b"f").await;
    guard.remove().await.must("TempDirGuard::remove");
    assert!(!exists(&*fs, &dir).await, "the guard's directory is gone");
}

/// Dropping a `TempDirGuard` deletes the directory and its content (possibly in the background: the
/// case waits a bounded time).
pub async fn temp_dir_guard_drop_deletes_tree(fs: Arc<dyn FileSystem>) {
    let guard = TempDirGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempDirGuard::new");
    let dir = guard.path().clone();
    write(&*fs, &dir.join("f").must("join"), b"f").await;
    drop(guard);
    wait_until_absent(&*fs, &dir, "after dropping a TempDirGuard").await;
}

/// `TempFileGuard` removes its file on `remove` and on drop.
pub async fn temp_file_guard_removes_on_remove_and_drop(fs: Arc<dyn FileSystem>) {
    let guard = TempFileGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempFileGuard::new");
    let path = guard.path().clone();
    write(&*fs, &path, b"scratch").await;
    guard.remove().await.must("TempFileGuard::remove");
    assert!(!exists(&*fs, &path).await);
    let guard = TempFileGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempFileGuard::new");
    let path = guard.path().clone();
    assert!(exists(&*fs, &path).await);
    drop(guard);
    wait_until_absent(&*fs, &path, "after dropping a TempFileGuard").await;
}

/// `keep` disarms a guard: the path stays after the guard is gone.
pub async fn temp_guard_keep_leaves_path(fs: Arc<dyn FileSystem>) {
    let guard = TempFileGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempFileGuard::new");
    let path = guard.path().clone();
    write(&*fs, &path, b"kept").await;
    assert_eq!(guard.keep(), path);
    let guard = TempDirGuard::new(fs.clone(), TempOptions::default())
        .await
        .must("TempDirGuard::new");
    let dir = guard.keep();
    for _ in 0..10 {
        super::support::yield_now().await;
    }
    assert_eq!(read(&*fs, &path).await, b"kept");
    assert!(exists(&*fs, &dir).await);
}
