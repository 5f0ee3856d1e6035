// @livestore-filesync/core 0.8.0 as its README wires it in a browser: createFileSync with the
// @livestore-filesync/opfs layer, a real LiveStore store (web adapter, OPFS). Local-only unless
// the URL names a signer.
import { createFileSync, hashFile, HashServiceLive } from '@livestore-filesync/core'
import { layer as opfsLayer } from '@livestore-filesync/opfs'
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { createStorePromise, queryDb } from '@livestore/livestore'
import { Effect } from 'effect'

import { bigFile, makeFiles, medianMs, ready, timeSaves } from './harness.ts'
import { theirs } from './schemas.ts'
import LiveStoreWorker from './theirs.worker.ts?worker'

const params = new URLSearchParams(location.search)
const storeId = params.get('store') ?? 'bench-theirs'
const signer = params.get('signer')
const adapter = makePersistedAdapter({ storage: { type: 'opfs' }, worker: LiveStoreWorker, sharedWorker: LiveStoreSharedWorker })
const store = await createStorePromise({ adapter, schema: theirs.schema, storeId, disableDevtools: true })
const quiet = console.log
console.log = () => {} // 0.8.0 logs every step of every save
const fileSync = createFileSync({
  store,
  schema: { tables: theirs.tables, events: theirs.events, queryDb },
  fileSystem: opfsLayer(),
  remote: signer ? { signerBaseUrl: signer, authToken: params.get('token') ?? '' } : false,
})
fileSync.start()

ready({
  async saveAll(count: number, size: number, inFlight: number) {
    const files = makeFiles(count, size, `t${inFlight}-`)
    return timeSaves(files, inFlight, (f) => fileSync.saveFile(f))
  },
  async hash(mib: number, rounds: number) {
    const file = bigFile(mib)
    return medianMs(rounds, () => Effect.runPromise(hashFile(file).pipe(Effect.provide(HashServiceLive))))
  },
  restoreConsole: () => (console.log = quiet),
})
