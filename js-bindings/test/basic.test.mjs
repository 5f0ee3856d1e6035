// One real LiveStore store (adapter-node, in memory) and our real server on loopback.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { createFileSync, FileNotFoundError, hashFile, InvalidInputError, WEBCRYPTO_HASH_MAX_BYTES } from 'filesync-livestore'

import { remoteBytes, startServer } from './support/server.mjs'
import { openStore, until } from './support/store.mjs'

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server?.stop()
})

const bytes = (text) => new TextEncoder().encode(text)

test('save: stored, recorded, uploaded; read back; update; delete', async () => {
  const { store, tables } = await openStore({ storeId: 'basic' })
  const fs = createFileSync({
    store,
    fileSystem: 'memory',
    remote: { signerBaseUrl: server.url, authToken: server.token },
    options: { deleteGracePeriodMs: 0 },
  })
  const events = []
  fs.onEvent((e) => events.push(e.type))
  await fs.start()
  const saved = await fs.saveFile(new File([bytes('hello world')], 'hello.txt', { type: 'text/plain' }))
  assert.match(saved.contentHash, /^[0-9a-f]{64}$/)
  assert.equal(saved.path, `livestore-filesync-files/basic/${saved.contentHash}`)
  const row = store.query(tables.files.where({ id: saved.fileId }).first())
  assert.equal(row.contentHash, saved.contentHash)
  assert.deepEqual(JSON.parse(row.metadataJson), { mimeType: 'text/plain', name: 'hello.txt', sizeBytes: 11 })

  const uploaded = await until('the upload', () => store.query(tables.files.where({ id: saved.fileId }).first())?.remoteKey)
  assert.equal(uploaded, `basic/${saved.contentHash}`)
  const local = await until('done/done', () => {
    const r = store.query(tables.localFileState.where({ fileId: saved.fileId }).first())
    return r?.uploadStatus === 'done' && r
  })
  assert.equal(local.localHash, saved.contentHash)
  assert.ok(events.includes('upload:start') && events.includes('upload:complete'), events.join(','))

  // The server holds the bytes.
  assert.equal(new TextDecoder().decode(await remoteBytes(server, uploaded)), 'hello world')

  const file = await fs.readFile(saved.path)
  assert.equal(await file.text(), 'hello world')
  assert.equal(file.type, 'text/plain')

  const updated = await fs.updateFile(saved.fileId, new File([bytes('hello again')], 'hello.txt', { type: 'text/plain' }))
  assert.equal(updated.changed, true)
  assert.notEqual(updated.contentHash, saved.contentHash)
  await until('the updated upload', () => store.query(tables.files.where({ id: saved.fileId }).first())?.remoteKey === `basic/${updated.contentHash}`)

  const pending = await fs.saveFile(bytes('not uploaded yet'))
  const keys = fs.listLiveRemoteKeys()
  assert.ok(keys.includes(`basic/${updated.contentHash}`), keys.join(','))
  assert.ok(keys.includes(`basic/${pending.contentHash}`), 'a key still to be uploaded is kept too')
  assert.ok(!keys.includes(`basic/${saved.contentHash}`), 'the replaced content is not live')
  assert.equal(await fs.getStorageUsage(), null, 'Node has no storage estimate')
  assert.equal(await fs.requestPersistentStorage(), false)

  await fs.deleteFile(saved.fileId)
  assert.ok(store.query(tables.files.where({ id: saved.fileId }).first()).deletedAt instanceof Date)
  assert.ok(!fs.listLiveRemoteKeys().includes(`basic/${updated.contentHash}`))
  await assert.rejects(fs.deleteFile(saved.fileId), FileNotFoundError)
  await fs.dispose()
  await store.shutdownPromise()
})

test('bad input is refused with a clear error and changes nothing', async () => {
  const { store, tables } = await openStore({ storeId: 'bad-input' })
  const fs = createFileSync({ store, fileSystem: 'memory', remote: false })
  await fs.start()
  await assert.rejects(fs.saveFile('not a file'), (e) => e instanceof InvalidInputError && e.code === 'INVALID_INPUT')
  await assert.rejects(fs.readFile('../../etc/passwd'), (e) => e instanceof InvalidInputError && /not a file path/.test(e.message))
  await assert.rejects(fs.updateFile('nope', bytes('x')), (e) => e instanceof FileNotFoundError && e.fileId === 'nope')
  assert.equal(store.query(tables.files).length, 0)
  await fs.dispose()
  await store.shutdownPromise()
})

test('local-only (remote: false) makes no request at all; files are done/done', async () => {
  const { store, tables } = await openStore({ storeId: 'local-only' })
  const realFetch = globalThis.fetch
  let requests = 0
  globalThis.fetch = (...args) => {
    requests += 1
    return realFetch(...args)
  }
  try {
    const fs = createFileSync({ store, fileSystem: 'memory', remote: false, options: { healthCheckIntervalMs: 50 } })
    await fs.start()
    const saved = await fs.saveFile(bytes('kept here'))
    await fs.triggerSync()
    assert.equal(fs.isOnline(), false)
    assert.deepEqual(await fs.retryErrors(), [])
    const state = store.query(tables.localFileState.where({ fileId: saved.fileId }).first())
    assert.deepEqual([state.uploadStatus, state.downloadStatus], ['done', 'done'])
    assert.equal(store.query(tables.files.where({ id: saved.fileId }).first()).remoteKey, '')
    const url = await fs.resolveFileUrl(saved.fileId)
    assert.match(url, /^blob:/)
    assert.equal(await (await realFetch(url)).text(), 'kept here')
    await new Promise((r) => setTimeout(r, 300))
    await fs.dispose()
    assert.equal(requests, 0, 'no request at all')
  } finally {
    globalThis.fetch = realFetch
  }
  await store.shutdownPromise()
})

test('engine logs reach the onLog callback at the chosen level', async () => {
  const { store } = await openStore({ storeId: 'logs' })
  const entries = []
  // A remote that refuses every token: the failed upload is logged.
  const fs = createFileSync({
    store,
    fileSystem: 'memory',
    remote: { signerBaseUrl: server.url, authToken: 'wrong-token' },
    options: { logLevel: 'debug', onLog: (e) => entries.push(e), maxRetries: 0 },
  })
  await fs.start()
  await fs.saveFile(bytes('log me'))
  await until('a log entry about the upload', () => entries.some((e) => e.fields.file_id !== undefined))
  const entry = entries.find((e) => e.fields.file_id !== undefined)
  assert.ok(['warn', 'debug', 'info', 'error'].includes(entry.level))
  assert.equal(typeof entry.message, 'string')
  await fs.dispose()
  await store.shutdownPromise()
})

test('a disposed engine leaves no timer behind (Node can exit)', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
  await new Promise((r) => setTimeout(r, 50))
  const before = timers()
  const { store } = await openStore({ storeId: 'timers' })
  const fs = createFileSync({ store, fileSystem: 'memory', remote: { signerBaseUrl: server.url, authToken: server.token } })
  await fs.start()
  await fs.saveFile(bytes('tick'))
  await new Promise((r) => setTimeout(r, 300))
  await fs.dispose()
  await store.shutdownPromise()
  await new Promise((r) => setTimeout(r, 50))
  assert.ok(timers() <= before, `timers before: ${before}, after dispose: ${timers()}`)
})

test('hashFile: the contentHash a save records, by WebCrypto up to the threshold and streamed above it', async () => {
  const { createHash } = await import('node:crypto')
  const hex = (data) => createHash('sha256').update(data).digest('hex')
  const small = new Uint8Array(100 * 1024).map((_, i) => (i * 7) & 0xff)
  // One byte over the threshold takes the engine's streaming hasher.
  const large = new Uint8Array(WEBCRYPTO_HASH_MAX_BYTES + 1).map((_, i) => (i * 13) & 0xff)
  assert.equal(await hashFile(new Blob([small])), hex(small))
  assert.equal(await hashFile(new Blob([large])), hex(large))
  assert.equal(await hashFile(new Blob([])), hex(new Uint8Array(0)))
  const { store } = await openStore({ storeId: 'hash-file' })
  const fileSync = createFileSync({ store, fileSystem: 'memory', remote: false })
  try {
    const saved = await fileSync.saveFile(new File([small], 'a.bin'))
    assert.equal(saved.contentHash, await hashFile(new Blob([small])))
  } finally {
    await fileSync.dispose()
    await store.shutdownPromise()
  }
  await assert.rejects(() => hashFile('not a blob'), /hashFile needs a File or a Blob/)
})

test('saves finishing together share one store.commit; each gets its own row and state', async () => {
  const { store, tables } = await openStore({ storeId: 'batched-saves' })
  const fileSync = createFileSync({ store, fileSystem: 'memory', remote: false })
  const commit = store.commit.bind(store)
  const calls = []
  store.commit = (...events) => {
    calls.push(events.map((e) => e.name))
    return commit(...events)
  }
  try {
    const saved = await Promise.all(Array.from({ length: 16 }, (_, i) => fileSync.saveFile(new File([bytes(`file ${i}`)], `f${i}.txt`))))
    assert.equal(new Set(saved.map((s) => s.fileId)).size, 16)
    for (const s of saved) {
      assert.equal(store.query(tables.files.where({ id: s.fileId }).first())?.contentHash, s.contentHash)
      const local = store.query(tables.localFileState.where({ fileId: s.fileId }).first())
      assert.equal(local?.localHash, s.contentHash)
    }
    const saveCommits = calls.filter((names) => names.includes('v1.FileCreated'))
    assert.ok(saveCommits.length < 16, `16 saves made ${saveCommits.length} commits`)
    assert.equal(saveCommits.flat().filter((n) => n === 'v1.FileCreated').length, 16)
    // A delete is committed at once, after the saves waiting.
    await fileSync.deleteFile(saved[0].fileId)
    assert.ok(store.query(tables.files.where({ id: saved[0].fileId }).first()).deletedAt instanceof Date)
  } finally {
    store.commit = commit
    await fileSync.dispose()
    await store.shutdownPromise()
  }
})
