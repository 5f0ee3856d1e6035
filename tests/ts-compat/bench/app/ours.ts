// filesync-livestore in a browser: createFileSync (OPFS by default), a real LiveStore store (web
// adapter, OPFS). Local-only unless the URL names a signer.
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { createStorePromise } from '@livestore/livestore'
import { createFileSync, hashFile } from 'filesync-livestore'

import { bigFile, makeFiles, medianMs, ready, timeSaves } from './harness.ts'
import LiveStoreWorker from './ours.worker.ts?worker'
import { ours } from './schemas.ts'

const params = new URLSearchParams(location.search)
const storeId = params.get('store') ?? 'bench-ours'
const signer = params.get('signer')
const adapter = makePersistedAdapter({ storage: { type: 'opfs' }, worker: LiveStoreWorker, sharedWorker: LiveStoreSharedWorker })
const store = await createStorePromise({ adapter, schema: ours.schema, storeId, disableDevtools: true })
const fileSync = createFileSync({
  store,
  remote: signer ? { signerBaseUrl: signer, authToken: params.get('token') ?? '' } : false,
})
await fileSync.start()

ready({
  async saveAll(count: number, size: number, inFlight: number) {
    const files = makeFiles(count, size, `o${inFlight}-`)
    return timeSaves(files, inFlight, (f) => fileSync.saveFile(f))
  },
  async hash(mib: number, rounds: number) {
    const file = bigFile(mib)
    return medianMs(rounds, () => hashFile(file))
  },
})
