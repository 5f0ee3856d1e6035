// The test app's schema: file sync's tables and events, and a gallery referencing files by id.
import { Events, makeSchema, Schema, State } from '@livestore/livestore'
import { createFileSyncSchema } from 'filesync-livestore'

const fileSync = createFileSyncSchema()

export const tables = {
  ...fileSync.tables,
  gallery: State.SQLite.table({
    name: 'gallery',
    columns: { id: State.SQLite.text({ primaryKey: true }), fileId: State.SQLite.text() },
  }),
}

export const events = {
  ...fileSync.events,
  photoAdded: Events.synced({ name: 'v1.PhotoAdded', schema: Schema.Struct({ id: Schema.String, fileId: Schema.String }) }),
}

const materializers = State.SQLite.materializers(events, {
  ...fileSync.createMaterializers(tables),
  'v1.PhotoAdded': ({ id, fileId }) => tables.gallery.insert({ id, fileId }).onConflict('id', 'ignore'),
})

export const schema = makeSchema({ events, state: State.SQLite.makeState({ tables, materializers }) })
