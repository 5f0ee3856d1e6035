// One start-up measurement for startup.mjs, in a process of its own: opens the store in DIR with
// KIND's package, then starts file sync and times it until the probe is downloaded and verified.
// Prints one JSON line: {firstSyncMs, rssAfter, rssAdded, heapAdded} (heap: the JS heap and the
// ArrayBuffers outside it, where WebAssembly memory lives; added by starting file sync).
import { join } from 'node:path'

import { createFileSync } from 'filesync-livestore'
import { nodeFileSystem } from 'filesync-livestore/node'

import { openStore, until } from '../support/stores.mjs'
import { quietV08Console, startV08Client } from '../support/v08.mjs'
import { installXhr } from '../support/xhr.mjs'

const { KIND, DIR, STORE, SIGNER, TOKEN } = process.env
const probe = JSON.parse(process.env.PROBE)
const client = await openStore({ kind: KIND === 'ours' ? 'ours' : 'v08', storeId: STORE, clientId: 'bench', dir: join(DIR, 'store') })
const root = join(DIR, 'app')
const remote = { signerBaseUrl: SIGNER, authToken: TOKEN }
const memory = () => {
  globalThis.gc()
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage()
  return { rss, heap: heapUsed + arrayBuffers }
}
const downloaded = () =>
  client.store.query({ query: 'SELECT localHash FROM localFileState WHERE fileId = ?', bindValues: [probe.id] })[0]?.localHash === probe.hash
if (KIND !== 'ours') {
  quietV08Console()
  installXhr()
}
const before = memory()
const t0 = performance.now()
let stop
if (KIND === 'ours') {
  const fileSync = createFileSync({ store: client.store, remote, fileSystem: nodeFileSystem(root), logLevel: 'warn' })
  await fileSync.start()
  stop = () => fileSync.dispose()
} else {
  const { fileSync } = startV08Client(client, { root, remote })
  stop = () => fileSync.dispose()
}
await until('the probe downloaded', downloaded, 600_000)
const firstSyncMs = performance.now() - t0
await new Promise((r) => setTimeout(r, 2000))
const after = memory()
console.log(JSON.stringify({ firstSyncMs, rssAfter: after.rss, rssAdded: after.rss - before.rss, heapAdded: after.heap - before.heap }))
await stop()
await client.store.shutdownPromise()
process.exit(0)
