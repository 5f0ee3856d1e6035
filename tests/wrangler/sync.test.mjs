// Two LiveStore stores (@livestore/adapter-node, in memory) linked by LiveStore's real sync backend:
// @livestore/sync-cf's Durable Object in a worker run by `wrangler dev` (sync-worker/), reached over
// WebSocket (makeWsSync). Each store has its own filesync-livestore engine; both use our server
// (`filesync serve`) as the remote. What A saves, B downloads and verifies; A's update and delete
// reach B the same way. Nothing else links the two stores: every row B sees came through wrangler.
//
// Run by run.sh (it installs this folder and copies the package's test helpers into .js-support/):
//   node --experimental-websocket --test sync.test.mjs   (FILESYNC_BIN = the `filesync` binary)
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { makeWsSync } from '@livestore/sync-cf/client'
import { createFileSync } from 'filesync-livestore'

import { remoteBytes, startServer } from './.js-support/server.mjs'
import { openStore, until } from './.js-support/store.mjs'
import { openLinkedStores, syncInfo } from './support/linked-stores.mjs'
import { startWrangler } from './support/wrangler.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const WAIT_MS = 30_000

let server
let backend
before(async () => {
  assert.equal(typeof globalThis.WebSocket, 'function', 'no global WebSocket: run node with --experimental-websocket')
  server = await startServer()
  backend = await startWrangler(join(HERE, 'sync-worker'))
  console.log(`# wrangler dev (LiveStore sync backend) answered after ${backend.readyMs} ms at ${backend.origin}`)
})
after(async () => {
  await backend?.stop()
  await server?.stop()
})

const bytes = (text) => new TextEncoder().encode(text)
const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const row = (client, id) => client.store.query(client.tables.files.where({ id }).first())
const state = (client, id) => client.store.query(client.tables.localFileState.where({ fileId: id }).first())

// On a failed wait: where did the change stop? A's and B's rows and LiveStore sync state (the
// session's syncStatus, the leader's heads and pending count, the WebSocket's network status), what
// a third store opened fresh against the same backend pulls (if it has the change, the backend has
// it and B's side is the stuck one), and whether B catches up within another 20 s.
async function explain(storeId, a, b, fileId, check) {
  const rows = (client) => JSON.stringify({ files: row(client, fileId), localFileState: state(client, fileId) })
  let third = 'not opened'
  try {
    const c = await openStore({ storeId, clientId: `client-c-${Date.now()}`, sync: { backend: makeWsSync({ url: backend.origin.replace(/^http/, 'ws') }) } })
    await new Promise((r) => setTimeout(r, 3_000))
    third = `${JSON.stringify(row(c, fileId))}\n  its sync: ${await syncInfo(c.store)}`
    await c.store.shutdownPromise()
  } catch (error) {
    third = `failed: ${error}`
  }
  const later = await until('', check, 20_000).then(
    () => 'yes: the wait succeeds within another 20 s',
    () => 'no: still not after another 20 s',
  )
  return (
    `\nA: ${rows(a)}\n  its sync: ${await syncInfo(a.store)}` +
    `\nB: ${rows(b)}\n  its sync: ${await syncInfo(b.store)}` +
    `\na fresh store C pulled from the backend: ${third}` +
    `\ndoes the wait succeed later? ${later}`
  )
}

async function waitFor(what, check, context) {
  try {
    await until(what, check, WAIT_MS)
  } catch (error) {
    error.message += await explain(context.storeId, context.a, context.b, context.fileId, check)
    throw error
  }
}

async function readsAs(engine, path) {
  return new Uint8Array(await (await engine.readFile(path)).arrayBuffer())
}

test('two stores linked by @livestore/sync-cf under wrangler dev: save, update and delete on A reach B', async () => {
  // A fresh store id per run: the backend's log starts empty for it.
  const storeId = `wrangler-${Date.now().toString(36)}`
  const { a, b } = await openLinkedStores(storeId, backend.origin)
  const engine = (store) =>
    createFileSync({
      store,
      fileSystem: 'memory',
      remote: { signerBaseUrl: server.url, authToken: server.token },
      options: { deleteGracePeriodMs: 0, retryBaseDelayMs: 100, retryJitterMs: 0 },
    })
  const fa = engine(a.store)
  const fb = engine(b.store)
  try {
    await fa.start()
    await fb.start()

    // Save on A: uploaded, recorded, synced to B, downloaded and verified there.
    const first = bytes(`saved on A at ${new Date().toISOString()}`)
    const saved = await fa.saveFile(new File([first], 'note.txt', { type: 'text/plain' }))
    assert.equal(saved.contentHash, sha256(first), 'the recorded hash is the SHA-256 of the bytes')
    const key = `${storeId}/${saved.contentHash}`
    const ctx = { storeId, a, b, fileId: saved.fileId }
    await waitFor('A\'s files row to get its remoteKey (upload done)', () => row(a, saved.fileId)?.remoteKey === key, ctx)
    assert.deepEqual(await remoteBytes(server, key), first, 'the server holds the saved bytes under the row\'s key')
    await waitFor('B to receive the row through the sync backend', () => row(b, saved.fileId) !== undefined, ctx)
    await waitFor(
      'B to download and verify the content (localFileState.localHash = contentHash)',
      () => state(b, saved.fileId)?.localHash === saved.contentHash && state(b, saved.fileId)?.downloadStatus === 'done', ctx)
    assert.equal(row(b, saved.fileId).contentHash, saved.contentHash)
    assert.equal(row(b, saved.fileId).remoteKey, key)
    assert.deepEqual(await readsAs(fb, saved.path), first, 'B\'s readFile gives A\'s bytes')
    const url = await fb.resolveFileUrl(saved.fileId)
    assert.match(url ?? '', /^blob:/, 'B resolves its verified local copy to an object URL')
    assert.deepEqual(new Uint8Array(await (await fetch(url)).arrayBuffer()), first, 'B\'s resolved URL gives A\'s bytes')

    // Update on A: B gets the new content.
    const second = bytes('updated on A: different bytes, different hash')
    const updated = await fa.updateFile(saved.fileId, new File([second], 'note.txt', { type: 'text/plain' }))
    assert.equal(updated.contentHash, sha256(second))
    assert.notEqual(updated.contentHash, saved.contentHash)
    await waitFor('B to see the update', () => row(b, saved.fileId)?.contentHash === updated.contentHash, ctx)
    await waitFor('B to download and verify the new content', () => state(b, saved.fileId)?.localHash === updated.contentHash, ctx)
    await waitFor('the new content\'s key to reach B', () => row(b, saved.fileId)?.remoteKey === `${storeId}/${updated.contentHash}`, ctx)
    assert.deepEqual(await readsAs(fb, updated.path), second, 'B\'s readFile gives the updated bytes')
    const urlAfter = await fb.resolveFileUrl(saved.fileId)
    assert.deepEqual(new Uint8Array(await (await fetch(urlAfter)).arrayBuffer()), second, 'B\'s resolved URL gives the updated bytes')

    // Delete on A: B's row is (soft-)deleted, B's local copy goes, and the remote copy too.
    await fa.deleteFile(saved.fileId)
    await waitFor('B to see the delete (deletedAt set)', () => row(b, saved.fileId)?.deletedAt instanceof Date, ctx)
    await waitFor(
      'B to drop its local copy',
      async () => {
        try {
          await fb.readFile(updated.path)
          return false
        } catch (error) {
          return error.code === 'STORAGE'
        }
      }, ctx)
    assert.equal(await fb.resolveFileUrl(saved.fileId).catch((e) => e.code), 'FILE_NOT_FOUND', 'a deleted file resolves to FILE_NOT_FOUND on B')
    await waitFor('the server to drop the deleted content', async () => (await remoteBytes(server, `${storeId}/${updated.contentHash}`)) === null, ctx)
  } finally {
    await fa.dispose()
    await fb.dispose()
    await a.store.shutdownPromise()
    await b.store.shutdownPromise()
  }
})
