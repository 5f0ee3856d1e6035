/**
 * The LiveStore tables and events of file sync, for apps to spread into their own schema.
 *
 * Names and encodings are those of `@livestore-filesync/core` 0.8.0, so an app can switch packages
 * without migrating its event log and clients of both packages can share a store. Two additions,
 * both invisible to 0.8.0 clients:
 *
 * - the client-only table `fileTransferState` and its events (`v1.FileTransferStateUpsert`,
 *   `v1.FileTransferStateRemove`): the size of verified local bytes and the resume token of an
 *   interrupted upload;
 * - an optional field `ifContentHash` on `v1.FileUpdated`: the events that record an upload (or a
 *   missing remote copy) name the content they concern, and our materializer applies them only
 *   while the row still holds that content. 0.8.0's decoder drops the field, so in that one race (another client's update lands
 *   before an upload's event) a 0.8.0 client keeps its last-writer-wins row. See the README.
 *
 * Materializers are idempotent: a replayed or rebased event, or a second tab, never fails an
 * insert (a failing materializer shuts a LiveStore store down).
 *
 * @module
 */
import { Events, Schema, State } from '@livestore/livestore'

/** `pending | queued | inProgress | done | error`. */
export const TransferStatusSchema = Schema.Literal('pending', 'queued', 'inProgress', 'done', 'error')

/** A `localFileState` row (also the args of `v1.LocalFileStateUpsert`). */
export const LocalFileStateRowSchema = Schema.Struct({
  fileId: Schema.String,
  path: Schema.String,
  localHash: Schema.String,
  downloadStatus: TransferStatusSchema,
  uploadStatus: TransferStatusSchema,
  lastSyncError: Schema.String,
})

/** A `fileTransferState` row (also the args of `v1.FileTransferStateUpsert`). */
export const FileTransferStateRowSchema = Schema.Struct({
  fileId: Schema.String,
  contentHash: Schema.String,
  localSize: Schema.NullOr(Schema.Number),
  uploadResume: Schema.NullOr(Schema.String),
})

/** The `fileSyncCursor` client document (kept for compatibility; the engine does not use it). */
export const FileSyncCursorSchema = Schema.Struct({
  lastEventSequence: Schema.String,
  updatedAt: Schema.Date,
})

/** The JSON kept in `files.metadataJson`. */
export const FileMetadataSchema = Schema.Struct({
  mimeType: Schema.optional(Schema.String),
  sizeBytes: Schema.optional(Schema.Number),
  image: Schema.optional(Schema.Struct({ width: Schema.Number, height: Schema.Number })),
  custom: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
})

/** Args of `v1.FileCreated`. */
export const FileCreatedPayloadSchema = Schema.Struct({
  id: Schema.String,
  path: Schema.String,
  contentHash: Schema.String,
  metadataJson: Schema.optional(Schema.NullOr(Schema.String)),
  createdAt: Schema.Date,
  updatedAt: Schema.Date,
})

/** Args of `v1.FileUpdated`, with our optional `ifContentHash`. */
export const FileUpdatedPayloadSchema = Schema.Struct({
  id: Schema.String,
  path: Schema.String,
  remoteKey: Schema.String,
  contentHash: Schema.String,
  metadataJson: Schema.optional(Schema.NullOr(Schema.String)),
  updatedAt: Schema.Date,
  ifContentHash: Schema.optional(Schema.String),
})

/** Args of `v1.FileDeleted`. */
export const FileDeletedPayloadSchema = Schema.Struct({
  id: Schema.String,
  deletedAt: Schema.Date,
})

const makeTables = () => ({
  files: State.SQLite.table({
    name: 'files',
    columns: {
      id: State.SQLite.text({ primaryKey: true }),
      path: State.SQLite.text({ default: '' }),
      remoteKey: State.SQLite.text({ default: '' }),
      contentHash: State.SQLite.text({ default: '' }),
      metadataJson: State.SQLite.text({ nullable: true }),
      createdAt: State.SQLite.integer({ schema: Schema.DateFromNumber }),
      updatedAt: State.SQLite.integer({ schema: Schema.DateFromNumber }),
      deletedAt: State.SQLite.integer({ nullable: true, schema: Schema.DateFromNumber }),
    },
  }),
  localFileState: State.SQLite.table({
    name: 'localFileState',
    columns: {
      fileId: State.SQLite.text({ primaryKey: true }),
      path: State.SQLite.text({ default: '' }),
      localHash: State.SQLite.text({ default: '' }),
      downloadStatus: State.SQLite.text({ default: 'pending' }),
      uploadStatus: State.SQLite.text({ default: 'pending' }),
      lastSyncError: State.SQLite.text({ default: '' }),
    },
  }),
  fileTransferState: State.SQLite.table({
    name: 'fileTransferState',
    columns: {
      fileId: State.SQLite.text({ primaryKey: true }),
      contentHash: State.SQLite.text({ default: '' }),
      localSize: State.SQLite.integer({ nullable: true }),
      uploadResume: State.SQLite.text({ nullable: true }),
    },
  }),
  // Ours, derived state only: one row per change the file sync events make, appended by the
  // materializers below, so the engine reads what changed instead of whole tables. LiveStore rolls
  // it back and replays it with the events on a rebase (sequence numbers can then be reused: the
  // reader checks the row it saw last). The newest JOURNAL_KEEP rows are kept.
  fileSyncChanges: State.SQLite.table({
    name: 'fileSyncChanges',
    columns: {
      seq: State.SQLite.integer({ primaryKey: true }),
      kind: State.SQLite.text({ default: '' }),
      fileId: State.SQLite.text({ default: '' }),
      sig: State.SQLite.text({ default: '' }),
    },
  }),
  fileSyncCursor: State.SQLite.clientDocument({
    name: 'fileSyncCursor',
    schema: FileSyncCursorSchema,
    default: { id: 'global', value: { lastEventSequence: 'e0', updatedAt: new Date(0) } },
  }),
})

/** The file sync tables (see {@link createFileSyncSchema}). */
export type FileSyncTables = ReturnType<typeof makeTables>

const makeEvents = (tables: FileSyncTables) => ({
  fileCreated: Events.synced({ name: 'v1.FileCreated', schema: FileCreatedPayloadSchema }),
  fileUpdated: Events.synced({ name: 'v1.FileUpdated', schema: FileUpdatedPayloadSchema }),
  fileDeleted: Events.synced({ name: 'v1.FileDeleted', schema: FileDeletedPayloadSchema }),
  localFileStateUpsert: Events.clientOnly({ name: 'v1.LocalFileStateUpsert', schema: LocalFileStateRowSchema }),
  localFileStateRemove: Events.clientOnly({
    name: 'v1.LocalFileStateRemove',
    schema: Schema.Struct({ fileId: Schema.String }),
  }),
  localFileStateClear: Events.clientOnly({ name: 'v1.LocalFileStateClear', schema: Schema.Struct({}) }),
  fileTransferStateUpsert: Events.clientOnly({
    name: 'v1.FileTransferStateUpsert',
    schema: FileTransferStateRowSchema,
  }),
  fileTransferStateRemove: Events.clientOnly({
    name: 'v1.FileTransferStateRemove',
    schema: Schema.Struct({ fileId: Schema.String }),
  }),
  fileSyncCursorSet: tables.fileSyncCursor.set,
})

/** The file sync events (see {@link createFileSyncSchema}). */
export type FileSyncEvents = ReturnType<typeof makeEvents>

/** The tables an app's schema must hold for file sync (what {@link createFileSyncSchema} makes). */
export interface FileSyncAppTables {
  readonly files: FileSyncTables['files']
  readonly localFileState: FileSyncTables['localFileState']
  readonly fileTransferState: FileSyncTables['fileTransferState']
  readonly fileSyncChanges: FileSyncTables['fileSyncChanges']
}

/** How many rows of `fileSyncChanges` are kept (older ones are dropped as new ones arrive). */
export const JOURNAL_KEEP = 10_000

const JOURNAL_WRITES: ReadonlySet<string> = new Set(['fileSyncChanges'])

/** The statements that record one change in `fileSyncChanges`: `kind` is `f` (files), `l`
 * (localFileState), `t` (fileTransferState) or `c` (every localFileState row); `sig` tells this
 * change from another one of the same file (the event's args). */
const journal = (kind: 'f' | 'l' | 't' | 'c', fileId: string, args: unknown) => [
  {
    sql: 'INSERT INTO fileSyncChanges (kind, fileId, sig) VALUES ($kind, $fileId, $sig)',
    bindValues: { kind, fileId, sig: JSON.stringify(args) },
    writeTables: JOURNAL_WRITES,
  },
  {
    sql: 'DELETE FROM fileSyncChanges WHERE seq <= (SELECT MAX(seq) FROM fileSyncChanges) - $keep',
    bindValues: { keep: JOURNAL_KEEP },
    writeTables: JOURNAL_WRITES,
  },
]

type FileCreatedArgs = typeof FileCreatedPayloadSchema.Type
type FileUpdatedArgs = typeof FileUpdatedPayloadSchema.Type
type FileDeletedArgs = typeof FileDeletedPayloadSchema.Type
type LocalFileStateRow = typeof LocalFileStateRowSchema.Type
type FileTransferStateRow = typeof FileTransferStateRowSchema.Type

const makeMaterializers = (tables: FileSyncAppTables) => ({
  // A replay or a second tab may apply a creation twice: the first one wins.
  'v1.FileCreated': (args: FileCreatedArgs) => {
    const { id, path, contentHash, metadataJson, createdAt, updatedAt } = args
    return [
      tables.files
        .insert({ id, path, contentHash, metadataJson: metadataJson ?? null, createdAt, updatedAt })
        .onConflict('id', 'ignore'),
      ...journal('f', id, args),
    ]
  },
  'v1.FileUpdated': (args: FileUpdatedArgs) => {
    const { id, path, remoteKey, contentHash, metadataJson, updatedAt, ifContentHash } = args
    const values = {
      path,
      remoteKey,
      contentHash,
      ...(metadataJson !== undefined ? { metadataJson } : {}),
      updatedAt,
    }
    // An upload's event applies only while the row still holds the content it uploaded: an
    // update from another client that landed first is never reverted.
    return [
      ifContentHash === undefined
        ? tables.files.update(values).where({ id })
        : tables.files.update(values).where({ id, contentHash: ifContentHash }),
      ...journal('f', id, args),
    ]
  },
  'v1.FileDeleted': (args: FileDeletedArgs) => [
    tables.files.update({ deletedAt: args.deletedAt }).where({ id: args.id }),
    ...journal('f', args.id, args),
  ],
  'v1.LocalFileStateUpsert': (row: LocalFileStateRow) => [
    tables.localFileState.insert({ ...row }).onConflict('fileId', 'replace'),
    ...journal('l', row.fileId, row),
  ],
  'v1.LocalFileStateRemove': ({ fileId }: { fileId: string }) => [
    tables.localFileState.delete().where({ fileId }),
    ...journal('l', fileId, { fileId }),
  ],
  'v1.LocalFileStateClear': () => [tables.localFileState.delete(), ...journal('c', '', {})],
  'v1.FileTransferStateUpsert': (row: FileTransferStateRow) => [
    tables.fileTransferState.insert({ ...row }).onConflict('fileId', 'replace'),
    ...journal('t', row.fileId, row),
  ],
  'v1.FileTransferStateRemove': ({ fileId }: { fileId: string }) => [
    tables.fileTransferState.delete().where({ fileId }),
    ...journal('t', fileId, { fileId }),
  ],
})

/** The materializers of the file sync events, over the app's tables. */
export type FileSyncMaterializers = ReturnType<typeof makeMaterializers>

/**
 * The file sync part of a LiveStore schema: spread `tables` and `events` into the app's own, and
 * the result of `createMaterializers(appTables)` into its materializers.
 *
 * ```ts
 * const fileSync = createFileSyncSchema()
 * const tables = { ...fileSync.tables, gallery: State.SQLite.table({ ... }) }
 * const events = { ...fileSync.events, photoAdded: Events.synced({ ... }) }
 * const materializers = State.SQLite.materializers(events, {
 *   ...fileSync.createMaterializers(tables),
 *   'v1.PhotoAdded': ({ id, fileId }) => tables.gallery.insert({ id, fileId }),
 * })
 * const schema = makeSchema({ events, state: State.SQLite.makeState({ tables, materializers }) })
 * ```
 */
export function createFileSyncSchema() {
  const tables = makeTables()
  const events = makeEvents(tables)
  return {
    tables,
    events,
    createMaterializers: (appTables: FileSyncAppTables) => makeMaterializers(appTables),
    schemas: {
      TransferStatusSchema,
      LocalFileStateRowSchema,
      FileTransferStateRowSchema,
      FileSyncCursorSchema,
      FileMetadataSchema,
      FileCreatedPayloadSchema,
      FileUpdatedPayloadSchema,
      FileDeletedPayloadSchema,
    },
  }
}

/** The tables every store using file sync must have. */
export const REQUIRED_TABLES = ['files', 'localFileState', 'fileTransferState', 'fileSyncChanges'] as const

/** The events every store using file sync must have. */
export const REQUIRED_EVENTS = [
  'v1.FileCreated',
  'v1.FileUpdated',
  'v1.FileDeleted',
  'v1.LocalFileStateUpsert',
  'v1.LocalFileStateRemove',
  'v1.LocalFileStateClear',
  'v1.FileTransferStateUpsert',
  'v1.FileTransferStateRemove',
] as const
