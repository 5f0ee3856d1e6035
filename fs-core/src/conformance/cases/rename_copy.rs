//! Moving and copying: `rename`, `copy_file` and `copy` (Effect's copy tests included).

use std::sync::Arc;

use super::support::{
    exists, expect_kind, listing, mkdir, names, p, random_bytes, read, read_string, write, Must,
};
use crate::{CopyOptions, ErrorKind, FileSystem, FileType, VPath};

/// `rename` moves a file: the content is at the new path and the old path is gone.
pub async fn rename_file_moves_content(fs: Arc<dyn FileSystem>) {
    let data = random_bytes(10, 70_000);
    write(&*fs, &p("/from.bin"), &data).await;
    fs.rename(&p("/from.bin"), &p("/to.bin"))
        .await
        .must("rename");
    assert!(!exists(&*fs, &p("/from.bin")).await, "the source is gone");
    assert_eq!(read(&*fs, &p("/to.bin")).await, data);
    assert_eq!(names(&*fs, &VPath::root()).await, ["to.bin"]);
}

/// `rename` of a file over another file replaces it.
pub async fn rename_file_over_file_replaces(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/new"), b"new content").await;
    write(&*fs, &p("/old"), b"old content that is longer").await;
    fs.rename(&p("/new"), &p("/old"))
        .await
        .must("rename over a file");
    assert_eq!(read_string(&*fs, &p("/old")).await, "new content");
    assert!(!exists(&*fs, &p("/new")).await);
}

/// `rename` moves files across directories.
pub async fn rename_across_directories(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/src/deep")).await;
    mkdir(&*fs, &p("/dst")).await;
    write(&*fs, &p("/src/deep/file.txt"), b"travelling").await;
    fs.rename(&p("/src/deep/file.txt"), &p("/dst/renamed.txt"))
        .await
        .must("rename across directories");
    assert_eq!(
        read_string(&*fs, &p("/dst/renamed.txt")).await,
        "travelling"
    );
    assert!(names(&*fs, &p("/src/deep")).await.is_empty());
    fs.rename(&p("/dst/renamed.txt"), &p("/top.txt"))
        .await
        .must("rename up to the root");
    assert_eq!(read_string(&*fs, &p("/top.txt")).await, "travelling");
}

/// `rename` of a directory moves its whole tree.
pub async fn rename_directory_moves_tree(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/d/sub")).await;
    write(&*fs, &p("/d/a.txt"), b"a").await;
    write(&*fs, &p("/d/sub/b.txt"), b"b").await;
    mkdir(&*fs, &p("/other")).await;
    fs.rename(&p("/d"), &p("/other/moved"))
        .await
        .must("rename a directory");
    assert!(!exists(&*fs, &p("/d")).await);
    assert_eq!(
        listing(&*fs, &p("/other/moved"), true).await,
        vec![
            ("a.txt".to_owned(), FileType::File),
            ("sub".to_owned(), FileType::Directory),
            ("sub/b.txt".to_owned(), FileType::File),
        ]
    );
    assert_eq!(read(&*fs, &p("/other/moved/sub/b.txt")).await, b"b");
}

/// `rename` of a directory over an empty directory replaces it.
pub async fn rename_dir_over_empty_dir_replaces(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/src")).await;
    write(&*fs, &p("/src/f"), b"f").await;
    mkdir(&*fs, &p("/empty")).await;
    fs.rename(&p("/src"), &p("/empty"))
        .await
        .must("rename a directory over an empty one");
    assert_eq!(names(&*fs, &p("/empty")).await, ["f"]);
    assert!(!exists(&*fs, &p("/src")).await);
}

/// Moving a directory into itself or below itself is `BadArgument` and changes nothing.
pub async fn rename_dir_into_itself_is_bad_argument(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/d/sub")).await;
    write(&*fs, &p("/d/f"), b"f").await;
    expect_kind(
        fs.rename(&p("/d"), &p("/d/sub/inner")).await,
        ErrorKind::BadArgument,
        "rename a directory below itself",
    );
    expect_kind(
        fs.rename(&p("/d"), &p("/d/inside")).await,
        ErrorKind::BadArgument,
        "rename a directory into itself",
    );
    assert_eq!(
        listing(&*fs, &VPath::root(), true).await,
        vec![
            ("d".to_owned(), FileType::Directory),
            ("d/f".to_owned(), FileType::File),
            ("d/sub".to_owned(), FileType::Directory),
        ]
    );
}

/// `rename` errors: missing source or target parent (`NotFound`), a file over a directory or a
/// directory over a file (`BadResource`), a directory over a non-empty one (`DirectoryNotEmpty`).
pub async fn rename_errors(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"file").await;
    mkdir(&*fs, &p("/dir")).await;
    mkdir(&*fs, &p("/full")).await;
    write(&*fs, &p("/full/x"), b"x").await;
    expect_kind(
        fs.rename(&p("/missing"), &p("/anything")).await,
        ErrorKind::NotFound,
        "rename of a missing source",
    );
    expect_kind(
        fs.rename(&p("/file"), &p("/nowhere/file")).await,
        ErrorKind::NotFound,
        "rename into a missing directory",
    );
    expect_kind(
        fs.rename(&p("/file"), &p("/dir")).await,
        ErrorKind::BadResource,
        "rename a file over a directory",
    );
    expect_kind(
        fs.rename(&p("/dir"), &p("/file")).await,
        ErrorKind::BadResource,
        "rename a directory over a file",
    );
    expect_kind(
        fs.rename(&p("/dir"), &p("/full")).await,
        ErrorKind::DirectoryNotEmpty,
        "rename a directory over a non-empty directory",
    );
    expect_kind(
        fs.rename(&p("/file"), &p("/file/below")).await,
        ErrorKind::BadResource,
        "rename to below a file",
    );
    assert_eq!(read(&*fs, &p("/file")).await, b"file");
    assert_eq!(read(&*fs, &p("/full/x")).await, b"x");
    assert!(fs.stat(&p("/dir")).await.must("stat").is_dir());
}

/// Renaming a file to its own path keeps it.
pub async fn rename_to_same_path_keeps_file(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/same"), b"unchanged").await;
    fs.rename(&p("/same"), &p("/same"))
        .await
        .must("rename to the same path");
    assert_eq!(read(&*fs, &p("/same")).await, b"unchanged");
}

/// `copy_file` copies bytes, replaces an existing destination, and leaves an independent copy.
pub async fn copy_file_copies_and_replaces(fs: Arc<dyn FileSystem>) {
    let data = random_bytes(11, 200_000);
    write(&*fs, &p("/src.bin"), &data).await;
    write(&*fs, &p("/dst.bin"), b"old destination content").await;
    fs.copy_file(&p("/src.bin"), &p("/dst.bin"))
        .await
        .must("copy_file over a file");
    assert_eq!(read(&*fs, &p("/dst.bin")).await, data);
    fs.copy_file(&p("/src.bin"), &p("/fresh.bin"))
        .await
        .must("copy_file to a new path");
    write(&*fs, &p("/src.bin"), b"changed").await;
    assert_eq!(
        read(&*fs, &p("/fresh.bin")).await,
        data,
        "a copy does not follow later writes to its source"
    );
    assert_eq!(read(&*fs, &p("/dst.bin")).await, data);
}

/// `copy_file` of a file onto itself never loses its content (it succeeds as a no-op or fails).
pub async fn copy_file_onto_itself_keeps_content(fs: Arc<dyn FileSystem>) {
    let data = random_bytes(14, 5000);
    write(&*fs, &p("/self.bin"), &data).await;
    let _ = fs.copy_file(&p("/self.bin"), &p("/self.bin")).await;
    assert_eq!(
        read(&*fs, &p("/self.bin")).await,
        data,
        "copy_file onto itself emptied or changed the file"
    );
}

/// `copy_file` errors: missing source or destination parent (`NotFound`), a directory as source or
/// destination (`BadResource`).
pub async fn copy_file_errors(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"file").await;
    mkdir(&*fs, &p("/dir")).await;
    expect_kind(
        fs.copy_file(&p("/missing"), &p("/to")).await,
        ErrorKind::NotFound,
        "copy_file of a missing source",
    );
    expect_kind(
        fs.copy_file(&p("/file"), &p("/nowhere/to")).await,
        ErrorKind::NotFound,
        "copy_file into a missing directory",
    );
    expect_kind(
        fs.copy_file(&p("/dir"), &p("/to")).await,
        ErrorKind::BadResource,
        "copy_file of a directory",
    );
    expect_kind(
        fs.copy_file(&p("/file"), &p("/dir")).await,
        ErrorKind::BadResource,
        "copy_file over a directory",
    );
    assert!(!exists(&*fs, &p("/to")).await);
    assert!(names(&*fs, &p("/dir")).await.is_empty());
}

/// Effect's copy test: without `overwrite`, an existing destination is `AlreadyExists` and keeps its
/// content.
pub async fn copy_without_overwrite_keeps_destination(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/a.txt"), b"source").await;
    write(&*fs, &p("/b.txt"), b"destination").await;
    expect_kind(
        fs.copy(&p("/a.txt"), &p("/b.txt"), CopyOptions::default())
            .await,
        ErrorKind::AlreadyExists,
        "copy onto an existing file without overwrite",
    );
    assert_eq!(read_string(&*fs, &p("/b.txt")).await, "destination");
    fs.copy(&p("/a.txt"), &p("/c.txt"), CopyOptions::default())
        .await
        .must("copy to a new path");
    assert_eq!(read_string(&*fs, &p("/c.txt")).await, "source");
}

/// Effect's copy test with `overwrite`: the destination is replaced.
pub async fn copy_with_overwrite_replaces(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/a.txt"), b"source").await;
    write(&*fs, &p("/b.txt"), b"destination that is longer").await;
    let overwrite = CopyOptions {
        overwrite: true,
        preserve_timestamps: false,
    };
    fs.copy(&p("/a.txt"), &p("/b.txt"), overwrite)
        .await
        .must("copy with overwrite");
    assert_eq!(read_string(&*fs, &p("/b.txt")).await, "source");
    assert_eq!(read_string(&*fs, &p("/a.txt")).await, "source");
}

/// `copy` of a directory copies the whole tree (files, empty directories, content).
pub async fn copy_directory_tree(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/src/sub/deeper")).await;
    mkdir(&*fs, &p("/src/empty")).await;
    write(&*fs, &p("/src/top.bin"), &random_bytes(12, 1000)).await;
    write(
        &*fs,
        &p("/src/sub/deeper/leaf.bin"),
        &random_bytes(13, 70_000),
    )
    .await;
    fs.copy(&p("/src"), &p("/dst"), CopyOptions::default())
        .await
        .must("copy a directory tree");
    assert_eq!(
        listing(&*fs, &p("/dst"), true).await,
        listing(&*fs, &p("/src"), true).await
    );
    assert_eq!(
        read(&*fs, &p("/dst/sub/deeper/leaf.bin")).await,
        random_bytes(13, 70_000)
    );
    assert_eq!(read(&*fs, &p("/dst/top.bin")).await, random_bytes(12, 1000));
    assert_eq!(listing(&*fs, &p("/src"), true).await.len(), 5);
}

/// `copy` of a tree checks every destination before writing: one conflict means `AlreadyExists` and
/// nothing copied; with `overwrite` the conflicting file is replaced and the rest is added.
pub async fn copy_tree_checks_destination_first(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/src/sub")).await;
    write(&*fs, &p("/src/a"), b"a").await;
    write(&*fs, &p("/src/sub/z"), b"z from src").await;
    mkdir(&*fs, &p("/dst/sub")).await;
    write(&*fs, &p("/dst/sub/z"), b"z in dst").await;
    expect_kind(
        fs.copy(&p("/src"), &p("/dst"), CopyOptions::default())
            .await,
        ErrorKind::AlreadyExists,
        "copy a tree onto a tree with a conflicting file",
    );
    assert!(
        !exists(&*fs, &p("/dst/a")).await,
        "nothing is copied when a conflict exists"
    );
    assert_eq!(read_string(&*fs, &p("/dst/sub/z")).await, "z in dst");
    let overwrite = CopyOptions {
        overwrite: true,
        preserve_timestamps: false,
    };
    fs.copy(&p("/src"), &p("/dst"), overwrite)
        .await
        .must("copy a tree with overwrite");
    assert_eq!(read_string(&*fs, &p("/dst/sub/z")).await, "z from src");
    assert_eq!(read_string(&*fs, &p("/dst/a")).await, "a");
}

/// `copy` of a directory into itself is `BadArgument`; of a missing source or into a missing
/// directory, `NotFound`.
pub async fn copy_errors(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/d")).await;
    write(&*fs, &p("/d/f"), b"f").await;
    expect_kind(
        fs.copy(&p("/d"), &p("/d/copy"), CopyOptions::default())
            .await,
        ErrorKind::BadArgument,
        "copy a directory into itself",
    );
    assert_eq!(names(&*fs, &p("/d")).await, ["f"]);
    expect_kind(
        fs.copy(&p("/missing"), &p("/x"), CopyOptions::default())
            .await,
        ErrorKind::NotFound,
        "copy of a missing source",
    );
    assert!(!exists(&*fs, &p("/x")).await);
    expect_kind(
        fs.copy(&p("/d/f"), &p("/nowhere/f"), CopyOptions::default())
            .await,
        ErrorKind::NotFound,
        "copy of a file into a missing directory",
    );
    assert!(!exists(&*fs, &p("/nowhere")).await);
}

/// `rename` from or to `/` is `BadArgument`, whatever the other path is (missing, a file, `/`).
pub async fn rename_involving_the_root_is_bad_argument(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/f"), b"file").await;
    for (from, to) in [("/", "/"), ("/f", "/"), ("/missing", "/"), ("/", "/x")] {
        expect_kind(
            fs.rename(&p(from), &p(to)).await,
            ErrorKind::BadArgument,
            format!("rename {from} {to}"),
        );
    }
    assert_eq!(read(&*fs, &p("/f")).await, b"file");
}

/// `rename`'s errors come in Linux's order (see the trait): the parents of both paths, then the
/// source, then a directory into itself, then a destination that contains the source, then the
/// kinds of the two entries.
pub async fn rename_errors_follow_linux_precedence(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/f"), b"file").await;
    mkdir(&*fs, &p("/d/s")).await;
    write(&*fs, &p("/d/s/f"), b"deep").await;
    for (from, to, kind, why) in [
        (
            "/d",
            "/d/x/y",
            ErrorKind::NotFound,
            "the destination's parent is missing (before: into itself)",
        ),
        (
            "/missing",
            "/f/x",
            ErrorKind::BadResource,
            "the destination's parent is a file (before: the source is missing)",
        ),
        (
            "/missing/x",
            "/f/x",
            ErrorKind::NotFound,
            "the source's parent is missing (before: the destination's parent)",
        ),
        (
            "/missing",
            "/nowhere",
            ErrorKind::NotFound,
            "a missing source",
        ),
        (
            "/d",
            "/d/x",
            ErrorKind::BadArgument,
            "a directory into itself",
        ),
        (
            "/d/s/f",
            "/d",
            ErrorKind::DirectoryNotEmpty,
            "onto a directory that contains the source",
        ),
        (
            "/d/s",
            "/d",
            ErrorKind::DirectoryNotEmpty,
            "a directory onto its parent",
        ),
        (
            "/f",
            "/f/x",
            ErrorKind::BadResource,
            "a file to below itself",
        ),
    ] {
        expect_kind(
            fs.rename(&p(from), &p(to)).await,
            kind,
            format!("rename {from} {to}: {why}"),
        );
    }
    fs.rename(&p("/d"), &p("/d"))
        .await
        .must("rename /d onto itself");
    assert_eq!(read(&*fs, &p("/d/s/f")).await, b"deep");
    assert_eq!(read(&*fs, &p("/f")).await, b"file");
}
