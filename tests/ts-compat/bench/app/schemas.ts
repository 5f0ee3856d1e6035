// The app schema of each page: a package's file sync schema spread into the app's, as apps do.
import { makeSchema, State } from '@livestore/livestore'
import { createFileSyncSchema as createTheirSchema } from '@livestore-filesync/core/schema'
import { createFileSyncSchema as createOurSchema } from 'filesync-livestore'

function appSchema(fileSync: { tables: any; events: any; createMaterializers: (tables: any) => any }) {
  const tables = { ...fileSync.tables }
  const events = { ...fileSync.events }
  const materializers = State.SQLite.materializers(events, fileSync.createMaterializers(tables))
  return { tables, events, schema: makeSchema({ events, state: State.SQLite.makeState({ tables, materializers }) }) }
}

export const ours = appSchema(createOurSchema())
export const theirs = appSchema(createTheirSchema())
