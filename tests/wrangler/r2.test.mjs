// filesync-livestore against @livestore-filesync/core 0.8.0's own Cloudflare signer: the
// @livestore-filesync/r2 handler in a Worker (r2-worker/) over a local R2 bucket, both run by
// `wrangler dev`. Two LiveStore stores (adapter-node, in memory) linked by @livestore/sync-cf's
// Durable Object (sync-worker/, a second `wrangler dev`), each with our engine whose remote is that
// signer (`signerBaseUrl: <worker>/api`, bearer token). A save on A lands in R2 (read back through
// the handler's own download path: same bytes, same SHA-256), B downloads and verifies it, and a
// delete on A reaches B and removes the object from R2. No part of the handler is changed or mocked.
//
// Run by run.sh:  node --experimental-websocket --test r2.test.mjs
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { createFileSync } from 'filesync-livestore'

import { openStore, until } from './.js-support/store.mjs'
import { openLinkedStores, syncInfo } from './support/linked-stores.mjs'
import { startWrangler } from './support/wrangler.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const WAIT_MS = 30_000
const TOKEN = randomBytes(16).toString('hex')

let signer
let syncBackend
before(async () => {
  assert.equal(typeof globalThis.WebSocket, 'function', 'no global WebSocket: run node with --experimental-websocket')
  signer = await startWrangler(join(HERE, 'r2-worker'), {
    probePath: '/api/health',
    vars: { FILESYNC_TOKEN: TOKEN, FILE_SIGNING_SECRET: randomBytes(32).toString('hex') },
  })
  console.log(`# wrangler dev (@livestore-filesync/r2 signer, local R2) answered after ${signer.readyMs} ms at ${signer.origin}`)
  syncBackend = await startWrangler(join(HERE, 'sync-worker'))
  console.log(`# wrangler dev (LiveStore sync backend) answered after ${syncBackend.readyMs} ms at ${syncBackend.origin}`)
})
after(async () => {
  await syncBackend?.stop()
  await signer?.stop()
})

const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const row = (client, id) => client.store.query(client.tables.files.where({ id }).first())
const state = (client, id) => client.store.query(client.tables.localFileState.where({ fileId: id }).first())

/** The object R2 holds under `key`, read through the handler's signed download route, or null on 404. */
async function r2Object(key) {
  const signed = await fetch(`${signer.origin}/api/v1/sign/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  })
  assert.equal(signed.status, 200, `the handler signs a download of ${key}: ${signed.status} ${await signed.clone().text()}`)
  const { url } = await signed.json()
  const answer = await fetch(url)
  if (answer.status === 404) return null
  assert.equal(answer.status, 200, `GET ${url}: ${answer.status}`)
  return { bytes: new Uint8Array(await answer.arrayBuffer()), contentType: answer.headers.get('content-type') }
}

async function linkedClients(storeId) {
  const { a, b } = await openLinkedStores(storeId, syncBackend.origin)
  const events = []
  const engine = (store, name) =>
    createFileSync({
      store,
      fileSystem: 'memory',
      remote: { signerBaseUrl: `${signer.origin}/api`, authToken: TOKEN },
      options: {
        deleteGracePeriodMs: 0,
        retryBaseDelayMs: 100,
        retryJitterMs: 0,
        maxRetries: 2,
        onEvent: (event) => events.push({ client: name, ...event }),
      },
    })
  const fa = engine(a.store, 'a')
  const fb = engine(b.store, 'b')
  await fa.start()
  await fb.start()
  // Failures (upload:error, download:error, transfer:exhausted) explain a failed wait.
  const failures = () =>
    JSON.stringify(events.filter((e) => /error|exhausted/.test(e.type ?? '')).map((e) => ({ client: e.client, type: e.type, fileId: e.fileId, error: String(e.error?.message ?? e.error) })))
  const wait = async (what, check) => {
    try {
      await until(what, check, WAIT_MS)
    } catch (error) {
      error.message += `\ntransfer failures seen: ${failures()}\nA's sync: ${await syncInfo(a.store)}\nB's sync: ${await syncInfo(b.store)}`
      throw error
    }
  }
  const close = async () => {
    await fa.dispose()
    await fb.dispose()
    await a.store.shutdownPromise()
    await b.store.shutdownPromise()
  }
  return { a, b, fa, fb, wait, close }
}

test('the r2 signer worker: a save on A is uploaded into R2, downloaded and verified by B, and a delete removes it', async () => {
  const storeId = `r2-${Date.now().toString(36)}`
  const { a, b, fa, fb, wait, close } = await linkedClients(storeId)
  try {
    await wait('our engine to see the handler\'s /api/health as online', () => fa.isOnline() && fb.isOnline())

    const content = randomBytes(200_000)
    const saved = await fa.saveFile(new File([content], 'photo.png', { type: 'image/png' }))
    assert.equal(saved.contentHash, sha256(content))
    const key = `${storeId}/${saved.contentHash}`
    await wait('A\'s files row to get its remoteKey (the upload to the r2 signer finished)', () => row(a, saved.fileId)?.remoteKey === key)

    // The object is in R2: read back through the handler's own signed download route.
    const object = await r2Object(key)
    assert.ok(object, `R2 has no object under ${key} although A recorded the upload`)
    assert.equal(object.bytes.length, content.length, 'the R2 object has the saved size')
    assert.equal(sha256(object.bytes), saved.contentHash, 'the R2 object hashes to the row\'s contentHash')
    assert.deepEqual(object.bytes, new Uint8Array(content), 'the R2 object holds the saved bytes')
    // The handler stores the PUT's Content-Type; our client sends the file's type with the bytes.
    assert.equal(object.contentType, 'image/png', 'R2 stored the file\'s MIME type')

    // B gets the row through the sync backend, downloads through the handler and verifies.
    await wait('B to receive the row', () => row(b, saved.fileId)?.remoteKey === key)
    await wait(
      'B to download and verify the content from R2 (localFileState.localHash = contentHash)',
      () => state(b, saved.fileId)?.localHash === saved.contentHash && state(b, saved.fileId)?.downloadStatus === 'done',
    )
    assert.deepEqual(new Uint8Array(await (await fb.readFile(saved.path)).arrayBuffer()), new Uint8Array(content), 'B\'s readFile gives A\'s bytes')

    // An update goes to R2 under the new hash and reaches B.
    const newer = randomBytes(50_000)
    const updated = await fa.updateFile(saved.fileId, new File([newer], 'photo.bin', { type: 'application/octet-stream' }))
    const newKey = `${storeId}/${updated.contentHash}`
    await wait('the updated content to be uploaded', () => row(a, saved.fileId)?.remoteKey === newKey)
    assert.equal(sha256((await r2Object(newKey))?.bytes ?? new Uint8Array()), updated.contentHash, 'R2 holds the updated bytes')
    await wait('B to download and verify the updated content', () => state(b, saved.fileId)?.localHash === updated.contentHash)

    // Delete on A: B's row is soft-deleted, its copy goes, and the R2 objects go (grace period 0).
    await fa.deleteFile(saved.fileId)
    await wait('B to see the delete (deletedAt set)', () => row(b, saved.fileId)?.deletedAt instanceof Date)
    await wait('B to drop its local copy', async () => (await fb.readFile(updated.path).then(() => 'still there', (e) => e.code)) === 'STORAGE')
    await wait('the r2 signer to delete the updated object from R2', async () => (await r2Object(newKey)) === null)
    await wait('the r2 signer to delete the first object from R2', async () => (await r2Object(key)) === null)
  } finally {
    await close()
  }
})

test('a file above the engine\'s 64 MiB multipart threshold: the worker has no resumable-upload routes (404), the engine falls back to one PUT', async () => {
  // Our engine uploads files of 64 MiB or more through our resumable protocol (DESIGN.md §6,
  // POST {base}/v1/multipart/create first). The r2 handler has no such route, so the Worker answers
  // 404 (composeFetchHandlers' "Not Found"); the engine must then send the whole file in one PUT.
  const storeId = `r2-large-${Date.now().toString(36)}`
  const { a, b, fa, fb, wait, close } = await linkedClients(storeId)
  try {
    const size = 64 * 1024 * 1024 + 4096
    const content = randomBytes(size)
    const outputBefore = signer.output().length
    const saved = await fa.saveFile(new File([content], 'big.bin', { type: 'application/octet-stream' }))
    const key = `${storeId}/${saved.contentHash}`
    await wait('A\'s upload of the large file to finish', () => row(a, saved.fileId)?.remoteKey === key)
    // wrangler logs a request once it has answered it, so its line may lag behind our engine a little.
    const log = () => signer.output().slice(outputBefore)
    await until('wrangler to log the signed PUT', () => /PUT \/livestore-filesync-files\/\S+ 200/.test(log()), 10_000).catch(() => {})
    assert.match(log(), /POST \/api\/v1\/multipart\/create 404/, `the engine asked for a resumable upload first and the Worker answered 404; Worker log:\n${log()}`)
    assert.match(log(), /PUT \/livestore-filesync-files\/\S+ 200/, `then one signed PUT went through; Worker log:\n${log()}`)
    assert.doesNotMatch(log(), /multipart\/(sign-part|complete)/, `no part of a resumable upload was attempted; Worker log:\n${log()}`)
    const object = await r2Object(key)
    assert.equal(object?.bytes.length, size, 'R2 holds the whole file')
    assert.equal(sha256(object.bytes), saved.contentHash, 'the R2 object hashes to the row\'s contentHash')
    await wait('B to download and verify the large file', () => state(b, saved.fileId)?.localHash === saved.contentHash)
  } finally {
    await close()
  }
})

test('a wrong token: the handler answers 401, the engine reports UNAUTHORIZED and uploads nothing', async () => {
  // The handler's /api/health needs no auth, so the engine is online; its signer calls carry the
  // wrong bearer token and the handler refuses them with {"error":"Unauthorized"} (401).
  const storeId = `r2-auth-${Date.now().toString(36)}`
  const { store, tables } = await openStore({ storeId, clientId: 'client-wrong-token' })
  const events = []
  const engine = createFileSync({
    store,
    fileSystem: 'memory',
    remote: { signerBaseUrl: `${signer.origin}/api`, authToken: `not-${TOKEN}` },
    options: { retryBaseDelayMs: 50, retryJitterMs: 0, maxRetries: 1, onEvent: (event) => events.push(event) },
  })
  try {
    await engine.start()
    const saved = await engine.saveFile(new Uint8Array([1, 2, 3]))
    const failure = await until('an upload:error or transfer:exhausted event', () => events.find((e) => e.type === 'upload:error' || e.type === 'transfer:exhausted'), WAIT_MS)
    assert.equal(failure.error?.code, 'UNAUTHORIZED', `the 401 maps to UNAUTHORIZED: ${failure.error?.message}`)
    assert.equal(failure.error?.status, 401)
    assert.equal(store.query(tables.files.where({ id: saved.fileId }).first())?.remoteKey, '', 'no remoteKey is recorded')
    assert.equal(await r2Object(`${storeId}/${saved.contentHash}`), null, 'nothing reached R2')
  } finally {
    await engine.dispose()
    await store.shutdownPromise()
  }
})
