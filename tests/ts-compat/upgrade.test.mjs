// In-place upgrade: a @livestore-filesync/core 0.8.0 app (Node: NodeFileSystem with its working
// directory `app/`, a LiveStore 0.4.0-dev.23 store persisted with adapter-node
// `storage: {type: 'fs', baseDirectory}`) leaves behind files on disk, rows and a pending upload
// (saved while its remote was unreachable). Then the same app switches to our package: the same
// store (same storeId, clientId and directory, now opened with our schema) and the same files
// (`nodeFileSystem('app/')`, so 0.8.0's `livestore-filesync-files/{storeId}/{hash}` paths are
// ours). Nothing is downloaded again (the server sees no GET of a blob), the pending upload
// completes, and every file resolves to its local copy, untouched.
//
// What LiveStore dev.23 does with the other schema (see also wire-format.test.mjs): the state
// database's file name carries the hash of the tables, and ours has one more table
// (`fileTransferState`), so the store opens a new state database and rebuilds it from the
// eventlog, which holds 0.8.0's synced events and its client-only ones (`localFileState` comes
// back as 0.8.0 left it). For v1.FileUpdated, whose schema differs (our optional ifContentHash),
// it logs WARN "Schema hash mismatch for event definition v1.FileUpdated. Trying to materialize
// event anyway." and decodes the event with our schema, which accepts it. The old state database
// stays on disk, unused.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { createFileSync } from 'filesync-livestore'
import { nodeFileSystem } from 'filesync-livestore/node'

import { captureConsole } from './support/console.mjs'
import { startProxy } from './support/proxy.mjs'
import { remoteBytes, serverFromEnv } from './support/server.mjs'
import { openStore, rawFiles, rawLocalStates, sleep, until } from './support/stores.mjs'
import { makeSyncHub } from './support/sync-hub.mjs'
import { quietV08Console, startV08Client } from './support/v08.mjs'
import { installXhr } from './support/xhr.mjs'

const server = serverFromEnv()
const STORE = 'upgrade'
const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const typesAfterUpgrade = {}
let expectedTypes

let work
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'filesync-compat-upgrade-'))
})
after(async () => {
  await rm(work, { recursive: true, force: true })
})

if (server) {
  test('a 0.8.0 app switches to our package in place: no download again, its pending upload completes, files resolve locally', async () => {
    const app = join(work, 'app') // 0.8.0's working directory, then our nodeFileSystem root
    const storeDir = join(work, 'store')
    const hub = makeSyncHub()
    const proxy = await startProxy(server.origin)
    const restoreConsole = quietV08Console()
    let restoreXhr = installXhr()
    const cleanup = []
    try {
      // --- The 0.8.0 app -------------------------------------------------------------------------
      const v08 = await openStore({ kind: 'v08', storeId: STORE, clientId: 'app', hub, dir: storeDir })
      cleanup.push(() => v08.store.shutdownPromise().catch(() => {}))
      const old = startV08Client(v08, { root: app, remote: { signerBaseUrl: proxy.url, authToken: server.token } })
      cleanup.unshift(() => old.fileSync.dispose())

      // A: saved and uploaded.
      const aBytes = randomBytes(64 * 1024 + 1)
      const a = await old.fileSync.saveFile(new File([aBytes], 'a.png', { type: 'image/png' }))
      await until('0.8.0 uploaded A', () => rawFiles(v08).find((r) => r.id === a.fileId)?.remoteKey === `${STORE}/${a.contentHash}`)

      // C: saved by another client (ours, in memory) and downloaded by the 0.8.0 app.
      const other = await openStore({ kind: 'ours', storeId: STORE, clientId: 'other', hub })
      const otherSync = createFileSync({
        store: other.store,
        fileSystem: 'memory',
        remote: { signerBaseUrl: server.url, authToken: server.token },
      })
      cleanup.unshift(() => other.store.shutdownPromise().catch(() => {}))
      cleanup.unshift(() => otherSync.dispose())
      await otherSync.start()
      const cBytes = randomBytes(40 * 1024 + 5)
      const c = await otherSync.saveFile(new File([cBytes], 'c.txt', { type: 'text/plain' }))
      await until('0.8.0 downloaded C', () => {
        const s = rawLocalStates(v08).find((r) => r.fileId === c.fileId)
        return s?.localHash === c.contentHash && s?.downloadStatus === 'done'
      })
      await cleanup.shift()() // otherSync.dispose()
      await cleanup.shift()() // other.store.shutdownPromise()

      // B: saved while the remote is unreachable: it stays a pending upload.
      proxy.setDown(true)
      await until('0.8.0 noticed it is offline', () => old.events.some((e) => e.type === 'offline'))
      const bBytes = randomBytes(50 * 1024 + 9)
      const b = await old.fileSync.saveFile(new File([bBytes], 'b.bin', { type: 'application/octet-stream' }))
      await sleep(500)
      const bState = rawLocalStates(v08).find((r) => r.fileId === b.fileId)
      assert.ok(['queued', 'error'].includes(bState?.uploadStatus), `B's upload is pending: ${JSON.stringify(bState)}`)
      assert.equal(rawFiles(v08).find((r) => r.id === b.fileId).remoteKey, '')

      // The app stops. What it leaves behind:
      await old.fileSync.dispose()
      const rowsBefore = rawFiles(v08)
      const statesBefore = rawLocalStates(v08)
      await v08.store.shutdownPromise()
      cleanup.length = 0
      restoreXhr() // our package in Node uploads by fetch when there is no XMLHttpRequest
      restoreXhr = () => {}
      const onDisk = {}
      for (const f of [a, b, c]) {
        const info = await stat(join(app, f.path))
        onDisk[f.fileId] = { mtimeMs: info.mtimeMs, ino: info.ino }
      }
      assert.deepEqual(await readFile(join(app, `livestore-filesync-files/${STORE}/${a.contentHash}.meta.json`), 'utf8').then((t) => JSON.parse(t).type), 'image/png')
      const stateDbsBefore = (await readdir(join(storeDir, STORE))).filter((n) => n.startsWith('state'))
      assert.equal(stateDbsBefore.length, 1)

      // --- The same app on our package ------------------------------------------------------------
      proxy.setDown(false)
      proxy.reset()
      const logged = captureConsole()
      const ours = await openStore({ kind: 'ours', storeId: STORE, clientId: 'app', hub, dir: storeDir }).finally(logged.stop)
      const lines = logged.lines
      cleanup.push(() => ours.store.shutdownPromise().catch(() => {}))
      // LiveStore rebuilt the state from the eventlog into a new state database.
      const stateDbsAfter = (await readdir(join(storeDir, STORE))).filter((n) => n.startsWith('state'))
      assert.equal(stateDbsAfter.length, 2, `a second state database: ${stateDbsAfter}`)
      assert.ok(
        lines.some((l) => l.includes('Schema hash mismatch for event definition v1.FileUpdated')),
        `LiveStore warns about v1.FileUpdated's schema hash while rebuilding; it logged:\n${lines.join('\n')}`,
      )
      assert.ok(!lines.some((l) => /Schema hash mismatch for event definition v1\.File(Created|Deleted)/.test(l)))
      assert.deepEqual(rawFiles(ours), rowsBefore, 'the files rows, rebuilt from the eventlog')
      assert.deepEqual(rawLocalStates(ours), statesBefore, '0.8.0\'s client-only localFileState rows, rebuilt too')

      const ourSync = createFileSync({
        store: ours.store,
        fileSystem: nodeFileSystem(app),
        remote: { signerBaseUrl: proxy.url, authToken: server.token },
        options: { retryBaseDelayMs: 100, retryJitterMs: 0 },
      })
      cleanup.unshift(() => ourSync.dispose())
      await ourSync.start()

      await until('the pending upload of B completed', () => rawFiles(ours).find((r) => r.id === b.fileId)?.remoteKey === `${STORE}/${b.contentHash}`)
      assert.deepEqual(await remoteBytes(server, `${STORE}/${b.contentHash}`), new Uint8Array(bBytes))
      await until('every file is verified locally and nothing is left to do', async () =>
        (await ourSync.isIdle()) &&
        [a, b, c].every((f) => {
          const s = rawLocalStates(ours).find((r) => r.fileId === f.fileId)
          return s?.localHash === f.contentHash && s.uploadStatus === 'done' && s.downloadStatus === 'done'
        }),
      )
      await sleep(300)

      // Nothing was downloaded again: no GET (or HEAD) of a blob; one PUT, B's.
      const blobs = proxy.blobRequests()
      assert.deepEqual(blobs.filter((r) => r.method !== 'PUT'), [], `blob requests: ${JSON.stringify(proxy.requests())}`)
      assert.deepEqual(blobs.map((r) => new URL(r.path, 'http://x').pathname), [`/livestore-filesync-files/${STORE}/${b.contentHash}`])
      const recorded = hub.events.find((e) => e.name === 'v1.FileUpdated' && e.args.remoteKey === `${STORE}/${b.contentHash}`)
      assert.equal(recorded?.args.ifContentHash, b.contentHash)

      // Every file resolves to 0.8.0's local copy, which was neither rewritten nor moved.
      for (const [f, content] of [[a, aBytes], [b, bBytes], [c, cBytes]]) {
        const url = await ourSync.resolveFileUrl(f.fileId)
        assert.match(url, /^file:\/\//)
        assert.equal(fileURLToPath(url), join(app, f.path))
        assert.deepEqual(await readFile(fileURLToPath(url)), content)
        assert.equal(sha256(content), f.contentHash)
        const info = await stat(join(app, f.path))
        assert.deepEqual({ mtimeMs: info.mtimeMs, ino: info.ino }, onDisk[f.fileId], `${f.path} untouched`)
        const read = await ourSync.readFile(f.path)
        assert.deepEqual(new Uint8Array(await read.arrayBuffer()), new Uint8Array(content))
        typesAfterUpgrade[f.path] = read.type
      }
      expectedTypes = { [a.path]: 'image/png', [b.path]: 'application/octet-stream', [c.path]: 'text/plain' }
    } finally {
      for (const step of cleanup) await step()
      restoreXhr()
      restoreConsole()
      await proxy.stop()
    }
  })

  test('after the upgrade, readFile answers the MIME types 0.8.0 recorded', () => {
    // 0.8.0 recorded the types only in its `{hash}.meta.json` sidecars (no metadataJson without a
    // preprocessor). Our LocalFileStorage reads its own `.meta/{hash}.json` only, and readFile
    // reads metadataJson only: the files 0.8.0 saved lose their type (in browsers, their object
    // URLs too). The file C, saved by our package, keeps its type through its row's metadataJson.
    assert.ok(expectedTypes, 'the upgrade test ran')
    assert.deepEqual(typesAfterUpgrade, expectedTypes)
  })
}
