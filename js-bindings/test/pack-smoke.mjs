// Run by scripts/pack-test.sh inside a fresh project that installed the packed tarball: the
// package as an app imports it (no workspace links, no sources).
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

import { makeAdapter } from '@livestore/adapter-node'
import { createStorePromise, makeSchema, State } from '@livestore/livestore'

test('the installed package: schema, engine, Node file system', async () => {
  const pkg = await import('filesync-livestore')
  const schemaEntry = await import('filesync-livestore/schema')
  const { nodeFileSystem } = await import('filesync-livestore/node')
  assert.equal(typeof pkg.initFileSync, 'function')
  assert.equal(schemaEntry.createFileSyncSchema, pkg.createFileSyncSchema)

  const fileSync = pkg.createFileSyncSchema()
  const tables = { ...fileSync.tables }
  const materializers = State.SQLite.materializers(fileSync.events, fileSync.createMaterializers(tables))
  const schema = makeSchema({ events: fileSync.events, state: State.SQLite.makeState({ tables, materializers }) })
  const store = await createStorePromise({ adapter: makeAdapter({ storage: { type: 'in-memory' } }), schema, storeId: 'pack', disableDevtools: true })
  const dir = await mkdtemp(join(tmpdir(), 'filesync-pack-files-'))
  try {
    const dispose = pkg.initFileSync(store, { remote: false, fileSystem: nodeFileSystem(dir) })
    const saved = await pkg.saveFile(new TextEncoder().encode('packed'))
    const url = await pkg.resolveFileUrl(saved.fileId)
    assert.equal(await readFile(fileURLToPath(url), 'utf8'), 'packed')
    await dispose()
    await assert.rejects(pkg.saveFile(new Uint8Array(1)), (e) => e instanceof pkg.NotInitializedError && e.code === 'NOT_INITIALIZED')
  } finally {
    await store.shutdownPromise()
    await rm(dir, { recursive: true, force: true })
  }
})

test('the framework entry points are optional: without React and Vue installed the core loads, ./effect works', async () => {
  // This project installs no React and no Vue (effect comes with LiveStore).
  await assert.rejects(import('react'), { code: 'ERR_MODULE_NOT_FOUND' })
  await assert.rejects(import('vue'), { code: 'ERR_MODULE_NOT_FOUND' })
  const core = await import('filesync-livestore')
  assert.equal(typeof core.createFileSync, 'function')
  const effectEntry = await import('filesync-livestore/effect')
  assert.equal(typeof effectEntry.fileSyncLayer, 'function')
  assert.equal(effectEntry.FileSyncService.key, 'filesync-livestore/FileSyncService')
  // The React entry point needs React: importing it without fails at once, naming it.
  await assert.rejects(import('filesync-livestore/react'), (e) => e.code === 'ERR_MODULE_NOT_FOUND' && /'react'/.test(e.message))
})
