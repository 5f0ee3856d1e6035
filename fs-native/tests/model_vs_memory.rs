//! Property test: MemoryFs is the oracle for fs-native.
//!
//! Random sequences of operations (everything but `watch`) run on a fresh `MemoryFs` and on a fresh
//! `NativeFs` rooted in a temporary directory. After every step the two must report the same thing:
//! the same bytes, sizes, listings and positions on success, the same `ErrorKind` on failure. At the
//! end the whole trees must be identical.

use std::io::SeekFrom;
use std::sync::Arc;

use bytes::Bytes;
use fs_core::{
    CopyOptions, ErrorKind, FileSystem, FileType, MakeDirOptions, MemoryFs, OpenFlag, OpenOptions,
    ReadDirOptions, RemoveOptions, SinkMode, SinkOptions, StreamOptions, VPath,
};
use fs_native::NativeFs;
use futures::StreamExt;
use proptest::prelude::*;

/// Names drawn for path segments: few, so operations collide often.
const NAMES: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
enum FileOp {
    Read(usize),
    Write(Vec<u8>),
    Seek(SeekFrom),
    Truncate(u64),
}

#[derive(Debug, Clone)]
enum Op {
    WriteFile(Vec<usize>, Vec<u8>, OpenFlag),
    ReadFile(Vec<usize>),
    Stat(Vec<usize>),
    Exists(Vec<usize>),
    ReadDir(Vec<usize>, bool),
    MakeDir(Vec<usize>, bool),
    Remove(Vec<usize>, bool, bool),
    Rename(Vec<usize>, Vec<usize>),
    CopyFile(Vec<usize>, Vec<usize>),
    Copy(Vec<usize>, Vec<usize>, bool),
    Truncate(Vec<usize>, u64),
    ReadStream(Vec<usize>, u64, Option<u64>, usize),
    Sink(Vec<usize>, SinkMode, Vec<Vec<u8>>, bool),
    Open(Vec<usize>, OpenFlag, Vec<FileOp>),
    Symlink(Vec<usize>, Vec<usize>),
    ReadLink(Vec<usize>),
}

/// What a step observed; compared between the two backends.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Done,
    Bool(bool),
    Bytes(Vec<u8>),
    Info(FileType, u64),
    Listing(Vec<(String, FileType)>),
    Chunks(Vec<u8>, bool),
    Steps(Vec<Result<Seen, ErrorKind>>),
    Position(u64),
    Text(String),
}

fn path_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..NAMES.len(), 1..=3)
}

fn data_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..48)
}

fn flag_strategy() -> impl Strategy<Value = OpenFlag> {
    prop::sample::select(OpenFlag::ALL.to_vec())
}

fn file_op_strategy() -> impl Strategy<Value = FileOp> {
    prop_oneof![
        (0usize..40).prop_map(FileOp::Read),
        data_strategy().prop_map(FileOp::Write),
        prop_oneof![
            (0u64..64).prop_map(SeekFrom::Start),
            (-40i64..40).prop_map(SeekFrom::Current),
            (-40i64..8).prop_map(SeekFrom::End),
        ]
        .prop_map(FileOp::Seek),
        (0u64..64).prop_map(FileOp::Truncate),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let sink_mode = prop::sample::select(vec![
        SinkMode::Replace,
        SinkMode::CreateNew,
        SinkMode::Append,
    ]);
    prop_oneof![
        4 => (path_strategy(), data_strategy(), flag_strategy()).prop_map(|(p, d, f)| Op::WriteFile(p, d, f)),
        2 => path_strategy().prop_map(Op::ReadFile),
        1 => path_strategy().prop_map(Op::Stat),
        1 => path_strategy().prop_map(Op::Exists),
        1 => (prop::collection::vec(0..NAMES.len(), 0..=2), any::<bool>()).prop_map(|(p, r)| Op::ReadDir(p, r)),
        3 => (path_strategy(), any::<bool>()).prop_map(|(p, r)| Op::MakeDir(p, r)),
        2 => (path_strategy(), any::<bool>(), any::<bool>()).prop_map(|(p, r, f)| Op::Remove(p, r, f)),
        2 => (path_strategy(), path_strategy()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (path_strategy(), path_strategy()).prop_map(|(a, b)| Op::CopyFile(a, b)),
        1 => (path_strategy(), path_strategy(), any::<bool>()).prop_map(|(a, b, o)| Op::Copy(a, b, o)),
        1 => (path_strategy(), 0u64..64).prop_map(|(p, n)| Op::Truncate(p, n)),
        1 => (path_strategy(), 0u64..64, prop::option::of(0u64..64), 1usize..16)
            .prop_map(|(p, o, l, c)| Op::ReadStream(p, o, l, c)),
        2 => (path_strategy(), sink_mode, prop::collection::vec(data_strategy(), 0..4), any::<bool>())
            .prop_map(|(p, m, c, commit)| Op::Sink(p, m, c, commit)),
        3 => (path_strategy(), flag_strategy(), prop::collection::vec(file_op_strategy(), 0..8))
            .prop_map(|(p, f, ops)| Op::Open(p, f, ops)),
        1 => (path_strategy(), path_strategy()).prop_map(|(t, l)| Op::Symlink(t, l)),
        1 => path_strategy().prop_map(Op::ReadLink),
    ]
}

fn vpath(indices: &[usize]) -> VPath {
    let mut path = VPath::root();
    for &i in indices {
        path = path.join(NAMES[i]).expect("names are valid");
    }
    path
}

fn kind<T>(r: Result<T, fs_core::FsError>) -> Result<T, ErrorKind> {
    r.map_err(|e| e.kind())
}

async fn run_file_ops(
    fs: &dyn FileSystem,
    path: &VPath,
    flag: OpenFlag,
    ops: &[FileOp],
) -> Result<Seen, ErrorKind> {
    let mut file = kind(fs.open(path, OpenOptions::flag(flag)).await)?;
    let mut steps = Vec::new();
    for op in ops {
        let step = match op {
            FileOp::Read(n) => kind(file.read_alloc(*n).await).map(|b| match b {
                Some(bytes) => Seen::Bytes(bytes.to_vec()),
                None => Seen::Done,
            }),
            FileOp::Write(data) => kind(file.write_all(data).await).map(|()| Seen::Done),
            FileOp::Seek(pos) => kind(file.seek(*pos).await).map(Seen::Position),
            FileOp::Truncate(n) => kind(file.truncate(*n).await).map(|()| Seen::Done),
        };
        steps.push(step);
    }
    let position = kind(file.seek(SeekFrom::Current(0)).await);
    steps.push(position.map(Seen::Position));
    steps.push(kind(file.close().await).map(|()| Seen::Done));
    Ok(Seen::Steps(steps))
}

async fn apply(fs: &dyn FileSystem, op: &Op) -> Result<Seen, ErrorKind> {
    match op {
        Op::WriteFile(p, data, flag) => {
            let options = OpenOptions::flag(*flag);
            kind(
                fs.write_file(&vpath(p), Bytes::from(data.clone()), options)
                    .await,
            )
            .map(|()| Seen::Done)
        }
        Op::ReadFile(p) => kind(fs.read_file(&vpath(p)).await).map(|b| Seen::Bytes(b.to_vec())),
        Op::Stat(p) => kind(fs.stat(&vpath(p)).await).map(|i| {
            // Directory and symlink sizes differ between backends by nature (a native link to `/x`
            // stores the root-prefixed OS path); only file sizes are compared.
            let size = if i.is_file() { i.size } else { 0 };
            Seen::Info(i.file_type, size)
        }),
        Op::Exists(p) => kind(fs.exists(&vpath(p)).await).map(Seen::Bool),
        Op::ReadDir(p, recursive) => {
            let options = ReadDirOptions {
                recursive: *recursive,
            };
            kind(fs.read_dir(&vpath(p), options).await).map(|entries| {
                Seen::Listing(
                    entries
                        .into_iter()
                        .map(|e| (e.relative, e.file_type))
                        .collect(),
                )
            })
        }
        Op::MakeDir(p, recursive) => {
            let options = MakeDirOptions {
                recursive: *recursive,
                mode: None,
            };
            kind(fs.make_dir(&vpath(p), options).await).map(|()| Seen::Done)
        }
        Op::Remove(p, recursive, force) => {
            let options = RemoveOptions {
                recursive: *recursive,
                force: *force,
            };
            kind(fs.remove(&vpath(p), options).await).map(|()| Seen::Done)
        }
        Op::Rename(a, b) => kind(fs.rename(&vpath(a), &vpath(b)).await).map(|()| Seen::Done),
        Op::CopyFile(a, b) => kind(fs.copy_file(&vpath(a), &vpath(b)).await).map(|()| Seen::Done),
        Op::Copy(a, b, overwrite) => {
            let options = CopyOptions {
                overwrite: *overwrite,
                preserve_timestamps: false,
            };
            kind(fs.copy(&vpath(a), &vpath(b), options).await).map(|()| Seen::Done)
        }
        Op::Truncate(p, n) => kind(fs.truncate(&vpath(p), *n).await).map(|()| Seen::Done),
        Op::ReadStream(p, offset, length, chunk_size) => {
            let options = StreamOptions {
                chunk_size: *chunk_size,
                offset: *offset,
                length: *length,
            };
            let mut stream = kind(fs.read_stream(&vpath(p), options).await)?;
            let mut bytes = Vec::new();
            let mut chunks_within_limit = true;
            while let Some(chunk) = stream.next().await {
                let chunk = kind(chunk)?;
                chunks_within_limit &= chunk.len() <= *chunk_size;
                bytes.extend_from_slice(&chunk);
            }
            Ok(Seen::Chunks(bytes, chunks_within_limit))
        }
        Op::Sink(p, mode, chunks, commit) => {
            let options = SinkOptions {
                mode: *mode,
                permissions: None,
            };
            let mut sink = kind(fs.write_sink(&vpath(p), options).await)?;
            for chunk in chunks {
                kind(sink.write(Bytes::from(chunk.clone())).await)?;
            }
            if *commit {
                kind(sink.close().await).map(|()| Seen::Done)
            } else {
                kind(sink.abort().await).map(|()| Seen::Done)
            }
        }
        Op::Open(p, flag, ops) => run_file_ops(fs, &vpath(p), *flag, ops).await,
        Op::Symlink(target, link) => {
            kind(fs.symlink(vpath(target).as_str(), &vpath(link)).await).map(|()| Seen::Done)
        }
        Op::ReadLink(p) => kind(fs.read_link(&vpath(p)).await).map(Seen::Text),
    }
}

/// Everything observable about a tree: each entry's type, and each file's bytes (links not followed).
async fn snapshot(fs: &dyn FileSystem) -> Vec<(String, FileType, Option<Vec<u8>>, Option<String>)> {
    let entries = fs
        .read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await
        .expect("listing the root works");
    let mut out = Vec::new();
    for entry in entries {
        let bytes = match entry.file_type {
            FileType::File => Some(
                fs.read_file(&entry.path)
                    .await
                    .expect("listed files are readable")
                    .to_vec(),
            ),
            _ => None,
        };
        let link = match entry.file_type {
            FileType::SymbolicLink => Some(
                fs.read_link(&entry.path)
                    .await
                    .expect("listed links are readable"),
            ),
            _ => None,
        };
        out.push((entry.relative, entry.file_type, bytes, link));
    }
    out
}

async fn compare(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let native: Arc<dyn FileSystem> = Arc::new(NativeFs::new(dir.path()));
    let memory: Arc<dyn FileSystem> = Arc::new(MemoryFs::new());
    for (step, op) in ops.iter().enumerate() {
        let expected = apply(memory.as_ref(), op).await;
        let actual = apply(native.as_ref(), op).await;
        prop_assert_eq!(
            &actual,
            &expected,
            "step {} ({:?}): native (left) differs from memory (right)",
            step,
            op
        );
    }
    prop_assert_eq!(
        snapshot(native.as_ref()).await,
        snapshot(memory.as_ref()).await,
        "final trees differ"
    );
    Ok(())
}

fn cases_from_env() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    // 256 sequences by default; the extended command sets PROPTEST_CASES for a longer run.
    #![proptest_config(ProptestConfig { cases: cases_from_env(), ..ProptestConfig::default() })]

    #[test]
    fn native_matches_memory(ops in prop::collection::vec(op_strategy(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(compare(ops))?;
    }
}
