//! Directories and the namespace: `make_dir`, `read_dir`, `remove`, `exists`, `access`, `stat`.

use std::sync::Arc;

use super::support::{exists, expect_kind, listing, mkdir, names, p, read, write, Must};
use crate::{
    AccessOptions, ErrorKind, FileSystem, FileType, MakeDirOptions, ReadDirOptions, RemoveOptions,
    VPath,
};

const PLAIN: MakeDirOptions = MakeDirOptions {
    recursive: false,
    mode: None,
};
const RECURSIVE: MakeDirOptions = MakeDirOptions {
    recursive: true,
    mode: None,
};

/// `make_dir` without `recursive` creates one directory; its parent must exist (`NotFound`) and the
/// path must not (`AlreadyExists`, also for `/` and for a file).
pub async fn make_dir_non_recursive(fs: Arc<dyn FileSystem>) {
    let dir = p("/one");
    fs.make_dir(&dir, PLAIN).await.must("make_dir /one");
    assert!(fs.stat(&dir).await.must("stat").is_dir());
    assert!(
        names(&*fs, &dir).await.is_empty(),
        "a new directory is empty"
    );
    expect_kind(
        fs.make_dir(&dir, PLAIN).await,
        ErrorKind::AlreadyExists,
        "make_dir of an existing directory",
    );
    let deep = p("/missing/child");
    expect_kind(
        fs.make_dir(&deep, PLAIN).await,
        ErrorKind::NotFound,
        "make_dir with a missing parent",
    );
    assert!(!exists(&*fs, &p("/missing")).await);
    expect_kind(
        fs.make_dir(&VPath::root(), PLAIN).await,
        ErrorKind::AlreadyExists,
        "make_dir /",
    );
    let file = p("/file");
    write(&*fs, &file, b"x").await;
    expect_kind(
        fs.make_dir(&file, PLAIN).await,
        ErrorKind::AlreadyExists,
        "make_dir over a file",
    );
    assert_eq!(read(&*fs, &file).await, b"x");
}

/// `make_dir` with `recursive` creates every missing parent, succeeds on an existing directory, and
/// fails with `BadResource` when a parent is a file.
pub async fn make_dir_recursive(fs: Arc<dyn FileSystem>) {
    let deep = p("/a/b/c/d");
    fs.make_dir(&deep, RECURSIVE)
        .await
        .must("make_dir recursive");
    for dir in ["/a", "/a/b", "/a/b/c", "/a/b/c/d"] {
        assert!(fs.stat(&p(dir)).await.must("stat").is_dir(), "{dir}");
    }
    fs.make_dir(&deep, RECURSIVE)
        .await
        .must("make_dir recursive of an existing directory");
    fs.make_dir(&VPath::root(), RECURSIVE)
        .await
        .must("make_dir recursive /");
    write(&*fs, &p("/a/file"), b"x").await;
    expect_kind(
        fs.make_dir(&p("/a/file/sub"), RECURSIVE).await,
        ErrorKind::BadResource,
        "make_dir recursive below a file",
    );
    assert_eq!(read(&*fs, &p("/a/file")).await, b"x");
}

/// `read_dir` lists direct children sorted by name, with their types and full paths.
pub async fn read_dir_lists_sorted_children_with_types(fs: Arc<dyn FileSystem>) {
    let dir = p("/list");
    mkdir(&*fs, &dir).await;
    for name in ["zeta.txt", "alpha.txt", "mid"] {
        write(&*fs, &dir.join(name).must("join"), name.as_bytes()).await;
    }
    mkdir(&*fs, &p("/list/beta")).await;
    mkdir(&*fs, &p("/list/beta/inner")).await;
    write(&*fs, &p("/list/beta/inner/deep.txt"), b"deep").await;
    let got = listing(&*fs, &dir, false).await;
    let expected = vec![
        ("alpha.txt".to_owned(), FileType::File),
        ("beta".to_owned(), FileType::Directory),
        ("mid".to_owned(), FileType::File),
        ("zeta.txt".to_owned(), FileType::File),
    ];
    assert_eq!(
        got, expected,
        "read_dir must list direct children only, sorted"
    );
}

/// A recursive `read_dir` lists the whole tree with relative paths `sub/name`, sorted.
pub async fn read_dir_recursive_uses_relative_paths(fs: Arc<dyn FileSystem>) {
    let dir = p("/tree");
    mkdir(&*fs, &p("/tree/sub/deeper")).await;
    mkdir(&*fs, &p("/tree/empty")).await;
    write(&*fs, &p("/tree/top.txt"), b"1").await;
    write(&*fs, &p("/tree/sub/mid.txt"), b"2").await;
    write(&*fs, &p("/tree/sub/deeper/leaf.txt"), b"3").await;
    let got = listing(&*fs, &dir, true).await;
    let expected = vec![
        ("empty".to_owned(), FileType::Directory),
        ("sub".to_owned(), FileType::Directory),
        ("sub/deeper".to_owned(), FileType::Directory),
        ("sub/deeper/leaf.txt".to_owned(), FileType::File),
        ("sub/mid.txt".to_owned(), FileType::File),
        ("top.txt".to_owned(), FileType::File),
    ];
    assert_eq!(got, expected);
    let from_root = listing(&*fs, &VPath::root(), true).await;
    assert_eq!(from_root.len(), 7, "a recursive listing of / sees the tree");
    assert_eq!(from_root[0], ("tree".to_owned(), FileType::Directory));
    assert!(from_root.contains(&("tree/sub/deeper/leaf.txt".to_owned(), FileType::File)));
}

/// "Sorted by relative path" means sorted as strings: `a` < `a-b` < `a/x` (`-` sorts before `/`), so
/// every backend lists a tree in the same order.
pub async fn read_dir_sorts_by_relative_path_string(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/a")).await;
    write(&*fs, &p("/a/x"), b"").await;
    write(&*fs, &p("/a-b"), b"").await;
    write(&*fs, &p("/a.c"), b"").await;
    write(&*fs, &p("/B"), b"").await;
    let got: Vec<String> = listing(&*fs, &VPath::root(), true)
        .await
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    let mut expected = got.clone();
    expected.sort();
    assert_eq!(got, expected, "a recursive listing sorted by relative path");
    assert_eq!(got, ["B", "a", "a-b", "a.c", "a/x"]);
}

/// `read_dir` of a missing path is `NotFound`; of a file, or below a file, `BadResource`.
pub async fn read_dir_errors(fs: Arc<dyn FileSystem>) {
    let options = ReadDirOptions::default();
    expect_kind(
        fs.read_dir(&p("/missing"), options).await,
        ErrorKind::NotFound,
        "read_dir of a missing directory",
    );
    expect_kind(
        fs.read_dir(&p("/missing/sub"), ReadDirOptions { recursive: true })
            .await,
        ErrorKind::NotFound,
        "read_dir recursive below a missing directory",
    );
    write(&*fs, &p("/file"), b"x").await;
    expect_kind(
        fs.read_dir(&p("/file"), options).await,
        ErrorKind::BadResource,
        "read_dir of a file",
    );
    expect_kind(
        fs.read_dir(&p("/file/sub"), options).await,
        ErrorKind::BadResource,
        "read_dir below a file",
    );
}

/// `remove` deletes a file and an empty directory without any option.
pub async fn remove_file_and_empty_dir(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"x").await;
    mkdir(&*fs, &p("/empty")).await;
    fs.remove(&p("/file"), RemoveOptions::default())
        .await
        .must("remove a file");
    fs.remove(&p("/empty"), RemoveOptions::default())
        .await
        .must("remove an empty directory");
    assert!(!exists(&*fs, &p("/file")).await);
    assert!(!exists(&*fs, &p("/empty")).await);
    assert!(listing(&*fs, &VPath::root(), true).await.is_empty());
}

/// A non-empty directory needs `recursive` (`DirectoryNotEmpty` without it, nothing removed); with it
/// the whole tree goes.
pub async fn remove_non_empty_dir_needs_recursive(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/full/sub")).await;
    write(&*fs, &p("/full/sub/file"), b"x").await;
    write(&*fs, &p("/full/top"), b"y").await;
    expect_kind(
        fs.remove(&p("/full"), RemoveOptions::default()).await,
        ErrorKind::DirectoryNotEmpty,
        "remove of a non-empty directory without recursive",
    );
    expect_kind(
        fs.remove(
            &p("/full"),
            RemoveOptions {
                recursive: false,
                force: true,
            },
        )
        .await,
        ErrorKind::DirectoryNotEmpty,
        "remove with force but without recursive",
    );
    assert_eq!(read(&*fs, &p("/full/sub/file")).await, b"x");
    assert_eq!(listing(&*fs, &p("/full"), true).await.len(), 3);
    let recursive = RemoveOptions {
        recursive: true,
        force: false,
    };
    fs.remove(&p("/full"), recursive)
        .await
        .must("remove recursive");
    assert!(!exists(&*fs, &p("/full")).await);
    assert!(listing(&*fs, &VPath::root(), true).await.is_empty());
    write(&*fs, &p("/plain"), b"z").await;
    fs.remove(&p("/plain"), recursive)
        .await
        .must("remove recursive of a file");
    assert!(!exists(&*fs, &p("/plain")).await);
}

/// Removing a missing path is `NotFound`, unless `force` is set (also below a missing parent);
/// a path below a file is `BadResource`.
pub async fn remove_missing_path_needs_force(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"x").await;
    expect_kind(
        fs.remove(&p("/file/child"), RemoveOptions::default()).await,
        ErrorKind::BadResource,
        "remove below a file",
    );
    assert_eq!(read(&*fs, &p("/file")).await, b"x");
    expect_kind(
        fs.remove(&p("/missing"), RemoveOptions::default()).await,
        ErrorKind::NotFound,
        "remove of a missing path",
    );
    expect_kind(
        fs.remove(
            &p("/missing/child"),
            RemoveOptions {
                recursive: true,
                force: false,
            },
        )
        .await,
        ErrorKind::NotFound,
        "remove recursive of a missing path",
    );
    let force = RemoveOptions {
        recursive: false,
        force: true,
    };
    fs.remove(&p("/missing"), force)
        .await
        .must("remove force of a missing path");
    fs.remove(&p("/missing/child"), force)
        .await
        .must("remove force below a missing parent");
    fs.remove(
        &p("/missing"),
        RemoveOptions {
            recursive: true,
            force: true,
        },
    )
    .await
    .must("remove recursive force of a missing path");
}

/// Removing `/` is `BadArgument` with every option combination, and removes nothing.
pub async fn remove_root_is_bad_argument(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/survivor"), b"still here").await;
    for (recursive, force) in [(false, false), (true, false), (false, true), (true, true)] {
        expect_kind(
            fs.remove(&VPath::root(), RemoveOptions { recursive, force })
                .await,
            ErrorKind::BadArgument,
            format!("remove / (recursive {recursive}, force {force})"),
        );
    }
    assert_eq!(read(&*fs, &p("/survivor")).await, b"still here");
}

/// `exists` is true for files and directories, false for missing paths (also below a missing
/// parent), and an error (`BadResource`) below a file.
pub async fn exists_distinguishes_missing_from_bad_parent(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"x").await;
    mkdir(&*fs, &p("/dir")).await;
    assert!(exists(&*fs, &p("/file")).await);
    assert!(exists(&*fs, &p("/dir")).await);
    assert!(!exists(&*fs, &p("/nothing")).await);
    assert!(!exists(&*fs, &p("/nothing/below")).await);
    assert!(!exists(&*fs, &p("/dir/nothing")).await);
    expect_kind(
        fs.exists(&p("/file/child")).await,
        ErrorKind::BadResource,
        "exists below a file",
    );
}

/// `stat` of a missing path (or below one) is `NotFound`; below a file, `BadResource`.
pub async fn stat_errors(fs: Arc<dyn FileSystem>) {
    expect_kind(
        fs.stat(&p("/missing")).await,
        ErrorKind::NotFound,
        "stat of a missing path",
    );
    expect_kind(
        fs.stat(&p("/missing/child")).await,
        ErrorKind::NotFound,
        "stat below a missing parent",
    );
    write(&*fs, &p("/file"), b"x").await;
    expect_kind(
        fs.stat(&p("/file/child")).await,
        ErrorKind::BadResource,
        "stat below a file",
    );
}

/// `access` succeeds for existing files and directories (a fresh file is readable and writable) and
/// is `NotFound` for missing paths.
pub async fn access_checks_existence(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/file"), b"x").await;
    mkdir(&*fs, &p("/dir")).await;
    let both = AccessOptions {
        readable: true,
        writable: true,
    };
    for path in ["/file", "/dir", "/"] {
        fs.access(&p(path), AccessOptions::default())
            .await
            .must(format!("access {path}"));
    }
    fs.access(&p("/file"), both)
        .await
        .must("access readable+writable of a fresh file");
    fs.access(
        &p("/dir"),
        AccessOptions {
            readable: true,
            writable: false,
        },
    )
    .await
    .must("access readable of a fresh directory");
    expect_kind(
        fs.access(&p("/missing"), AccessOptions::default()).await,
        ErrorKind::NotFound,
        "access of a missing path",
    );
    expect_kind(
        fs.access(&p("/missing/child"), both).await,
        ErrorKind::NotFound,
        "access below a missing parent",
    );
}

/// Files and directories in different directories with the same name are independent.
pub async fn same_names_in_different_dirs_are_independent(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/x")).await;
    mkdir(&*fs, &p("/y")).await;
    write(&*fs, &p("/x/name"), b"in x").await;
    write(&*fs, &p("/y/name"), b"in y").await;
    write(&*fs, &p("/name"), b"at root").await;
    fs.remove(&p("/x/name"), RemoveOptions::default())
        .await
        .must("remove /x/name");
    assert_eq!(read(&*fs, &p("/y/name")).await, b"in y");
    assert_eq!(read(&*fs, &p("/name")).await, b"at root");
    assert!(names(&*fs, &p("/x")).await.is_empty());
}

/// `make_dir` (recursive or not) where a file is: `AlreadyExists` for the file itself,
/// `BadResource` below it; the file stays.
pub async fn make_dir_on_a_file_is_already_exists(fs: Arc<dyn FileSystem>) {
    write(&*fs, &p("/f"), b"file").await;
    let recursive = MakeDirOptions {
        recursive: true,
        mode: None,
    };
    expect_kind(
        fs.make_dir(&p("/f"), recursive).await,
        ErrorKind::AlreadyExists,
        "make_dir -p of a file",
    );
    expect_kind(
        fs.make_dir(&p("/f"), PLAIN).await,
        ErrorKind::AlreadyExists,
        "make_dir of a file",
    );
    expect_kind(
        fs.make_dir(&p("/f/below"), recursive).await,
        ErrorKind::BadResource,
        "make_dir -p below a file",
    );
    assert_eq!(read(&*fs, &p("/f")).await, b"file");
}
