// The package's entry points under Node: the core imports no framework; initFileSync keeps its
// instance across a dispose and an init in the same task (React StrictMode's double mount); the
// Effect entry point (filesync-livestore/effect) with a real store (adapter-node) and our server.
// The React and Vue entry points run in Chromium: frameworks.test.mjs.
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { makeAdapter } from '@livestore/adapter-node'
import { createStorePromise, makeSchema, State } from '@livestore/livestore'
import { Effect, Fiber, Layer, Option, Stream } from 'effect'
import { getFileSync, initFileSync, NotInitializedError } from 'filesync-livestore'
import { FileSyncService, fileSyncLayer } from 'filesync-livestore/effect'

import { remoteBytes, startServer } from './support/server.mjs'
import { openStore } from './support/store.mjs'

// The installed package's dist/ (the workspace link, or the copy tests/ts-compat installs).
const DIST_URL = new URL('./', import.meta.resolve('filesync-livestore'))
const DIST = fileURLToPath(DIST_URL)

let server
before(async () => {
  server = await startServer()
})
after(async () => {
  await server?.stop()
})

const bytes = (text) => new TextEncoder().encode(text)

/**
 * The bare specifiers (packages) that `entry` (a file in dist/) imports, statically or
 * dynamically, through its relative imports, and the dist files it reaches.
 */
async function importGraph(entry) {
  const files = new Set()
  const packages = new Set()
  const visit = async (file) => {
    if (files.has(file)) return
    files.add(file)
    const source = await readFile(file, 'utf8')
    const specifiers = [
      ...source.matchAll(/(?:^|[\s;})])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/g),
      ...source.matchAll(/(?:^|[\s;})])import\s*['"]([^'"]+)['"]/g),
      ...source.matchAll(/import\(\s*(?:\/\*[^*]*\*\/\s*)?['"]([^'"]+)['"]\s*\)/g),
    ].map((m) => m[1])
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) await visit(resolve(dirname(file), specifier))
      else packages.add(specifier)
    }
  }
  await visit(join(DIST, entry))
  return { files: [...files].map((f) => f.slice(DIST.length)), packages: [...packages] }
}

const FRAMEWORK = /^(react|react-dom|vue|@vue\/.*|effect|@effect\/.*)(\/.*)?$/

test('importing the core (and ./schema, ./node) imports no React, Vue or Effect of its own', async () => {
  // LiveStore itself is built on Effect: `@livestore/livestore` brings it to every app. What is
  // checked is that our modules never import a framework (or a framework entry point) themselves.
  for (const entry of ['index.js', 'schema.js', 'node-fs.js']) {
    const { files, packages } = await importGraph(entry)
    assert.deepEqual(packages.filter((p) => FRAMEWORK.test(p)), [], `${entry} imports ${packages.join(', ')}`)
    for (const framework of ['react.js', 'vue.js', 'effect.js']) assert.ok(!files.includes(framework), `${entry} reaches ${framework}`)
  }
  assert.ok((await importGraph('index.js')).files.includes('wasm/filesync_js.js'), 'the graph follows relative imports')
  // The framework entry points do import theirs (the scan finds them).
  assert.ok((await importGraph('react.js')).packages.includes('react'))
  assert.ok((await importGraph('vue.js')).packages.includes('vue'))
  assert.ok((await importGraph('effect.js')).packages.includes('effect'))
  // And the package declares them as optional peers.
  const pkg = JSON.parse(await readFile(new URL('../package.json', DIST_URL), 'utf8'))
  for (const name of ['react', 'vue', 'effect']) {
    assert.ok(pkg.peerDependencies[name], `${name} is a peer`)
    assert.equal(pkg.peerDependenciesMeta?.[name]?.optional, true, `${name} is optional`)
    assert.equal(pkg.dependencies?.[name], undefined)
  }
})

test('initFileSync: a dispose followed in the same task by an init keeps the instance (React StrictMode)', async () => {
  const { store } = await openStore({ storeId: 'strict-remount' })
  try {
    const config = { remote: false, fileSystem: 'memory' }
    const first = initFileSync(store, config)
    const instance = getFileSync()
    // StrictMode: the effect's cleanup, then the effect again, in one go.
    const disposing = first()
    const second = initFileSync(store, config)
    await disposing
    assert.equal(getFileSync(), instance, 'the same instance')
    const saved = await instance.saveFile(bytes('still here'))
    assert.equal(await (await instance.readFile(saved.path)).text(), 'still here')
    await second()
    assert.throws(() => getFileSync(), NotInitializedError)
    // A dispose alone does dispose (after its microtask).
    const third = initFileSync(store, config)
    const other = getFileSync()
    assert.notEqual(other, instance)
    await third()
    assert.throws(() => getFileSync(), NotInitializedError)
    await assert.rejects(other.saveFile(bytes('x')), NotInitializedError)
  } finally {
    await store.shutdownPromise()
  }
})

test('Effect: fileSyncLayer makes and starts an instance, its methods are Effects with tagged errors, the scope disposes it', async () => {
  const { store, tables } = await openStore({ storeId: 'effect-layer' })
  try {
    const layer = fileSyncLayer({
      store,
      fileSystem: 'memory',
      remote: { signerBaseUrl: server.url, authToken: server.token },
      options: { retryBaseDelayMs: 50, retryJitterMs: 0 },
    })
    const program = Effect.gen(function* () {
      const fileSync = yield* FileSyncService
      assert.equal(fileSync.instance.isLeader(), true, 'started when the layer was built')
      const uploaded = yield* fileSync.events.pipe(
        Stream.filter((e) => e.type === 'upload:complete'),
        Stream.runHead,
        Effect.timeoutFail({ duration: '20 seconds', onTimeout: () => new Error('no upload:complete event') }),
        Effect.fork,
      )
      yield* Effect.yieldNow()
      const saved = yield* fileSync.saveFile(new File([bytes('saved by an Effect')], 'e.txt', { type: 'text/plain' }))
      const event = yield* Fiber.join(uploaded)
      const url = yield* fileSync.resolveFileUrl(saved.fileId)
      const text = yield* Effect.promise(async () => (await fileSync.instance.readFile(saved.path)).text())
      const missing = yield* fileSync.updateFile('no-such-file', bytes('x')).pipe(
        Effect.map(() => 'updated'),
        Effect.catchTag('FileNotFoundError', (e) => Effect.succeed(`${e._tag} ${e.code} ${e.fileId}`)),
      )
      const bad = yield* fileSync.saveFile('not a file').pipe(Effect.flip)
      return { saved, event, url, text, missing, bad, instance: fileSync.instance, online: yield* fileSync.isOnline }
    })
    const result = await Effect.runPromise(program.pipe(Effect.provide(layer)))
    assert.equal(Option.getOrThrow(result.event).fileId, result.saved.fileId)
    assert.equal(result.text, 'saved by an Effect')
    assert.match(result.url, /^blob:/)
    assert.equal(result.missing, 'FileNotFoundError FILE_NOT_FOUND no-such-file')
    assert.equal(result.bad._tag, 'InvalidInputError')
    assert.equal(result.bad.code, 'INVALID_INPUT')
    assert.equal(result.online, true)
    const row = store.query(tables.files.where({ id: result.saved.fileId }).first())
    assert.equal(new TextDecoder().decode(await remoteBytes(server, row.remoteKey)), 'saved by an Effect')
    // The layer's scope closed with the program: the instance is disposed.
    await assert.rejects(result.instance.saveFile(bytes('after')), NotInitializedError)
  } finally {
    await store.shutdownPromise()
  }
})

test('Effect: a layer whose start fails fails with the tagged error (and leaves nothing running)', async () => {
  // A store without file sync's tables: starting refuses it.
  const tables = { notes: State.SQLite.table({ name: 'notes', columns: { id: State.SQLite.text({ primaryKey: true }) } }) }
  const schema = makeSchema({ events: {}, state: State.SQLite.makeState({ tables, materializers: {} }) })
  const store = await createStorePromise({ adapter: makeAdapter({ storage: { type: 'in-memory' } }), schema, storeId: 'effect-bad', disableDevtools: true })
  try {
    const layer = fileSyncLayer({ store, fileSystem: 'memory', remote: false })
    const failure = await Effect.runPromise(
      FileSyncService.pipe(
        Effect.provide(layer),
        Effect.map(() => 'built'),
        Effect.catchTag('InvalidInputError', (e) => Effect.succeed(e.code)),
      ),
    )
    assert.equal(failure, 'SCHEMA_MISSING')
    // Layer.build in a scope: acquire ran once and failed; nothing to release.
    const exit = await Effect.runPromiseExit(Effect.scoped(Layer.build(layer)))
    assert.equal(exit._tag, 'Failure')
  } finally {
    await store.shutdownPromise()
  }
})
