// The app's LiveStore schema: a gallery of items, each referencing a file by its `fileId`, with
// filesync-livestore's tables and events merged in (the package's README, "Schema").
import { Events, makeSchema, Schema, State } from '@livestore/livestore'
import { createFileSyncSchema } from 'filesync-livestore/schema'

const fileSync = createFileSyncSchema()

const items = State.SQLite.table({
  name: 'items',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    fileId: State.SQLite.text(),
    title: State.SQLite.text({ default: '' }),
    createdAt: State.SQLite.integer({ schema: Schema.DateFromNumber }),
    deletedAt: State.SQLite.integer({ nullable: true, schema: Schema.DateFromNumber }),
  },
})

const appEvents = {
  itemAdded: Events.synced({
    name: 'v1.ItemAdded',
    schema: Schema.Struct({ id: Schema.String, fileId: Schema.String, title: Schema.String, createdAt: Schema.Date }),
  }),
  itemRemoved: Events.synced({
    name: 'v1.ItemRemoved',
    schema: Schema.Struct({ id: Schema.String, deletedAt: Schema.Date }),
  }),
}

export const tables = { ...fileSync.tables, items }
export const events = { ...fileSync.events, ...appEvents }

const materializers = State.SQLite.materializers(events, {
  ...fileSync.createMaterializers(tables),
  'v1.ItemAdded': ({ id, fileId, title, createdAt }) => items.insert({ id, fileId, title, createdAt }).onConflict('id', 'ignore'),
  'v1.ItemRemoved': ({ id, deletedAt }) => items.update({ deletedAt }).where({ id }),
})

export const schema = makeSchema({ events, state: State.SQLite.makeState({ tables, materializers }) })
