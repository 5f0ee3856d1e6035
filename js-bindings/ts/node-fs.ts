/**
 * `nodeFileSystem`: a {@link JsFileSystem} over `node:fs`, rooted at a directory. It is the
 * `fileSystem` option for Node and Electron (main process) apps, and the reference
 * implementation of the interface: the engine's file system conformance suite and its
 * differential test against the in-memory model run against it under Node.
 *
 * This module is the package's `filesync-livestore/node` entry point, apart from the main one:
 * it imports `node:` modules at the top, so browser bundles must never reach it, and with its own
 * entry point they never do (no bundler-specific ignore comments, no dynamic imports).
 *
 * ```ts
 * import { nodeFileSystem } from 'filesync-livestore/node'
 * const fileSystem = nodeFileSystem('/var/lib/my-app/files')
 * ```
 *
 * Layout and guarantees:
 *
 * - the path `/a/b` is `rootDir/a/b`; the root directory is created (with its parents) on first
 *   use. Paths are checked again here, so nothing outside the root is ever named; symbolic links
 *   stay inside too (an absolute target `/x` is stored as `rootDir/x`, read back as `/x`);
 * - `rootDir/.filesync-staging` holds the writers' temporary files: it is hidden from listings and
 *   its name is reserved (`EINVAL`). A writer's `close` fsyncs its temporary file, renames it over
 *   the path (a hard link for `createNew`, so an existing path is never replaced) and fsyncs the
 *   directory: readers see the old file or the new one, never a part. Temporary files are left
 *   behind only by a crash (remove the directory's contents while nothing runs to reclaim them);
 * - `writeFile`, `truncate` and `copyFile` change files in place (open handles see the new bytes)
 *   and fsync them; use a writer to replace a file atomically;
 * - file handles are Node `FileHandle`s: they hold their file through renames and removals;
 * - errors keep Node's `code`, with messages that name namespace paths, not disk paths.
 *
 * `durable: false` skips every fsync (for tests and caches; a crash may then lose recent writes).
 *
 * @module
 */
import { constants as fsConstants } from 'node:fs'
import type { Stats } from 'node:fs'
import * as fsp from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import * as nodePath from 'node:path'
import { pathToFileURL } from 'node:url'

import type {
  JsDirEntry,
  JsFileHandle,
  JsFileInfo,
  JsFileSystem,
  JsFileSystemCapabilities,
  JsFileType,
  JsOpenFlag,
  JsWriteFlag,
  JsWriter,
  JsWriterMode,
} from './file-system.js'

/** Options of {@link nodeFileSystem}. */
export interface NodeFileSystemOptions {
  /** fsync what is written (default `true`); `false` trades crash safety for speed. */
  readonly durable?: boolean | undefined
}

/** The reserved directory (in the root) of the writers' temporary files. */
const STAGING = '.filesync-staging'

/** How many symbolic links a writer's target may go through (Linux's limit). */
const MAX_LINKS = 40

const CAPABILITIES = {
  fileHandles: true,
  symlinks: true,
  hardLinks: true,
  permissions: true,
  ownership: true,
  setTimes: true,
  atomicRename: true,
  atomicDirRename: true,
  // writeFile truncates and writes in place (open handles see it), as node:fs does.
  atomicWriteFile: false,
} as const

/**
 * A file system over the directory `rootDir` (made absolute against the current directory now).
 * See the module documentation for what it guarantees.
 */
export function nodeFileSystem(rootDir: string, options: NodeFileSystemOptions = {}): JsFileSystem {
  return new NodeFileSystem(nodePath.resolve(rootDir), options.durable ?? true)
}

/** An `Error` with a Node-style `code`. */
function codeError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}

const typeOf = (s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): JsFileType =>
  s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : 'other'

function infoOf(s: Stats): JsFileInfo {
  return {
    type: typeOf(s),
    size: s.size,
    mtimeMs: s.mtimeMs,
    atimeMs: s.atimeMs,
    birthtimeMs: s.birthtimeMs,
    mode: s.mode,
    dev: s.dev,
    ino: s.ino,
    nlink: s.nlink,
    uid: s.uid,
    gid: s.gid,
  }
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code

/** Writes all of `data` through `handle`, at `position` onwards or (null) at the end. */
async function writeAll(handle: FileHandle, data: Uint8Array, position: number | null): Promise<void> {
  let done = 0
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position === null ? null : position + done)
    if (bytesWritten === 0) throw codeError('EIO', 'the file accepted no bytes')
    done += bytesWritten
  }
}

/** Up to `length` bytes from `position`, fewer at the end of the file. */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled === length ? buffer : buffer.subarray(0, filled)
}

/** Closes a handle, ignoring errors (it is being given up after another error). */
async function closeQuietly(handle: FileHandle | undefined): Promise<void> {
  try {
    await handle?.close()
  } catch {
    // Already closed, or nothing more to report.
  }
}

async function unlinkQuietly(path: string): Promise<void> {
  try {
    await fsp.unlink(path)
  } catch {
    // Already gone.
  }
}

class NodeFileSystem implements JsFileSystem {
  readonly capabilities: JsFileSystemCapabilities
  readonly #root: string
  readonly #durable: boolean
  /** The root created and canonicalized (symbolic link targets and `realPath` use this form). */
  #ready: Promise<string> | undefined
  /** The canonical root once known (for cleaning messages). */
  #known: string | undefined
  #staging: Promise<string> | undefined

  constructor(root: string, durable: boolean) {
    this.#root = root
    this.#durable = durable
    this.capabilities = { ...CAPABILITIES, durable }
  }

  /** Creates the root once and answers its canonical path (a failed attempt is retried next time). */
  #canonicalRoot(): Promise<string> {
    this.#ready ??= (async () => {
      await fsp.mkdir(this.#root, { recursive: true })
      const canonical = await fsp.realpath(this.#root)
      this.#known = canonical
      return canonical
    })().catch((error: unknown) => {
      this.#ready = undefined
      throw error
    })
    return this.#ready
  }

  /** The directory of the writers' temporary files, created once. */
  #stagingDir(): Promise<string> {
    this.#staging ??= (async () => {
      const dir = nodePath.join(await this.#canonicalRoot(), STAGING)
      await fsp.mkdir(dir, { recursive: true })
      return dir
    })().catch((error: unknown) => {
      this.#staging = undefined
      throw error
    })
    return this.#staging
  }

  /** The disk path of a namespace path, after checking it the way the engine's paths are checked. */
  async #os(path: string): Promise<string> {
    const segments = this.#segments(path)
    return nodePath.join(await this.#canonicalRoot(), ...segments)
  }

  #segments(path: string): string[] {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw codeError('EINVAL', `not an absolute path: ${JSON.stringify(path)}`)
    }
    if (path === '/') return []
    const segments = path.slice(1).split('/')
    for (const name of segments) {
      if (name === '' || name === '.' || name === '..' || name.includes('\\') || name.includes('\0')) {
        throw codeError('EINVAL', `invalid path: ${JSON.stringify(path)}`)
      }
    }
    if (segments[0] === STAGING) {
      throw codeError('EINVAL', `${path}: the name ${STAGING} at the root is reserved for temporary files`)
    }
    return segments
  }

  /** Runs `body`, rethrowing Node's errors with the disk root taken out of their messages. */
  async #run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body()
    } catch (error) {
      throw this.#clean(error)
    }
  }

  #clean(error: unknown): unknown {
    const code = codeOf(error)
    if (typeof code !== 'string' || !(error instanceof Error)) return error
    let message = error.message
    for (const root of [this.#known, this.#root]) {
      if (root === undefined || root === nodePath.parse(root).root) continue
      // `root/a/b` -> `/a/b`, and `'root'` -> `'/'`.
      message = message.split(root + nodePath.sep).join('/').split(`'${root}'`).join("'/'")
    }
    return codeError(code, message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message)
  }

  /** fsyncs the directory at `dir` (where directories cannot be opened, as on Windows, skipped). */
  async #syncDir(dir: string): Promise<void> {
    if (!this.#durable) return
    let handle: FileHandle | undefined
    try {
      handle = await fsp.open(dir, 'r')
    } catch {
      return
    }
    try {
      await handle.sync()
    } catch (error) {
      if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes(String(codeOf(error)))) throw error
    } finally {
      await closeQuietly(handle)
    }
  }

  async #syncFile(handle: FileHandle): Promise<void> {
    if (this.#durable) await handle.sync()
  }

  /** `stat`, with a dangling link reported as itself. */
  async #statOs(os: string): Promise<Stats> {
    try {
      return await fsp.stat(os)
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') throw error
      const link = await fsp.lstat(os).catch(() => undefined)
      if (link?.isSymbolicLink()) return link
      throw error
    }
  }

  stat(path: string): Promise<JsFileInfo> {
    return this.#run(async () => infoOf(await this.#statOs(await this.#os(path))))
  }

  readDir(path: string): Promise<JsDirEntry[]> {
    return this.#run(async () => {
      const os = await this.#os(path)
      const entries = await fsp.readdir(os, { withFileTypes: true })
      // The staging directory is hidden in the root, also when it is listed through a link.
      const hide = entries.some((entry) => entry.name === STAGING) && (await fsp.realpath(os)) === (await this.#canonicalRoot())
      return entries
        .filter((entry) => !(hide && entry.name === STAGING))
        .map((entry) => ({ name: entry.name, type: typeOf(entry) }))
    })
  }

  makeDir(path: string, options: { readonly mode?: number | undefined }): Promise<void> {
    return this.#run(async () => {
      const os = await this.#os(path)
      await fsp.mkdir(os, options.mode === undefined ? {} : { mode: options.mode })
      await this.#syncDir(nodePath.dirname(os))
    })
  }

  remove(path: string, options: { readonly recursive: boolean }): Promise<void> {
    return this.#run(async () => {
      if (this.#segments(path).length === 0) throw codeError('EINVAL', 'the root cannot be removed')
      const os = await this.#os(path)
      const found = await fsp.lstat(os)
      if (!found.isDirectory()) await fsp.unlink(os)
      else if (options.recursive) await fsp.rm(os, { recursive: true })
      else await fsp.rmdir(os)
    })
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run(async () => {
      if (this.#segments(from).length === 0 || this.#segments(to).length === 0) {
        throw codeError('EINVAL', 'the root cannot be moved or replaced')
      }
      const [source, target] = [await this.#os(from), await this.#os(to)]
      await fsp.rename(source, target)
      await this.#syncDir(nodePath.dirname(target))
      if (nodePath.dirname(source) !== nodePath.dirname(target)) await this.#syncDir(nodePath.dirname(source))
    })
  }

  readFile(path: string, range?: { readonly offset: number; readonly length: number }): Promise<Uint8Array> {
    return this.#run(async () => {
      const handle = await fsp.open(await this.#os(path), 'r')
      try {
        const info = await handle.stat()
        if (info.isDirectory()) throw codeError('EISDIR', `${path}: is a directory`)
        if (range === undefined) return await handle.readFile()
        const { offset, length } = range
        if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
          throw codeError('EINVAL', `invalid range ${offset}+${length}`)
        }
        return await readAt(handle, offset, Math.min(length, Math.max(0, info.size - offset)))
      } finally {
        await closeQuietly(handle)
      }
    })
  }

  writeFile(
    path: string,
    data: Uint8Array,
    options: { readonly flag: JsWriteFlag; readonly mode?: number | undefined },
  ): Promise<void> {
    return this.#run(async () => {
      const flag = options.flag
      if (!['w', 'wx', 'a', 'r+'].includes(flag)) throw codeError('EINVAL', `unknown flag ${JSON.stringify(flag)}`)
      const os = await this.#os(path)
      const handle = await fsp.open(os, flag, options.mode ?? 0o666)
      try {
        if ((await handle.stat()).isDirectory()) throw codeError('EISDIR', `${path}: is a directory`)
        await writeAll(handle, data, flag === 'a' ? null : 0)
        await this.#syncFile(handle)
      } finally {
        await closeQuietly(handle)
      }
      if (flag !== 'r+') await this.#syncDir(nodePath.dirname(os))
    })
  }

  truncate(path: string, length: number): Promise<void> {
    return this.#run(async () => {
      const handle = await fsp.open(await this.#os(path), 'r+')
      try {
        await handle.truncate(length)
        await this.#syncFile(handle)
      } finally {
        await closeQuietly(handle)
      }
    })
  }

  copyFile(from: string, to: string): Promise<void> {
    return this.#run(async () => {
      const [source, target] = [await this.#os(from), await this.#os(to)]
      if ((await fsp.stat(source)).isDirectory()) throw codeError('EISDIR', `${from}: is a directory`)
      // libuv copies in place (the target keeps its inode), takes the source's mode, and does
      // nothing when both name one file.
      await fsp.copyFile(source, target)
      if (this.#durable) {
        const handle = await fsp.open(target, 'r')
        try {
          await handle.sync()
        } finally {
          await closeQuietly(handle)
        }
        await this.#syncDir(nodePath.dirname(target))
      }
    })
  }

  open(path: string, options: { readonly flag: JsOpenFlag; readonly mode?: number | undefined }): Promise<JsFileHandle> {
    return this.#run(async () => {
      const flag = options.flag
      if (!['r', 'r+', 'w', 'wx', 'w+', 'wx+', 'a', 'ax', 'a+', 'ax+'].includes(flag)) {
        throw codeError('EINVAL', `unknown flag ${JSON.stringify(flag)}`)
      }
      const handle = await fsp.open(await this.#os(path), flag, options.mode ?? 0o666)
      try {
        if ((await handle.stat()).isDirectory()) throw codeError('EISDIR', `${path}: is a directory`)
      } catch (error) {
        await closeQuietly(handle)
        throw error
      }
      return new NodeHandle(handle, this.#durable, (error) => this.#clean(error))
    })
  }

  openWriter(path: string, options: { readonly mode: JsWriterMode; readonly permissions?: number | undefined }): Promise<JsWriter> {
    return this.#run(async () => {
      const mode = options.mode
      if (!['replace', 'createNew', 'append'].includes(mode)) throw codeError('EINVAL', `unknown writer mode ${JSON.stringify(mode)}`)
      const os = await this.#os(path)
      await this.#target(os, path, mode)
      const temp = nodePath.join(await this.#stagingDir(), `${randomBytes(12).toString('hex')}.tmp`)
      const handle = await fsp.open(temp, 'wx', options.permissions ?? 0o666)
      return new NodeWriter(this, handle, temp, os, path, mode)
    })
  }

  /**
   * Where a writer's bytes go (checked when it opens and again when it closes): the file at `os`
   * (symbolic links followed, except for `createNew`), or a missing name in an existing
   * directory. `ENOENT` for a missing parent, `ENOTDIR`, `EISDIR` for a directory, `EEXIST` for
   * `createNew` on an existing path (a dangling link too).
   */
  async #target(os: string, path: string, mode: JsWriterMode): Promise<{ path: string; stats: Stats | undefined }> {
    let current = os
    for (let hops = 0; hops <= MAX_LINKS; hops++) {
      let stats: Stats
      try {
        stats = await fsp.lstat(current)
      } catch (error) {
        if (codeOf(error) !== 'ENOENT') throw error
        const parent = await fsp.stat(nodePath.dirname(current))
        if (!parent.isDirectory()) throw codeError('ENOTDIR', `${path}: a parent is not a directory`)
        return { path: current, stats: undefined }
      }
      if (mode === 'createNew') throw codeError('EEXIST', `${path}: the path exists`)
      if (stats.isDirectory()) throw codeError('EISDIR', `${path}: is a directory`)
      if (!stats.isSymbolicLink()) return { path: current, stats }
      current = nodePath.resolve(nodePath.dirname(current), await fsp.readlink(current))
    }
    throw codeError('ELOOP', `${path}: too many symbolic links`)
  }

  /** A writer's commit: see {@link JsWriter}. `temp` is closed and holds the new bytes. */
  async commit(temp: string, os: string, path: string, mode: JsWriterMode): Promise<void> {
    const target = await this.#target(os, path, mode)
    const dir = nodePath.dirname(target.path)
    if (mode === 'createNew') {
      // A hard link never replaces: a file that appeared meanwhile makes this EEXIST.
      await fsp.link(temp, target.path)
      await unlinkQuietly(temp)
      await this.#syncDir(dir)
      return
    }
    if (target.stats === undefined) {
      await fsp.rename(temp, target.path)
      await this.#syncDir(dir)
      return
    }
    if (mode === 'replace') {
      // The replaced file's permission bits carry over (the writer's own apply to new files).
      await fsp.chmod(temp, target.stats.mode & 0o7777)
      await fsp.rename(temp, target.path)
      await this.#syncDir(dir)
      return
    }
    // Appending to an existing file: its bytes as they are now, then the new ones, in a second
    // temporary file that replaces it.
    const joined = nodePath.join(await this.#stagingDir(), `${randomBytes(12).toString('hex')}.tmp`)
    try {
      await fsp.copyFile(target.path, joined, fsConstants.COPYFILE_EXCL)
      const output = await fsp.open(joined, 'a')
      try {
        const input = await fsp.open(temp, 'r')
        try {
          for (let position = 0; ; ) {
            const chunk = await readAt(input, position, 1024 * 1024)
            if (chunk.length === 0) break
            await writeAll(output, chunk, null)
            position += chunk.length
          }
        } finally {
          await closeQuietly(input)
        }
        await this.#syncFile(output)
      } finally {
        await closeQuietly(output)
      }
      await fsp.rename(joined, target.path)
    } catch (error) {
      await unlinkQuietly(joined)
      throw error
    }
    await unlinkQuietly(temp)
    await this.#syncDir(dir)
  }

  /** Runs a writer's step with this file system's error cleaning. */
  runFor<T>(body: () => Promise<T>): Promise<T> {
    return this.#run(body)
  }

  syncFile(handle: FileHandle): Promise<void> {
    return this.#syncFile(handle)
  }

  symlink(target: string, path: string): Promise<void> {
    return this.#run(async () => {
      const os = await this.#os(path)
      const stored = target.startsWith('/') ? await this.#os(target) : target
      await fsp.symlink(stored, os)
      await this.#syncDir(nodePath.dirname(os))
    })
  }

  readLink(path: string): Promise<string> {
    return this.#run(async () => {
      const stored = await fsp.readlink(await this.#os(path))
      if (!nodePath.isAbsolute(stored)) return stored
      const inside = this.#inside(await this.#canonicalRoot(), stored)
      if (inside === undefined) throw codeError('InvalidData', `${path}: the link points outside the file system`)
      return inside
    })
  }

  /** The `file:` URL of `path` on disk (what `resolveFileUrl` answers in Node). */
  fileUrl(path: string): Promise<string> {
    return this.#run(async () => pathToFileURL(await this.#os(path)).href)
  }

  realPath(path: string): Promise<string> {
    return this.#run(async () => {
      const real = await fsp.realpath(await this.#os(path))
      const inside = this.#inside(await this.#canonicalRoot(), real)
      if (inside === undefined) throw codeError('EINVAL', `${path}: resolves outside the file system`)
      return inside
    })
  }

  /** The namespace path of the disk path `os`, when it is inside `root`. */
  #inside(root: string, os: string): string | undefined {
    const relative = nodePath.relative(root, os)
    if (relative === '') return '/'
    if (relative.startsWith('..') || nodePath.isAbsolute(relative)) return undefined
    return `/${relative.split(nodePath.sep).join('/')}`
  }

  link(from: string, to: string): Promise<void> {
    return this.#run(async () => {
      const target = await this.#os(to)
      await fsp.link(await this.#os(from), target)
      await this.#syncDir(nodePath.dirname(target))
    })
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.#run(async () => fsp.chmod(await this.#os(path), mode))
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.#run(async () => fsp.chown(await this.#os(path), uid, gid))
  }

  utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void> {
    return this.#run(async () => fsp.utimes(await this.#os(path), atimeMs / 1000, mtimeMs / 1000))
  }
}

/** A writer: its bytes go to a temporary file in the staging directory until `close`. */
class NodeWriter implements JsWriter {
  #handle: FileHandle | undefined
  #state: 'open' | 'failed' | 'ended' = 'open'

  constructor(
    private readonly fs: NodeFileSystem,
    handle: FileHandle,
    private readonly temp: string,
    private readonly os: string,
    private readonly path: string,
    private readonly mode: JsWriterMode,
  ) {
    this.#handle = handle
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.fs.runFor(async () => {
      const handle = this.#open()
      try {
        await writeAll(handle, chunk, null)
      } catch (error) {
        await this.abort()
        this.#state = 'failed'
        throw error
      }
    })
  }

  close(): Promise<void> {
    return this.fs.runFor(async () => {
      const handle = this.#open()
      this.#state = 'ended'
      this.#handle = undefined
      try {
        await this.fs.syncFile(handle)
        await handle.close()
        await this.fs.commit(this.temp, this.os, this.path, this.mode)
      } catch (error) {
        await closeQuietly(handle)
        await unlinkQuietly(this.temp)
        throw error
      }
    })
  }

  async abort(): Promise<void> {
    this.#state = 'ended'
    const handle = this.#handle
    this.#handle = undefined
    await closeQuietly(handle)
    await unlinkQuietly(this.temp)
  }

  #open(): FileHandle {
    if (this.#handle === undefined) {
      throw codeError('EBADF', this.#state === 'failed' ? 'an earlier write of this writer failed' : 'the writer is closed')
    }
    return this.#handle
  }
}

/** A file handle over a Node `FileHandle`. */
class NodeHandle implements JsFileHandle {
  #closed = false

  constructor(
    private readonly handle: FileHandle,
    private readonly durable: boolean,
    private readonly clean: (error: unknown) => unknown,
  ) {}

  async #run<T>(body: () => Promise<T>): Promise<T> {
    try {
      if (this.#closed) throw codeError('EBADF', 'the handle is closed')
      return await body()
    } catch (error) {
      throw this.clean(error)
    }
  }

  read(position: number, length: number): Promise<Uint8Array> {
    return this.#run(() => readAt(this.handle, position, length))
  }

  write(data: Uint8Array, position: number | null): Promise<number> {
    return this.#run(async () => {
      await writeAll(this.handle, data, position)
      return data.length
    })
  }

  truncate(length: number): Promise<void> {
    return this.#run(() => this.handle.truncate(length))
  }

  stat(): Promise<JsFileInfo> {
    return this.#run(async () => infoOf(await this.handle.stat()))
  }

  sync(): Promise<void> {
    return this.#run(async () => {
      if (this.durable) await this.handle.sync()
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.handle.close()
  }
}
