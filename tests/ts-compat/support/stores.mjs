// Real LiveStore 0.4.0-dev.23 stores (adapter-node) with either package's file sync schema:
// `v08` = @livestore-filesync/core 0.8.0's createFileSyncSchema(), `ours` = filesync-livestore's.
// Each app schema also has a `gallery` table of its own, the way apps spread the file sync schema
// into theirs.
import { makeAdapter } from '@livestore/adapter-node'
import { createStorePromise, Events, makeSchema, Schema, State } from '@livestore/livestore'
import { createFileSyncSchema as createV08Schema } from '@livestore-filesync/core/schema'
import { createFileSyncSchema as createOurSchema } from 'filesync-livestore'

const makers = { v08: createV08Schema, ours: createOurSchema }

/** The app schema over `kind`'s file sync schema: `{ schema, tables, events }`. */
export function appSchema(kind) {
  const fileSync = makers[kind]()
  const tables = {
    ...fileSync.tables,
    gallery: State.SQLite.table({
      name: 'gallery',
      columns: { id: State.SQLite.text({ primaryKey: true }), fileId: State.SQLite.text() },
    }),
  }
  const events = {
    ...fileSync.events,
    photoAdded: Events.synced({ name: 'v1.PhotoAdded', schema: Schema.Struct({ id: Schema.String, fileId: Schema.String }) }),
  }
  const materializers = State.SQLite.materializers(events, {
    ...fileSync.createMaterializers(tables),
    'v1.PhotoAdded': ({ id, fileId }) => tables.gallery.insert({ id, fileId }).onConflict('id', 'ignore'),
  })
  const schema = makeSchema({ events, state: State.SQLite.makeState({ tables, materializers }) })
  return { schema, tables, events, fileSync }
}

/**
 * Opens a store of `kind` ('v08' | 'ours'): in memory, or on disk under `dir` (adapter-node
 * `storage: {type: 'fs', baseDirectory: dir}`); `hub` links it to an in-process sync backend.
 */
export async function openStore({ kind, storeId, clientId, hub, dir }) {
  const { schema, tables, events, fileSync } = appSchema(kind)
  const storage = dir ? { type: 'fs', baseDirectory: dir } : { type: 'in-memory' }
  const adapter = makeAdapter({ storage, clientId, ...(hub ? { sync: { backend: hub.backend } } : {}) })
  const store = await createStorePromise({ adapter, schema, storeId, disableDevtools: true })
  return { kind, store, tables, events, fileSync, schema }
}

/** The `files` rows as stored (raw SQL: dates as epoch ms), by id. */
export function rawFiles(client) {
  return client.store.query({ query: 'SELECT * FROM files ORDER BY id', bindValues: [] })
}

/** The `localFileState` rows as stored, by fileId. */
export function rawLocalStates(client) {
  return client.store.query({ query: 'SELECT * FROM localFileState ORDER BY fileId', bindValues: [] })
}

/** Waits until `check()` is truthy (polling), or fails with `what` after `ms`. */
export async function until(what, check, ms = 20_000) {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
