// The package in Node with files on disk (nodeFileSystem) and stores on disk: restarts, file:
// URLs, local-only files uploaded once a remote is configured, uploads cut by a restart resumed.
import assert from 'node:assert/strict'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { createFileSync } from 'filesync-livestore'
import { nodeFileSystem } from 'filesync-livestore/node'

import { remoteBytes, startServer } from './support/server.mjs'
import { startStallingProxy } from './support/stall.mjs'
import { openStore, until } from './support/store.mjs'

let server
let work
before(async () => {
  server = await startServer()
  work = await mkdtemp(join(tmpdir(), 'filesync-node-fs-'))
})
after(async () => {
  await server?.stop()
  await rm(work, { recursive: true, force: true })
})

const bytes = (text) => new TextEncoder().encode(text)
const row = (s, id) => s.store.query(s.tables.files.where({ id }).first())
const state = (s, id) => s.store.query(s.tables.localFileState.where({ fileId: id }).first())

test('local-only files on disk are uploaded once the app turns a remote on; file: URLs', async () => {
  const dir = join(work, 'local-then-remote')
  const files = join(dir, 'files')
  const storeDir = join(dir, 'store')
  let s = await openStore({ storeId: 'ltr', dir: storeDir })
  let fs = createFileSync({ store: s.store, fileSystem: nodeFileSystem(files), remote: false })
  await fs.start()
  const saved = await fs.saveFile(new File([bytes('on disk')], 'd.txt', { type: 'text/plain' }))
  const url = await fs.resolveFileUrl(saved.fileId)
  assert.match(url, /^file:\/\//)
  assert.equal(await readFile(fileURLToPath(url), 'utf8'), 'on disk')
  assert.equal(row(s, saved.fileId).remoteKey, '')
  await fs.dispose()
  await s.store.shutdownPromise()

  // Restart with a remote: the same store and files.
  s = await openStore({ storeId: 'ltr', dir: storeDir })
  fs = createFileSync({ store: s.store, fileSystem: nodeFileSystem(files), remote: { signerBaseUrl: server.url, authToken: server.token } })
  await fs.start()
  await until('the local-only file is uploaded', () => row(s, saved.fileId)?.remoteKey === `ltr/${saved.contentHash}`)
  assert.equal(new TextDecoder().decode(await remoteBytes(server, `ltr/${saved.contentHash}`)), 'on disk')
  await fs.dispose()
  await s.store.shutdownPromise()
})

test('an upload cut by a restart (store and engine) completes after it', async () => {
  const dir = join(work, 'restart')
  const files = join(dir, 'files')
  const storeDir = join(dir, 'store')
  const proxy = await startStallingProxy(server.origin)
  let s = await openStore({ storeId: 'restart', dir: storeDir })
  let fs = createFileSync({ store: s.store, fileSystem: nodeFileSystem(files), remote: { signerBaseUrl: proxy.url, authToken: server.token } })
  await fs.start()
  const saved = await fs.saveFile(bytes('cut short'))
  await until('the upload is in flight', () => proxy.uploads() > 0 && state(s, saved.fileId)?.uploadStatus === 'inProgress')
  await fs.dispose()
  await s.store.shutdownPromise()
  await proxy.stop()

  s = await openStore({ storeId: 'restart', dir: storeDir })
  assert.equal(row(s, saved.fileId).remoteKey, '', 'nothing was recorded as uploaded')
  fs = createFileSync({ store: s.store, fileSystem: nodeFileSystem(files), remote: { signerBaseUrl: server.url, authToken: server.token } })
  await fs.start()
  await until('the upload completes after the restart', () => row(s, saved.fileId)?.remoteKey === `restart/${saved.contentHash}`)
  await until('done/done', () => state(s, saved.fileId)?.uploadStatus === 'done')
  assert.equal(new TextDecoder().decode(await remoteBytes(server, `restart/${saved.contentHash}`)), 'cut short')
  await fs.dispose()
  await s.store.shutdownPromise()
})
