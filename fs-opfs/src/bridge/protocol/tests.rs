//! The codecs: every message variant comes back as it was sent, with its buffers in the transfer
//! list; malformed messages fail with what is wrong and, for requests, the id to answer.

use std::collections::BTreeSet;
use std::io::SeekFrom;
use std::time::Duration;

use fs_core::{
    AccessOptions, Capabilities, CopyOptions, DirEntry, ErrorKind, FileInfo, FileType, FsError,
    MakeDirOptions, OpenFlag, OpenOptions, ReadDirOptions, RemoveOptions, SinkMode, SinkOptions,
    StreamOptions, SystemTime, TempOptions, VPath, WatchEvent, WatchOptions,
};
use js_sys::Uint8Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;
use web_time::UNIX_EPOCH;

use super::{
    bytes_to_js, obj, set, FromWorker, Notice, Reply, Request, ToWorker, Transfer, WatchItem, Wire,
};
use crate::method::FsMethod;

fn p(path: &str) -> VPath {
    VPath::new(path).expect("valid path")
}

fn bytes(data: &[u8]) -> Uint8Array {
    bytes_to_js(data)
}

/// Just after the epoch, with nanoseconds (web-time's `SystemTime` cannot go before it).
fn old_time() -> SystemTime {
    UNIX_EPOCH + Duration::new(1, 250)
}

fn new_time() -> SystemTime {
    UNIX_EPOCH + Duration::new(1_700_000_000, 999_999_999)
}

/// One request of every kind, with values away from the defaults.
fn requests() -> Vec<Request> {
    let open = OpenOptions {
        flag: OpenFlag::AppendReadExclusive,
        mode: Some(0o640),
    };
    vec![
        Request::Access {
            path: p("/a"),
            options: AccessOptions {
                readable: true,
                writable: false,
            },
        },
        Request::Exists { path: p("/a b") },
        Request::Stat { path: p("/") },
        Request::ReadDir {
            path: p("/d"),
            options: ReadDirOptions { recursive: true },
        },
        Request::MakeDir {
            path: p("/d/e"),
            options: MakeDirOptions {
                recursive: true,
                mode: Some(0o700),
            },
        },
        Request::Remove {
            path: p("/d"),
            options: RemoveOptions {
                recursive: false,
                force: true,
            },
        },
        Request::Rename {
            from: p("/x"),
            to: p("/y"),
        },
        Request::CopyFile {
            from: p("/x"),
            to: p("/z"),
        },
        Request::Copy {
            from: p("/x"),
            to: p("/w"),
            options: CopyOptions {
                overwrite: true,
                preserve_timestamps: true,
            },
        },
        Request::ReadFile { path: p("/r") },
        Request::ReadFileString { path: p("/s") },
        Request::WriteFile {
            path: p("/f"),
            data: bytes(b"bytes"),
            options: open,
        },
        Request::WriteFileString {
            path: p("/g"),
            data: "text ü".to_owned(),
            options: OpenOptions::write(),
        },
        Request::Truncate {
            path: p("/f"),
            len: u64::MAX,
        },
        Request::Open {
            path: p("/f"),
            options: open,
        },
        Request::ReadStream {
            path: p("/f"),
            options: StreamOptions {
                chunk_size: 3,
                offset: (1 << 53) + 1,
                length: Some(5),
            },
        },
        Request::WriteSink {
            path: p("/k"),
            options: SinkOptions {
                mode: SinkMode::Append,
                permissions: Some(0o600),
            },
        },
        Request::MakeTempDir {
            options: TempOptions {
                directory: Some(p("/t")),
                prefix: Some("pre-".to_owned()),
            },
        },
        Request::MakeTempFile {
            options: TempOptions::default(),
        },
        Request::RealPath { path: p("/r") },
        Request::Chmod {
            path: p("/f"),
            mode: 0o755,
        },
        Request::Chown {
            path: p("/f"),
            uid: u32::MAX,
            gid: 0,
        },
        Request::Utimes {
            path: p("/f"),
            atime: old_time(),
            mtime: new_time(),
        },
        Request::Link {
            from: p("/f"),
            to: p("/l"),
        },
        Request::Symlink {
            target: "../f".to_owned(),
            link: p("/s"),
        },
        Request::ReadLink { path: p("/s") },
        Request::Watch {
            path: p("/"),
            watch: 9,
            options: WatchOptions { recursive: true },
        },
        Request::FileStat { file: 1 },
        Request::FileSeek {
            file: 1,
            pos: SeekFrom::Current(-(1 << 60)),
        },
        Request::FileRead { file: 2, len: 4096 },
        Request::FileReadAlloc { file: 2, len: 0 },
        Request::FileWrite {
            file: 3,
            data: bytes(b"w"),
        },
        Request::FileWriteAll {
            file: 3,
            data: bytes(b""),
        },
        Request::FileTruncate { file: 3, len: 7 },
        Request::FileSync { file: 3 },
        Request::FileClose { file: u32::MAX },
        Request::StreamNext { stream: 4 },
        Request::SinkWrite {
            sink: 5,
            data: bytes(&[0, 255]),
        },
        Request::SinkClose { sink: 5 },
        Request::SinkAbort { sink: 6 },
    ]
}

/// Encodes and decodes; the buffers of `Uint8Array` fields must be in the transfer list.
fn round_trip_request(id: u32, request: &Request) -> (Request, Transfer) {
    let (message, transfer) = ToWorker::Request {
        id,
        request: request.clone(),
    }
    .encode();
    match ToWorker::decode(&message) {
        Ok(ToWorker::Request { id: got, request }) => {
            assert_eq!(got, id);
            (request, transfer)
        }
        Ok(other) => panic!("{other:?}"),
        Err((_, e)) => panic!("{}: {e}", request.name()),
    }
}

/// The bytes a request or reply carries.
fn carried(message: &str, arrays: &[&Uint8Array]) -> String {
    let bytes: Vec<Vec<u8>> = arrays.iter().map(|a| a.to_vec()).collect();
    format!("{message} {bytes:?}")
}

/// What a request says, bytes included (`Uint8Array`'s `Debug` does not show them).
fn request_text(request: &Request) -> String {
    let arrays = match request {
        Request::WriteFile { data, .. }
        | Request::FileWrite { data, .. }
        | Request::FileWriteAll { data, .. }
        | Request::SinkWrite { data, .. } => vec![data],
        _ => vec![],
    };
    carried(&format!("{request:?}"), &arrays)
}

/// What a reply says, bytes included.
fn reply_text(reply: &Reply) -> String {
    let arrays = match reply {
        Reply::Bytes { data } => vec![data],
        Reply::Chunks { chunks } => chunks.iter().collect(),
        _ => vec![],
    };
    carried(&format!("{reply:?}"), &arrays)
}

#[wasm_bindgen_test]
fn every_request_comes_back_as_sent() {
    let samples = requests();
    let tags: BTreeSet<u32> = samples.iter().map(Request::tag).collect();
    assert_eq!(tags.len(), Request::NAMES.len(), "one sample per request");
    for (i, request) in samples.iter().enumerate() {
        let (back, transfer) = round_trip_request(i as u32, request);
        assert_eq!(request_text(&back), request_text(request));
        let has_bytes = matches!(
            request,
            Request::WriteFile { .. }
                | Request::FileWrite { .. }
                | Request::FileWriteAll { .. }
                | Request::SinkWrite { .. }
        );
        assert_eq!(transfer.list().is_some(), has_bytes, "{}", request.name());
    }
}

#[wasm_bindgen_test]
fn every_notice_comes_back_as_sent() {
    let samples = vec![
        Notice::FileDrop { file: 1 },
        Notice::StreamDrop { stream: 2 },
        Notice::SinkDrop { sink: 3 },
        Notice::WatchDrop { watch: 4 },
        Notice::RemoveDetached { path: p("/gone") },
        Notice::Bye {},
    ];
    let tags: BTreeSet<u32> = samples.iter().map(Notice::tag).collect();
    assert_eq!(tags.len(), Notice::NAMES.len(), "one sample per notice");
    for notice in samples {
        let (message, _) = ToWorker::Notice(notice.clone()).encode();
        match ToWorker::decode(&message) {
            Ok(ToWorker::Notice(back)) => assert_eq!(format!("{back:?}"), format!("{notice:?}")),
            other => panic!("{}: {other:?}", notice.name()),
        }
    }
}

fn full_info() -> FileInfo {
    let mut info = FileInfo::basic(FileType::Fifo, u64::MAX);
    info.mtime = Some(new_time());
    info.atime = Some(old_time());
    info.birthtime = Some(UNIX_EPOCH);
    info.dev = 1 << 60;
    info.ino = Some(42);
    info.mode = 0o100644;
    info.nlink = Some(2);
    info.uid = Some(1000);
    info.gid = Some(u32::MAX);
    info.rdev = Some(0);
    info.blksize = Some(4096);
    info.blocks = Some(8);
    info
}

fn replies() -> Vec<Reply> {
    vec![
        Reply::Unit {},
        Reply::Bool { value: true },
        Reply::Info { info: full_info() },
        Reply::Entries {
            entries: vec![
                DirEntry {
                    relative: "d/f".to_owned(),
                    path: p("/x/d/f"),
                    file_type: FileType::File,
                },
                DirEntry {
                    relative: "d".to_owned(),
                    path: p("/x/d"),
                    file_type: FileType::Directory,
                },
            ],
        },
        Reply::Bytes {
            data: bytes(b"data"),
        },
        Reply::End {},
        Reply::Text {
            text: "ü\n".to_owned(),
        },
        Reply::Path { path: p("/tmp/t1") },
        Reply::Number { value: u64::MAX },
        Reply::Id { id: 17 },
        Reply::Chunks {
            chunks: vec![bytes(b"one"), bytes(b"two")],
        },
        Reply::Hello {
            caps: Capabilities {
                symlinks: true,
                hard_links: false,
                permissions: true,
                ownership: false,
                set_times: true,
                watch: false,
                atomic_rename: true,
                atomic_dir_rename: false,
                atomic_write_file: true,
                random_access_write: true,
                durable_sync: false,
                real_path: true,
            },
            temp_dir: p("/tmp"),
        },
    ]
}

#[wasm_bindgen_test]
fn every_reply_comes_back_as_sent() {
    let samples = replies();
    let tags: BTreeSet<u32> = samples.iter().map(Reply::tag).collect();
    assert_eq!(tags.len(), Reply::NAMES.len(), "one sample per reply");
    for (i, reply) in samples.into_iter().enumerate() {
        let id = i as u32;
        let buffers = match &reply {
            Reply::Bytes { .. } => 1,
            Reply::Chunks { chunks } => chunks.len() as u32,
            _ => 0,
        };
        let (message, transfer) = FromWorker::Reply {
            id,
            result: Ok(reply.clone()),
        }
        .encode();
        assert_eq!(
            transfer.list().map_or(0, |list| list.length()),
            buffers,
            "{}",
            reply.name()
        );
        match FromWorker::decode(&message) {
            Some(FromWorker::Reply {
                id: got,
                result: Ok(back),
            }) => {
                assert_eq!(got, id);
                assert_eq!(reply_text(&back), reply_text(&reply));
            }
            Some(FromWorker::Reply { result: Err(e), .. }) => panic!("{}: {e}", reply.name()),
            other => panic!("{}: {other:?}", reply.name()),
        }
    }
}

/// Sends an error as a failed reply; returns what the page reads.
fn error_round_trip(error: FsError) -> FsError {
    let (message, _) = FromWorker::Reply {
        id: 3,
        result: Err(error),
    }
    .encode();
    match FromWorker::decode(&message) {
        Some(FromWorker::Reply {
            id: 3,
            result: Err(e),
        }) => e,
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
fn errors_keep_kind_method_path_and_description() {
    let sent = FsMethod::ReadFile
        .error(ErrorKind::StorageFull, "no room")
        .with_path("/f");
    let got = error_round_trip(sent.clone());
    assert_eq!(got.kind(), ErrorKind::StorageFull);
    assert!(std::ptr::eq(got.method(), FsMethod::ReadFile.as_str()));
    assert_eq!(got.path(), Some("/f"));
    assert_eq!(got.to_string(), sent.to_string());

    // A method another backend names: kept, and leaked once however often it crosses.
    let foreign = || FsError::new(ErrorKind::Busy, "Sink.flushLater", "later");
    let first = error_round_trip(foreign());
    let second = error_round_trip(foreign());
    assert_eq!(first.method(), "Sink.flushLater");
    assert!(std::ptr::eq(first.method(), second.method()));
    assert_eq!(first.path(), None);
}

#[wasm_bindgen_test]
fn watch_items_come_back_as_sent() {
    for item in [
        WatchItem::Event(WatchEvent::Update(p("/w/f"))),
        WatchItem::Error(FsMethod::Watch.error(ErrorKind::Unknown, "lost")),
        WatchItem::End,
    ] {
        let want = format!("{item:?}");
        let (message, _) = FromWorker::Watch { watch: 5, item }.encode();
        match FromWorker::decode(&message) {
            Some(FromWorker::Watch { watch: 5, item }) => assert_eq!(format!("{item:?}"), want),
            other => panic!("{other:?}"),
        }
    }
}

#[wasm_bindgen_test]
fn malformed_requests_fail_with_their_id() {
    // An unknown request.
    let message = obj();
    set(&message, "id", 12);
    set(&message, "op", Request::NAMES.len() as u32);
    let Err((Some(12), e)) = ToWorker::decode(&message) else {
        panic!("an unknown op decoded");
    };
    assert_eq!(e.method(), FsMethod::Bridge.as_str());
    assert!(e.description().contains("unknown Request"), "{e}");

    // A field of the wrong type names the field.
    let exists = Request::Exists { path: p("/a") };
    let (message, _) = ToWorker::Request {
        id: 13,
        request: exists,
    }
    .encode();
    set(&message, "path", 5);
    let Err((Some(13), e)) = ToWorker::decode(&message) else {
        panic!("a numeric path decoded");
    };
    assert!(e.description().contains("\"path\""), "{e}");

    // An invalid path is refused on this side too.
    set(&message, "path", "relative");
    assert!(ToWorker::decode(&message).is_err());

    // A notice without a tag has no id to answer.
    let Err((None, _)) = ToWorker::decode(&obj().into()) else {
        panic!("an empty notice decoded");
    };
}

#[wasm_bindgen_test]
fn large_integers_travel_as_bigints() {
    for value in [0, (1 << 53) - 1, 1 << 53, u64::MAX] {
        let js = value.to_js();
        assert_eq!(js.is_bigint(), value >= 1 << 53, "{value}");
        assert_eq!(u64::from_js(&js), Ok(value));
    }
    for value in [i64::MIN, -(1 << 53), -1, 1 << 60] {
        assert_eq!(i64::from_js(&value.to_js()), Ok(value));
    }
    assert!(u64::from_js(&JsValue::from_f64(-1.0)).is_err());
    assert!(u64::from_js(&JsValue::from_f64(1.5)).is_err());
    assert!(u32::from_js(&(1u64 << 32).to_js()).is_err());
}
