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
