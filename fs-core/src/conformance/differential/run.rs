//! Running a sequence on the model and the subject side by side, step by step.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use futures::future::LocalBoxFuture;
use futures::StreamExt;

use crate::conformance::cases::support::sha256_hex;
use crate::{
    AccessOptions, CopyOptions, ErrorKind, File, FileSystem, FileType, FsResult, MakeDirOptions,
    OpenOptions, ReadDirOptions, RemoveOptions, SinkOptions, StreamOptions, VPath, WriteSink,
};

use super::op::{format_ops, Op};

/// The two file systems one sequence runs on, both empty at the start.
pub struct Pair {
    /// The model (`MemoryFs`): what the subject must match.
    pub model: Arc<dyn FileSystem>,
    /// The backend under test.
    pub subject: Arc<dyn FileSystem>,
    /// Dropped after the file systems (fields drop in declaration order).
    _keep_alive: Option<Box<dyn Any>>,
}

impl Pair {
    /// A pair with nothing else to keep alive.
    pub fn new(model: Arc<dyn FileSystem>, subject: Arc<dyn FileSystem>) -> Pair {
        Pair {
            model,
            subject,
            _keep_alive: None,
        }
    }

    /// A pair that owns `guard` (a temporary directory, an OPFS sub-root) until it is dropped; the
    /// file systems are dropped first.
    pub fn with_guard(
        model: Arc<dyn FileSystem>,
        subject: Arc<dyn FileSystem>,
        guard: impl Any,
    ) -> Pair {
        Pair {
            model,
            subject,
            _keep_alive: Some(Box::new(guard)),
        }
    }
}

/// Makes a fresh [`Pair`] for each sequence run.
pub type MakePair<'a> = dyn Fn() -> LocalBoxFuture<'static, Pair> + 'a;

/// What a step observed; the model's and the subject's must be equal.
#[derive(Clone, PartialEq, Eq)]
pub enum Seen {
    /// Succeeded with nothing to report.
    Done,
    /// A yes/no answer (`exists`).
    Bool(bool),
    /// Bytes read.
    Bytes(Vec<u8>),
    /// A read at the end of a file (`read_alloc` gave `None`).
    End,
    /// A type and, for files, a size (directory sizes differ by nature and are not compared).
    Info(FileType, u64),
    /// `(relative path, type)` of each entry, in the order returned.
    Listing(Vec<(String, FileType)>),
    /// A stream's bytes, and whether every chunk respected the chunk size.
    Chunks(Vec<u8>, bool),
    /// A cursor position.
    Position(u64),
    /// A path or a link target.
    Text(String),
    /// The step named an empty slot: nothing happened.
    NoSlot,
    /// Two outcomes of one step (closing what was in a slot, then opening into it).
    Pair(Box<Outcome>, Box<Outcome>),
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = |f: &mut fmt::Formatter<'_>, data: &[u8]| {
            if data.len() <= 48 {
                write!(f, "{data:?}")
            } else {
                let head = &data[..16];
                write!(
                    f,
                    "{} bytes {head:?}… sha256 {}",
                    data.len(),
                    &sha256_hex(data)[..16]
                )
            }
        };
        match self {
            Seen::Done => write!(f, "Done"),
            Seen::Bool(b) => write!(f, "{b}"),
            Seen::Bytes(data) => {
                write!(f, "Bytes(")?;
                bytes(f, data)?;
                write!(f, ")")
            }
            Seen::End => write!(f, "End"),
            Seen::Info(kind, size) => write!(f, "Info({kind:?}, {size})"),
            Seen::Listing(entries) => write!(f, "Listing({entries:?})"),
            Seen::Chunks(data, ok) => {
                write!(f, "Chunks(")?;
                bytes(f, data)?;
                write!(f, ", chunk sizes respected: {ok})")
            }
            Seen::Position(n) => write!(f, "Position({n})"),
            Seen::Text(s) => write!(f, "Text({s:?})"),
            Seen::NoSlot => write!(f, "NoSlot"),
            Seen::Pair(a, b) => write!(f, "({a:?}, {b:?})"),
        }
    }
}

/// A step's outcome: what it saw, or the kind of its error.
pub type Outcome = Result<Seen, ErrorKind>;

fn kind<T>(result: FsResult<T>) -> Result<T, ErrorKind> {
    result.map_err(|e| e.kind())
}

fn done(result: FsResult<()>) -> Outcome {
    kind(result).map(|()| Seen::Done)
}

/// Open resources (handles or sinks) by slot number.
struct Slots<T>(Vec<Option<T>>);

impl<T> Slots<T> {
    fn get(&mut self, slot: u8) -> Option<&mut T> {
        self.0.get_mut(usize::from(slot))?.as_mut()
    }

    fn put(&mut self, slot: u8, value: T) {
        let slot = usize::from(slot);
        if self.0.len() <= slot {
            self.0.resize_with(slot + 1, || None);
        }
        self.0[slot] = Some(value);
    }

    fn take(&mut self, slot: u8) -> Option<T> {
        self.0.get_mut(usize::from(slot))?.take()
    }

    /// The numbers of the occupied slots, in order.
    fn occupied(&self) -> impl Iterator<Item = u8> + '_ {
        (0..self.0.len())
            .filter(|&i| self.0[i].is_some())
            .map(|i| i as u8)
    }
}

/// One side's file system and the handles and sinks it holds open.
struct Side {
    fs: Arc<dyn FileSystem>,
    files: Slots<Box<dyn File>>,
    sinks: Slots<Box<dyn WriteSink>>,
}

impl Side {
    fn new(fs: Arc<dyn FileSystem>) -> Side {
        Side {
            fs,
            files: Slots(Vec::new()),
            sinks: Slots(Vec::new()),
        }
    }

    async fn apply(&mut self, op: &Op) -> Outcome {
        let fs = self.fs.clone();
        let fs = fs.as_ref();
        match op {
            Op::WriteFile { path, data, flag } => done(
                fs.write_file(path, Bytes::from(data.bytes()), OpenOptions::flag(*flag))
                    .await,
            ),
            Op::ReadFile { path } => {
                kind(fs.read_file(path).await).map(|b| Seen::Bytes(b.to_vec()))
            }
            Op::Stat { path } => kind(fs.stat(path).await).map(|info| {
                let size = if info.is_file() { info.size } else { 0 };
                Seen::Info(info.file_type, size)
            }),
            Op::Exists { path } => kind(fs.exists(path).await).map(Seen::Bool),
            Op::Access { path } => done(fs.access(path, AccessOptions::default()).await),
            Op::RealPath { path } => {
                kind(fs.real_path(path).await).map(|p| Seen::Text(p.as_str().to_owned()))
            }
            Op::ReadLink { path } => kind(fs.read_link(path).await).map(Seen::Text),
            Op::ReadDir { path, recursive } => {
                let options = ReadDirOptions {
                    recursive: *recursive,
                };
                kind(fs.read_dir(path, options).await).map(|entries| {
                    Seen::Listing(
                        entries
                            .into_iter()
                            .map(|e| (e.relative, e.file_type))
                            .collect(),
                    )
                })
            }
            Op::MakeDir { path, recursive } => {
                let options = MakeDirOptions {
                    recursive: *recursive,
                    mode: None,
                };
                done(fs.make_dir(path, options).await)
            }
            Op::Remove {
                path,
                recursive,
                force,
            } => {
                let options = RemoveOptions {
                    recursive: *recursive,
                    force: *force,
                };
                done(fs.remove(path, options).await)
            }
            Op::Rename { from, to } => done(fs.rename(from, to).await),
            Op::CopyFile { from, to } => done(fs.copy_file(from, to).await),
            Op::Copy {
                from,
                to,
                overwrite,
            } => {
                let options = CopyOptions {
                    overwrite: *overwrite,
                    preserve_timestamps: false,
                };
                done(fs.copy(from, to, options).await)
            }
            Op::Truncate { path, len } => done(fs.truncate(path, *len).await),
            Op::ReadStream {
                path,
                offset,
                length,
                chunk,
            } => {
                let options = StreamOptions {
                    chunk_size: *chunk,
                    offset: *offset,
                    length: *length,
                };
                let mut stream = kind(fs.read_stream(path, options).await)?;
                let mut bytes = Vec::new();
                let mut within = true;
                while let Some(piece) = stream.next().await {
                    let piece = kind(piece)?;
                    within &= !piece.is_empty() && piece.len() <= *chunk;
                    bytes.extend_from_slice(&piece);
                }
                Ok(Seen::Chunks(bytes, within))
            }
            Op::Symlink { target, link } => done(fs.symlink(target.as_str(), link).await),
            Op::Open { slot, path, flag } => {
                let closed = match self.files.take(*slot) {
                    Some(old) => Some(done(old.close().await)),
                    None => None,
                };
                let opened = match fs.open(path, OpenOptions::flag(*flag)).await {
                    Ok(file) => {
                        self.files.put(*slot, file);
                        Ok(Seen::Done)
                    }
                    Err(e) => Err(e.kind()),
                };
                match closed {
                    Some(closed) => Ok(Seen::Pair(Box::new(closed), Box::new(opened))),
                    None => opened,
                }
            }
            Op::FileRead { slot, len } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                kind(file.read_alloc(*len).await).map(|read| match read {
                    Some(bytes) => Seen::Bytes(bytes.to_vec()),
                    None => Seen::End,
                })
            }
            Op::FileWrite { slot, data } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                done(file.write_all(&data.bytes()).await)
            }
            Op::FileSeek { slot, pos } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                kind(file.seek(*pos).await).map(Seen::Position)
            }
            Op::FileTruncate { slot, len } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                done(file.truncate(*len).await)
            }
            Op::FileStat { slot } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                kind(file.stat().await).map(|info| Seen::Info(info.file_type, info.size))
            }
            Op::FileSync { slot } => {
                let Some(file) = self.files.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                done(file.sync().await)
            }
            Op::FileClose { slot } => match self.files.take(*slot) {
                Some(file) => done(file.close().await),
                None => Ok(Seen::NoSlot),
            },
            Op::SinkOpen { slot, path, mode } => {
                let aborted = match self.sinks.take(*slot) {
                    Some(old) => Some(done(old.abort().await)),
                    None => None,
                };
                let options = SinkOptions {
                    mode: *mode,
                    permissions: None,
                };
                let opened = match fs.write_sink(path, options).await {
                    Ok(sink) => {
                        self.sinks.put(*slot, sink);
                        Ok(Seen::Done)
                    }
                    Err(e) => Err(e.kind()),
                };
                match aborted {
                    Some(aborted) => Ok(Seen::Pair(Box::new(aborted), Box::new(opened))),
                    None => opened,
                }
            }
            Op::SinkWrite { slot, data } => {
                let Some(sink) = self.sinks.get(*slot) else {
                    return Ok(Seen::NoSlot);
                };
                done(sink.write(Bytes::from(data.bytes())).await)
            }
            Op::SinkClose { slot } => match self.sinks.take(*slot) {
                Some(sink) => done(sink.close().await),
                None => Ok(Seen::NoSlot),
            },
            Op::SinkAbort { slot } => match self.sinks.take(*slot) {
                Some(sink) => done(sink.abort().await),
                None => Ok(Seen::NoSlot),
            },
        }
    }

    /// The steps that end a sequence: every handle closed, then every sink closed, in slot order.
    fn closing_ops(&self) -> Vec<Op> {
        let files = self.files.occupied().map(|slot| Op::FileClose { slot });
        let sinks = self.sinks.occupied().map(|slot| Op::SinkClose { slot });
        files.chain(sinks).collect()
    }
}

/// Everything observable about a tree: each entry's relative path and type, and each file's bytes.
pub type Snapshot = Vec<(String, FileType, Option<Vec<u8>>)>;

/// The [`Snapshot`] of `fs` (an error says which call failed).
pub async fn tree_of(fs: &dyn FileSystem) -> Result<Snapshot, String> {
    let entries = fs
        .read_dir(&VPath::root(), ReadDirOptions { recursive: true })
        .await
        .map_err(|e| format!("listing the whole tree failed: {e}"))?;
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let bytes = if entry.file_type == FileType::File {
            let bytes = fs
                .read_file(&entry.path)
                .await
                .map_err(|e| format!("reading the listed file {} failed: {e}", entry.path))?;
            Some(bytes.to_vec())
        } else {
            None
        };
        out.push((entry.relative, entry.file_type, bytes));
    }
    Ok(out)
}

/// Where and how the subject differed from the model.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// The steps run, up to and including the one that differed (the closing steps and the final
    /// comparison come after the sequence's own steps).
    pub ops: Vec<Op>,
    /// What differed: the step and both outcomes, or the final trees.
    pub what: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.what)?;
        writeln!(f, "steps:")?;
        write!(f, "{}", format_ops(&self.ops))
    }
}

/// Runs `ops` on both file systems of `pair`, comparing every step's outcome; then closes what is
/// still open (handles, then sinks, compared the same way) and compares the whole trees (types,
/// sizes, bytes).
pub async fn run(pair: &Pair, ops: &[Op]) -> Result<(), Divergence> {
    let mut model = Side::new(pair.model.clone());
    let mut subject = Side::new(pair.subject.clone());
    let mut done_ops = Vec::with_capacity(ops.len() + 8);
    let step = |op: Op, expected: Outcome, actual: Outcome, done_ops: &mut Vec<Op>| {
        done_ops.push(op);
        if expected == actual {
            return Ok(());
        }
        let n = done_ops.len();
        Err(Divergence {
            ops: done_ops.clone(),
            what: format!(
                "step {n} `{}`: the subject saw {actual:?}, the model {expected:?}",
                done_ops[n - 1]
            ),
        })
    };
    for op in ops {
        let expected = model.apply(op).await;
        let actual = subject.apply(op).await;
        step(op.clone(), expected, actual, &mut done_ops)?;
    }
    // Every step had the same outcome on both sides, so both hold the same slots open.
    for op in model.closing_ops() {
        let expected = model.apply(&op).await;
        let actual = subject.apply(&op).await;
        step(op, expected, actual, &mut done_ops)?;
    }
    let expected = tree_of(pair.model.as_ref()).await;
    let actual = tree_of(pair.subject.as_ref()).await;
    if expected != actual {
        let show = |tree: &Result<Snapshot, String>| match tree {
            Err(e) => e.clone(),
            Ok(entries) => entries
                .iter()
                .map(|(name, kind, bytes)| match bytes {
                    Some(b) => format!("  {name:?} {kind:?} {:?}\n", Seen::Bytes(b.clone())),
                    None => format!("  {name:?} {kind:?}\n"),
                })
                .collect(),
        };
        return Err(Divergence {
            ops: done_ops,
            what: format!(
                "the final trees differ\nsubject:\n{}model:\n{}",
                show(&actual),
                show(&expected)
            ),
        });
    }
    Ok(())
}

/// Runs `ops` on a fresh pair.
pub async fn run_fresh(make: &MakePair<'_>, ops: &[Op]) -> Result<(), Divergence> {
    let pair = make().await;
    run(&pair, ops).await
}

/// Shrinks a failing sequence: drops runs of steps (halving their length down to single steps)
/// and shortens written data, keeping each change after which a fresh pair still diverges. Stops
/// after `max_runs` sequences or `budget`, whichever comes first, with the shortest failing
/// sequence found so far.
pub async fn minimize(
    make: &MakePair<'_>,
    ops: Vec<Op>,
    max_runs: usize,
    budget: std::time::Duration,
) -> Vec<Op> {
    let started = web_time::Instant::now();
    let exhausted = |runs: usize| runs >= max_runs || started.elapsed() >= budget;
    let mut ops = ops;
    let mut runs = 0;
    let mut chunk = ops.len().div_ceil(2).max(1);
    loop {
        let mut removed = false;
        let mut start = 0;
        while start < ops.len() && !exhausted(runs) {
            let end = (start + chunk).min(ops.len());
            let mut candidate = ops.clone();
            candidate.drain(start..end);
            runs += 1;
            if !candidate.is_empty() && run_fresh(make, &candidate).await.is_err() {
                ops = candidate;
                removed = true;
            } else {
                start = end;
            }
        }
        if exhausted(runs) || (chunk == 1 && !removed) {
            break;
        }
        if !removed {
            chunk = chunk.div_ceil(2);
        }
    }
    for i in 0..ops.len() {
        loop {
            if exhausted(runs) {
                return ops;
            }
            let mut candidate = ops.clone();
            let Some(data) = candidate[i].data_mut() else {
                break;
            };
            if data.len <= 1 {
                break;
            }
            data.len = if data.len > 64 {
                data.len / 4
            } else {
                data.len / 2
            };
            runs += 1;
            if run_fresh(make, &candidate).await.is_err() {
                ops = candidate;
            } else {
                break;
            }
        }
    }
    ops
}
