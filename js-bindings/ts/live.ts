/**
 * Live values for the framework entry points (`filesync-livestore/react`, `filesync-livestore/vue`):
 * a value to read now and a way to hear when it changes (the shape React's `useSyncExternalStore`
 * takes; Vue copies it into a ref). Rows come from `store.subscribe` over raw SQL, so they follow
 * every commit: this tab's, another tab's, another client's. No framework is imported here.
 *
 * @internal
 */
import { queryDb, Schema } from '@livestore/livestore'
import type { Store } from '@livestore/livestore'

import type { FileSync, FileSyncEvent } from './filesync.js'
import {
  createActiveTransferProgress,
  getFileDisplayState,
  getSyncStatus,
  type ActiveTransferProgress,
  type FileDisplayState,
  type FileRecord,
  type LocalFileStateRow,
  type SyncStatus,
} from './helpers.js'

/** A value that changes: `get()` answers the current one (the same object until it changes). */
export interface LiveValue<T> {
  /** The current value. */
  readonly get: () => T
  /** Calls `onChange` after each change; answers a function that stops it. */
  readonly subscribe: (onChange: () => void) => () => void
}

const anyRows = Schema.Array(Schema.Any)

/**
 * The rows of `sql` mapped by `map`, kept while `same` says nothing changed. Subscribed to the
 * store while someone listens; read at once when nobody does.
 */
function liveRows<T>(
  store: Store<any>,
  sql: string,
  bindValues: ReadonlyArray<string | number>,
  tables: ReadonlyArray<string>,
  label: string,
  map: (rows: ReadonlyArray<any>) => T,
  same: (a: T, b: T) => boolean,
): LiveValue<T> {
  const query$ = queryDb({ query: sql, schema: anyRows, bindValues: [...bindValues], queriedTables: new Set(tables) }, { label })
  let value: { current: T } | undefined
  let stop: (() => void) | undefined
  const listeners = new Set<() => void>()
  const take = (rows: ReadonlyArray<any>): boolean => {
    const next = map(rows)
    if (value !== undefined && same(value.current, next)) return false
    value = { current: next }
    return true
  }
  return {
    get: () => {
      if (stop === undefined) take(store.query(query$) as ReadonlyArray<any>)
      return value!.current
    },
    subscribe: (onChange) => {
      if (stop === undefined) {
        stop = store.subscribe(query$, (rows) => {
          // A subscription callback that throws shuts the store down: nothing may escape.
          try {
            if (!take(rows as ReadonlyArray<any>)) return
            for (const listener of [...listeners]) listener()
          } catch (error) {
            console.error('[filesync] a live query listener failed', error)
          }
        })
      }
      listeners.add(onChange)
      return () => {
        listeners.delete(onChange)
        if (listeners.size === 0 && stop !== undefined) {
          const unsubscribe = stop
          stop = undefined
          unsubscribe()
        }
      }
    },
  }
}

const FILE_SQL = `SELECT f.id, f.path, f.remoteKey, f.contentHash, f.metadataJson, f.createdAt, f.updatedAt, f.deletedAt,
  l.fileId AS lFileId, l.path AS lPath, l.localHash AS lLocalHash, l.downloadStatus AS lDownloadStatus,
  l.uploadStatus AS lUploadStatus, l.lastSyncError AS lLastSyncError
FROM files f LEFT JOIN localFileState l ON l.fileId = f.id WHERE f.id = ?`

const date = (ms: unknown): Date => new Date(typeof ms === 'number' ? ms : Number(ms))

function displayStateOf(rows: ReadonlyArray<any>): FileDisplayState<FileRecord> | null {
  const r = rows[0]
  if (r === undefined || r.deletedAt !== null) return null
  const file: FileRecord = {
    id: r.id,
    path: r.path,
    remoteKey: r.remoteKey,
    contentHash: r.contentHash,
    metadataJson: r.metadataJson,
    createdAt: date(r.createdAt),
    updatedAt: date(r.updatedAt),
    deletedAt: null,
  }
  const local: LocalFileStateRow | undefined =
    r.lFileId === null || r.lFileId === undefined
      ? undefined
      : {
          fileId: r.lFileId,
          path: r.lPath,
          localHash: r.lLocalHash,
          downloadStatus: r.lDownloadStatus,
          uploadStatus: r.lUploadStatus,
          lastSyncError: r.lLastSyncError,
        }
  return getFileDisplayState(file, local)
}

/** What a display state's change is made of: the row and this client's state row. */
export function displaySignature(state: FileDisplayState<FileRecord> | null): string {
  if (state === null) return ''
  const { file, localState: l } = state
  return JSON.stringify([
    file.path,
    file.remoteKey,
    file.contentHash,
    file.metadataJson,
    file.createdAt.getTime(),
    file.updatedAt.getTime(),
    l?.path,
    l?.localHash,
    l?.downloadStatus,
    l?.uploadStatus,
    l?.lastSyncError,
  ])
}

/**
 * What changes the URL `resolveFileUrl` answers (0.8.0's card re-resolves on these): the content,
 * the remote copy, and this client's copy and transfers.
 */
export function urlSignature(state: FileDisplayState<FileRecord> | null): string {
  if (state === null) return ''
  const { file, localState: l } = state
  return JSON.stringify([file.contentHash, file.remoteKey, file.updatedAt.getTime(), l?.localHash, l?.downloadStatus, l?.uploadStatus])
}

/** The display state of file `fileId` (`null` while it has no live row: unknown or deleted). */
export function liveFile(store: Store<any>, fileId: string): LiveValue<FileDisplayState<FileRecord> | null> {
  return liveRows(store, FILE_SQL, [fileId], ['files', 'localFileState'], `filesync:file:${fileId}`, displayStateOf, (a, b) => displaySignature(a) === displaySignature(b) && (a === null) === (b === null))
}

/** The sync status of this client's `localFileState` rows. */
export function liveSyncStatus(store: Store<any>): LiveValue<SyncStatus> {
  return liveRows(
    store,
    'SELECT fileId, path, localHash, downloadStatus, uploadStatus, lastSyncError FROM localFileState ORDER BY fileId',
    [],
    ['localFileState'],
    'filesync:sync-status',
    (rows) => getSyncStatus(rows as ReadonlyArray<LocalFileStateRow>),
    (a, b) => JSON.stringify(a) === JSON.stringify(b),
  )
}

/** A value that never changes. */
export function constant<T>(value: T): LiveValue<T> {
  return { get: () => value, subscribe: () => () => {} }
}

/**
 * The byte progress of an instance's transfers, from its `upload:progress` and
 * `download:progress` events; a file's entry goes when its transfer completes or fails. Events
 * fire in the tab that runs the sync loop (the leader), so other tabs see no progress.
 */
export class TransferProgress {
  readonly #transfers = new Map<string, ActiveTransferProgress>()
  readonly #listeners = new Map<string, Set<() => void>>()

  constructor(fileSync: FileSync) {
    fileSync.onEvent((event) => this.#on(event))
  }

  #on(event: FileSyncEvent): void {
    switch (event.type) {
      case 'upload:progress':
      case 'download:progress': {
        const { kind, loaded, total } = event.progress
        this.#transfers.set(event.fileId, createActiveTransferProgress(event.fileId, kind, loaded, total))
        this.#notify(event.fileId)
        break
      }
      case 'upload:complete':
      case 'download:complete':
      case 'upload:error':
      case 'download:error':
      case 'transfer:exhausted':
        if (this.#transfers.delete(event.fileId)) this.#notify(event.fileId)
        break
    }
  }

  #notify(fileId: string): void {
    for (const listener of [...(this.#listeners.get(fileId) ?? [])]) {
      try {
        listener()
      } catch (error) {
        console.error('[filesync] a transfer progress listener failed', error)
      }
    }
  }

  /** The transfer of `fileId` in flight, or `null`. */
  get(fileId: string): ActiveTransferProgress | null {
    return this.#transfers.get(fileId) ?? null
  }

  /** The progress of `fileId` as a {@link LiveValue}. */
  of(fileId: string): LiveValue<ActiveTransferProgress | null> {
    return {
      get: () => this.get(fileId),
      subscribe: (onChange) => {
        let set = this.#listeners.get(fileId)
        if (set === undefined) this.#listeners.set(fileId, (set = new Set()))
        set.add(onChange)
        return () => {
          set.delete(onChange)
          if (set.size === 0) this.#listeners.delete(fileId)
        }
      },
    }
  }
}

const trackers = new WeakMap<FileSync, TransferProgress>()

/** The instance's {@link TransferProgress} (one per instance, made on first use). */
export function transferProgressOf(fileSync: FileSync): TransferProgress {
  let tracker = trackers.get(fileSync)
  if (tracker === undefined) trackers.set(fileSync, (tracker = new TransferProgress(fileSync)))
  return tracker
}
