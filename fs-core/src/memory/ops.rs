//! The [`crate::FileSystem`] operations of [`super::MemoryFs`] on the locked [`Tree`].
//!
//! Each function is one call of the trait, synchronous, with POSIX semantics as seen by root
//! (permissions are stored and reported but never enforced). Error kinds follow what Linux reports
//! for the same situation, mapped by [`crate::kind_of_io_error`], so that MemoryFs predicts the native
//! backend.

use bytes::Bytes;
use web_time::SystemTime;

use crate::error::{ErrorKind, FsResult};
use crate::info::{DirEntry, FileInfo, FileType};
use crate::options::{MakeDirOptions, OpenFlag, ReadDirOptions, RemoveOptions};
use crate::path::VPath;

use super::tree::{
    chain_path, fail, last_ino, not_found, Chain, Ino, Lookup, Node, Tree, WalkError,
    DEFAULT_DIR_PERMISSIONS, DEFAULT_FILE_PERMISSIONS, PERMISSION_BITS, SYMLINK_PERMISSIONS,
};
use super::watch::Change;

/// A file opened by [`Tree::open_file`].
pub(super) struct Opened {
    /// The canonical chain of the file.
    pub(super) chain: Chain,
    /// The file was created by this open.
    pub(super) created: bool,
    /// An existing, non-empty file was emptied by this open.
    pub(super) truncated: bool,
}

impl Opened {
    pub(super) fn ino(&self) -> Ino {
        last_ino(&self.chain)
    }
}

impl Tree {
    /// `stat`: follows links; a dangling link is reported as itself (type `SymbolicLink`), as
    /// [`FileType::SymbolicLink`] documents, while a link loop stays an error.
    pub(super) fn stat(&self, path: &VPath) -> FsResult<FileInfo> {
        let method = "stat";
        match self.walk(path, true) {
            Ok(Lookup::Found(chain)) => return Ok(self.info(last_ino(&chain))),
            Ok(Lookup::Missing { .. }) | Err(WalkError::NotFound) => {}
            Err(e) => return Err(e.into_fs(method, path)),
        }
        match self.walk(path, false) {
            Ok(Lookup::Found(chain))
                if self.file_type(last_ino(&chain)) == FileType::SymbolicLink =>
            {
                Ok(self.info(last_ino(&chain)))
            }
            Ok(_) => Err(not_found(method, path)),
            Err(e) => Err(e.into_fs(method, path)),
        }
    }

    /// `read_dir`: entries sorted by relative path; links are listed, never followed into.
    pub(super) fn read_dir(
        &self,
        path: &VPath,
        options: ReadDirOptions,
    ) -> FsResult<Vec<DirEntry>> {
        let method = "readDirectory";
        let chain = self.find(path, true, method)?;
        let dir = last_ino(&chain);
        if !self.is_dir(dir) {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "not a directory",
            ));
        }
        let mut out = Vec::new();
        let mut pending: Vec<(String, Ino)> = vec![(String::new(), dir)];
        while let Some((prefix, ino)) = pending.pop() {
            let Some(entries) = self.entries(ino) else {
                continue;
            };
            for (name, &child) in entries {
                let relative = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                let file_type = self.file_type(child);
                if options.recursive && file_type == FileType::Directory {
                    pending.push((relative.clone(), child));
                }
                out.push(DirEntry {
                    path: path.join_relative(&relative)?,
                    relative,
                    file_type,
                });
            }
        }
        out.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(out)
    }

    /// `make_dir`: see the trait for the rules. Without `recursive` it is `mkdir(2)`: anything at the
    /// path (even a dangling link) is `AlreadyExists`, a missing parent `NotFound`, a file among the
    /// parents `BadResource`. With `recursive` it is `mkdir -p` as Rust's `create_dir_all` does it,
    /// so that the error kinds match the native backend's in every corner.
    pub(super) fn make_dir(&mut self, path: &VPath, options: MakeDirOptions) -> FsResult<()> {
        let method = "makeDirectory";
        let perm = options.mode.unwrap_or(DEFAULT_DIR_PERMISSIONS);
        if options.recursive {
            self.make_dir_all(path, perm, method)
                .map_err(|e| e.into_fs(method, path))
        } else {
            self.make_one_dir(path, perm, method)
                .map_err(|e| e.into_fs(method, path))
        }
    }

    /// `mkdir -p`: try the path; while a parent is missing, go up and try that; then create back
    /// down. An existing directory (links followed) counts as success at every level.
    fn make_dir_all(
        &mut self,
        path: &VPath,
        perm: u32,
        method: &'static str,
    ) -> Result<(), MkdirError> {
        let mut below: Vec<VPath> = Vec::new();
        let mut current = path.clone();
        loop {
            match self.make_one_dir(&current, perm, method) {
                Ok(()) => break,
                Err(MkdirError::Walk(WalkError::NotFound)) => match current.parent() {
                    Some(parent) => below.push(std::mem::replace(&mut current, parent)),
                    None => return Err(MkdirError::Walk(WalkError::NotFound)),
                },
                Err(_) if self.is_dir_following(&current) => break,
                Err(e) => return Err(e),
            }
        }
        while let Some(dir) = below.pop() {
            match self.make_one_dir(&dir, perm, method) {
                Err(_) if self.is_dir_following(&dir) => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// True when `path` leads (through links) to a directory.
    fn is_dir_following(&self, path: &VPath) -> bool {
        matches!(self.walk(path, true), Ok(Lookup::Found(chain)) if self.is_dir(last_ino(&chain)))
    }

    /// `mkdir(2)` of one directory.
    fn make_one_dir(
        &mut self,
        path: &VPath,
        perm: u32,
        method: &'static str,
    ) -> Result<(), MkdirError> {
        match self.walk(path, false).map_err(MkdirError::Walk)? {
            Lookup::Found(_) => Err(MkdirError::Exists),
            Lookup::Missing { parent, name } => self
                .create_dir(&parent, &name, perm, method, path)
                .map_err(MkdirError::Other),
        }
    }

    fn create_dir(
        &mut self,
        parent: &[(String, Ino)],
        name: &str,
        perm: u32,
        method: &'static str,
        path: &VPath,
    ) -> FsResult<()> {
        let ino = self.attach_new(
            parent,
            name,
            Node::Dir(Default::default()),
            perm,
            method,
            path,
        )?;
        let mut chain = parent.to_vec();
        chain.push((name.to_owned(), ino));
        self.notify(Change::Create, &chain);
        Ok(())
    }

    /// `remove`: the entry itself (a link, not its target); `/` is `BadArgument`.
    pub(super) fn remove(&mut self, path: &VPath, options: RemoveOptions) -> FsResult<()> {
        let method = "remove";
        if path.is_root() {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                path,
                "the root cannot be removed",
            ));
        }
        let mut chain = match self.walk(path, false) {
            Ok(Lookup::Found(chain)) => chain,
            Ok(Lookup::Missing { .. }) if options.force => return Ok(()),
            Ok(Lookup::Missing { .. }) => return Err(not_found(method, path)),
            Err(WalkError::NotFound) if options.force => return Ok(()),
            Err(e) => return Err(e.into_fs(method, path)),
        };
        let ino = last_ino(&chain);
        if let Some(entries) = self.entries(ino) {
            if !entries.is_empty() && !options.recursive {
                return Err(fail(
                    ErrorKind::DirectoryNotEmpty,
                    method,
                    path,
                    "the directory is not empty; pass recursive to remove it",
                ));
            }
        }
        let mut removed = Vec::new();
        if !self.watchers.is_empty() {
            if let Some(canonical) = chain_path(&chain) {
                removed = self.subtree_paths(&canonical, ino);
                removed.push(canonical);
            }
        }
        let Some((name, _)) = chain.pop() else {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                path,
                "the root cannot be removed",
            ));
        };
        self.detach(last_ino(&chain), &name);
        self.drop_link(ino);
        for gone in removed {
            self.watchers.emit(Change::Remove, &gone);
        }
        Ok(())
    }

    /// `rename`: POSIX `rename(2)`, which moves the entry itself (a link, not its target).
    pub(super) fn rename(&mut self, from: &VPath, to: &VPath) -> FsResult<()> {
        let method = "rename";
        if from.is_root() || to.is_root() {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                if from.is_root() { from } else { to },
                "the root cannot be renamed or replaced",
            ));
        }
        // Like Linux: both parents are resolved before the source's own name is looked up, so a
        // destination below a file is `BadResource` even when the source is missing.
        let source = self
            .walk(from, false)
            .map_err(|e| e.into_fs(method, from))?;
        let destination = self.walk(to, false).map_err(|e| e.into_fs(method, to))?;
        let Lookup::Found(mut source) = source else {
            return Err(not_found(method, from));
        };
        let ino = last_ino(&source);
        let (mut dest_parent, dest_name, replaced) = match destination {
            Lookup::Found(mut chain) => {
                let old = last_ino(&chain);
                let Some((name, _)) = chain.pop() else {
                    return Err(fail(ErrorKind::BadArgument, method, to, "cannot replace /"));
                };
                (chain, name, Some(old))
            }
            Lookup::Missing { parent, name } => (parent, name, None),
        };
        // Linux's order: moving a directory below itself (`EINVAL`), then replacing one of the
        // source's own ancestors (`ENOTEMPTY`), then two names of one file (nothing to do).
        if dest_parent.iter().any(|(_, i)| *i == ino) {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                to,
                "cannot move a directory into itself",
            ));
        }
        let above_source = &source[..source.len().saturating_sub(1)];
        if replaced.is_some_and(|old| above_source.iter().any(|(_, i)| *i == old)) {
            return Err(fail(
                ErrorKind::DirectoryNotEmpty,
                method,
                to,
                "cannot replace a directory that contains the source",
            ));
        }
        if replaced == Some(ino) {
            // Both names already lead to the same file: POSIX says rename does nothing.
            return Ok(());
        }
        let moving_dir = self.is_dir(ino);
        if let Some(old) = replaced {
            match (moving_dir, self.entries(old)) {
                (false, Some(_)) => {
                    return Err(fail(
                        ErrorKind::BadResource,
                        method,
                        to,
                        "cannot replace a directory with a file",
                    ))
                }
                (true, None) => {
                    return Err(fail(
                        ErrorKind::BadResource,
                        method,
                        to,
                        "cannot replace a file with a directory",
                    ))
                }
                (true, Some(entries)) if !entries.is_empty() => {
                    return Err(fail(
                        ErrorKind::DirectoryNotEmpty,
                        method,
                        to,
                        "the destination directory is not empty",
                    ))
                }
                _ => {}
            }
        }
        let moved_from = if self.watchers.is_empty() {
            None
        } else {
            Some(source.clone())
        };
        let Some((source_name, _)) = source.pop() else {
            return Err(fail(ErrorKind::BadArgument, method, from, "cannot move /"));
        };
        self.detach(last_ino(&source), &source_name);
        let dest_dir = last_ino(&dest_parent);
        if let Some(old) = self.swap_entry(dest_dir, &dest_name, ino) {
            self.drop_link(old);
        }
        // `swap_entry` counted a new link; the entry only moved.
        self.inode_mut(ino).links -= 1;
        if let Some(moved_from) = moved_from {
            self.notify(Change::Remove, &moved_from);
            dest_parent.push((dest_name, ino));
            self.notify(Change::Create, &dest_parent);
        }
        Ok(())
    }

    /// `copy_file`: the destination (followed through links) gets the source's bytes and permission
    /// bits, like `cp` and `std::fs::copy`; an existing destination file is overwritten in place.
    pub(super) fn copy_file(&mut self, from: &VPath, to: &VPath) -> FsResult<()> {
        let method = "copyFile";
        let source = last_ino(&self.find(from, true, method)?);
        let Some(bytes) = self.content(source) else {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                from,
                "the source is not a regular file",
            ));
        };
        let bytes = bytes.clone();
        let perm = self.inode(source).perm;
        match self.walk(to, true).map_err(|e| e.into_fs(method, to))? {
            Lookup::Found(chain) => {
                let dest = last_ino(&chain);
                if dest == source {
                    return Ok(());
                }
                if self.content(dest).is_none() {
                    return Err(fail(
                        ErrorKind::BadResource,
                        method,
                        to,
                        "the destination is a directory",
                    ));
                }
                self.replace_content(dest, bytes, method, to)?;
                self.inode_mut(dest).perm = perm;
                self.notify(Change::Update, &chain);
            }
            Lookup::Missing { parent, name } => {
                let chain = self.create_file(&parent, &name, bytes, perm, method, to)?;
                self.notify(Change::Create, &chain);
            }
        }
        Ok(())
    }

    /// `read_file`.
    pub(super) fn read_file(&self, path: &VPath) -> FsResult<Bytes> {
        let method = "readFile";
        let chain = self.find(path, true, method)?;
        match self.content(last_ino(&chain)) {
            Some(bytes) => Ok(Bytes::copy_from_slice(bytes)),
            None => Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "the path is a directory",
            )),
        }
    }

    /// Opens (and with the flag's rules creates or truncates) the file at `path`, as `open(2)` does
    /// with Effect's flags; a directory is `BadResource` whatever the flag. Watchers are not told;
    /// the caller reports the creation or truncation together with what it does next.
    pub(super) fn open_file(
        &mut self,
        path: &VPath,
        flag: OpenFlag,
        mode: Option<u32>,
        method: &'static str,
    ) -> FsResult<Opened> {
        // `O_EXCL` does not follow a link at the path: even a dangling one makes it fail.
        let lookup = self
            .walk(path, !flag.exclusive())
            .map_err(|e| e.into_fs(method, path))?;
        match lookup {
            Lookup::Found(_) if flag.exclusive() => Err(fail(
                ErrorKind::AlreadyExists,
                method,
                path,
                "the path already exists",
            )),
            Lookup::Found(chain) => {
                let ino = last_ino(&chain);
                if self.is_dir(ino) {
                    return Err(fail(
                        ErrorKind::BadResource,
                        method,
                        path,
                        "the path is a directory",
                    ));
                }
                let truncated =
                    flag.truncates() && self.content(ino).is_some_and(|c| !c.is_empty());
                if truncated {
                    self.set_len(ino, 0, method, path)?;
                }
                Ok(Opened {
                    chain,
                    created: false,
                    truncated,
                })
            }
            Lookup::Missing { .. } if !flag.creates() => Err(not_found(method, path)),
            Lookup::Missing { parent, name } => {
                let perm = mode.unwrap_or(DEFAULT_FILE_PERMISSIONS);
                let chain = self.create_file(&parent, &name, Vec::new(), perm, method, path)?;
                Ok(Opened {
                    chain,
                    created: true,
                    truncated: false,
                })
            }
        }
    }

    /// `write_file`: open with the flag, then one write at offset 0 (or at the end when appending).
    pub(super) fn write_file(
        &mut self,
        path: &VPath,
        data: Bytes,
        flag: OpenFlag,
        mode: Option<u32>,
    ) -> FsResult<()> {
        let method = "writeFile";
        self.check_room_for_write(path, flag, data.len() as u64, method)?;
        let opened = self.open_file(path, flag, mode, method)?;
        if !flag.writable() {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "the flag \"r\" opens the file read-only",
            ));
        }
        let ino = opened.ino();
        if !data.is_empty() {
            let len = self.content(ino).map_or(0, Vec::len);
            if len == 0 {
                // The common case (`w`): move the bytes in instead of copying them.
                self.replace_content(ino, Vec::from(data), method, path)?;
            } else {
                let at = if flag.appends() { len as u64 } else { 0 };
                self.write_at(ino, at, &data, method, path)?;
            }
        } else if !opened.created && !opened.truncated {
            return Ok(());
        }
        let change = if opened.created {
            Change::Create
        } else {
            Change::Update
        };
        self.notify(change, &opened.chain);
        Ok(())
    }

    /// Refuses a `write_file` that would exceed the quota before anything is created or truncated,
    /// so that a full file system leaves the path as it was.
    fn check_room_for_write(
        &mut self,
        path: &VPath,
        flag: OpenFlag,
        len: u64,
        method: &'static str,
    ) -> FsResult<()> {
        if !flag.writable() {
            return Ok(());
        }
        // Only an open that will succeed is checked; the others fail in `open_file` as they should.
        let existing = if flag.exclusive() {
            match self.walk(path, false) {
                Ok(Lookup::Missing { .. }) => 0,
                _ => return Ok(()),
            }
        } else {
            match self.walk(path, true) {
                Ok(Lookup::Found(chain)) => match self.content(last_ino(&chain)) {
                    Some(bytes) => bytes.len() as u64,
                    None => return Ok(()),
                },
                Ok(Lookup::Missing { .. }) if flag.creates() => 0,
                _ => return Ok(()),
            }
        };
        let grow = if flag.appends() {
            len
        } else {
            len.saturating_sub(existing)
        };
        self.charge(grow, method, path)?;
        self.refund(grow);
        Ok(())
    }

    /// `truncate`: follows links; a directory is `BadResource`.
    pub(super) fn truncate(&mut self, path: &VPath, len: u64) -> FsResult<()> {
        let method = "truncate";
        let chain = self.find(path, true, method)?;
        let ino = last_ino(&chain);
        if self.content(ino).is_none() {
            return Err(fail(
                ErrorKind::BadResource,
                method,
                path,
                "the path is a directory",
            ));
        }
        self.set_len(ino, len, method, path)?;
        self.notify(Change::Update, &chain);
        Ok(())
    }

    /// `real_path`: the canonical path, every link resolved.
    pub(super) fn real_path(&self, path: &VPath) -> FsResult<VPath> {
        let method = "realPath";
        let chain = self.find(path, true, method)?;
        chain_path(&chain).ok_or_else(|| {
            fail(
                ErrorKind::Unknown,
                method,
                path,
                "the canonical path is not a valid path",
            )
        })
    }

    /// `chmod`, `chown` and `utimes`: change the inode the path leads to (following links) and report
    /// an update.
    pub(super) fn set_metadata(
        &mut self,
        path: &VPath,
        method: &'static str,
        change: impl FnOnce(&mut super::tree::Inode),
    ) -> FsResult<()> {
        let chain = self.find(path, true, method)?;
        change(self.inode_mut(last_ino(&chain)));
        self.notify(Change::Update, &chain);
        Ok(())
    }

    /// `chmod`: keeps only the permission bits of `mode`; the type bits come from the inode.
    pub(super) fn chmod(&mut self, path: &VPath, mode: u32) -> FsResult<()> {
        self.set_metadata(path, "chmod", |inode| inode.perm = mode & PERMISSION_BITS)
    }

    /// `utimes`.
    pub(super) fn utimes(
        &mut self,
        path: &VPath,
        atime: SystemTime,
        mtime: SystemTime,
    ) -> FsResult<()> {
        self.set_metadata(path, "utimes", |inode| {
            inode.atime = atime;
            inode.mtime = mtime;
        })
    }

    /// `link`: a second name for the file (or link) at `from`, which is not followed, like Linux's
    /// `link(2)`. A directory cannot be hard-linked (`EPERM`, hence `PermissionDenied`).
    pub(super) fn link(&mut self, from: &VPath, to: &VPath) -> FsResult<()> {
        let method = "link";
        let ino = last_ino(&self.find(from, false, method)?);
        if self.is_dir(ino) {
            return Err(fail(
                ErrorKind::PermissionDenied,
                method,
                from,
                "directories cannot be hard-linked",
            ));
        }
        match self.walk(to, false).map_err(|e| e.into_fs(method, to))? {
            Lookup::Found(_) => Err(fail(
                ErrorKind::AlreadyExists,
                method,
                to,
                "the path already exists",
            )),
            Lookup::Missing { mut parent, name } => {
                self.insert(last_ino(&parent), &name, ino, method, to)?;
                parent.push((name, ino));
                self.notify(Change::Create, &parent);
                Ok(())
            }
        }
    }

    /// `symlink`: stores `target` as given, after checking that it stays inside the namespace (the
    /// rule every backend shares, since a native root or an OPFS directory has nothing above it): an
    /// absolute target must be a valid [`VPath`], and a relative one may not climb above `/` from the
    /// link's directory (`BadArgument`). An empty target is `NotFound` (Linux's `ENOENT`), a NUL in
    /// it `BadArgument`.
    pub(super) fn symlink(&mut self, target: &str, link: &VPath) -> FsResult<()> {
        let method = "symlink";
        check_link_target(target, link, method)?;
        if target.is_empty() {
            return Err(fail(
                ErrorKind::NotFound,
                method,
                link,
                "a symbolic link needs a non-empty target",
            ));
        }
        if target.contains('\0') {
            return Err(fail(
                ErrorKind::BadArgument,
                method,
                link,
                "a link target may not contain NUL",
            ));
        }
        match self
            .walk(link, false)
            .map_err(|e| e.into_fs(method, link))?
        {
            Lookup::Found(_) => Err(fail(
                ErrorKind::AlreadyExists,
                method,
                link,
                "the path already exists",
            )),
            Lookup::Missing { mut parent, name } => {
                let node = Node::Symlink(target.to_owned());
                let ino =
                    self.attach_new(&parent, &name, node, SYMLINK_PERMISSIONS, method, link)?;
                parent.push((name, ino));
                self.notify(Change::Create, &parent);
                Ok(())
            }
        }
    }

    /// `read_link`: the stored target; anything but a link is `BadArgument` (`EINVAL`).
    pub(super) fn read_link(&self, path: &VPath) -> FsResult<String> {
        let method = "readLink";
        let chain = self.find(path, false, method)?;
        match &self.inode(last_ino(&chain)).node {
            Node::Symlink(target) => Ok(target.clone()),
            _ => Err(fail(
                ErrorKind::BadArgument,
                method,
                path,
                "not a symbolic link",
            )),
        }
    }
}

/// The namespace rule of link targets (see [`Tree::symlink`]); lexical, like the native backend's.
fn check_link_target(target: &str, link: &VPath, method: &'static str) -> FsResult<()> {
    if target.starts_with('/') {
        return VPath::new(target)
            .map(|_| ())
            .map_err(|e| fail(ErrorKind::BadArgument, method, link, e.description()));
    }
    let mut depth = link.segments().count().saturating_sub(1);
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    fail(
                        ErrorKind::BadArgument,
                        method,
                        link,
                        format!("the target {target:?} leaves the root"),
                    )
                })?;
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// Why one `mkdir` failed, kept apart from [`crate::FsError`] so that `mkdir -p` can branch on it.
enum MkdirError {
    Walk(WalkError),
    Exists,
    Other(crate::FsError),
}

impl MkdirError {
    fn into_fs(self, method: &'static str, path: &VPath) -> crate::FsError {
        match self {
            MkdirError::Walk(e) => e.into_fs(method, path),
            MkdirError::Exists => fail(
                ErrorKind::AlreadyExists,
                method,
                path,
                "the path already exists",
            ),
            MkdirError::Other(e) => e,
        }
    }
}
