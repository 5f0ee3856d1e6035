/**
 * The JavaScript file system interface: how an app gives the engine its own storage (Electron,
 * React Native, Node, a test double) where the browser's OPFS is not the right place.
 *
 * Implement {@link JsFileSystem} and pass the object as the `fileSystem` option. The interface is
 * small on purpose: eight required methods over whole files, directories and one atomic writer,
 * plus optional groups ({@link JsFileSystemCapabilities}) for handles, links, permissions and
 * times. The engine's Rust side builds the rest of its file system API on top (recursive
 * listings, `mkdir -p`, copies, streamed ranged reads, temporary files, cursor rules of open
 * files) and answers `Unsupported` for what an optional group does not offer.
 *
 * `nodeFileSystem` (in `filesync-livestore/node`) implements all of it over `node:fs`, and is the
 * reference: the engine's file system conformance suite runs against it under Node.
 *
 * ## Paths
 *
 * Every path is absolute in the file system's own namespace and already validated: `/` is the
 * root, then names separated by single `/` (`/a/b`). Names are never empty, `.` or `..`, never
 * contain `/`, `\` or NUL, and are at most 255 UTF-8 bytes. Map them below your own root
 * directory; names are case-sensitive and compared byte for byte (no Unicode normalization).
 *
 * ## Errors
 *
 * Fail by rejecting (or throwing) an `Error` whose `code` says what happened, with Node's codes:
 *
 * | code | meaning |
 * |---|---|
 * | `ENOENT` | the path, or one of its parents, does not exist |
 * | `EEXIST` | the path exists (exclusive create, `makeDir`, a `createNew` writer) |
 * | `ENOTDIR` | a file where a directory is needed (also a file in the middle of a path) |
 * | `EISDIR` | a directory where a file is needed |
 * | `ENOTEMPTY` | the directory is not empty |
 * | `EACCES`, `EPERM`, `EROFS` | not allowed |
 * | `ENOSPC`, `EDQUOT` | out of space or quota |
 * | `EBUSY`, `ETXTBSY` | in use elsewhere; try again later |
 * | `EINVAL`, `ENAMETOOLONG`, `ELOOP` | an invalid argument (a directory moved into itself) |
 * | `ETIMEDOUT`, `EAGAIN` | timed out, would block |
 * | `ENOSYS`, `ENOTSUP` | not supported |
 *
 * The names of the engine's error kinds are accepted as codes too (`NotFound`, `AlreadyExists`,
 * `BadResource`, `DirectoryNotEmpty`, `PermissionDenied`, `StorageFull`, `Busy`, `BadArgument`,
 * `InvalidData`, `TimedOut`, `Unsupported`, `Unknown`, ...), and so are the names of the
 * `DOMException`s a browser storage API throws (`NotFoundError`, `QuotaExceededError`,
 * `TypeMismatchError`, `NotAllowedError`, ...). A thrown string that is one of these codes counts
 * as that code; anything else is an unknown failure that keeps its message. {@link fileSystemError}
 * makes such an error.
 *
 * Where several errors apply, report the one Linux would: the engine's tests hold
 * `nodeFileSystem` to Linux's order, and apps rely on the kinds (`ENOENT` for a missing file,
 * never `ENOTDIR` for it), not on the order.
 *
 * ## Numbers and bytes
 *
 * Sizes, offsets and lengths are plain numbers (files beyond 2^53 bytes are not supported); times
 * are milliseconds since the Unix epoch. Bytes are `Uint8Array`s (a Node `Buffer` is one); the
 * engine never keeps an array it handed over, and never changes one it received.
 *
 * @module
 */

/** The type of an entry. A symbolic link is reported as `'symlink'` by `readDir`, and by `stat`
 * only when it dangles. */
export type JsFileType = 'file' | 'directory' | 'symlink' | 'other'

/** What `stat` reports. Only `type` and `size` are required; leave out what you do not know. */
export interface JsFileInfo {
  /** File, directory, symbolic link (see {@link JsFileType}) or anything else. */
  readonly type: JsFileType
  /** Size in bytes (directories: anything, usually 0). */
  readonly size: number
  /** Last modification, ms since the epoch. */
  readonly mtimeMs?: number | undefined
  /** Last access, ms since the epoch. */
  readonly atimeMs?: number | undefined
  /** Creation, ms since the epoch. */
  readonly birthtimeMs?: number | undefined
  /** Unix permission (and type) bits. */
  readonly mode?: number | undefined
  /** Device id; with `ino` it tells two names of one file apart from two files. */
  readonly dev?: number | undefined
  /** Inode number. */
  readonly ino?: number | undefined
  /** Number of hard links. */
  readonly nlink?: number | undefined
  /** Owner user id. */
  readonly uid?: number | undefined
  /** Owner group id. */
  readonly gid?: number | undefined
}

/** One entry of `readDir`: a direct child of the directory. */
export interface JsDirEntry {
  /** The entry's name (one path segment). */
  readonly name: string
  /** Its type; a symbolic link is `'symlink'`, never followed. */
  readonly type: JsFileType
}

/**
 * How `writeFile` writes, with Node's flag names:
 *
 * - `'w'`: create or truncate, then write from the start;
 * - `'wx'`: like `'w'`, but `EEXIST` when anything is at the path (even a dangling link);
 * - `'a'`: create when missing, append to the end;
 * - `'r+'`: the file must exist (`ENOENT`); write over its start without truncating.
 */
export type JsWriteFlag = 'w' | 'wx' | 'a' | 'r+'

/**
 * How `open` opens, with Node's (and `open(2)`'s) flag names: `r` read; `r+` read and write, must
 * exist; `w`/`w+` create or truncate (write; and read); `a`/`a+` create, writes at the end (and
 * read); with `x`, `EEXIST` when anything is at the path (even a dangling link).
 */
export type JsOpenFlag = 'r' | 'r+' | 'w' | 'wx' | 'w+' | 'wx+' | 'a' | 'ax' | 'a+' | 'ax+'

/** What an {@link JsWriter} does at its path when it closes. */
export type JsWriterMode =
  /** Replace the file (or create it). */
  | 'replace'
  /** Create the file; `EEXIST` (at open or at close) when anything is at the path. */
  | 'createNew'
  /** Add the written bytes after the file's bytes as they are at close (or create it). */
  | 'append'

/**
 * An atomic writer from `openWriter`: nothing is visible at its path until `close` resolves,
 * and then all of it is (the written bytes, after the old ones when appending).
 *
 * Stage the bytes somewhere that is not part of the namespace (a listing must never show them),
 * e.g. a temporary file in a hidden directory of the same disk, renamed over the path on close.
 * While the writer is open it holds nothing at its path: the path may be written, removed or
 * renamed meanwhile, and `close` commits to whatever is there then (an appending writer appends
 * to the file as it is then; a `createNew` writer fails with `EEXIST` if something appeared; a
 * directory there is `EISDIR`; a missing parent `ENOENT`). A symbolic link at the path is
 * followed.
 */
export interface JsWriter {
  /** Adds a chunk to what will be committed (the engine waits for each call before the next). */
  write(chunk: Uint8Array): Promise<void>
  /** Commits; on failure nothing changes at the path and the staged bytes are gone. */
  close(): Promise<void>
  /** Throws the staged bytes away; the path keeps what it has. Also called for writers the
   * engine drops without closing (without waiting for it). */
  abort(): Promise<void>
}

/**
 * An open file from `open` (capability `fileHandles`). A handle holds its file, not its path, as
 * a POSIX file descriptor does: it keeps reading and writing the same file after the path is
 * renamed, removed or replaced, and it sees in-place changes made through the path. The engine
 * keeps the cursor; every call says where.
 */
export interface JsFileHandle {
  /** Up to `length` bytes from `position`; fewer at the end of the file, none past it. */
  read(position: number, length: number): Promise<Uint8Array>
  /** Writes all of `data` at `position` (filling a gap with zeros), or at the end of the file
   * when `position` is `null` (handles opened with an `a` flag); resolves to the bytes written. */
  write(data: Uint8Array, position: number | null): Promise<number>
  /** Sets the file's length, zero-filling when it grows. */
  truncate(length: number): Promise<void>
  /** The open file's information. */
  stat(): Promise<JsFileInfo>
  /** Makes what was written durable (fsync). */
  sync(): Promise<void>
  /** Releases the handle. Also called for handles the engine drops (without waiting for it). */
  close(): Promise<void>
}

/**
 * The optional groups a file system offers. Each one set to `true` needs its methods (the engine
 * refuses the object otherwise, naming what is missing); each one absent or `false` makes the
 * engine answer `Unsupported` for its calls.
 */
export interface JsFileSystemCapabilities {
  /** `open`: file handles with positional reads and writes, for every {@link JsOpenFlag}.
   * Without it every `open` is `Unsupported`; the engine itself does without handles (it writes
   * through writers and reads by ranges). */
  readonly fileHandles?: boolean
  /** `symlink`, `readLink`, `realPath`; `stat` follows links, `readDir`, `remove` and `rename`
   * do not. */
  readonly symlinks?: boolean
  /** `link`: hard links. */
  readonly hardLinks?: boolean
  /** `chmod`, and the `mode` options of `makeDir`, `writeFile`, `open` and `openWriter` are
   * honoured for what they create; `stat` reports `mode`. */
  readonly permissions?: boolean
  /** `chown`; `stat` reports `uid` and `gid`. */
  readonly ownership?: boolean
  /** `utimes`; `stat` reports `mtimeMs` and `atimeMs`. */
  readonly setTimes?: boolean
  /** `rename` of a file is atomic (readers see the old or the new file, never neither). */
  readonly atomicRename?: boolean
  /** `rename` of a directory is atomic. */
  readonly atomicDirRename?: boolean
  /** `writeFile` with the flag `w` is atomic: readers (and a crash) see the old content or the
   * whole new content, never a prefix (the engine then writes content files in place instead of
   * writing a temporary file and renaming it). */
  readonly atomicWriteFile?: boolean
  /** A writer's `close`, `writeFile` and a handle's `sync` reach durable storage (fsync). */
  readonly durable?: boolean
}

/**
 * A file system the engine can use. The first eight methods are required; the others belong to
 * the groups of {@link JsFileSystemCapabilities}, except `truncate` and `copyFile`, which the
 * engine uses when they exist and otherwise does with `readFile` and `writeFile`.
 *
 * Methods are called with the object as `this`, and may return plain values instead of Promises.
 */
export interface JsFileSystem {
  /** The optional groups this file system offers (none when absent); read once, when the engine
   * takes the object. */
  readonly capabilities?: JsFileSystemCapabilities | undefined

  /** Information about `path`, following symbolic links; a dangling link is reported as itself
   * (`type: 'symlink'`). `ENOENT`, `ENOTDIR`. */
  stat(path: string): Promise<JsFileInfo>

  /** The direct children of a directory, in any order (the engine sorts and recurses).
   * `ENOENT`, `ENOTDIR` for a file. */
  readDir(path: string): Promise<readonly JsDirEntry[]>

  /** Creates one directory (the engine creates missing parents itself, one call each): `EEXIST`
   * when anything is at the path (even a dangling link), `ENOENT` for a missing parent, `ENOTDIR`
   * for a file among the parents. `mode`: see the `permissions` capability. */
  makeDir(path: string, options: { readonly mode?: number | undefined }): Promise<void>

  /** Removes a file, a symbolic link (not its target) or a directory (a non-empty one only with
   * `recursive`, else `ENOTEMPTY`). `ENOENT` when missing. Never called for `/`. */
  remove(path: string, options: { readonly recursive: boolean }): Promise<void>

  /** Moves a file or directory as POSIX `rename(2)` does: replaces a file, or an empty directory
   * with a directory; `EISDIR`/`ENOTDIR` between a file and a directory, `ENOTEMPTY` over a
   * non-empty directory, `EINVAL` for a directory moved below itself, nothing when both paths
   * name the same file. Never called with `/`. */
  rename(from: string, to: string): Promise<void>

  /** The file's bytes: all of them, or with `range` at most `length` bytes from `offset` (fewer
   * at the end, none past it). `ENOENT`, `EISDIR` for a directory. */
  readFile(path: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array>

  /** Writes a whole file in place with the flag's rules ({@link JsWriteFlag}); the path keeps its
   * file (handles open on it see the new bytes). `ENOENT` for a missing parent, `EISDIR` for a
   * directory, `EEXIST` for `'wx'` on an existing path. `mode`: for a file this call creates. */
  writeFile(
    path: string,
    data: Uint8Array,
    options: { readonly flag: JsWriteFlag; readonly mode?: number | undefined },
  ): Promise<void>

  /** Opens an atomic writer ({@link JsWriter}). Checks now what `close` checks again: `ENOENT`
   * for a missing parent, `EISDIR` for a directory at the path, `EEXIST` for `createNew` on an
   * existing path. `permissions`: for a file the writer creates. */
  openWriter(
    path: string,
    options: { readonly mode: JsWriterMode; readonly permissions?: number | undefined },
  ): Promise<JsWriter>

  /** Optional: sets a file's length in place, zero-filling when it grows. `ENOENT`, `EISDIR`. */
  truncate?(path: string, length: number): Promise<void>

  /** Optional: copies one file's bytes (and permission bits) to `to` (links followed), replacing
   * a file there in place; nothing happens when both name the same file. `ENOENT`, `EISDIR` when
   * either is a directory. */
  copyFile?(from: string, to: string): Promise<void>

  /** `fileHandles`: opens a {@link JsFileHandle} with the flag's rules. `ENOENT`, `EEXIST` for an
   * `x` flag on an existing path (a directory too), `EISDIR` for a directory otherwise. */
  open?(
    path: string,
    options: { readonly flag: JsOpenFlag; readonly mode?: number | undefined },
  ): Promise<JsFileHandle>

  /** `symlinks`: creates a link at `path` storing `target` as given. An absolute target is a
   * path of this namespace (store it so that it resolves there); a relative one never climbs
   * above `/` (the engine checks both). `EEXIST`, `ENOENT` for a missing parent. */
  symlink?(target: string, path: string): Promise<void>

  /** `symlinks`: the target a link stores, as it was given to `symlink`. `EINVAL` for anything
   * but a link, `ENOENT`. */
  readLink?(path: string): Promise<string>

  /** `symlinks`: the canonical path, every link resolved, as a path of this namespace. `ENOENT`,
   * `EINVAL` when it resolves outside. */
  realPath?(path: string): Promise<string>

  /** `hardLinks`: a second name `to` for the file at `from` (not followed). `EEXIST`, `ENOENT`,
   * `EPERM` for a directory. */
  link?(from: string, to: string): Promise<void>

  /** `permissions`: sets the permission bits (links followed). `ENOENT`. */
  chmod?(path: string, mode: number): Promise<void>

  /** `ownership`: sets owner and group (links followed). `ENOENT`, `EPERM`. */
  chown?(path: string, uid: number, gid: number): Promise<void>

  /** `setTimes`: sets access and modification times, ms since the epoch (links followed).
   * `ENOENT`. */
  utimes?(path: string, atimeMs: number, mtimeMs: number): Promise<void>

  /** Optional: a URL the app can load the file at `path` from (a `file:` URL on disk).
   * `resolveFileUrl` answers it for verified local copies instead of making an object URL. */
  fileUrl?(path: string): string | Promise<string>
}

/** The codes a {@link JsFileSystem} fails with (see the module's table). */
export type JsFileSystemErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'EACCES'
  | 'EPERM'
  | 'EROFS'
  | 'ENOSPC'
  | 'EDQUOT'
  | 'EBUSY'
  | 'ETXTBSY'
  | 'EINVAL'
  | 'ENAMETOOLONG'
  | 'ELOOP'
  | 'ETIMEDOUT'
  | 'EAGAIN'
  | 'ENOSYS'
  | 'ENOTSUP'

/** An `Error` with a `code`, as a {@link JsFileSystem} throws it. */
export function fileSystemError(code: JsFileSystemErrorCode, message: string): Error & { code: JsFileSystemErrorCode } {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}
