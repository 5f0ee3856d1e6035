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

// The rows of a change query are read as they come (two text columns the query itself builds):
// decoding each row through a struct schema would cost more than the comparison.
const changeRows = Schema.Array(Schema.Any)

// One query over the three tables: LiveStore re-runs it once per commit that touches any of them
// (three subscriptions cost three re-runs). Each row is (table tag, id, signature of the columns
// the engine reads). The cost of a commit grows with the rows (LiveStore reads the whole result
// back each time): measured, and the next thing to replace (see js-bindings/bench/save.mjs).
const CHANGES_SQL = [
  `SELECT 'f' AS t, id AS k, (contentHash || '|' || remoteKey || '|' || path || '|' || updatedAt || '|' || IFNULL(deletedAt, '') || '|' || IFNULL(metadataJson, '')) AS s FROM files`,
  `SELECT 'l', fileId, (path || '|' || localHash || '|' || downloadStatus || '|' || uploadStatus || '|' || lastSyncError) FROM localFileState`,
  `SELECT 't', fileId, (contentHash || '|' || IFNULL(localSize, '') || '|' || IFNULL(uploadResume, '')) FROM fileTransferState`,
].join(' UNION ALL ')

/**
 * Watches the three tables: each update is compared with the last, row by row, and the ids of
 * rows that appeared, changed or went are reported per table.
 */
function watchTables(store: AnyStore, report: (change: ChangeReport) => void): () => void {
  let last: Map<string, string> | undefined
  const query$ = queryDb({ query: CHANGES_SQL, schema: changeRows }, { label: 'filesync:changes' })
  return store.subscribe(query$, (rows: ReadonlyArray<{ t: string; k: string; s: string }>) => {
    // A subscription callback that throws shuts the store down: nothing may escape from here.
    try {
      diff(rows)
    } catch (error) {
      // `last` still holds the rows before this change, so the next update reports it again.
      console.error('[filesync] handling a store change failed; the next change retries it', error)
    }
  })

  function diff(rows: ReadonlyArray<{ t: string; k: string; s: string }>): void {
    const next = new Map<string, string>()
    for (const row of rows) next.set(`${row.t}${row.k}`, row.s)
    if (last === undefined) {
      last = next
      return
    }
    const change: ChangeReport = { files: [], localStates: [], transferStates: [] }
    const add = (key: string) => {
      const id = key.slice(1)
      if (key[0] === 'f') change.files.push(id)
      else if (key[0] === 'l') change.localStates.push(id)
      else change.transferStates.push(id)
    }
    for (const [key, sig] of next) if (last.get(key) !== sig) add(key)
    for (const key of last.keys()) if (!next.has(key)) add(key)
    if (change.files.length + change.localStates.length + change.transferStates.length > 0) report(change)
    last = next
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
      try {
        ;(store.commit as (...e: unknown[]) => void)(...decoded)
      } catch (error) {
        throw new GlueError('unavailable', `the store refused the commit (${String((error as Error)?.message ?? error)})`)
      }
    },

    subscribe: (onChange: (change: ChangeReport) => void) => watchTables(store, onChange),
  }
}

/** The catalog glue's type. */
export type CatalogGlue = ReturnType<typeof makeCatalogGlue>
