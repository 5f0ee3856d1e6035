// @livestore-filesync/core 0.8.0 as its README wires it in a browser: createFileSync with the
// @livestore-filesync/opfs layer, a real LiveStore store (web adapter, OPFS). Local-only unless
// the URL names a signer.
import { createFileSync, hashFile, HashServiceLive } from '@livestore-filesync/core'
import { layer as opfsLayer } from '@livestore-filesync/opfs'
import { queryDb } from '@livestore/livestore'
import { Effect } from 'effect'

import { openStore, ready } from './harness.ts'
import { theirs } from './schemas.ts'
import LiveStoreWorker from './theirs.worker.ts?worker'

const { store, remote } = await openStore(theirs.schema, LiveStoreWorker, 'bench-theirs')
console.log = () => {} // 0.8.0 logs every step of every save
const fileSync = createFileSync({
  store,
  schema: { tables: theirs.tables, events: theirs.events, queryDb },
  fileSystem: opfsLayer(),
  remote,
})
fileSync.start()

ready('t', (f) => fileSync.saveFile(f), (f) => Effect.runPromise(hashFile(f).pipe(Effect.provide(HashServiceLive))))
