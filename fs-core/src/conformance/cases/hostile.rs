//! Hostile and unusual names: what `VPath` rejects, and valid but awkward names that must round-trip
//! through every call.

use std::sync::Arc;

use bytes::Bytes;

use super::support::{exists, expect_kind, listing, mkdir, names, p, read, write, Must};
use crate::{
    ErrorKind, FileSystem, FileType, OpenFlag, OpenOptions, RemoveOptions, SinkOptions, VPath,
    MAX_NAME_BYTES,
};

/// Valid names that look odd: spaces, Unicode, emoji, leading `.` or `-`, dots inside, things that
/// look like percent-encoding or options.
const ODD_NAMES: &[&str] = &[
    "with space.txt",
    " leading space",
    "trailing space ",
    "ünïcödé.txt",
    "日本語のファイル",
    "emoji 😀🎉.bin",
    ".hidden",
    "..hidden",
    "...",
    "a..b",
    "-rf",
    "--help",
    "%2e%2e",
    "%2F",
    "name.with.many.dots.",
    "#hash & ampersand;",
    "'quotes' \"double\"",
    "tab\there",
    "$HOME",
];

/// `VPath::new` rejects hostile paths with `BadArgument`: `..`, `.`, empty segments, NUL,
/// backslash, relative paths and names over 255 bytes; `join` rejects the same in a name.
pub async fn hostile_paths_are_rejected(fs: Arc<dyn FileSystem>) {
    let long = format!("/{}", "x".repeat(MAX_NAME_BYTES + 1));
    let long_multibyte = format!("/{}", "€".repeat(86));
    for path in [
        "",
        "relative",
        "relative/path",
        "./a",
        "/..",
        "/a/..",
        "/a/../b",
        "/.",
        "/a/./b",
        "//",
        "//a",
        "/a//b",
        "/a/",
        "/a\0b",
        "/\0",
        "/a\\b",
        "/..\\..\\etc",
        "\\a",
        long.as_str(),
        long_multibyte.as_str(),
    ] {
        expect_kind(
            VPath::new(path),
            ErrorKind::BadArgument,
            format!("VPath::new({path:?})"),
        );
    }
    let base = p("/base");
    for name in ["", ".", "..", "a/b", "/", "a\\b", "a\0", &long[1..]] {
        expect_kind(
            base.join(name),
            ErrorKind::BadArgument,
            format!("join({name:?})"),
        );
    }
    for rel in ["a/../b", "a//b", "../a", "a/", "/a"] {
        expect_kind(
            base.join_relative(rel),
            ErrorKind::BadArgument,
            format!("join_relative({rel:?})"),
        );
    }
    assert!(
        listing(&*fs, &VPath::root(), true).await.is_empty(),
        "nothing was created"
    );
}

/// Valid odd names round-trip through `write_file`, `read_dir`, `stat`, `read_file`, `copy_file`,
/// `rename` and `remove`, as files and as directories.
pub async fn odd_names_round_trip(fs: Arc<dyn FileSystem>) {
    let files = p("/files");
    let dirs = p("/dirs");
    mkdir(&*fs, &files).await;
    mkdir(&*fs, &dirs).await;
    for name in ODD_NAMES {
        let path = files.join(name).must(format!("join {name:?}"));
        write(&*fs, &path, name.as_bytes()).await;
        mkdir(&*fs, &dirs.join(name).must("join")).await;
    }
    let mut expected: Vec<String> = ODD_NAMES.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(names(&*fs, &files).await, expected, "file names round-trip");
    assert_eq!(
        names(&*fs, &dirs).await,
        expected,
        "directory names round-trip"
    );
    for name in ODD_NAMES {
        let path = files.join(name).must("join");
        assert_eq!(
            read(&*fs, &path).await,
            name.as_bytes(),
            "content of {name:?}"
        );
        assert_eq!(
            fs.stat(&path).await.must("stat").size,
            name.len() as u64,
            "size of {name:?}"
        );
        assert!(fs
            .stat(&dirs.join(name).must("join"))
            .await
            .must("stat")
            .is_dir());
        let copy = dirs.join(name).must("join").join(name).must("join");
        fs.copy_file(&path, &copy)
            .await
            .must(format!("copy_file {name:?}"));
        let renamed = files.join(&format!("{name}~")).must("join");
        fs.rename(&path, &renamed)
            .await
            .must(format!("rename {name:?}"));
        assert_eq!(read(&*fs, &renamed).await, name.as_bytes());
        fs.remove(&renamed, RemoveOptions::default())
            .await
            .must(format!("remove {name:?}"));
    }
    assert!(names(&*fs, &files).await.is_empty());
    let tree = listing(&*fs, &dirs, true).await;
    assert_eq!(tree.len(), ODD_NAMES.len() * 2);
    assert!(tree.contains(&("with space.txt/with space.txt".to_owned(), FileType::File)));
}

/// Names that resemble `..` or `/` after decoding are plain names: `%2e%2e` is not the parent, and
/// `..hidden` and `a..b` are not special.
pub async fn encoded_looking_names_stay_literal(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/inner")).await;
    write(&*fs, &p("/secret"), b"secret").await;
    write(&*fs, &p("/inner/%2e%2e"), b"literal").await;
    write(&*fs, &p("/inner/a..b"), b"dots").await;
    assert_eq!(read(&*fs, &p("/secret")).await, b"secret");
    assert_eq!(read(&*fs, &p("/inner/%2e%2e")).await, b"literal");
    assert_eq!(names(&*fs, &p("/inner")).await, ["%2e%2e", "a..b"]);
    assert_eq!(names(&*fs, &VPath::root()).await, ["inner", "secret"]);
}

/// Names of exactly 255 bytes (ASCII, 3-byte and 4-byte characters) work with `write_file`, sinks
/// (new and replacing), `make_dir`, `rename`, `copy_file` and `open`; 256 bytes are rejected.
pub async fn names_of_255_bytes_round_trip(fs: Arc<dyn FileSystem>) {
    let ascii = "n".repeat(MAX_NAME_BYTES);
    let euro = "€".repeat(85);
    let emoji = format!("{}abc", "😀".repeat(63));
    for name in [&ascii, &euro, &emoji] {
        assert_eq!(name.len(), MAX_NAME_BYTES);
        expect_kind(
            VPath::root().join(&format!("{name}x")),
            ErrorKind::BadArgument,
            "a 256-byte name",
        );
    }
    mkdir(&*fs, &p("/long")).await;
    let dir = p("/long");
    let written = dir.join(&ascii).must("join");
    write(&*fs, &written, b"by write_file").await;
    write(&*fs, &written, b"replaced by write_file").await;
    let sunk = dir.join(&euro).must("join");
    for round in 0..2 {
        let mut sink = fs
            .write_sink(&sunk, SinkOptions::default())
            .await
            .must(format!("write_sink to a 255-byte name (round {round})"));
        sink.write(Bytes::from(format!("by a sink, round {round}")))
            .await
            .must("sink write");
        sink.close().await.must("sink close");
    }
    assert_eq!(read(&*fs, &sunk).await, b"by a sink, round 1");
    let sub = dir.join(&emoji).must("join");
    mkdir(&*fs, &sub).await;
    let moved = sub.join(&ascii).must("join");
    fs.rename(&written, &moved)
        .await
        .must("rename to a 255-byte name");
    let copied = sub.join(&euro).must("join");
    fs.copy_file(&sunk, &copied)
        .await
        .must("copy_file to a 255-byte name");
    let mut expected = vec![ascii.clone(), euro.clone()];
    expected.sort();
    assert_eq!(names(&*fs, &sub).await, expected);
    assert_eq!(read(&*fs, &moved).await, b"replaced by write_file");
    assert_eq!(read(&*fs, &copied).await, b"by a sink, round 1");
    if fs.capabilities().random_access_write {
        let opened = sub.join(&"o".repeat(MAX_NAME_BYTES)).must("join");
        let mut file = fs
            .open(&opened, OpenOptions::flag(OpenFlag::WriteRead))
            .await
            .must("open w+ of a 255-byte name");
        file.write_all(b"opened").await.must("write_all");
        file.close().await.must("close");
        assert_eq!(read(&*fs, &opened).await, b"opened");
    }
    assert!(exists(&*fs, &sunk).await);
    assert!(!exists(&*fs, &written).await);
}

/// Odd names nest: a recursive listing joins them with `/` into relative paths that lead back to
/// the same entries.
pub async fn odd_names_nest_in_recursive_listings(fs: Arc<dyn FileSystem>) {
    let deep = p("/ top dir/ünï ✓/.hidden dir/-x-");
    mkdir(&*fs, &deep).await;
    write(&*fs, &deep.join("emoji 😀.txt").must("join"), b"deep").await;
    let got = listing(&*fs, &VPath::root(), true).await;
    let relatives: Vec<&str> = got.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(
        relatives,
        [
            " top dir",
            " top dir/ünï ✓",
            " top dir/ünï ✓/.hidden dir",
            " top dir/ünï ✓/.hidden dir/-x-",
            " top dir/ünï ✓/.hidden dir/-x-/emoji 😀.txt",
        ]
    );
    for (rel, file_type) in &got {
        let path = VPath::root().join_relative(rel).must("join_relative");
        assert_eq!(
            fs.stat(&path).await.must(format!("stat {path}")).file_type,
            *file_type
        );
    }
}

/// Names a backend may reserve for itself (Chromium's swap file `name.crswap` beside `name`, with
/// or without a number, and such names with tildes after them) are ordinary names: a directory of
/// such a name never stops writes, copies or sinks at the other name, and listings show both.
pub async fn reserved_looking_names_are_ordinary(fs: Arc<dyn FileSystem>) {
    mkdir(&*fs, &p("/f.crswap")).await;
    mkdir(&*fs, &p("/f.1.crswap")).await;
    write(&*fs, &p("/f.crswap~"), b"tilde").await;
    write(&*fs, &p("/g"), b"source").await;
    write(&*fs, &p("/f"), b"first").await;
    write(&*fs, &p("/f"), b"second").await;
    fs.copy_file(&p("/g"), &p("/f"))
        .await
        .must("copy_file onto f beside f.crswap/");
    assert_eq!(read(&*fs, &p("/f")).await, b"source");
    let overwrite = crate::CopyOptions {
        overwrite: true,
        preserve_timestamps: false,
    };
    write(&*fs, &p("/g"), b"again").await;
    fs.copy(&p("/g"), &p("/f"), overwrite)
        .await
        .must("copy onto f beside f.crswap/");
    assert_eq!(read(&*fs, &p("/f")).await, b"again");
    let mut sink = fs
        .write_sink(&p("/f"), SinkOptions::default())
        .await
        .must("sink over f beside f.crswap/");
    sink.write(Bytes::from_static(b"sunk"))
        .await
        .must("sink write");
    sink.close().await.must("sink close");
    assert_eq!(read(&*fs, &p("/f")).await, b"sunk");
    write(&*fs, &p("/f.crswap/f.crswap"), b"inside").await;
    assert_eq!(
        listing(&*fs, &VPath::root(), true).await,
        vec![
            ("f".to_owned(), FileType::File),
            ("f.1.crswap".to_owned(), FileType::Directory),
            ("f.crswap".to_owned(), FileType::Directory),
            ("f.crswap/f.crswap".to_owned(), FileType::File),
            ("f.crswap~".to_owned(), FileType::File),
            ("g".to_owned(), FileType::File),
        ]
    );
    assert_eq!(read(&*fs, &p("/f.crswap~")).await, b"tilde");
    fs.rename(&p("/f.crswap~"), &p("/f.crswap/moved.crswap~~"))
        .await
        .must("rename a tilde name");
    assert_eq!(
        names(&*fs, &p("/f.crswap")).await,
        vec!["f.crswap".to_owned(), "moved.crswap~~".to_owned()]
    );
}
