// Two real LiveStore stores linked by LiveStore sync (an in-process broadcasting backend), each
// with its own engine, and our real server on loopback: what one saves, the other downloads and
// verifies; updates and deletes propagate; an upload recorded after another client's update never
// reverts it.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'

import { createFileSync } from 'filesync-livestore'

import { startServer } from './support/server.mjs'
import { openStore, until } from './support/store.mjs'
import { startStallingProxy } from './support/stall.mjs'
import { makeSyncHub } from './support/sync-hub.mjs'

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server?.stop()
})

const bytes = (text) => new TextEncoder().encode(text)
const sha256 = (text) => createHash('sha256').update(text).digest('hex')

async function twoClients(storeId, options = {}, remoteOf = () => server.url) {
  const hub = makeSyncHub()
  const a = await openStore({ storeId, clientId: 'client-a', sync: { backend: hub.backend } })
  const b = await openStore({ storeId, clientId: 'client-b', sync: { backend: hub.backend } })
  const engine = (store, name) =>
    createFileSync({
      store,
      fileSystem: 'memory',
      remote: { signerBaseUrl: remoteOf(name), authToken: server.token },
      options: { deleteGracePeriodMs: 0, retryBaseDelayMs: 50, retryJitterMs: 0, ...options },
    })
  const fa = engine(a.store, 'a')
  const fb = engine(b.store, 'b')
  await fa.start()
  await fb.start()
  const close = async () => {
    await fa.dispose()
    await fb.dispose()
    await a.store.shutdownPromise()
    await b.store.shutdownPromise()
  }
  return { hub, a, b, fa, fb, close }
}

const row = (client, id) => client.store.query(client.tables.files.where({ id }).first())
const state = (client, id) => client.store.query(client.tables.localFileState.where({ fileId: id }).first())

test('saved on A: uploaded, then downloaded and verified on B; update and delete propagate', async () => {
  const { a, b, fa, fb, close } = await twoClients('two-clients')
  try {
    const saved = await fa.saveFile(new File([bytes('from A')], 'a.txt', { type: 'text/plain' }))
    assert.equal(saved.contentHash, sha256('from A'))
    await until('B has the row with its remote key', () => row(b, saved.fileId)?.remoteKey === `two-clients/${saved.contentHash}`)
    await until('B downloaded and verified it', () => state(b, saved.fileId)?.localHash === saved.contentHash && state(b, saved.fileId)?.downloadStatus === 'done')
    assert.equal(await (await fb.readFile(saved.path)).text(), 'from A')
    const url = await fb.resolveFileUrl(saved.fileId)
    assert.match(url, /^blob:/, 'a verified local copy resolves to an object URL')
    assert.equal(await (await fetch(url)).text(), 'from A')

    // Update on B: A gets the new content.
    const updated = await fb.updateFile(saved.fileId, new File([bytes('edited on B')], 'a.txt', { type: 'text/plain' }))
    await until('A has the new content verified', () => state(a, saved.fileId)?.localHash === updated.contentHash)
    await until('the new content is uploaded', () => row(a, saved.fileId)?.remoteKey === `two-clients/${updated.contentHash}`)
    assert.equal(await (await fa.readFile(updated.path)).text(), 'edited on B')
    const urlAfter = await fb.resolveFileUrl(saved.fileId)
    assert.notEqual(urlAfter, url, 'the object URL of the old content was replaced')

    // Delete on A: B's row is soft-deleted and its copy goes.
    await fa.deleteFile(saved.fileId)
    await until('B sees the delete', () => row(b, saved.fileId)?.deletedAt instanceof Date)
    await until('B dropped its copy', async () => {
      try {
        await fb.readFile(updated.path)
        return false
      } catch (error) {
        return error.code === 'STORAGE'
      }
    })
    assert.equal(await fb.resolveFileUrl(saved.fileId).catch((e) => e.code), 'FILE_NOT_FOUND')
  } finally {
    await close()
  }
})

test('the edit-revert race: an upload recorded after another client\'s update does not revert it', async () => {
  // A's upload of X is held at a proxy; meanwhile B replaces the content with Y, and LiveStore
  // orders B's update before the event that records A's upload. 0.8.0's materializer would apply
  // A's event last and revert the row to X; ours applies it only while the row holds X.
  const proxy = await startStallingProxy(server.origin)
  const { hub, a, b, fa, fb, close } = await twoClients('race', {}, (name) => (name === 'a' ? proxy.url : server.url))
  try {
    const x = await fa.saveFile(bytes('content X'))
    await until('A\'s upload is held', () => proxy.waiting() > 0)
    await until('B has the row', () => row(b, x.fileId)?.contentHash === x.contentHash)
    hub.hold('client-a')
    const y = await fb.updateFile(x.fileId, bytes('content Y'))
    // And a new file on B meanwhile: after A's rebase it sits where A's own record was.
    const z = await fb.saveFile(bytes('content Z'))
    await until('B\'s update reached the backend', () => hub.events.some((e) => e.name === 'v1.FileUpdated' && e.args.contentHash === y.contentHash))
    proxy.release()
    await until('A recorded its upload of X', () => row(a, x.fileId)?.remoteKey === `race/${x.contentHash}`)
    hub.release('client-a')
    await until('A sees Y', () => row(a, x.fileId)?.contentHash === y.contentHash)
    await until('Y is uploaded', () => row(b, x.fileId)?.remoteKey === `race/${y.contentHash}` && row(a, x.fileId)?.remoteKey === `race/${y.contentHash}`)
    // A's engine noticed B's update although the rebase rewrote the journal rows it had seen
    // (LiveStore reuses their sequence numbers): it holds Y's bytes, verified.
    await until('A downloaded Y', () => state(a, x.fileId)?.localHash === y.contentHash)
    await until('A downloaded Z', () => state(a, z.fileId)?.localHash === z.contentHash)
    // Give any late event time to land, then check that nothing reverted.
    await new Promise((r) => setTimeout(r, 500))
    for (const client of [a, b]) {
      const r = row(client, x.fileId)
      assert.equal(r.contentHash, y.contentHash, 'the later content stays')
      assert.equal(r.remoteKey, `race/${y.contentHash}`)
    }
    const recorded = hub.events.find((e) => e.name === 'v1.FileUpdated' && e.args.remoteKey === `race/${x.contentHash}`)
    assert.equal(recorded?.args.ifContentHash, x.contentHash, 'A\'s upload event names the content it uploaded')
    assert.ok(hub.events.indexOf(recorded) > hub.events.findIndex((e) => e.args.contentHash === y.contentHash), 'ordered after B\'s update')
  } finally {
    await close()
    await proxy.stop()
  }
})
