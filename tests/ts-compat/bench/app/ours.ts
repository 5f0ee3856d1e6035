// filesync-livestore in a browser: createFileSync (OPFS by default), a real LiveStore store (web
// adapter, OPFS). Local-only unless the URL names a signer.
import { createFileSync, hashFile } from 'filesync-livestore'

import { openStore, ready } from './harness.ts'
import LiveStoreWorker from './ours.worker.ts?worker'
import { ours } from './schemas.ts'

const { store, remote } = await openStore(ours.schema, LiveStoreWorker, 'bench-ours')
const fileSync = createFileSync({ store, remote })
await fileSync.start()

ready('o', (f) => fileSync.saveFile(f), hashFile)
