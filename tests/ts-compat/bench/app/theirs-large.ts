// @livestore-filesync/core 0.8.0's large-file page: createFileSync with the OPFS layer, a store
// whose leader worker has a loopback sync backend (0.8.0 uploads what comes back from it). A
// download is what 0.8.0 does when a v1.FileUpdated arrives for a file it has no local copy of.
import { createFileSync } from '@livestore-filesync/core'
import { layer as opfsLayer } from '@livestore-filesync/opfs'
import { queryDb } from '@livestore/livestore'

import { openStore } from './harness.ts'
import { readyLarge } from './large.ts'
import { theirs } from './schemas.ts'
import LiveStoreWorker from './theirs-large.worker.ts?worker'

const { store, remote } = await openStore(theirs.schema, LiveStoreWorker, 'bench-theirs-large')
console.log = () => {} // 0.8.0 logs every step
const fileSync = createFileSync({
  store,
  schema: { tables: theirs.tables, events: theirs.events, queryDb },
  fileSystem: opfsLayer(),
  remote,
})
fileSync.start()
const row = (id: string) => store.query(theirs.tables.files.where({ id }).first()) as any
readyLarge({
  save: (f) => fileSync.saveFile(f),
  row,
  localState: (id) => store.query(theirs.tables.localFileState.where({ fileId: id }).first()) as any,
  redownload: (id) => {
    const r = row(id)
    store.commit(
      theirs.events.fileUpdated({ id, path: r.path, remoteKey: r.remoteKey, contentHash: r.contentHash, updatedAt: new Date() }),
    )
  },
})
