//! File handles from `open`: Effect's cursor tests translated, seek rules, flags and handle access.
//!
//! A case that needs a writable handle first checks `random_access_write`: without it, `open` with
//! that flag must answer `Unsupported`, and the case ends there.

use std::io::SeekFrom;
use std::sync::Arc;

use super::support::{expect_kind, p, random_bytes, read, read_string, write, Must};
use crate::{ErrorKind, File, FileSystem, FileType, OpenFlag, OpenOptions, VPath};

/// Opens `path` with a writable `flag`, or checks that the backend refuses with `Unsupported` when
/// it has no random-access writes (then `None`).
async fn open_writable(fs: &dyn FileSystem, path: &VPath, flag: OpenFlag) -> Option<Box<dyn File>> {
    let result = fs.open(path, OpenOptions::flag(flag)).await;
    if fs.capabilities().random_access_write {
        Some(result.must(format!("open {path} with {flag}")))
    } else {
        expect_kind(
            result,
            ErrorKind::Unsupported,
            format!("open {path} with {flag} without the random_access_write capability"),
        );
        None
    }
}

async fn read_exact_string(file: &mut Box<dyn File>, size: usize) -> String {
    let bytes = file
        .read_alloc(size)
        .await
        .must(format!("read_alloc {size}"))
        .unwrap_or_else(|| panic!("read_alloc {size}: unexpected end of file"));
    String::from_utf8(bytes.to_vec()).expect("the case wrote UTF-8")
}

async fn write_str(file: &mut Box<dyn File>, text: &str) {
    file.write_all(text.as_bytes())
        .await
        .must(format!("write_all {text:?}"));
}

/// Effect's "should track the cursor position when reading", including the ranged stream at the end.
pub async fn effect_cursor_tracking_when_reading(fs: Arc<dyn FileSystem>) {
    let path = p("/lorem.txt");
    fs.write_file_string(&path, "lorem ipsum dolar sit amet", OpenOptions::write())
        .await
        .must("write_file_string");
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    let info = file.stat().await.must("File::stat");
    assert_eq!((info.file_type, info.size), (FileType::File, 26));
    assert_eq!(read_exact_string(&mut file, 5).await, "lorem");
    assert_eq!(file.seek(SeekFrom::Current(7)).await.must("seek +7"), 12);
    assert_eq!(read_exact_string(&mut file, 5).await, "dolar");
    assert_eq!(file.seek(SeekFrom::Current(1)).await.must("seek +1"), 18);
    assert_eq!(read_exact_string(&mut file, 8).await, "sit amet");
    assert_eq!(file.seek(SeekFrom::Start(0)).await.must("seek start 0"), 0);
    assert_eq!(read_exact_string(&mut file, 11).await, "lorem ipsum");
    file.close().await.must("close");
    let options = crate::StreamOptions {
        offset: 6,
        length: Some(5),
        ..crate::StreamOptions::default()
    };
    let chunks = super::support::collect_stream(&*fs, &path, options, 5).await;
    assert_eq!(super::support::concat(&chunks), b"ipsum");
}

/// Effect's "should track the cursor position when writing" with `w+`.
pub async fn effect_cursor_tracking_when_writing(fs: Arc<dyn FileSystem>) {
    let path = p("/cursor-write.txt");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::WriteRead).await else {
        return;
    };
    write_str(&mut file, "lorem ipsum").await;
    write_str(&mut file, " ").await;
    write_str(&mut file, "dolor sit amet").await;
    assert_eq!(read_string(&*fs, &path).await, "lorem ipsum dolor sit amet");
    assert_eq!(file.seek(SeekFrom::Current(-4)).await.must("seek -4"), 22);
    write_str(&mut file, "hello world").await;
    assert_eq!(
        read_string(&*fs, &path).await,
        "lorem ipsum dolor sit hello world"
    );
    assert_eq!(file.seek(SeekFrom::Start(6)).await.must("seek start 6"), 6);
    write_str(&mut file, "blabl").await;
    assert_eq!(
        read_string(&*fs, &path).await,
        "lorem blabl dolor sit hello world"
    );
    file.close().await.must("close");
}

/// Effect's "should maintain a read cursor in append mode" with `a+`: writes go to the end and do not
/// move the cursor.
pub async fn effect_append_mode_keeps_read_cursor(fs: Arc<dyn FileSystem>) {
    let path = p("/append-cursor.txt");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::AppendRead).await else {
        return;
    };
    write_str(&mut file, "foo").await;
    assert_eq!(file.seek(SeekFrom::Start(0)).await.must("seek start 0"), 0);
    write_str(&mut file, "bar").await;
    assert_eq!(read_string(&*fs, &path).await, "foobar");
    assert_eq!(read_exact_string(&mut file, 3).await, "foo");
    write_str(&mut file, "baz").await;
    assert_eq!(read_string(&*fs, &path).await, "foobarbaz");
    assert_eq!(read_exact_string(&mut file, 6).await, "barbaz");
    file.close().await.must("close");
}

/// Effect's "should keep the current cursor if truncating doesn't affect it".
pub async fn effect_truncate_keeps_unaffected_cursor(fs: Arc<dyn FileSystem>) {
    let path = p("/truncate-keep.txt");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::WriteRead).await else {
        return;
    };
    write_str(&mut file, "lorem ipsum dolor sit amet").await;
    file.seek(SeekFrom::Start(6)).await.must("seek start 6");
    file.truncate(11).await.must("truncate 11");
    assert_eq!(file.seek(SeekFrom::Current(0)).await.must("seek +0"), 6);
    assert_eq!(read_string(&*fs, &path).await, "lorem ipsum");
    assert_eq!(read_exact_string(&mut file, 5).await, "ipsum");
    file.close().await.must("close");
}

/// Effect's "should update the current cursor if truncating affects it": the cursor moves to the new
/// end.
pub async fn effect_truncate_clamps_cursor(fs: Arc<dyn FileSystem>) {
    let path = p("/truncate-clamp.txt");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::WriteRead).await else {
        return;
    };
    write_str(&mut file, "lorem ipsum dolor sit amet").await;
    file.truncate(11).await.must("truncate 11");
    assert_eq!(file.seek(SeekFrom::Current(0)).await.must("seek +0"), 11);
    write_str(&mut file, "!").await;
    assert_eq!(read_string(&*fs, &path).await, "lorem ipsum!");
    file.close().await.must("close");
}

/// `open` with `r+` overwrites in place without truncating, and reads continue after the write.
pub async fn open_read_write_overwrites_without_truncating(fs: Arc<dyn FileSystem>) {
    let path = p("/rplus-open.txt");
    write(&*fs, &path, b"hello world").await;
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::ReadWrite).await else {
        assert_eq!(read_string(&*fs, &path).await, "hello world");
        return;
    };
    assert_eq!(
        read_string(&*fs, &path).await,
        "hello world",
        "r+ must not truncate on open"
    );
    write_str(&mut file, "J").await;
    assert_eq!(read_exact_string(&mut file, 4).await, "ello");
    file.close().await.must("close");
    assert_eq!(read_string(&*fs, &path).await, "Jello world");
    expect_kind(
        fs.open(&p("/missing"), OpenOptions::flag(OpenFlag::ReadWrite))
            .await,
        if fs.capabilities().random_access_write {
            ErrorKind::NotFound
        } else {
            ErrorKind::Unsupported
        },
        "open r+ of a missing file",
    );
}

/// `open` with `w` and `w+` creates a missing file and empties an existing one on open.
pub async fn open_write_creates_and_truncates(fs: Arc<dyn FileSystem>) {
    let path = p("/w-open.txt");
    write(&*fs, &path, b"old content").await;
    let Some(file) = open_writable(&*fs, &path, OpenFlag::Write).await else {
        assert_eq!(read_string(&*fs, &path).await, "old content");
        return;
    };
    assert_eq!(
        fs.stat(&path).await.must("stat").size,
        0,
        "w empties on open"
    );
    file.close().await.must("close");
    let fresh = p("/w-plus-new.txt");
    let mut file = open_writable(&*fs, &fresh, OpenFlag::WriteRead)
        .await
        .expect("random_access_write holds");
    assert!(fs.exists(&fresh).await.must("exists"), "w+ creates on open");
    write_str(&mut file, "abc").await;
    file.seek(SeekFrom::Start(0)).await.must("seek 0");
    assert_eq!(read_exact_string(&mut file, 3).await, "abc");
    file.close().await.must("close");
}

/// Exclusive flags on an existing file fail with `AlreadyExists` and leave it unchanged.
pub async fn open_exclusive_fails_on_existing(fs: Arc<dyn FileSystem>) {
    let path = p("/wx-open.txt");
    write(&*fs, &path, b"keep me").await;
    if !fs.capabilities().random_access_write {
        let fresh = p("/wx-new.txt");
        let _ = open_writable(&*fs, &fresh, OpenFlag::WriteExclusive).await;
        return;
    }
    for flag in [
        OpenFlag::WriteExclusive,
        OpenFlag::WriteReadExclusive,
        OpenFlag::AppendExclusive,
        OpenFlag::AppendReadExclusive,
    ] {
        expect_kind(
            fs.open(&path, OpenOptions::flag(flag)).await,
            ErrorKind::AlreadyExists,
            format!("open {flag} on an existing file"),
        );
    }
    assert_eq!(read_string(&*fs, &path).await, "keep me");
    let fresh = p("/wx-new.txt");
    let mut file = fs
        .open(&fresh, OpenOptions::flag(OpenFlag::WriteExclusive))
        .await
        .must("open wx on a missing path");
    write_str(&mut file, "new").await;
    file.close().await.must("close");
    assert_eq!(read_string(&*fs, &fresh).await, "new");
}

/// Without `random_access_write` every writable flag is `Unsupported` (nothing is created or
/// changed); with it, every flag opens a handle.
pub async fn open_writable_flags_match_capability(fs: Arc<dyn FileSystem>) {
    let existing = p("/flags.txt");
    write(&*fs, &existing, b"content").await;
    for flag in crate::OpenFlag::ALL {
        let target = if flag.exclusive() {
            p(&format!("/new-{}", flag.as_str().replace('+', "plus")))
        } else {
            existing.clone()
        };
        if !flag.writable() {
            let file = fs
                .open(&target, OpenOptions::flag(flag))
                .await
                .must("open r");
            file.close().await.must("close");
            continue;
        }
        let before = fs.exists(&target).await.must("exists");
        match open_writable(&*fs, &target, flag).await {
            Some(file) => file.close().await.must(format!("close {flag}")),
            None => {
                assert_eq!(
                    fs.exists(&target).await.must("exists"),
                    before,
                    "an Unsupported open {flag} must not create {target}"
                );
                assert_eq!(
                    read_string(&*fs, &existing).await,
                    "content",
                    "an Unsupported open {flag} must not change the file"
                );
            }
        }
    }
}

/// `seek` past the end is allowed; a write there fills the gap with zeros.
pub async fn seek_past_end_then_write_fills_zeros(fs: Arc<dyn FileSystem>) {
    let path = p("/sparse.bin");
    write(&*fs, &path, b"ab").await;
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::ReadWrite).await else {
        return;
    };
    assert_eq!(file.seek(SeekFrom::Start(6)).await.must("seek 6"), 6);
    write_str(&mut file, "z").await;
    file.close().await.must("close");
    assert_eq!(read(&*fs, &path).await, b"ab\0\0\0\0z");
}

/// `seek` from the end and from the current position, on a read-only handle.
pub async fn seek_from_end_and_current(fs: Arc<dyn FileSystem>) {
    let path = p("/seek.txt");
    write(&*fs, &path, b"0123456789").await;
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    assert_eq!(file.seek(SeekFrom::End(0)).await.must("seek end 0"), 10);
    assert_eq!(file.read_alloc(4).await.must("read at end"), None);
    assert_eq!(file.seek(SeekFrom::End(-3)).await.must("seek end -3"), 7);
    assert_eq!(read_exact_string(&mut file, 2).await, "78");
    assert_eq!(file.seek(SeekFrom::Current(-5)).await.must("seek -5"), 4);
    assert_eq!(read_exact_string(&mut file, 3).await, "456");
    assert_eq!(file.seek(SeekFrom::End(5)).await.must("seek end +5"), 15);
    assert_eq!(file.read_alloc(4).await.must("read past end"), None);
    file.close().await.must("close");
}

/// A seek to a negative position is `BadArgument`.
pub async fn seek_before_start_is_bad_argument(fs: Arc<dyn FileSystem>) {
    let path = p("/seek-neg.txt");
    write(&*fs, &path, b"0123456789").await;
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    expect_kind(
        file.seek(SeekFrom::Current(-1)).await,
        ErrorKind::BadArgument,
        "seek to -1 from 0",
    );
    expect_kind(
        file.seek(SeekFrom::End(-11)).await,
        ErrorKind::BadArgument,
        "seek to end - 11 of a 10-byte file",
    );
    assert_eq!(file.seek(SeekFrom::Start(3)).await.must("seek 3"), 3);
    expect_kind(
        file.seek(SeekFrom::Current(-4)).await,
        ErrorKind::BadArgument,
        "seek to -1 from 3",
    );
    file.close().await.must("close");
}

/// Reads at the end of a file return 0 bytes (`read`) or `None` (`read_alloc`); small reads walk the
/// whole file in order.
pub async fn reads_walk_the_file_in_small_pieces(fs: Arc<dyn FileSystem>) {
    let path = p("/pieces.bin");
    let data = random_bytes(5, 1003);
    write(&*fs, &path, &data).await;
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    let mut got = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        let n = file.read(&mut buf).await.must("read 7");
        assert!(n <= 7, "read returned more than the buffer holds");
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        assert!(got.len() <= data.len(), "read past the end of the file");
    }
    assert_eq!(got, data);
    assert_eq!(file.read(&mut buf).await.must("read at EOF"), 0);
    assert_eq!(file.read_alloc(10).await.must("read_alloc at EOF"), None);
    assert_eq!(
        file.read(&mut []).await.must("read into an empty buffer"),
        0
    );
    file.close().await.must("close");
}

/// `File::stat` of an open handle reports the bytes written through it.
pub async fn handle_stat_tracks_writes(fs: Arc<dyn FileSystem>) {
    let path = p("/handle-stat.bin");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::Write).await else {
        return;
    };
    let data = random_bytes(6, 100);
    file.write_all(&data).await.must("write_all");
    let info = file.stat().await.must("File::stat");
    assert_eq!(info.file_type, FileType::File);
    assert_eq!(info.size, 100, "File::stat after writing 100 bytes");
    file.close().await.must("close");
    assert_eq!(read(&*fs, &path).await, data);
}

/// `File::truncate` grows a file with zeros and `sync` succeeds.
pub async fn handle_truncate_grows_with_zeros_and_syncs(fs: Arc<dyn FileSystem>) {
    let path = p("/grow.bin");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::WriteRead).await else {
        return;
    };
    write_str(&mut file, "abc").await;
    file.truncate(6).await.must("truncate 6");
    assert_eq!(
        file.seek(SeekFrom::Current(0)).await.must("seek +0"),
        3,
        "growing does not move the cursor"
    );
    file.sync().await.must("sync");
    assert_eq!(read(&*fs, &path).await, b"abc\0\0\0");
    file.close().await.must("close");
}

/// What `write` returned is not lost when the handle is dropped without `close`.
pub async fn dropped_handle_keeps_written_bytes(fs: Arc<dyn FileSystem>) {
    let path = p("/dropped-handle.bin");
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::Write).await else {
        return;
    };
    let data = random_bytes(7, 5000);
    file.write_all(&data).await.must("write_all");
    drop(file);
    assert_eq!(read(&*fs, &path).await, data);
}

/// Writing through a read-only handle is `BadResource` and changes nothing.
pub async fn read_only_handle_rejects_writes(fs: Arc<dyn FileSystem>) {
    let path = p("/read-only.txt");
    write(&*fs, &path, b"content").await;
    let mut file = fs.open(&path, OpenOptions::read()).await.must("open r");
    expect_kind(
        file.write(b"x").await,
        ErrorKind::BadResource,
        "write on an r handle",
    );
    expect_kind(
        file.write_all(b"xyz").await,
        ErrorKind::BadResource,
        "write_all on an r handle",
    );
    assert_eq!(read_exact_string(&mut file, 7).await, "content");
    file.close().await.must("close");
    assert_eq!(read_string(&*fs, &path).await, "content");
}

/// Reading through a write-only handle (`w`, `a`) is `BadResource`.
pub async fn write_only_handle_rejects_reads(fs: Arc<dyn FileSystem>) {
    let path = p("/write-only.txt");
    write(&*fs, &path, b"content").await;
    for flag in [OpenFlag::Append, OpenFlag::Write] {
        let Some(mut file) = open_writable(&*fs, &path, flag).await else {
            return;
        };
        let mut buf = [0u8; 4];
        expect_kind(
            file.read(&mut buf).await,
            ErrorKind::BadResource,
            format!("read on a {flag} handle"),
        );
        expect_kind(
            file.read_alloc(4).await,
            ErrorKind::BadResource,
            format!("read_alloc on a {flag} handle"),
        );
        file.close().await.must("close");
    }
}

/// A handle opened with `a` writes every chunk at the end, even after a seek to the start.
pub async fn append_handle_always_writes_at_end(fs: Arc<dyn FileSystem>) {
    let path = p("/append-handle.txt");
    write(&*fs, &path, b"start").await;
    let Some(mut file) = open_writable(&*fs, &path, OpenFlag::Append).await else {
        return;
    };
    write_str(&mut file, "-one").await;
    file.seek(SeekFrom::Start(0)).await.must("seek 0");
    write_str(&mut file, "-two").await;
    file.close().await.must("close");
    assert_eq!(read_string(&*fs, &path).await, "start-one-two");
}
