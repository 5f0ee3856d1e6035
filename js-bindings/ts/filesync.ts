/**
 * `createFileSync`: one file sync instance over a LiveStore store.
 *
 * @module
 */
import type { Store } from '@livestore/livestore'

import { makeCatalogGlue, missingSchemaParts } from './catalog.js'
import { FileNotFoundError, FileSyncError, InvalidInputError, NotInitializedError, toFileSyncError, wrap, wrapSync } from './errors.js'
import { findPreprocessor, type PreprocessorMap } from './helpers.js'
import type { JsFileSystem } from './file-system.js'
import { FileSyncEngine, loadEngine, setLogger } from './wasm.js'

/** Where the engine keeps file bytes: `"opfs"` (browsers, the default), `"memory"` (nothing
 * survives a reload), or a {@link JsFileSystem} (Node: `nodeFileSystem(dir)` from
 * `filesync-livestore/node`; Electron, React Native: your own). */
export type FileSystemOption = 'opfs' | 'memory' | JsFileSystem

/** The remote storage: a signer (our `filesync serve`, or 0.8.0's signer handlers). */
export interface RemoteOptions {
  /** The signer's base URL (default `/api`, relative to the page). */
  readonly signerBaseUrl?: string
  /**
   * The Bearer token for the signer: a string, or a function called before each signer call that
   * answers one (or a Promise of one; `null` for none), so a token can be refreshed.
   */
  readonly authToken?: string | (() => string | null | undefined | Promise<string | null | undefined>)
  /** Extra headers for every signer call (never sent to the signed blob URLs). */
  readonly headers?: Readonly<Record<string, string>>
  /** Send cookies to the signer (`credentials: "include"`); the signer must allow credentials. */
  readonly includeCredentials?: boolean
}

/** One of the package's events (0.8.0's names and shapes). */
export type FileSyncEvent =
  | { readonly type: 'sync:start' }
  | { readonly type: 'sync:complete' }
  | { readonly type: 'sync:error'; readonly error: FileSyncError; readonly context?: string }
  | { readonly type: 'sync:error-retry-start'; readonly fileIds: ReadonlyArray<string> }
  | { readonly type: 'upload:start' | 'upload:complete' | 'download:start' | 'download:complete'; readonly fileId: string }
  | {
      readonly type: 'upload:progress' | 'download:progress'
      readonly fileId: string
      readonly progress: {
        readonly kind: 'upload' | 'download'
        readonly fileId: string
        readonly status: 'inProgress'
        readonly loaded: number
        readonly total: number
      }
    }
  | {
      readonly type: 'upload:error' | 'download:error'
      readonly fileId: string
      readonly error: FileSyncError
      /** Whether another attempt is scheduled. */
      readonly willRetry: boolean
    }
  | {
      readonly type: 'transfer:exhausted'
      readonly kind: 'upload' | 'download'
      readonly fileId: string
      readonly error: FileSyncError
    }
  | { readonly type: 'remote:deleted'; readonly key: string }
  | { readonly type: 'online' }
  | { readonly type: 'offline' }

/** A listener of {@link FileSyncEvent}s. */
export type FileSyncEventCallback = (event: FileSyncEvent) => void

/** The engine's options (every one optional). */
export interface FileSyncOptions {
  /** Uploads at once (default 2). */
  readonly maxConcurrentUploads?: number
  /** Downloads at once (default 2). */
  readonly maxConcurrentDownloads?: number
  /** Retries of a failed transfer before it is given up (default 5). */
  readonly maxRetries?: number
  /** First retry delay (default 1000 ms), doubled per retry. */
  readonly retryBaseDelayMs?: number
  /** Longest retry delay (default 60000 ms). */
  readonly retryMaxDelayMs?: number
  /** Random extra delay per retry, up to this (default 500 ms). */
  readonly retryJitterMs?: number
  /** How often the remote's health is checked while offline (default 10000 ms). */
  readonly healthCheckIntervalMs?: number
  /** How long a remote delete waits before it is re-checked and run (default 600000 ms). */
  readonly deleteGracePeriodMs?: number
  /** The largest file `saveFile`/`updateFile` accept (default: no limit). */
  readonly maxFileSizeBytes?: number
  /** Keep at most this many bytes of files already safe on the remote (default: no limit). */
  readonly cacheLimitBytes?: number
  /** `"eager"` (default) downloads every file; `"onDemand"` only what is resolved. */
  readonly downloadPolicy?: 'eager' | 'onDemand'
  /** `resolveFileUrl` moves the file's download to the front (default true). */
  readonly autoPrioritizeOnResolve?: boolean
  /** Remove local files no live row references (default true). */
  readonly orphanSweep?: boolean
  /** Run the sync loop in one tab per store (Web Locks; default true where they exist). */
  readonly leaderElection?: boolean
  /** Called with every event (a throwing listener never breaks sync). */
  readonly onEvent?: FileSyncEventCallback
  /** Preprocessors by MIME pattern (`image/*`, `*`, exact), run before hashing. */
  readonly preprocessors?: PreprocessorMap
  /** The engine's log level (default `"warn"`). The setting is shared by every instance of the page. */
  readonly logLevel?: LogLevel
  /** Where engine logs go (default: the console). */
  readonly onLog?: (entry: LogEntry) => void
}

/** The engine's log levels, quietest first. */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug' | 'trace'

/** One engine log entry. */
export interface LogEntry {
  readonly level: Exclude<LogLevel, 'silent'>
  /** The engine module that logged it. */
  readonly target: string
  readonly message: string
  /** Structured fields (`file_id`, `key`, `error`, …) as text. */
  readonly fields: Readonly<Record<string, string>>
}

/** What {@link createFileSync} takes. */
export interface CreateFileSyncConfig {
  /** The LiveStore store (its schema must include `createFileSyncSchema()`). */
  readonly store: Store<any>
  /** The remote, or `false` for local-only (no network at all). Default: `{signerBaseUrl: "/api"}`. */
  readonly remote?: RemoteOptions | false
  /** Where bytes are kept (default `"opfs"`). */
  readonly fileSystem?: FileSystemOption
  /**
   * With OPFS: a dedicated worker where downloads are written with sync access handles as they
   * arrive, so a download interrupted by a reload resumes where it was. Default `true`: the
   * package's `worker.js`, loaded from next to the package (`new Worker(new URL("./worker.js",
   * import.meta.url))`, which Vite and webpack bundle; no `blob:` URL, so a Content-Security-Policy
   * with `worker-src 'self'` allows it). A string or URL: that script instead (copy the package's
   * `dist/worker.js` and `dist/wasm/` to where your app serves files, e.g. when the package is
   * served from another origin). `false`: no worker (downloads are written on the page and start
   * over after a reload). If the worker cannot start, file sync works without it and logs a warning.
   */
  readonly worker?: boolean | string | URL
  /** Engine options. */
  readonly options?: FileSyncOptions
}

/** Starts the package's OPFS worker (see {@link CreateFileSyncConfig.worker}), or none. */
function startWorker(option: boolean | string | URL | undefined): Worker | undefined {
  if (option === false || typeof Worker === 'undefined') return undefined
  try {
    if (option === undefined || option === true) {
      return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'filesync-livestore' })
    }
    return new Worker(option, { type: 'module', name: 'filesync-livestore' })
  } catch (error) {
    console.warn('[filesync] the file sync worker could not start; downloads are written on the page', error)
    return undefined
  }
}

/** What `saveFile` and `updateFile` answer. */
export interface SavedFileResult {
  readonly fileId: string
  /** The row's local path (`livestore-filesync-files/{storeId}/{hash}`). */
  readonly path: string
  readonly contentHash: string
  /** Size in bytes. */
  readonly size: number
  /** False when `updateFile` found the same content (nothing changed). */
  readonly changed: boolean
}

type Content = File | Blob | Uint8Array | ArrayBuffer

const engineOptionKeys = [
  'maxConcurrentUploads',
  'maxConcurrentDownloads',
  'maxRetries',
  'retryBaseDelayMs',
  'retryMaxDelayMs',
  'retryJitterMs',
  'healthCheckIntervalMs',
  'deleteGracePeriodMs',
  'maxFileSizeBytes',
  'cacheLimitBytes',
  'downloadPolicy',
  'autoPrioritizeOnResolve',
  'orphanSweep',
] as const

interface ResolvedUrl {
  readonly url: string
  readonly objectUrl: boolean
  /** Epoch ms after which the URL must be signed again. */
  readonly refreshAt: number
  readonly contentHash: string
  /** The OPFS file behind an object URL, and its path: a browser `File` stops being readable once
   * its file is replaced (a download or a save of the same content), so the URL is made again. */
  readonly file?: { readonly path: string; readonly lastModified: number; readonly size: number }
}

/** Whether the OPFS file behind `cached` is still the one its object URL reads. */
async function stillReadable(cached: ResolvedUrl): Promise<boolean> {
  if (!cached.file) return true
  const now = await opfsFile(cached.file.path)
  return now !== undefined && now.lastModified === cached.file.lastModified && now.size === cached.file.size
}

/** A file sync instance: see {@link createFileSync}. */
export class FileSync {
  readonly #store: Store<any>
  readonly #config: CreateFileSyncConfig
  readonly #listeners = new Set<FileSyncEventCallback>()
  readonly #urls = new Map<string, ResolvedUrl>()
  #engine: Promise<FileSyncEngine> | undefined
  #resolvedEngine: FileSyncEngine | undefined
  #started = false
  #disposed = false
  #stopping: Promise<void> | undefined
  #disposing: Promise<void> | undefined
  #leader = false
  #leadership: { readonly abort: AbortController; readonly release: () => void } | undefined

  constructor(config: CreateFileSyncConfig) {
    this.#store = config.store
    this.#config = config
    if (config.options?.onEvent) this.#listeners.add(config.options.onEvent)
  }

  /** The store's id. */
  get storeId(): string {
    return this.#store.storeId
  }

  #emit = (event: FileSyncEvent): void => {
    const e = event as any
    if (e.error !== undefined) e.error = toFileSyncError(e.error)
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch (error) {
        console.warn('[filesync] an event listener threw', error)
      }
    }
  }

  #engineReady(): Promise<FileSyncEngine> {
    if (this.#disposed) {
      return Promise.reject(new NotInitializedError('STOPPED', 'this file sync instance was disposed; create a new one'))
    }
    this.#engine ??= (async () => {
      const options = this.#config.options ?? {}
      const missing = missingSchemaParts(this.#store)
      if (missing.length > 0) {
        throw new InvalidInputError(
          'SCHEMA_MISSING',
          `the store's schema lacks what file sync needs: ${missing.join(', ')}. Spread createFileSyncSchema().tables and .events into your schema and add createMaterializers(tables) to its materializers.`,
        )
      }
      await loadEngine()
      wrapSync(() => setLogger(options.logLevel ?? 'warn', options.onLog ?? null))
      const remote = this.#config.remote
      const config: Record<string, unknown> = {
        storeId: this.#store.storeId,
        fileSystem: this.#config.fileSystem ?? 'opfs',
        remote:
          remote === false
            ? null
            : {
                signerBaseUrl: remote?.signerBaseUrl ?? '/api',
                ...(remote?.authToken !== undefined ? { authToken: remote.authToken } : {}),
                ...(remote?.headers !== undefined ? { headers: remote.headers } : {}),
                ...(remote?.includeCredentials !== undefined ? { includeCredentials: remote.includeCredentials } : {}),
              },
      }
      for (const key of engineOptionKeys) {
        if (options[key] !== undefined) config[key] = options[key]
      }
      const worker = config.fileSystem === 'opfs' ? startWorker(this.#config.worker) : undefined
      if (worker !== undefined) config.worker = worker
      let engine: FileSyncEngine
      try {
        engine = await wrap(FileSyncEngine.create(config, makeCatalogGlue(this.#store), this.#emit))
      } catch (error) {
        worker?.terminate() // the engine never took it over
        throw error
      }
      this.#resolvedEngine = engine
      return engine
    })()
    return this.#engine
  }

  /**
   * Resolves once the engine is loaded (its WebAssembly fetched and compiled, the store's schema
   * checked); rejects with what stops it (`SCHEMA_MISSING`, a `.wasm` that cannot be fetched, a
   * disposed instance). Every method waits for this by itself: it is for UIs that show a loading
   * state (the React and Vue `FileSyncProvider`s render their children after it).
   */
  async ready(): Promise<void> {
    await this.#engineReady()
  }

  /**
   * Starts syncing. Where the Web Locks API exists (browsers), one tab per store runs the sync loop:
   * this instance waits for the lock `filesync-livestore:<storeId>` and starts its loop when it gets
   * it (at once when no other tab holds it); until then it saves, updates, deletes and resolves
   * like any tab, and the leader uploads and downloads. When the leader closes or stops, another
   * tab takes over and resumes interrupted transfers. Resolves once the loop runs here or waits
   * for the lock.
   */
  async start(): Promise<void> {
    const engine = await this.#engineReady()
    if (this.#started) return
    this.#started = true
    const locks = this.#config.options?.leaderElection === false ? undefined : webLocks()
    if (locks === undefined) {
      await this.#lead(engine)
      return
    }
    const abort = new AbortController()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    this.#leadership = { abort, release }
    let first: Promise<void> | undefined
    const granted = new Promise<void>((resolve, reject) => {
      locks
        .request(`filesync-livestore:${this.storeId}`, { signal: abort.signal }, async () => {
          if (this.#leadership?.abort !== abort) return
          first = this.#lead(engine)
          try {
            await first
          } finally {
            resolve()
          }
          await held
        })
        .catch((error: unknown) => {
          if (!abort.signal.aborted) reject(error)
          else resolve()
        })
    })
    // Answer as soon as this tab leads, or at once when another tab holds the lock.
    const query = await locks.query().catch(() => undefined)
    const someoneElse = query?.held?.some((l: { name?: string }) => l.name === `filesync-livestore:${this.storeId}`) && !this.#leader
    if (someoneElse) {
      granted.catch((error) => console.error('[filesync] leader election failed:', error))
      return
    }
    await granted
    if (first) await first
  }

  async #lead(engine: FileSyncEngine): Promise<void> {
    this.#leader = true
    try {
      await this.#call(engine, engine.start())
    } catch (error) {
      this.#leader = false
      throw error
    }
  }

  /** Whether this instance runs the sync loop (the leader tab of its store). */
  isLeader(): boolean {
    return this.#leader
  }

  /** Stops syncing here (another tab may take over); saves and reads still work, and `start()`
   * starts again. Transfers in flight resume on the next start. */
  async stop(): Promise<void> {
    // A stop in flight is joined: a second one must not free the engine under the first.
    if (this.#stopping !== undefined) return this.#stopping
    if (!this.#started) return
    this.#started = false
    this.#stopping = this.#stop().finally(() => (this.#stopping = undefined))
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const leadership = this.#leadership
    this.#leadership = undefined
    const wasLeader = this.#leader
    this.#leader = false
    const engine = await this.#engine?.catch(() => undefined)
    if (wasLeader && engine) {
      await engine.stop()
      // A stopped engine cannot start again: the next call makes a fresh one.
      this.#engine = undefined
      this.#resolvedEngine = undefined
      await freeEngine(engine)
    }
    leadership?.abort.abort()
    leadership?.release()
  }

  /** Stops and releases everything (object URLs included); the instance cannot be used again.
   * Calls made while a dispose runs share it. */
  dispose(): Promise<void> {
    this.#disposing ??= this.#dispose()
    return this.#disposing
  }

  async #dispose(): Promise<void> {
    await this.stop()
    this.#disposed = true
    for (const [, resolved] of this.#urls) if (resolved.objectUrl) URL.revokeObjectURL(resolved.url)
    this.#urls.clear()
    this.#listeners.clear()
    const engine = await this.#engine?.catch(() => undefined)
    this.#engine = undefined
    this.#resolvedEngine = undefined
    if (engine) await freeEngine(engine)
  }

  /** Runs an engine call, counted so that the engine is freed only once it settled (freeing an
   * engine a call still borrows throws). */
  #call<T>(engine: FileSyncEngine, call: Promise<T>): Promise<T> {
    let calls = inFlight.get(engine)
    if (calls === undefined) inFlight.set(engine, (calls = new Set()))
    calls.add(call)
    const done = () => calls.delete(call)
    call.then(done, done)
    return wrap(call)
  }

  async #prepare(file: Content): Promise<{ content: Content; options: Record<string, unknown> }> {
    if (!(file instanceof Blob) && !(file instanceof Uint8Array) && !(file instanceof ArrayBuffer)) {
      throw new InvalidInputError('INVALID_INPUT', 'saveFile/updateFile take a File, a Blob, a Uint8Array or an ArrayBuffer')
    }
    let content: Content = file
    let metadata: Record<string, unknown> | undefined
    const mimeType = file instanceof Blob ? file.type : ''
    const preprocessor = mimeType ? findPreprocessor(this.#config.options?.preprocessors, mimeType) : undefined
    if (preprocessor && file instanceof Blob) {
      try {
        const result = await preprocessor(file)
        if (result instanceof Blob) content = result
        else {
          content = result.file
          metadata = result.metadata
        }
      } catch (error) {
        throw new InvalidInputError('PREPROCESSOR_FAILED', `the preprocessor for ${mimeType} failed: ${String((error as Error)?.message ?? error)}`, { cause: error })
      }
    }
    const finalType = content instanceof Blob && content.type ? content.type : mimeType
    const name = content instanceof File ? content.name : file instanceof File ? file.name : undefined
    return {
      content,
      options: {
        ...(finalType ? { mimeType: finalType } : {}),
        ...(name ? { name } : {}),
        ...(metadata ? { metadata } : {}),
      },
    }
  }

  /** Saves a new file: stored locally, hashed, recorded, then uploaded in the background. */
  async saveFile(file: Content): Promise<SavedFileResult> {
    const engine = await this.#engineReady()
    const { content, options } = await this.#prepare(file)
    return this.#call(engine, engine.save(content, options))
  }

  /** Replaces a file's content (nothing changes when the content is the same). */
  async updateFile(fileId: string, file: Content): Promise<SavedFileResult> {
    const engine = await this.#engineReady()
    const { content, options } = await this.#prepare(file)
    return this.#call(engine, engine.update(fileId, content, options))
  }

  /** Deletes a file: its row is soft-deleted; local and remote copies go when nothing else uses them. */
  async deleteFile(fileId: string): Promise<void> {
    const engine = await this.#engineReady()
    await this.#call(engine, engine.delete(fileId))
    this.#forgetUrl(fileId)
  }

  /** The local bytes at a file row's `path`, as a `File` (only what is stored on this client). */
  async readFile(path: string): Promise<File> {
    const engine = await this.#engineReady()
    const bytes = await this.#localBytes(engine, path)
    const name = path.split('/').pop() ?? 'file'
    // The row's metadata first; else what was stored beside the bytes (a download's type, or the
    // sidecar @livestore-filesync/core 0.8.0 wrote).
    const type = this.#mimeOfPath(path) || ((await this.#call(engine, engine.mimeOfPath(path))) ?? '')
    return new File([bytes], name, { type })
  }

  /**
   * The stored bytes at `path`: in OPFS, the file itself (a `File` the browser reads from disk when
   * asked, so a large file never passes through memory); elsewhere, read through the engine.
   */
  async #localBytes(engine: FileSyncEngine, path: string): Promise<BlobPart> {
    if ((this.#config.fileSystem ?? 'opfs') === 'opfs') {
      const file = await opfsFile(path)
      if (file) return file
    }
    return (await this.#call(engine, engine.readPath(path))) as BlobPart
  }

  #mimeOfPath(path: string): string {
    const rows = this.#store.query({
      query: 'SELECT metadataJson FROM files WHERE path = ? AND metadataJson IS NOT NULL LIMIT 1',
      bindValues: [path.replace(/^\//, '')],
    } as any) as Array<{ metadataJson: string }>
    try {
      const meta = JSON.parse(rows[0]?.metadataJson ?? '{}')
      return typeof meta?.mimeType === 'string' ? meta.mimeType : ''
    } catch {
      return ''
    }
  }

  /** An object URL of the local bytes at `path`, or `null` when they are not stored here. The
   * caller revokes it. */
  async getFileUrl(path: string): Promise<string | null> {
    try {
      return URL.createObjectURL(await this.readFile(path))
    } catch (error) {
      if (error instanceof FileSyncError && (error.code === 'STORAGE' || error.code === 'NOT_LOCAL')) return null
      throw error
    }
  }

  /**
   * A URL to display the file: an object URL of the verified local copy (revoked when a later call
   * finds other content or no live file, deleted here or elsewhere, and on dispose), else a signed
   * remote URL (signed again when it nears expiry), else `null` when no copy exists anywhere yet.
   */
  async resolveFileUrl(fileId: string): Promise<string | null> {
    const engine = await this.#engineReady()
    const cached = this.#urls.get(fileId)
    const row = (this.#store.query({ query: 'SELECT contentHash FROM files WHERE id = ? AND deletedAt IS NULL', bindValues: [fileId] } as any) as Array<{ contentHash: string }>)[0]
    if (cached && row && cached.contentHash === row.contentHash && cached.refreshAt === Number.POSITIVE_INFINITY && (await stillReadable(cached))) {
      // A local URL stays valid while the content is the same; a remote URL is replaced as soon
      // as the local copy is verified (below).
      return cached.url
    }
    let resolved:
      | { kind: 'local'; path: string; mimeType: string | null }
      | { kind: 'remote'; url: string; expiresAt: number }
      | null
    try {
      resolved = await this.#call(engine, engine.resolve(fileId))
    } catch (error) {
      // Deleted (here or by another client) or never known: its object URL goes too.
      if (error instanceof FileNotFoundError) this.#forgetUrl(fileId)
      throw error
    }
    if (resolved === null) {
      this.#forgetUrl(fileId)
      return null
    }
    const contentHash = row?.contentHash ?? ''
    if (resolved.kind === 'remote') {
      if (cached && !cached.objectUrl && cached.contentHash === contentHash && Date.now() < cached.refreshAt) return cached.url
      this.#forgetUrl(fileId)
      this.#urls.set(fileId, { url: resolved.url, objectUrl: false, refreshAt: resolved.expiresAt - 60_000, contentHash })
      return resolved.url
    }
    if (cached && cached.objectUrl && cached.contentHash === contentHash && (await stillReadable(cached))) return cached.url
    const fileSystem = this.#config.fileSystem
    if (typeof fileSystem === 'object' && typeof fileSystem.fileUrl === 'function') {
      // A file system with its own URLs (Node: `file:` URLs): nothing to revoke.
      const url = await fileSystem.fileUrl(resolved.path)
      this.#forgetUrl(fileId)
      this.#urls.set(fileId, { url, objectUrl: false, refreshAt: Number.POSITIVE_INFINITY, contentHash })
      return url
    }
    const bytes = await this.#localBytes(engine, resolved.path)
    const url = URL.createObjectURL(new Blob([bytes], { type: resolved.mimeType ?? '' }))
    this.#forgetUrl(fileId)
    const file = bytes instanceof File ? { path: resolved.path, lastModified: bytes.lastModified, size: bytes.size } : undefined
    this.#urls.set(fileId, { url, objectUrl: true, refreshAt: Number.POSITIVE_INFINITY, contentHash, ...(file ? { file } : {}) })
    return url
  }

  #forgetUrl(fileId: string): void {
    const cached = this.#urls.get(fileId)
    if (cached?.objectUrl) URL.revokeObjectURL(cached.url)
    this.#urls.delete(fileId)
  }

  /** Moves a file's download to the front of the queue. */
  async prioritizeDownload(fileId: string): Promise<void> {
    ;(await this.#engineReady()).prioritizeDownload(fileId)
  }

  /**
   * Whether the remote is reachable: false in local-only mode, before the first check, and in a
   * tab that is not its store's leader (the leader runs the health checks).
   */
  isOnline(): boolean {
    return this.#started && this.#resolvedEngine?.isOnline() === true
  }

  /** Reconciles now (checks local files and queues what is missing). */
  async triggerSync(): Promise<void> {
    const engine = await this.#engineReady()
    await this.#call(engine, engine.syncNow())
  }

  /** Re-queues files whose transfers failed for good; answers their ids. */
  async retryErrors(): Promise<string[]> {
    const engine = await this.#engineReady()
    return this.#call(engine, engine.retryErrors())
  }

  /** Listens to events; answers a function that stops listening. */
  onEvent(callback: FileSyncEventCallback): () => void {
    this.#listeners.add(callback)
    return () => this.#listeners.delete(callback)
  }

  /**
   * The remote keys the live rows of this store reference (uploaded or still to be uploaded):
   * what a server-side garbage collection (`filesync gc`) must keep.
   */
  listLiveRemoteKeys(): string[] {
    const rows = this.#store.query({
      query: "SELECT remoteKey, contentHash FROM files WHERE deletedAt IS NULL AND (remoteKey != '' OR contentHash != '')",
      bindValues: [],
    } as any) as Array<{ remoteKey: string; contentHash: string }>
    const prefix = this.storeId.replace(/[^A-Za-z0-9._-]/g, '_')
    const keys = new Set<string>()
    for (const row of rows) keys.add(row.remoteKey !== '' ? row.remoteKey : `${prefix}/${row.contentHash}`)
    return [...keys].sort()
  }

  /** How much the origin stores and may store (`navigator.storage.estimate()`); `null` where the
   * runtime has no such API (Node). */
  async getStorageUsage(): Promise<{ usage: number; quota: number } | null> {
    const storage = (globalThis as any).navigator?.storage
    if (typeof storage?.estimate !== 'function') return null
    const { usage = 0, quota = 0 } = await storage.estimate()
    return { usage, quota }
  }

  /** Asks the browser to keep this origin's storage under pressure (`navigator.storage.persist()`);
   * answers whether it is persistent (false where the runtime has no such API). */
  async requestPersistentStorage(): Promise<boolean> {
    const storage = (globalThis as any).navigator?.storage
    if (typeof storage?.persist !== 'function') return false
    return Boolean(await storage.persist())
  }

  /** True when nothing is queued, running or waiting (for tests and shutdown). */
  async isIdle(): Promise<boolean> {
    return (await this.#engineReady()).isIdle()
  }
}

/** The engine calls in flight, per engine. */
const inFlight = new WeakMap<FileSyncEngine, Set<Promise<unknown>>>()

/** Frees `engine` once the calls in flight on it settled. */
async function freeEngine(engine: FileSyncEngine): Promise<void> {
  const calls = inFlight.get(engine)
  if (calls !== undefined && calls.size > 0) await Promise.allSettled([...calls])
  engine.free()
}

/** The Web Locks API, where there is one. */
function webLocks(): any {
  const locks = (globalThis as any).navigator?.locks
  return typeof locks?.request === 'function' ? locks : undefined
}

/** A file sync instance over `config.store` (not started: call `start()`). */
export function createFileSync(config: CreateFileSyncConfig): FileSync {
  if (config == null || config.store == null) {
    throw new InvalidInputError('INVALID_INPUT', 'createFileSync needs { store }: the LiveStore store to sync files for')
  }
  return new FileSync(config)
}

/**
 * The OPFS file at `path` (below the OPFS root, where the engine's OPFS file system keeps it), or
 * `undefined` when it is not there or OPFS is not available.
 */
async function opfsFile(path: string): Promise<File | undefined> {
  try {
    const parts = path.replace(/^\//, '').split('/')
    const name = parts.pop()
    if (!name) return undefined
    let dir = await navigator.storage.getDirectory()
    for (const part of parts) dir = await dir.getDirectoryHandle(part)
    return await (await dir.getFileHandle(name)).getFile()
  } catch {
    return undefined
  }
}
