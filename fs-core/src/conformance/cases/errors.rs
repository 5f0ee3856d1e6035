//! Error kinds of the whole-file calls and of `open` for missing paths, missing parents, a
//! directory used as a file and a file used as a directory. (The other methods check theirs in their
//! own cases.)

use std::sync::Arc;

use bytes::Bytes;

use super::support::{exists, expect_kind, mkdir, names, p, read, write, Must};
use crate::{ErrorKind, FileSystem, OpenFlag, OpenOptions};

async fn setup(fs: &dyn FileSystem) {
    write(fs, &p("/file"), b"file").await;
    mkdir(fs, &p("/dir")).await;
}

/// `read_file` and `read_file_string`: `NotFound` for a missing file or parent, `BadResource` for a
/// directory (the root too) or a path below a file.
pub async fn read_file_errors(fs: Arc<dyn FileSystem>) {
    setup(&*fs).await;
    for (path, kind, what) in [
        ("/missing", ErrorKind::NotFound, "a missing file"),
        (
            "/missing/child",
            ErrorKind::NotFound,
            "below a missing parent",
        ),
        ("/dir", ErrorKind::BadResource, "a directory"),
        ("/file/child", ErrorKind::BadResource, "below a file"),
        ("/", ErrorKind::BadResource, "the root"),
    ] {
        expect_kind(
            fs.read_file(&p(path)).await,
            kind,
            format!("read_file of {what}"),
        );
        expect_kind(
            fs.read_file_string(&p(path)).await,
            kind,
            format!("read_file_string of {what}"),
        );
    }
}

/// `write_file` and `write_file_string`: `NotFound` into a missing directory, `BadResource` at a
/// directory's path (the root too) or below a file; nothing is created or changed.
pub async fn write_file_errors(fs: Arc<dyn FileSystem>) {
    setup(&*fs).await;
    for (path, kind, what) in [
        (
            "/missing/child",
            ErrorKind::NotFound,
            "into a missing directory",
        ),
        ("/dir", ErrorKind::BadResource, "at a directory"),
        ("/file/child", ErrorKind::BadResource, "below a file"),
        ("/", ErrorKind::BadResource, "at the root"),
    ] {
        expect_kind(
            fs.write_file(&p(path), Bytes::from_static(b"x"), OpenOptions::write())
                .await,
            kind,
            format!("write_file {what}"),
        );
        expect_kind(
            fs.write_file_string(&p(path), "x", OpenOptions::write())
                .await,
            kind,
            format!("write_file_string {what}"),
        );
        expect_kind(
            fs.write_file(
                &p(path),
                Bytes::from_static(b"x"),
                OpenOptions::flag(OpenFlag::Append),
            )
            .await,
            kind,
            format!("write_file a {what}"),
        );
    }
    assert!(!exists(&*fs, &p("/missing")).await);
    assert!(fs.stat(&p("/dir")).await.must("stat").is_dir());
    assert!(names(&*fs, &p("/dir")).await.is_empty());
    assert_eq!(read(&*fs, &p("/file")).await, b"file");
}

/// `truncate`: `NotFound` for a missing file or parent, `BadResource` for a directory.
pub async fn truncate_errors(fs: Arc<dyn FileSystem>) {
    setup(&*fs).await;
    expect_kind(
        fs.truncate(&p("/missing"), 0).await,
        ErrorKind::NotFound,
        "truncate of a missing file",
    );
    assert!(
        !exists(&*fs, &p("/missing")).await,
        "truncate creates nothing"
    );
    expect_kind(
        fs.truncate(&p("/missing/child"), 0).await,
        ErrorKind::NotFound,
        "truncate below a missing parent",
    );
    expect_kind(
        fs.truncate(&p("/dir"), 0).await,
        ErrorKind::BadResource,
        "truncate of a directory",
    );
    expect_kind(
        fs.truncate(&p("/file/child"), 0).await,
        ErrorKind::BadResource,
        "truncate below a file",
    );
}

/// `open` for reading: `NotFound` for a missing file or parent, `BadResource` below a file, and a
/// directory is `BadResource` when opened or at the latest when read.
pub async fn open_for_reading_errors(fs: Arc<dyn FileSystem>) {
    setup(&*fs).await;
    for flag in [OpenFlag::Read, OpenFlag::ReadWrite] {
        let expected = if flag.writable() && !fs.capabilities().random_access_write {
            ErrorKind::Unsupported
        } else {
            ErrorKind::NotFound
        };
        expect_kind(
            fs.open(&p("/missing"), OpenOptions::flag(flag)).await,
            expected,
            format!("open {flag} of a missing file"),
        );
        expect_kind(
            fs.open(&p("/missing/child"), OpenOptions::flag(flag)).await,
            expected,
            format!("open {flag} below a missing parent"),
        );
    }
    expect_kind(
        fs.open(&p("/file/child"), OpenOptions::read()).await,
        ErrorKind::BadResource,
        "open r below a file",
    );
    match fs.open(&p("/dir"), OpenOptions::read()).await {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::BadResource,
            "open r of a directory: {e}"
        ),
        Ok(mut file) => {
            expect_kind(
                file.read_alloc(16).await,
                ErrorKind::BadResource,
                "reading a directory opened with r",
            );
        }
    }
}

/// `open` for writing: `NotFound` into a missing directory, `BadResource` at a directory or below a
/// file (with random-access writes; `Unsupported` without).
pub async fn open_for_writing_errors(fs: Arc<dyn FileSystem>) {
    setup(&*fs).await;
    let supported = fs.capabilities().random_access_write;
    let cases: [(&str, ErrorKind, &str); 3] = [
        (
            "/missing/child",
            ErrorKind::NotFound,
            "into a missing directory",
        ),
        ("/dir", ErrorKind::BadResource, "at a directory"),
        ("/file/child", ErrorKind::BadResource, "below a file"),
    ];
    for flag in [OpenFlag::Write, OpenFlag::WriteRead, OpenFlag::Append] {
        for (path, kind, what) in cases {
            let expected = if supported {
                kind
            } else {
                ErrorKind::Unsupported
            };
            expect_kind(
                fs.open(&p(path), OpenOptions::flag(flag)).await,
                expected,
                format!("open {flag} {what}"),
            );
        }
    }
    assert!(!exists(&*fs, &p("/missing")).await);
    assert!(fs.stat(&p("/dir")).await.must("stat").is_dir());
    assert_eq!(read(&*fs, &p("/file")).await, b"file");
}

/// Creating exclusively (`wx`, `ax`, a `CreateNew` sink) where a directory is, `/` included, is
/// `AlreadyExists` (the path exists) before it is `BadResource` (not a file); the non-exclusive
/// flags there are `BadResource`.
pub async fn exclusive_create_on_a_directory_is_already_exists(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/d")).await;
    let create_new = crate::SinkOptions {
        mode: crate::SinkMode::CreateNew,
        permissions: None,
    };
    let random_access = fs.capabilities().random_access_write;
    for dir in ["/d", "/"] {
        let dir = p(dir);
        for flag in [OpenFlag::WriteExclusive, OpenFlag::AppendExclusive] {
            expect_kind(
                fs.write_file(&dir, Bytes::from_static(b"x"), OpenOptions::flag(flag))
                    .await,
                ErrorKind::AlreadyExists,
                format!("write_file {dir} {flag}"),
            );
            if random_access {
                expect_kind(
                    fs.open(&dir, OpenOptions::flag(flag)).await,
                    ErrorKind::AlreadyExists,
                    format!("open {dir} {flag}"),
                );
            }
        }
        expect_kind(
            fs.write_sink(&dir, create_new).await,
            ErrorKind::AlreadyExists,
            format!("write_sink {dir} CreateNew"),
        );
        expect_kind(
            fs.write_file(&dir, Bytes::from_static(b"x"), OpenOptions::write())
                .await,
            ErrorKind::BadResource,
            format!("write_file {dir} w"),
        );
        expect_kind(
            fs.write_sink(&dir, crate::SinkOptions::default()).await,
            ErrorKind::BadResource,
            format!("write_sink {dir} Replace"),
        );
    }
    assert!(names(&*fs, &p("/d")).await.is_empty());
}
