// Child process of process-exit.test.mjs: an app that saves one file with our package, waits for
// its upload, disposes the engine and shuts its store down, then prints `done` and should exit.
import { createFileSync } from 'filesync-livestore'

import { openStore, rawFiles, until } from './stores.mjs'

const client = await openStore({ kind: 'ours', storeId: 'exit', clientId: 'exit' })
const engine = createFileSync({
  store: client.store,
  fileSystem: 'memory',
  remote: { signerBaseUrl: process.env.FILESYNC_URL, authToken: process.env.FILESYNC_TOKEN },
})
await engine.start()
await engine.saveFile(new TextEncoder().encode(`exit ${Date.now()}`))
await until('the upload', () => rawFiles(client)[0]?.remoteKey !== '')
await engine.dispose()
await client.store.shutdownPromise()
console.log('done')
