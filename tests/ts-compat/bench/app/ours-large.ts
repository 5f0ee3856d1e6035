// filesync-livestore's large-file page: createFileSync (OPFS, the package's worker), a store whose
// leader worker has the same loopback sync backend as the 0.8.0 page. A download is what the engine
// does when a sync pass finds a verified file's local copy gone.
import { createFileSync } from 'filesync-livestore'

import { openStore } from './harness.ts'
import { readyLarge } from './large.ts'
import LiveStoreWorker from './ours-large.worker.ts?worker'
import { ours } from './schemas.ts'

const { store, remote } = await openStore(ours.schema, LiveStoreWorker, 'bench-ours-large')
const fileSync = createFileSync({ store, remote })
await fileSync.start()
readyLarge({
  save: (f) => fileSync.saveFile(f),
  row: (id) => store.query(ours.tables.files.where({ id }).first()) as any,
  localState: (id) => store.query(ours.tables.localFileState.where({ fileId: id }).first()) as any,
  redownload: () => fileSync.triggerSync(),
})
