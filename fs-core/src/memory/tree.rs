//! The in-memory namespace: inodes, directory entries, path resolution and byte storage.
//!
//! Everything here is synchronous and runs under the one lock of [`super::MemoryFs`]; the async
//! methods only take the lock, call into this module and release it, so no lock is ever held across
//! an `.await`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use web_time::SystemTime;

use crate::error::{ErrorKind, FsError, FsResult};
use crate::info::{FileInfo, FileType};
use crate::path::{validate_name, VPath};

use super::watch::{Change, Watchers};

/// An inode number.
pub(super) type Ino = u64;

/// The inode of `/`.
pub(super) const ROOT: Ino = 1;

/// Linux's limit on symbolic links followed while resolving one path (`ELOOP` beyond it).
const MAX_SYMLINK_HOPS: usize = 40;

/// `S_IFREG`, `S_IFDIR`, `S_IFLNK`: the type bits `stat` reports in `mode`.
const TYPE_FILE: u32 = 0o100_000;
const TYPE_DIR: u32 = 0o040_000;
const TYPE_SYMLINK: u32 = 0o120_000;

/// The permission bits kept by `chmod` and the `mode` options (`rwx` for all three classes plus
/// setuid, setgid and sticky).
pub(super) const PERMISSION_BITS: u32 = 0o7777;
/// Permissions of a new file when no mode is given (`0o666` under the usual umask `0o022`).
pub(super) const DEFAULT_FILE_PERMISSIONS: u32 = 0o644;
/// Permissions of a new directory when no mode is given (`0o777` under the usual umask `0o022`).
pub(super) const DEFAULT_DIR_PERMISSIONS: u32 = 0o755;
/// Permissions of a symbolic link (Linux reports `lrwxrwxrwx`).
pub(super) const SYMLINK_PERMISSIONS: u32 = 0o777;

/// The preferred I/O size `stat` reports.
const BLOCK_SIZE: u64 = 4096;

/// What an inode holds.
pub(super) enum Node {
    /// A regular file's bytes. A `Vec` so that sequential writes grow it in amortized O(1).
    File(Vec<u8>),
    /// A directory: names to inodes, kept sorted for `read_dir`.
    Dir(BTreeMap<String, Ino>),
    /// A symbolic link's target, exactly as given to `symlink`.
    Symlink(String),
}

/// One file, directory or link, with its metadata.
pub(super) struct Inode {
    pub(super) node: Node,
    /// Permission bits only; the type bits are derived from `node`.
    pub(super) perm: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) atime: SystemTime,
    pub(super) mtime: SystemTime,
    pub(super) birthtime: SystemTime,
    /// Directory entries naming this inode (a directory has exactly one while it is in the tree).
    pub(super) links: u64,
    /// Open handles and read streams; an unlinked file lives on while this is not zero.
    pub(super) open: u64,
}

/// The resolved location of a path: the canonical chain of `(name, inode)` from the root down
/// (empty for `/`), every element a real directory entry.
pub(super) type Chain = Vec<(String, Ino)>;

/// The result of resolving a path.
pub(super) enum Lookup {
    /// The path names an existing entry; the chain ends with it.
    Found(Chain),
    /// Everything but the last name exists and is a directory; `name` is absent from it.
    Missing {
        /// The canonical chain of the directory that would hold `name`.
        parent: Chain,
        /// The missing name (a symbolic link's target may supply a name that is not a valid
        /// segment; creating it checks the name first).
        name: String,
    },
}

/// Why a path could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WalkError {
    /// A directory on the way (not the last name) does not exist.
    NotFound,
    /// Something on the way is not a directory (`ENOTDIR`).
    NotDir,
    /// Too many symbolic links (`ELOOP`).
    Loop,
}

impl WalkError {
    /// The error a method reports for this failure at `path`.
    pub(super) fn into_fs(self, method: &'static str, path: &VPath) -> FsError {
        let (kind, description) = match self {
            WalkError::NotFound => (ErrorKind::NotFound, "no such file or directory"),
            WalkError::NotDir => (
                ErrorKind::BadResource,
                "a component of the path is not a directory",
            ),
            WalkError::Loop => (ErrorKind::BadArgument, "too many levels of symbolic links"),
        };
        FsError::new(kind, method, description).with_path(path)
    }
}

/// An error of `kind` from `method` about `path`.
pub(super) fn fail(
    kind: ErrorKind,
    method: &'static str,
    path: &VPath,
    description: impl Into<String>,
) -> FsError {
    FsError::new(kind, method, description).with_path(path)
}

/// `NotFound` for a path whose last name is missing.
pub(super) fn not_found(method: &'static str, path: &VPath) -> FsError {
    fail(
        ErrorKind::NotFound,
        method,
        path,
        "no such file or directory",
    )
}

/// The inode a chain ends at (`/` for the empty chain).
pub(super) fn last_ino(chain: &[(String, Ino)]) -> Ino {
    chain.last().map_or(ROOT, |(_, ino)| *ino)
}

/// The path a chain spells. Every name in the tree was validated when it was created, so this only
/// returns `None` if that invariant is broken.
pub(super) fn chain_path(chain: &[(String, Ino)]) -> Option<VPath> {
    if chain.is_empty() {
        return Some(VPath::root());
    }
    let mut path = String::with_capacity(chain.iter().map(|(name, _)| name.len() + 1).sum());
    for (name, _) in chain {
        path.push('/');
        path.push_str(name);
    }
    VPath::new(&path).ok()
}

/// The whole in-memory file system.
pub(super) struct Tree {
    inodes: HashMap<Ino, Inode>,
    next_ino: Ino,
    /// The device id reported by `stat`, unique per `MemoryFs` in this process.
    dev: u64,
    /// Bytes held by all file contents (including unlinked files that are still open).
    used: u64,
    /// Refuse to hold more than this many bytes of file content (`StorageFull`).
    quota: Option<u64>,
    pub(super) watchers: Watchers,
}

impl Tree {
    /// An empty tree: only `/`, owned by root, `0o755`.
    pub(super) fn new(dev: u64, quota: Option<u64>) -> Tree {
        let now = SystemTime::now();
        let root = Inode {
            node: Node::Dir(BTreeMap::new()),
            perm: DEFAULT_DIR_PERMISSIONS,
            uid: 0,
            gid: 0,
            atime: now,
            mtime: now,
            birthtime: now,
            links: 1,
            open: 0,
        };
        Tree {
            inodes: HashMap::from([(ROOT, root)]),
            next_ino: ROOT + 1,
            dev,
            used: 0,
            quota,
            watchers: Watchers::default(),
        }
    }

    /// The inode `ino`. Inodes are removed only when nothing names or holds them, so every inode
    /// number reachable from the tree, a handle or a stream is present.
    pub(super) fn inode(&self, ino: Ino) -> &Inode {
        match self.inodes.get(&ino) {
            Some(inode) => inode,
            None => unreachable!("inode {ino} is referenced but was freed"),
        }
    }

    /// The inode `ino`, mutably (see [`Tree::inode`]).
    pub(super) fn inode_mut(&mut self, ino: Ino) -> &mut Inode {
        match self.inodes.get_mut(&ino) {
            Some(inode) => inode,
            None => unreachable!("inode {ino} is referenced but was freed"),
        }
    }

    /// How many inodes exist (including unlinked ones still held open).
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// Bytes of file content charged against the quota.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn used(&self) -> u64 {
        self.used
    }

    /// Resolves `path`. Symbolic links in the middle are always followed; the last one only with
    /// `follow_last`. `..` inside a link target goes to the parent of the directory actually reached
    /// (as POSIX does), and never above `/`.
    pub(super) fn walk(&self, path: &VPath, follow_last: bool) -> Result<Lookup, WalkError> {
        let mut queue: VecDeque<String> = path.segments().map(str::to_owned).collect();
        let mut chain: Chain = Vec::new();
        let mut hops = 0;
        while let Some(segment) = queue.pop_front() {
            let Node::Dir(entries) = &self.inode(last_ino(&chain)).node else {
                return Err(WalkError::NotDir);
            };
            match segment.as_str() {
                "" | "." => continue,
                ".." => {
                    chain.pop();
                    continue;
                }
                _ => {}
            }
            let last = queue.is_empty();
            let Some(&ino) = entries.get(&segment) else {
                if last {
                    return Ok(Lookup::Missing {
                        parent: chain,
                        name: segment,
                    });
                }
                return Err(WalkError::NotFound);
            };
            if let Node::Symlink(target) = &self.inode(ino).node {
                if !last || follow_last {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(WalkError::Loop);
                    }
                    if target.starts_with('/') {
                        chain.clear();
                    }
                    for part in target.split('/').rev() {
                        queue.push_front(part.to_owned());
                    }
                    continue;
                }
            }
            chain.push((segment, ino));
        }
        Ok(Lookup::Found(chain))
    }

    /// Resolves `path` to an existing entry; a missing one is `NotFound`.
    pub(super) fn find(
        &self,
        path: &VPath,
        follow_last: bool,
        method: &'static str,
    ) -> FsResult<Chain> {
        match self.walk(path, follow_last) {
            Ok(Lookup::Found(chain)) => Ok(chain),
            Ok(Lookup::Missing { .. }) => Err(not_found(method, path)),
            Err(e) => Err(e.into_fs(method, path)),
        }
    }

    /// The entries of directory `ino` (empty for anything else).
    pub(super) fn entries(&self, ino: Ino) -> Option<&BTreeMap<String, Ino>> {
        match &self.inode(ino).node {
            Node::Dir(entries) => Some(entries),
            _ => None,
        }
    }

    /// True when `ino` is a directory.
    pub(super) fn is_dir(&self, ino: Ino) -> bool {
        matches!(self.inode(ino).node, Node::Dir(_))
    }

    /// The type of `ino`.
    pub(super) fn file_type(&self, ino: Ino) -> FileType {
        match self.inode(ino).node {
            Node::File(_) => FileType::File,
            Node::Dir(_) => FileType::Directory,
            Node::Symlink(_) => FileType::SymbolicLink,
        }
    }

    /// The bytes of file `ino` (`None` for a directory or link).
    pub(super) fn content(&self, ino: Ino) -> Option<&Vec<u8>> {
        match &self.inode(ino).node {
            Node::File(data) => Some(data),
            _ => None,
        }
    }

    /// What `stat` reports about `ino`.
    pub(super) fn info(&self, ino: Ino) -> FileInfo {
        let inode = self.inode(ino);
        let (file_type, size, type_bits, nlink) = match &inode.node {
            Node::File(data) => (FileType::File, data.len() as u64, TYPE_FILE, inode.links),
            Node::Dir(entries) => {
                // POSIX counts the entry in the parent, `.`, and each subdirectory's `..`.
                let subdirs = entries
                    .values()
                    .filter(|&&child| self.is_dir(child))
                    .count();
                (FileType::Directory, 0, TYPE_DIR, 2 + subdirs as u64)
            }
            Node::Symlink(target) => (
                FileType::SymbolicLink,
                target.len() as u64,
                TYPE_SYMLINK,
                inode.links,
            ),
        };
        FileInfo {
            file_type,
            size,
            mtime: Some(inode.mtime),
            atime: Some(inode.atime),
            birthtime: Some(inode.birthtime),
            dev: self.dev,
            ino: Some(ino),
            mode: type_bits | inode.perm,
            nlink: Some(nlink),
            uid: Some(inode.uid),
            gid: Some(inode.gid),
            rdev: Some(0),
            blksize: Some(BLOCK_SIZE),
            blocks: Some(if file_type == FileType::File {
                size.div_ceil(512)
            } else {
                0
            }),
        }
    }

    /// Creates an unlinked inode (links 0) and returns its number; [`Tree::insert`] names it.
    /// A file's bytes must already be counted by [`Tree::charge`].
    pub(super) fn alloc(&mut self, node: Node, perm: u32) -> Ino {
        let now = SystemTime::now();
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(
            ino,
            Inode {
                node,
                perm: perm & PERMISSION_BITS,
                uid: 0,
                gid: 0,
                atime: now,
                mtime: now,
                birthtime: now,
                links: 0,
                open: 0,
            },
        );
        ino
    }

    /// Adds the entry `name` → `ino` to directory `dir` (which must not hold `name`), counting the link
    /// and touching the directory's mtime. `name` is checked against the rules of [`VPath`].
    pub(super) fn insert(
        &mut self,
        dir: Ino,
        name: &str,
        ino: Ino,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        validate_name(name).map_err(|why| fail(ErrorKind::BadArgument, method, path, why))?;
        let Node::Dir(entries) = &mut self.inode_mut(dir).node else {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "the parent is not a directory",
            ));
        };
        entries.insert(name.to_owned(), ino);
        self.inode_mut(dir).mtime = SystemTime::now();
        self.inode_mut(ino).links += 1;
        Ok(())
    }

    /// Removes the entry `name` from directory `dir` (touching its mtime) and returns the inode it
    /// named, without dropping the link (see [`Tree::drop_link`]).
    pub(super) fn detach(&mut self, dir: Ino, name: &str) -> Option<Ino> {
        let inode = self.inode_mut(dir);
        let Node::Dir(entries) = &mut inode.node else {
            return None;
        };
        let ino = entries.remove(name)?;
        inode.mtime = SystemTime::now();
        Some(ino)
    }

    /// Points the existing entry `name` of directory `dir` at `ino` instead (counting the new link and
    /// touching the directory's mtime) and returns the inode it named before, whose link the caller
    /// drops with [`Tree::drop_link`].
    pub(super) fn swap_entry(&mut self, dir: Ino, name: &str, ino: Ino) -> Option<Ino> {
        let parent = self.inode_mut(dir);
        let Node::Dir(entries) = &mut parent.node else {
            return None;
        };
        let old = entries.insert(name.to_owned(), ino);
        parent.mtime = SystemTime::now();
        self.inode_mut(ino).links += 1;
        old
    }

    /// Drops one link to `ino`; an inode with no links left is freed (a directory with everything
    /// below it) unless a handle still holds it. Iterative, so that deep trees cannot overflow the
    /// stack.
    pub(super) fn drop_link(&mut self, ino: Ino) {
        let mut pending = vec![ino];
        while let Some(ino) = pending.pop() {
            let inode = self.inode_mut(ino);
            inode.links = inode.links.saturating_sub(1);
            if inode.links == 0 {
                if let Node::Dir(entries) = &mut inode.node {
                    pending.extend(std::mem::take(entries).into_values());
                }
                self.free_if_unused(ino);
            }
        }
    }

    /// Counts one more open handle or stream on `ino`.
    pub(super) fn hold(&mut self, ino: Ino) {
        self.inode_mut(ino).open += 1;
    }

    /// Releases a handle or stream on `ino`, freeing it if it was unlinked meanwhile.
    pub(super) fn release(&mut self, ino: Ino) {
        if let Some(inode) = self.inodes.get_mut(&ino) {
            inode.open = inode.open.saturating_sub(1);
            self.free_if_unused(ino);
        }
    }

    fn free_if_unused(&mut self, ino: Ino) {
        let unused = self
            .inodes
            .get(&ino)
            .is_some_and(|inode| inode.links == 0 && inode.open == 0);
        if unused && ino != ROOT {
            if let Some(Inode {
                node: Node::File(data),
                ..
            }) = self.inodes.remove(&ino)
            {
                self.used = self.used.saturating_sub(data.len() as u64);
            }
        }
    }

    /// Accounts for `grow` more bytes of file content, or refuses with `StorageFull` when the quota
    /// would be exceeded.
    pub(super) fn charge(&mut self, grow: u64, method: &'static str, path: &VPath) -> FsResult<()> {
        let total = self.used.saturating_add(grow);
        if let Some(quota) = self.quota {
            if total > quota {
                return Err(fail(
                    ErrorKind::StorageFull,
                    method,
                    path,
                    format!("the memory quota of {quota} bytes would be exceeded"),
                ));
            }
        }
        self.used = total;
        Ok(())
    }

    /// Gives back `shrink` bytes of file content to the quota.
    pub(super) fn refund(&mut self, shrink: u64) {
        self.used = self.used.saturating_sub(shrink);
    }

    /// Writes `data` into file `ino` at `pos`, zero-filling a gap after the end. The caller has
    /// checked that `ino` is a file.
    pub(super) fn write_at(
        &mut self,
        ino: Ino,
        pos: u64,
        data: &[u8],
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        let start = usize::try_from(pos).map_err(|_| too_large(method, path))?;
        let end = start
            .checked_add(data.len())
            .ok_or_else(|| too_large(method, path))?;
        let content = self.content_with_room(ino, end, method, path)?;
        if start > content.len() {
            content.resize(start, 0);
        }
        let overlap = content.len().min(end) - start;
        content[start..start + overlap].copy_from_slice(&data[..overlap]);
        content.extend_from_slice(&data[overlap..]);
        self.inode_mut(ino).mtime = SystemTime::now();
        Ok(())
    }

    /// Sets the length of file `ino`, zero-filling when it grows.
    pub(super) fn set_len(
        &mut self,
        ino: Ino,
        len: u64,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        let new_len = usize::try_from(len).map_err(|_| too_large(method, path))?;
        let old_len = self.content(ino).map_or(0, Vec::len);
        self.content_with_room(ino, new_len, method, path)?
            .resize(new_len, 0);
        self.inode_mut(ino).mtime = SystemTime::now();
        self.refund(old_len.saturating_sub(new_len) as u64);
        Ok(())
    }

    /// The content of file `ino` with room reserved (and charged to the quota) for it to reach `len`
    /// bytes: `StorageFull` when the quota or memory cannot take it, `BadResource` for a non-file.
    fn content_with_room(
        &mut self,
        ino: Ino,
        len: usize,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<&mut Vec<u8>> {
        let grow = len.saturating_sub(self.content(ino).map_or(0, Vec::len));
        self.charge(grow as u64, method, path)?;
        let reserved = match &mut self.inode_mut(ino).node {
            Node::File(content) => Some(content.try_reserve(grow).is_ok()),
            _ => None,
        };
        match reserved {
            None => {
                self.refund(grow as u64);
                Err(fail(
                    ErrorKind::BadResource,
                    method,
                    path,
                    "not a regular file",
                ))
            }
            Some(false) => {
                self.refund(grow as u64);
                Err(too_large(method, path))
            }
            Some(true) => match &mut self.inode_mut(ino).node {
                Node::File(content) => Ok(content),
                _ => unreachable!("the node was a file a moment ago"),
            },
        }
    }

    /// Replaces the whole content of file `ino` (used where the new bytes arrive as one buffer, so
    /// they are moved in rather than copied).
    pub(super) fn replace_content(
        &mut self,
        ino: Ino,
        data: Vec<u8>,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        let old_len = self.content(ino).map_or(0, Vec::len) as u64;
        self.charge((data.len() as u64).saturating_sub(old_len), method, path)?;
        self.refund(old_len.saturating_sub(data.len() as u64));
        let inode = self.inode_mut(ino);
        inode.node = Node::File(data);
        inode.mtime = SystemTime::now();
        Ok(())
    }

    /// Creates an inode holding `node` and names it `name` in the directory at the end of `parent`
    /// (which must not hold `name`). A file's bytes must already be charged.
    pub(super) fn attach_new(
        &mut self,
        parent: &[(String, Ino)],
        name: &str,
        node: Node,
        perm: u32,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<Ino> {
        validate_name(name).map_err(|why| fail(ErrorKind::BadArgument, method, path, why))?;
        let ino = self.alloc(node, perm);
        if let Err(e) = self.insert(last_ino(parent), name, ino, method, path) {
            self.free_if_unused(ino);
            return Err(e);
        }
        Ok(ino)
    }

    /// Creates a file named `name` in the directory at the end of `parent`, holding `data`, and
    /// returns the chain of the new entry.
    pub(super) fn create_file(
        &mut self,
        parent: &[(String, Ino)],
        name: &str,
        data: Vec<u8>,
        perm: u32,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<Chain> {
        validate_name(name).map_err(|why| fail(ErrorKind::BadArgument, method, path, why))?;
        self.charge(data.len() as u64, method, path)?;
        let ino = self.attach_new(parent, name, Node::File(data), perm, method, path)?;
        let mut chain = parent.to_vec();
        chain.push((name.to_owned(), ino));
        Ok(chain)
    }

    /// Reports `change` at the path `chain` spells to the watchers that cover it.
    pub(super) fn notify(&mut self, change: Change, chain: &[(String, Ino)]) {
        if self.watchers.is_empty() {
            return;
        }
        if let Some(path) = chain_path(chain) {
            self.watchers.emit(change, &path);
        }
    }

    /// Reports `change` at `canonical` if that path still names `ino` (handles report their writes
    /// at the path they were opened by, as long as it still leads to them).
    pub(super) fn notify_if_named(&mut self, change: Change, canonical: &VPath, ino: Ino) {
        if self.watchers.is_empty() {
            return;
        }
        if let Ok(Lookup::Found(chain)) = self.walk(canonical, false) {
            if last_ino(&chain) == ino {
                self.watchers.emit(change, canonical);
            }
        }
    }

    /// The paths of everything below directory `ino` (whose path is `path`), each entry after
    /// everything below it, so that a removal can be reported deepest first.
    pub(super) fn subtree_paths(&self, path: &VPath, ino: Ino) -> Vec<VPath> {
        let mut preorder = Vec::new();
        let mut pending = vec![(path.clone(), ino)];
        while let Some((dir_path, dir)) = pending.pop() {
            let Some(entries) = self.entries(dir) else {
                continue;
            };
            for (name, &child) in entries {
                let Ok(child_path) = dir_path.join(name) else {
                    continue;
                };
                if self.is_dir(child) {
                    pending.push((child_path.clone(), child));
                }
                preorder.push(child_path);
            }
        }
        // Every entry is listed before anything below it, so the reverse has descendants first.
        preorder.reverse();
        preorder
    }
}

/// `StorageFull`: a file would outgrow what memory (or the address space) can hold.
fn too_large(method: &'static str, path: &VPath) -> FsError {
    fail(
        ErrorKind::StorageFull,
        method,
        path,
        "the file would be too large for memory",
    )
}
