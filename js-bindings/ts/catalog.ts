/**
 * The catalog glue: the object the Rust engine reads and commits through, over a LiveStore store.
 *
 * Reads are raw SQL (`store.query({query, bindValues})` is synchronous and answers dates as epoch
 * milliseconds, the engine's row shapes). Commits take the engine's `{name, args}` events with
 * args in their encoded form (dates as ISO strings), decode them with the store's own event
 * schema, and commit them together; args that do not decode are refused before they reach
 * `commit`, because LiveStore shuts a store down on them. Changes are found by subscribing to the
 * three tables and comparing each row with the one seen before.
 *
 * @internal
 */
import { queryDb, Schema } from '@livestore/livestore'
import type { Store } from '@livestore/livestore'

import { REQUIRED_EVENTS, REQUIRED_TABLES } from './schema.js'

/** A `files` row as the engine reads it (dates as epoch ms). */
export interface FileRowRaw {
  readonly id: string
  readonly path: string
  readonly remoteKey: string
  readonly contentHash: string
  readonly metadataJson: string | null
  readonly createdAt: number
  readonly updatedAt: number
  readonly deletedAt: number | null
}

/** A `localFileState` row. */
export interface LocalFileStateRowRaw {
  readonly fileId: string
  readonly path: string
  readonly localHash: string
  readonly downloadStatus: string
  readonly uploadStatus: string
  readonly lastSyncError: string
}

/** What changed, by id, as the engine wants it. */
export interface ChangeReport {
  readonly everything?: boolean
  readonly files: string[]
  readonly localStates: string[]
  readonly transferStates: string[]
}

/** A refusal the engine reads as "nothing was committed". */
class GlueError extends Error {
  constructor(
    readonly kind: 'invalid' | 'unavailable',
    message: string,
    readonly fileId?: string,
  ) {
    super(message)
  }
}

const FILE_COLUMNS = 'id, path, remoteKey, contentHash, metadataJson, createdAt, updatedAt, deletedAt'
const LOCAL_COLUMNS = 'fileId, path, localHash, downloadStatus, uploadStatus, lastSyncError'
const TRANSFER_COLUMNS = 'fileId, contentHash, localSize, uploadResume'

type AnyStore = Store<any>

interface EventDef {
  (args: unknown): unknown
  readonly schema: Schema.Schema<any, any>
}

/** The names the app's schema lacks, empty when it has everything file sync needs. */
export function missingSchemaParts(store: AnyStore): string[] {
  const missing: string[] = []
  const tables: Map<string, unknown> | undefined = (store.schema as any)?.state?.sqlite?.tables
  for (const name of REQUIRED_TABLES) {
    if (!tables?.has(name)) missing.push(`table "${name}"`)
  }
  const events: Map<string, unknown> | undefined = (store.schema as any)?.eventsDefsMap
  for (const name of REQUIRED_EVENTS) {
    if (!events?.has(name)) missing.push(`event "${name}"`)
  }
  return missing
}

// The rows of the change query are read as they come (a schema decode per row would cost more).
const anyRows = Schema.Array(Schema.Any)

interface JournalRow {
  readonly seq: number
  readonly kind: string
  readonly fileId: string
  readonly sig: string
}

/**
 * Watches the `fileSyncChanges` journal the materializers append to: on every write to it, the
 * rows after the last one seen are read and their file ids reported per table, so a commit costs
 * in proportion to what it changed. A rebase may roll rows back and reuse their sequence numbers,
 * so the row seen last is read again: when it is gone or different, everything is reported (the
 * engine then reads every table once).
 */
function watchJournal(store: AnyStore, report: (change: ChangeReport) => void): () => void {
  let last: JournalRow | undefined
  let scheduled = false
  const read = (): void => {
    scheduled = false
    const from = last?.seq ?? 0
    const rows = store.query({
      query: 'SELECT seq, kind, fileId, sig FROM fileSyncChanges WHERE seq >= ? ORDER BY seq',
      bindValues: [from],
    } as any) as JournalRow[]
    if (last === undefined) {
      // The first look: the engine starts with a full pass anyway.
      last = rows.at(-1) ?? { seq: 0, kind: '', fileId: '', sig: '' }
      return
    }
    const anchor = rows[0]
    const intact = last.seq === 0 || (anchor !== undefined && anchor.seq === last.seq && anchor.kind === last.kind && anchor.fileId === last.fileId && anchor.sig === last.sig)
    const newest = rows.at(-1)
    if (!intact) {
      if (newest === undefined) {
        // Everything after a rollback to an empty journal: start over from nothing.
        last = { seq: 0, kind: '', fileId: '', sig: '' }
      } else {
        last = newest
      }
      report({ everything: true, files: [], localStates: [], transferStates: [] })
      return
    }
    const change = { files: [] as string[], localStates: [] as string[], transferStates: [] as string[], everything: false }
    for (const row of rows) {
      if (row.seq <= last.seq) continue
      if (row.kind === 'f') change.files.push(row.fileId)
      else if (row.kind === 'l') change.localStates.push(row.fileId)
      else if (row.kind === 't') change.transferStates.push(row.fileId)
      else change.everything = true
    }
    if (newest !== undefined) last = newest
    if (change.everything || change.files.length + change.localStates.length + change.transferStates.length > 0) report(change)
  }
  const query$ = queryDb({ query: 'SELECT MAX(seq) AS m, COUNT(*) AS n FROM fileSyncChanges', schema: anyRows }, { label: 'filesync:changes' })
  return store.subscribe(query$, () => {
    // A subscription callback that throws shuts the store down: nothing may escape from here. The
    // read runs after the commit that triggered this callback has finished.
    if (scheduled) return
    scheduled = true
    queueMicrotask(() => {
      try {
        read()
      } catch (error) {
        scheduled = false
        console.error('[filesync] reading the change journal failed; the next change retries it', error)
      }
    })
  })
}

/** Runs `f` in a task of its own after the current one (before timers in browsers). */
function nextTask(): (f: () => void) => void {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate
  if (typeof immediate === 'function') return (f) => void immediate(f)
  if (typeof MessageChannel === 'function') {
    const queue: Array<() => void> = []
    const channel = new MessageChannel()
    channel.port1.onmessage = () => queue.shift()?.()
    return (f) => {
      queue.push(f)
      channel.port2.postMessage(null)
    }
  }
  return (f) => void setTimeout(f, 0)
}

const refused = (error: unknown) =>
  new GlueError('unavailable', `the store refused the commit (${String((error as Error)?.message ?? error)})`)

/**
 * Commits in batches where that is safe. LiveStore's cost is mostly per `store.commit` call
 * (materializing in a transaction, refreshing queries, sending to the leader), so saves that finish
 * together (many in flight) share one: `later(events)` joins the batch committed in the next task,
 * and its Promise settles with it. `now(events)` commits the batch waiting, then `events`, at once.
 */
function commitBatcher(store: AnyStore) {
  type Waiting = { events: unknown[]; resolve: () => void; reject: (e: unknown) => void }
  let waiting: Waiting[] = []
  let schedule: ((f: () => void) => void) | undefined
  const commit = (events: unknown[]): void => {
    try {
      ;(store.commit as (...e: unknown[]) => void)(...events)
    } catch (error) {
      throw refused(error)
    }
  }
  const flush = (): void => {
    if (waiting.length === 0) return
    const batch = waiting
    waiting = []
    try {
      commit(batch.flatMap((w) => w.events))
    } catch (error) {
      for (const w of batch) w.reject(error)
      return
    }
    for (const w of batch) w.resolve()
  }
  return {
    later(events: unknown[]): Promise<void> {
      return new Promise((resolve, reject) => {
        waiting.push({ events, resolve, reject })
        if (waiting.length === 1) {
          schedule ??= nextTask()
          schedule(flush)
        }
      })
    },
    now(events: unknown[]): void {
      flush()
      commit(events)
    },
  }
}

/** The glue object the engine calls (see `src/catalog.rs` in the crate). */
export function makeCatalogGlue(store: AnyStore) {
  const eventsDefs: Map<string, EventDef> = (store.schema as any).eventsDefsMap
  // One decoder per event name, made on first use.
  const decoders = new Map<string, (args: unknown) => ReturnType<ReturnType<typeof Schema.decodeUnknownEither>>>()
  const query = <T>(sql: string, bindValues: unknown[] = []): T[] => {
    try {
      return store.query({ query: sql, bindValues } as any) as T[]
    } catch (error) {
      throw new GlueError('unavailable', `the store could not be read (${String((error as Error)?.message ?? error)})`)
    }
  }
  const first = <T>(sql: string, bindValues: unknown[]): T | null => query<T>(sql, bindValues)[0] ?? null
  const batcher = commitBatcher(store)

  return {
    files: () => query<FileRowRaw>(`SELECT ${FILE_COLUMNS} FROM files ORDER BY id`),
    file: (id: string) => first<FileRowRaw>(`SELECT ${FILE_COLUMNS} FROM files WHERE id = ?`, [id]),
    filesWithHash: (hash: string) =>
      query<FileRowRaw>(`SELECT ${FILE_COLUMNS} FROM files WHERE contentHash = ? ORDER BY id`, [hash]),
    localStates: () => query(`SELECT ${LOCAL_COLUMNS} FROM localFileState ORDER BY fileId`),
    localState: (fileId: string) =>
      first(`SELECT ${LOCAL_COLUMNS} FROM localFileState WHERE fileId = ?`, [fileId]),
    transferStates: () => query(`SELECT ${TRANSFER_COLUMNS} FROM fileTransferState ORDER BY fileId`),
    transferState: (fileId: string) =>
      first(`SELECT ${TRANSFER_COLUMNS} FROM fileTransferState WHERE fileId = ?`, [fileId]),

    commit: (events: ReadonlyArray<{ name: string; args: Record<string, unknown> }>) => {
      const decoded = events.map(({ name, args }) => {
        const def = eventsDefs.get(name)
        const fileId = typeof args?.id === 'string' ? args.id : typeof args?.fileId === 'string' ? args.fileId : undefined
        if (def === undefined) {
          throw new GlueError('invalid', `the store's schema has no event "${name}"; add createFileSyncSchema().events to it`, fileId)
        }
        let decode = decoders.get(name)
        if (decode === undefined) {
          decode = Schema.decodeUnknownEither(def.schema)
          decoders.set(name, decode)
        }
        const result = decode(args)
        if (result._tag === 'Left') {
          throw new GlueError('invalid', `event "${name}" does not match the store's schema: ${String(result.left)}`, fileId)
        }
        return def(result.right)
      })
      // A save's events (a new file's row and this client's state of it) concern an id nobody
      // else knows yet, so they may wait for the next task and share one commit with other
      // saves; every other commit is made now, after the saves waiting (order is kept).
      if (events[0]?.name === 'v1.FileCreated') return batcher.later(decoded)
      batcher.now(decoded)
    },

    subscribe: (onChange: (change: ChangeReport) => void) => watchJournal(store, onChange),
  }
}

/** The catalog glue's type. */
export type CatalogGlue = ReturnType<typeof makeCatalogGlue>
