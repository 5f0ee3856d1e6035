//! The steps of a sequence ([`Op`]) and their text form, one step per line, which failing runs print
//! and regression files hold:
//!
//! ```text
//! # a title for the sequence (comment lines start with `#`)
//! write_file "/a" 12#3 w          (12 bytes generated from seed 3, flag w)
//! open h0 "/a" r+                 (handle slot h0)
//! h0.seek end -3
//! h0.write 4#1
//! sink s1 "/b" append             (sink slot s1)
//! s1.write 5#9
//! s1.close
//! read_stream "/a" 2 all 7        (offset 2, to the end, chunks of at most 7 bytes)
//! remove "/b" recursive force
//! ```
//!
//! Paths are quoted with Rust's string escapes (`"e\u{301}"`), so every Unicode form survives a
//! copy and paste.

use std::fmt;
use std::io::SeekFrom;

use crate::{Capabilities, OpenFlag, SinkMode, VPath};

use crate::conformance::cases::support::random_bytes;

/// Bytes a step writes: `len` bytes generated from `seed` (printed as `len#seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data {
    /// How many bytes.
    pub len: u32,
    /// The generator's seed.
    pub seed: u32,
}

impl Data {
    /// The bytes.
    pub fn bytes(&self) -> Vec<u8> {
        random_bytes(u64::from(self.seed), self.len as usize)
    }
}

/// One step of a sequence. Slots (`h0`, `s1`, …) name handles and sinks that stay open across steps;
/// a step on an empty slot does nothing on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // each variant is the trait method of the same name; fields are its arguments
pub enum Op {
    WriteFile {
        path: VPath,
        data: Data,
        flag: OpenFlag,
    },
    ReadFile {
        path: VPath,
    },
    Stat {
        path: VPath,
    },
    Exists {
        path: VPath,
    },
    Access {
        path: VPath,
    },
    RealPath {
        path: VPath,
    },
    ReadDir {
        path: VPath,
        recursive: bool,
    },
    MakeDir {
        path: VPath,
        recursive: bool,
    },
    Remove {
        path: VPath,
        recursive: bool,
        force: bool,
    },
    Rename {
        from: VPath,
        to: VPath,
    },
    CopyFile {
        from: VPath,
        to: VPath,
    },
    Copy {
        from: VPath,
        to: VPath,
        overwrite: bool,
    },
    Truncate {
        path: VPath,
        len: u64,
    },
    ReadStream {
        path: VPath,
        offset: u64,
        length: Option<u64>,
        chunk: usize,
    },
    Symlink {
        target: VPath,
        link: VPath,
    },
    ReadLink {
        path: VPath,
    },
    /// `open` into handle slot `slot` (a handle already there is closed first).
    Open {
        slot: u8,
        path: VPath,
        flag: OpenFlag,
    },
    FileRead {
        slot: u8,
        len: usize,
    },
    FileWrite {
        slot: u8,
        data: Data,
    },
    FileSeek {
        slot: u8,
        pos: SeekFrom,
    },
    FileTruncate {
        slot: u8,
        len: u64,
    },
    FileStat {
        slot: u8,
    },
    FileSync {
        slot: u8,
    },
    FileClose {
        slot: u8,
    },
    /// `write_sink` into sink slot `slot` (a sink already there is aborted first).
    SinkOpen {
        slot: u8,
        path: VPath,
        mode: SinkMode,
    },
    SinkWrite {
        slot: u8,
        data: Data,
    },
    SinkClose {
        slot: u8,
    },
    SinkAbort {
        slot: u8,
    },
}

impl Op {
    /// Whether a backend with `caps` can run this step (the generator makes only such steps; a
    /// regression found on one backend may hold steps another cannot run).
    pub fn allowed(&self, caps: &Capabilities) -> bool {
        match self {
            Op::Symlink { .. } | Op::ReadLink { .. } => caps.symlinks,
            Op::Open { flag, .. } => caps.random_access_write || !flag.writable(),
            Op::FileWrite { .. } => caps.random_access_write,
            _ => true,
        }
    }

    /// The data this step writes, if any (for shrinking).
    pub(crate) fn data_mut(&mut self) -> Option<&mut Data> {
        match self {
            Op::WriteFile { data, .. }
            | Op::FileWrite { data, .. }
            | Op::SinkWrite { data, .. } => Some(data),
            _ => None,
        }
    }
}

fn sink_mode_word(mode: SinkMode) -> &'static str {
    match mode {
        SinkMode::Replace => "replace",
        SinkMode::CreateNew => "create_new",
        SinkMode::Append => "append",
    }
}

struct Q<'a>(&'a VPath);

impl fmt::Display for Q<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0.as_str())
    }
}

impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.len, self.seed)
    }
}

fn words(f: &mut fmt::Formatter<'_>, words: &[(bool, &str)]) -> fmt::Result {
    for (on, word) in words {
        if *on {
            write!(f, " {word}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::WriteFile { path, data, flag } => write!(f, "write_file {} {data} {flag}", Q(path)),
            Op::ReadFile { path } => write!(f, "read_file {}", Q(path)),
            Op::Stat { path } => write!(f, "stat {}", Q(path)),
            Op::Exists { path } => write!(f, "exists {}", Q(path)),
            Op::Access { path } => write!(f, "access {}", Q(path)),
            Op::RealPath { path } => write!(f, "real_path {}", Q(path)),
            Op::ReadLink { path } => write!(f, "read_link {}", Q(path)),
            Op::ReadDir { path, recursive } => {
                let how = if *recursive { "recursive" } else { "flat" };
                write!(f, "read_dir {} {how}", Q(path))
            }
            Op::MakeDir { path, recursive } => {
                let how = if *recursive { "recursive" } else { "single" };
                write!(f, "make_dir {} {how}", Q(path))
            }
            Op::Remove {
                path,
                recursive,
                force,
            } => {
                write!(f, "remove {}", Q(path))?;
                words(f, &[(*recursive, "recursive"), (*force, "force")])
            }
            Op::Rename { from, to } => write!(f, "rename {} {}", Q(from), Q(to)),
            Op::CopyFile { from, to } => write!(f, "copy_file {} {}", Q(from), Q(to)),
            Op::Copy {
                from,
                to,
                overwrite,
            } => {
                write!(f, "copy {} {}", Q(from), Q(to))?;
                words(f, &[(*overwrite, "overwrite")])
            }
            Op::Truncate { path, len } => write!(f, "truncate {} {len}", Q(path)),
            Op::ReadStream {
                path,
                offset,
                length,
                chunk,
            } => {
                let length = length.map_or_else(|| "all".to_owned(), |n| n.to_string());
                write!(f, "read_stream {} {offset} {length} {chunk}", Q(path))
            }
            Op::Symlink { target, link } => write!(f, "symlink {} {}", Q(target), Q(link)),
            Op::Open { slot, path, flag } => write!(f, "open h{slot} {} {flag}", Q(path)),
            Op::FileRead { slot, len } => write!(f, "h{slot}.read {len}"),
            Op::FileWrite { slot, data } => write!(f, "h{slot}.write {data}"),
            Op::FileSeek { slot, pos } => match pos {
                SeekFrom::Start(n) => write!(f, "h{slot}.seek start {n}"),
                SeekFrom::Current(n) => write!(f, "h{slot}.seek current {n}"),
                SeekFrom::End(n) => write!(f, "h{slot}.seek end {n}"),
            },
            Op::FileTruncate { slot, len } => write!(f, "h{slot}.truncate {len}"),
            Op::FileStat { slot } => write!(f, "h{slot}.stat"),
            Op::FileSync { slot } => write!(f, "h{slot}.sync"),
            Op::FileClose { slot } => write!(f, "h{slot}.close"),
            Op::SinkOpen { slot, path, mode } => {
                write!(f, "sink s{slot} {} {}", Q(path), sink_mode_word(*mode))
            }
            Op::SinkWrite { slot, data } => write!(f, "s{slot}.write {data}"),
            Op::SinkClose { slot } => write!(f, "s{slot}.close"),
            Op::SinkAbort { slot } => write!(f, "s{slot}.abort"),
        }
    }
}

/// A line of the text form that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based line number within the text given to [`parse_sequences`].
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Splits a line into words; a double-quoted word keeps its spaces and has its escapes resolved.
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c != '"' {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word);
            continue;
        }
        chars.next();
        let mut word = String::new();
        loop {
            match chars.next() {
                None => return Err("a quoted path is not closed".to_owned()),
                Some('"') => break,
                Some('\\') => word.push(unescape(&mut chars)?),
                Some(c) => word.push(c),
            }
        }
        out.push(word);
    }
    Ok(out)
}

/// The character of one escape after its backslash (Rust's `{:?}` escapes of strings).
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<char, String> {
    match chars.next() {
        Some('n') => Ok('\n'),
        Some('r') => Ok('\r'),
        Some('t') => Ok('\t'),
        Some('0') => Ok('\0'),
        Some(c @ ('\\' | '"' | '\'')) => Ok(c),
        Some('u') => {
            if chars.next() != Some('{') {
                return Err("\\u must be followed by {hex}".to_owned());
            }
            let mut hex = String::new();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) if c.is_ascii_hexdigit() && hex.len() < 6 => hex.push(c),
                    _ => return Err("a \\u{...} escape holds 1 to 6 hex digits".to_owned()),
                }
            }
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("\\u{{{hex}}} is not a character"))
        }
        other => Err(format!("unknown escape \\{}", other.unwrap_or(' '))),
    }
}

fn path(word: Option<&String>) -> Result<VPath, String> {
    let word = word.ok_or("a path is missing")?;
    VPath::new(word).map_err(|e| format!("invalid path {word:?}: {}", e.description()))
}

fn number<T: std::str::FromStr>(word: Option<&String>, what: &str) -> Result<T, String> {
    let word = word.ok_or_else(|| format!("{what} is missing"))?;
    word.parse()
        .map_err(|_| format!("{what} {word:?} is not a number of the right range"))
}

fn data(word: Option<&String>) -> Result<Data, String> {
    let word = word.ok_or("data (len#seed) is missing")?;
    let (len, seed) = word
        .split_once('#')
        .ok_or_else(|| format!("data {word:?} is not len#seed"))?;
    Ok(Data {
        len: len
            .parse()
            .map_err(|_| format!("bad data length {len:?}"))?,
        seed: seed
            .parse()
            .map_err(|_| format!("bad data seed {seed:?}"))?,
    })
}

fn flag(word: Option<&String>) -> Result<OpenFlag, String> {
    let word = word.ok_or("an open flag is missing")?;
    word.parse()
        .map_err(|_| format!("unknown open flag {word:?}"))
}

/// The slot number of `h3` / `s1` (with the expected letter).
fn slot(word: &str, letter: char) -> Result<u8, String> {
    word.strip_prefix(letter)
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{word:?} is not a slot like {letter}0"))
}

/// The set of optional words after the fixed arguments; unknown words are errors.
fn flags(rest: &[String], allowed: &[&str]) -> Result<Vec<bool>, String> {
    for word in rest {
        if !allowed.contains(&word.as_str()) {
            return Err(format!("unexpected word {word:?} (allowed: {allowed:?})"));
        }
    }
    Ok(allowed
        .iter()
        .map(|a| rest.iter().any(|w| w == a))
        .collect())
}

fn exact(words: &[String], n: usize) -> Result<(), String> {
    if words.len() == n {
        Ok(())
    } else {
        Err(format!(
            "expected {} argument(s), found {}",
            n - 1,
            words.len() - 1
        ))
    }
}

fn parse_op(line: &str) -> Result<Op, String> {
    let words = tokenize(line)?;
    let Some(head) = words.first() else {
        return Err("an empty line is not a step".to_owned());
    };
    let arg = |i: usize| words.get(i);
    if let Some((slot_word, method)) = head.split_once('.') {
        let kind = slot_word.chars().next().unwrap_or(' ');
        let n = slot(slot_word, kind)?;
        let op = match (kind, method) {
            ('h', "read") => Op::FileRead {
                slot: n,
                len: number(arg(1), "length")?,
            },
            ('h', "write") => Op::FileWrite {
                slot: n,
                data: data(arg(1))?,
            },
            ('h', "seek") => {
                let pos = match arg(1).map(String::as_str) {
                    Some("start") => SeekFrom::Start(number(arg(2), "position")?),
                    Some("current") => SeekFrom::Current(number(arg(2), "offset")?),
                    Some("end") => SeekFrom::End(number(arg(2), "offset")?),
                    _ => return Err("seek needs start, current or end".to_owned()),
                };
                exact(&words, 3)?;
                return Ok(Op::FileSeek { slot: n, pos });
            }
            ('h', "truncate") => Op::FileTruncate {
                slot: n,
                len: number(arg(1), "length")?,
            },
            ('h', "stat") => return exact(&words, 1).map(|()| Op::FileStat { slot: n }),
            ('h', "sync") => return exact(&words, 1).map(|()| Op::FileSync { slot: n }),
            ('h', "close") => return exact(&words, 1).map(|()| Op::FileClose { slot: n }),
            ('s', "write") => Op::SinkWrite {
                slot: n,
                data: data(arg(1))?,
            },
            ('s', "close") => return exact(&words, 1).map(|()| Op::SinkClose { slot: n }),
            ('s', "abort") => return exact(&words, 1).map(|()| Op::SinkAbort { slot: n }),
            _ => return Err(format!("unknown step {head:?}")),
        };
        exact(&words, 2)?;
        return Ok(op);
    }
    let one_path = |n: usize| -> Result<VPath, String> {
        exact(&words, n)?;
        path(arg(1))
    };
    Ok(match head.as_str() {
        "write_file" => {
            exact(&words, 4)?;
            Op::WriteFile {
                path: path(arg(1))?,
                data: data(arg(2))?,
                flag: flag(arg(3))?,
            }
        }
        "read_file" => Op::ReadFile { path: one_path(2)? },
        "stat" => Op::Stat { path: one_path(2)? },
        "exists" => Op::Exists { path: one_path(2)? },
        "access" => Op::Access { path: one_path(2)? },
        "real_path" => Op::RealPath { path: one_path(2)? },
        "read_link" => Op::ReadLink { path: one_path(2)? },
        "read_dir" | "make_dir" => {
            exact(&words, 3)?;
            let (yes, no) = if head == "read_dir" {
                ("recursive", "flat")
            } else {
                ("recursive", "single")
            };
            let recursive = match arg(2).map(String::as_str) {
                Some(w) if w == yes => true,
                Some(w) if w == no => false,
                _ => return Err(format!("{head} needs {yes} or {no}")),
            };
            let path = path(arg(1))?;
            if head == "read_dir" {
                Op::ReadDir { path, recursive }
            } else {
                Op::MakeDir { path, recursive }
            }
        }
        "remove" => {
            let set = flags(words.get(2..).unwrap_or(&[]), &["recursive", "force"])?;
            Op::Remove {
                path: path(arg(1))?,
                recursive: set[0],
                force: set[1],
            }
        }
        "rename" | "copy_file" | "symlink" => {
            exact(&words, 3)?;
            let (a, b) = (path(arg(1))?, path(arg(2))?);
            match head.as_str() {
                "rename" => Op::Rename { from: a, to: b },
                "copy_file" => Op::CopyFile { from: a, to: b },
                _ => Op::Symlink { target: a, link: b },
            }
        }
        "copy" => {
            let set = flags(words.get(3..).unwrap_or(&[]), &["overwrite"])?;
            Op::Copy {
                from: path(arg(1))?,
                to: path(arg(2))?,
                overwrite: set[0],
            }
        }
        "truncate" => {
            exact(&words, 3)?;
            Op::Truncate {
                path: path(arg(1))?,
                len: number(arg(2), "length")?,
            }
        }
        "read_stream" => {
            exact(&words, 5)?;
            let length = match arg(3).map(String::as_str) {
                Some("all") => None,
                _ => Some(number(arg(3), "length")?),
            };
            Op::ReadStream {
                path: path(arg(1))?,
                offset: number(arg(2), "offset")?,
                length,
                chunk: number(arg(4), "chunk size")?,
            }
        }
        "open" => {
            exact(&words, 4)?;
            Op::Open {
                slot: slot(arg(1).ok_or("a slot is missing")?, 'h')?,
                path: path(arg(2))?,
                flag: flag(arg(3))?,
            }
        }
        "sink" => {
            exact(&words, 4)?;
            let mode = match arg(3).map(String::as_str) {
                Some("replace") => SinkMode::Replace,
                Some("create_new") => SinkMode::CreateNew,
                Some("append") => SinkMode::Append,
                _ => return Err("sink needs replace, create_new or append".to_owned()),
            };
            Op::SinkOpen {
                slot: slot(arg(1).ok_or("a slot is missing")?, 's')?,
                path: path(arg(2))?,
                mode,
            }
        }
        _ => return Err(format!("unknown step {head:?}")),
    })
}

/// A titled sequence of steps, as kept in a regressions file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sequence {
    /// The comment lines before the steps, without their `#`.
    pub title: String,
    /// The steps.
    pub ops: Vec<Op>,
}

/// Reads sequences from text: blank lines separate sequences, `#` lines are titles (comments), every
/// other line is one step.
pub fn parse_sequences(text: &str) -> Result<Vec<Sequence>, ParseError> {
    let mut out = Vec::new();
    let mut current = Sequence::default();
    let mut flush = |current: &mut Sequence| {
        if !current.ops.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            flush(&mut current);
            current.title.clear();
        } else if let Some(comment) = line.strip_prefix('#') {
            flush(&mut current);
            if !current.title.is_empty() {
                current.title.push('\n');
            }
            current.title.push_str(comment.trim());
        } else {
            let op = parse_op(line).map_err(|message| ParseError {
                line: i + 1,
                message,
            })?;
            current.ops.push(op);
        }
    }
    flush(&mut current);
    Ok(out)
}

/// The text form of `ops`, one step per line.
pub fn format_ops(ops: &[Op]) -> String {
    ops.iter().map(|op| format!("{op}\n")).collect()
}
