//! Random sequences: a seeded generator of [`Op`]s over a small namespace of odd names.

use std::io::SeekFrom;

use crate::{Capabilities, OpenFlag, SinkMode, VPath};

use super::op::{Data, Op};
use crate::conformance::cases::support::Rng;

/// The names paths are made of by default: few, so that steps collide, and odd: both Unicode
/// normalization forms of one letter, a case pair, spaces, dots, a leading dot, and the names
/// browsers and our backends reserve for themselves (Chromium's `name.crswap` swap file beside
/// `name`, and a name ending with a tilde after such a suffix).
pub const DEFAULT_NAMES: &[&str] = &[
    "a",
    "A",
    "f",
    "f.crswap",
    "f.crswap~",
    "\u{e9}",   // é, composed (NFC)
    "e\u{301}", // é, decomposed (NFD)
    "a b",
    "x.",
    ".d",
];

/// How sequences are generated.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// The names path segments are drawn from (each must be a valid segment).
    pub names: Vec<String>,
    /// The deepest path generated (1 = only children of `/`).
    pub max_depth: usize,
    /// The most steps in a sequence (the number is drawn from `1..=max_steps`).
    pub max_steps: usize,
    /// Handle slots (`h0`…) and sink slots (`s0`…) available to a sequence.
    pub slots: u8,
    /// What the backend under test supports: writable `open` flags only with
    /// `random_access_write`, `symlink`/`read_link` only with `symlinks`.
    pub capabilities: Capabilities,
    /// Now and then write files of about 1 MiB (beyond one read batch of the OPFS backend).
    pub large_files: bool,
}

impl GenConfig {
    /// The defaults ([`DEFAULT_NAMES`], depth 3, up to 60 steps, 3 slots of each kind, large
    /// files now and then) for a backend with `capabilities`.
    pub fn new(capabilities: Capabilities) -> Self {
        GenConfig {
            names: DEFAULT_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            max_depth: 3,
            max_steps: 60,
            slots: 3,
            capabilities,
            large_files: true,
        }
    }
}

/// The generator's draws, over the suite's [`Rng`].
struct Draw(Rng);

impl Draw {
    fn new(seed: u64) -> Draw {
        Draw(Rng::new(seed ^ 0x243f_6a88_85a3_08d3))
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }

    /// A number in `lo..hi` (`lo < hi`).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn signed(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
}

/// What the generator remembers about the slots it used (not whether opening them worked).
struct Slots {
    files: Vec<Option<(VPath, bool)>>,
    sinks: Vec<Option<VPath>>,
}

/// The sequence of seed `seed`: the same seed gives the same sequence on every target.
pub fn generate(config: &GenConfig, seed: u64) -> Vec<Op> {
    let mut rng = Draw::new(seed);
    let steps = rng.range(1, config.max_steps.max(1) as u64 + 1) as usize;
    let mut slots = Slots {
        files: vec![None; usize::from(config.slots)],
        sinks: vec![None; usize::from(config.slots)],
    };
    let mut ops = Vec::with_capacity(steps);
    for _ in 0..steps {
        ops.push(step(config, &mut rng, &mut slots));
    }
    ops
}

/// The kinds of step, with their weights.
const KINDS: &[(Kind, u64)] = &[
    (Kind::WriteFile, 10),
    (Kind::ReadFile, 5),
    (Kind::Stat, 3),
    (Kind::Exists, 2),
    (Kind::Access, 1),
    (Kind::RealPath, 1),
    (Kind::ReadDir, 3),
    (Kind::MakeDir, 7),
    (Kind::Remove, 5),
    (Kind::Rename, 6),
    (Kind::CopyFile, 3),
    (Kind::Copy, 2),
    (Kind::Truncate, 3),
    (Kind::ReadStream, 3),
    (Kind::Symlink, 2),
    (Kind::ReadLink, 1),
    (Kind::Open, 6),
    (Kind::FileOp, 14),
    (Kind::SinkOpen, 4),
    (Kind::SinkOp, 7),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    WriteFile,
    ReadFile,
    Stat,
    Exists,
    Access,
    RealPath,
    ReadDir,
    MakeDir,
    Remove,
    Rename,
    CopyFile,
    Copy,
    Truncate,
    ReadStream,
    Symlink,
    ReadLink,
    Open,
    FileOp,
    SinkOpen,
    SinkOp,
}

fn step(config: &GenConfig, rng: &mut Draw, slots: &mut Slots) -> Op {
    let caps = &config.capabilities;
    let open_files: Vec<u8> = (0..config.slots)
        .filter(|&i| slots.files[usize::from(i)].is_some())
        .collect();
    let open_sinks: Vec<u8> = (0..config.slots)
        .filter(|&i| slots.sinks[usize::from(i)].is_some())
        .collect();
    let allowed = |kind: Kind| match kind {
        Kind::Symlink | Kind::ReadLink => caps.symlinks,
        Kind::FileOp => !open_files.is_empty(),
        Kind::SinkOp => !open_sinks.is_empty(),
        _ => true,
    };
    let total: u64 = KINDS
        .iter()
        .filter(|(k, _)| allowed(*k))
        .map(|(_, w)| w)
        .sum();
    let mut roll = rng.below(total);
    let mut kind = Kind::WriteFile;
    for (k, w) in KINDS.iter().filter(|(k, _)| allowed(*k)) {
        if roll < *w {
            kind = *k;
            break;
        }
        roll -= w;
    }
    let busy: Vec<VPath> = slots
        .files
        .iter()
        .flatten()
        .map(|(p, _)| p.clone())
        .chain(slots.sinks.iter().flatten().cloned())
        .collect();
    macro_rules! path {
        () => {
            random_path(config, rng, &busy)
        };
    }
    match kind {
        Kind::WriteFile => {
            let p = path!();
            Op::WriteFile {
                path: p,
                data: data(config, rng),
                flag: *rng.pick(&OpenFlag::ALL),
            }
        }
        Kind::ReadFile => Op::ReadFile { path: path!() },
        Kind::Stat => Op::Stat { path: path!() },
        Kind::Exists => Op::Exists { path: path!() },
        Kind::Access => Op::Access { path: path!() },
        Kind::RealPath => Op::RealPath { path: path!() },
        Kind::ReadLink => Op::ReadLink { path: path!() },
        Kind::ReadDir => {
            let p = path!();
            let p = if rng.chance(40) {
                p.parent().unwrap_or(p)
            } else {
                p
            };
            Op::ReadDir {
                path: p,
                recursive: rng.chance(50),
            }
        }
        Kind::MakeDir => {
            let p = path!();
            Op::MakeDir {
                path: p,
                recursive: rng.chance(50),
            }
        }
        Kind::Remove => {
            let p = path!();
            let p = if rng.chance(20) {
                p.parent().unwrap_or(p)
            } else {
                p
            };
            Op::Remove {
                path: p,
                recursive: rng.chance(50),
                force: rng.chance(30),
            }
        }
        Kind::Rename => {
            let from = path!();
            let other = path!();
            let to = related(rng, &from, other);
            Op::Rename { from, to }
        }
        Kind::CopyFile => {
            let from = path!();
            Op::CopyFile { from, to: path!() }
        }
        Kind::Copy => {
            let from = path!();
            let other = path!();
            let to = related(rng, &from, other);
            Op::Copy {
                from,
                to,
                overwrite: rng.chance(50),
            }
        }
        Kind::Truncate => {
            let p = path!();
            Op::Truncate {
                path: p,
                len: length(rng),
            }
        }
        Kind::ReadStream => {
            let p = path!();
            let chunk = *rng.pick(&[1usize, 2, 3, 7, 16, 64, 4096, 65_536, 1_048_577]);
            let offset = if rng.chance(80) {
                rng.below(80)
            } else {
                rng.below(1_100_000)
            };
            let length = if chunk < 64 {
                Some(rng.below(300))
            } else if rng.chance(50) {
                None
            } else {
                Some(length(rng))
            };
            Op::ReadStream {
                path: p,
                offset,
                length,
                chunk,
            }
        }
        Kind::Symlink => {
            let target = path!();
            Op::Symlink {
                target,
                link: path!(),
            }
        }
        Kind::Open => {
            let p = path!();
            let slot = rng.below(u64::from(config.slots)) as u8;
            let flag = if caps.random_access_write {
                *rng.pick(&OpenFlag::ALL)
            } else {
                OpenFlag::Read
            };
            slots.files[usize::from(slot)] = Some((p.clone(), flag.writable()));
            Op::Open {
                slot,
                path: p,
                flag,
            }
        }
        Kind::FileOp => {
            let slot = *rng.pick(&open_files);
            let writable = slots.files[usize::from(slot)]
                .as_ref()
                .is_some_and(|(_, w)| *w);
            let roll = rng.below(100);
            match roll {
                0..=24 => Op::FileRead {
                    slot,
                    len: if rng.chance(90) {
                        rng.below(80) as usize
                    } else {
                        rng.below(5000) as usize
                    },
                },
                25..=49 if writable => Op::FileWrite {
                    slot,
                    data: data(config, rng),
                },
                25..=69 => Op::FileSeek {
                    slot,
                    pos: match rng.below(3) {
                        0 => SeekFrom::Start(rng.below(80)),
                        1 => SeekFrom::Current(rng.signed(-40, 40)),
                        _ => SeekFrom::End(rng.signed(-40, 10)),
                    },
                },
                70..=79 => Op::FileTruncate {
                    slot,
                    len: length(rng),
                },
                80..=84 => Op::FileStat { slot },
                85..=87 => Op::FileSync { slot },
                _ => {
                    slots.files[usize::from(slot)] = None;
                    Op::FileClose { slot }
                }
            }
        }
        Kind::SinkOpen => {
            let p = path!();
            let slot = rng.below(u64::from(config.slots)) as u8;
            slots.sinks[usize::from(slot)] = Some(p.clone());
            Op::SinkOpen {
                slot,
                path: p,
                mode: *rng.pick(&[SinkMode::Replace, SinkMode::CreateNew, SinkMode::Append]),
            }
        }
        Kind::SinkOp => {
            let slot = *rng.pick(&open_sinks);
            match rng.below(100) {
                0..=59 => Op::SinkWrite {
                    slot,
                    data: data(config, rng),
                },
                60..=89 => {
                    slots.sinks[usize::from(slot)] = None;
                    Op::SinkClose { slot }
                }
                _ => {
                    slots.sinks[usize::from(slot)] = None;
                    Op::SinkAbort { slot }
                }
            }
        }
    }
}

/// A path: often one that an open handle or sink names (or its parent or a child of it), else a
/// random one of depth 1 to `max_depth` (shallow ones more often), now and then `/`.
fn random_path(config: &GenConfig, rng: &mut Draw, busy: &[VPath]) -> VPath {
    if !busy.is_empty() && rng.chance(35) {
        let base = rng.pick(busy).clone();
        return match rng.below(4) {
            0 => base.parent().unwrap_or(base),
            1 => base
                .join(rng.pick(&config.names).as_str())
                .unwrap_or_else(|_| base.clone()),
            _ => base,
        };
    }
    if rng.chance(3) {
        return VPath::root();
    }
    let depth = match rng.below(100) {
        0..=49 => 1,
        50..=84 => 2,
        _ => 3,
    }
    .min(config.max_depth.max(1));
    let mut out = VPath::root();
    for _ in 0..depth {
        let name = rng.pick(&config.names).clone();
        out = out.join(&name).unwrap_or_else(|_| out.clone());
    }
    out
}

/// A second path for a two-path step: sometimes one related to `first` (below it, its parent, or
/// itself), which is where rename's and copy's rules bite.
fn related(rng: &mut Draw, first: &VPath, other: VPath) -> VPath {
    match rng.below(10) {
        0 => first.clone(),
        1 => first.parent().unwrap_or_else(VPath::root),
        2 => match other.file_name() {
            Some(name) => first.join(name).unwrap_or(other),
            None => other,
        },
        _ => other,
    }
}

fn length(rng: &mut Draw) -> u64 {
    if rng.chance(85) {
        rng.below(64)
    } else {
        rng.below(5000)
    }
}

fn data(config: &GenConfig, rng: &mut Draw) -> Data {
    let len = match rng.below(1000) {
        0..=599 => rng.below(16),
        600..=899 => rng.range(16, 300),
        900..=989 => rng.range(300, 5000),
        _ if config.large_files => rng.range(1_048_576 - 100, 1_048_576 + 3000),
        _ => rng.range(300, 5000),
    };
    Data {
        len: len as u32,
        seed: rng.below(1000) as u32,
    }
}
