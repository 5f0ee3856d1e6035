// Real LiveStore stores for the tests: an app schema that spreads createFileSyncSchema() into its
// own (a gallery table referencing files by id), opened in memory with @livestore/adapter-node.
import { makeAdapter } from '@livestore/adapter-node'
import { createStorePromise, Events, makeSchema, Schema, State } from '@livestore/livestore'
import { createFileSyncSchema } from 'filesync-livestore'

/** The test app's schema: file sync's tables and events plus a `gallery` of file ids. */
export function appSchema() {
  const fileSync = createFileSyncSchema()
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
  return { schema, tables, events }
}

/** A store with the test app's schema: in memory, or on disk under `dir` (it survives a
 * restart); `sync` links it to a sync backend. */
export async function openStore({ storeId = 'test-store', clientId, sync, dir } = {}) {
  const { schema, tables, events } = appSchema()
  const storage = dir ? { type: 'fs', baseDirectory: dir } : { type: 'in-memory' }
  const adapter = makeAdapter({ storage, ...(clientId ? { clientId } : {}), ...(sync ? { sync } : {}) })
  const store = await createStorePromise({ adapter, schema, storeId, disableDevtools: true })
  return { store, tables, events }
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
