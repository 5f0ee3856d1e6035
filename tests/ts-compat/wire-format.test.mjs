// Wire-format compatibility with real stores, both on LiveStore 0.4.0-dev.23 (the release
// @livestore-filesync/core 0.8.0 pins): a store whose schema is 0.8.0's createFileSyncSchema() and
// one whose schema is ours (filesync-livestore), linked by an in-process broadcasting sync backend
// (support/sync-hub.mjs). What one writes, the other decodes and materializes to the same `files`
// rows; our additions stay invisible to 0.8.0.
//
// What LiveStore dev.23 does when the two clients' schemas differ (checked here and in
// upgrade.test.mjs; read from @livestore/common and @livestore/adapter-node 0.4.0-dev.23):
//
// - Nothing goes over the wire but the encoded event: {name, args, seqNum, parentSeqNum, clientId,
//   sessionId}. There is no per-event schema hash and no state schema hash in a push or a pull, so
//   the backend and the other client cannot tell that the schemas differ, and nothing is logged
//   at sync time.
// - Each client decodes a pulled event with its own event schema. Effect's Struct decoding drops
//   unknown keys, so 0.8.0 accepts our v1.FileUpdated with `ifContentHash` and materializes it
//   without the field (its eventlog keeps the raw args: rebuilding its state from them works,
//   below; scratch-ls/NOTES.md §7 saw the same on 0.4.0, whose code here is identical). An
//   event whose name a client does not know would be skipped with a WARN
//   (`unknownEventHandling: warn`); we add none that is synced: our two extra events
//   (v1.FileTransferStateUpsert/Remove) are client-only and never leave the client.
// - Schema hashes matter only locally: each leader writes Schema.hash(its event schema) into its
//   eventlog's `schemaHash` column and compares it only when it rematerializes its state from the
//   eventlog; a mismatch then logs WARN "Schema hash mismatch for event definition X. Trying to
//   materialize event anyway." and the event is decoded with the current schema. The state
//   database's file name carries the hash of the tables (`state{hash}@N.db` in adapter-node), so a
//   store opened with the other package's schema (our extra `fileTransferState` table) starts a
//   new state database and rebuilds it from the eventlog: that is the in-place upgrade path
//   (upgrade.test.mjs checks the warning and the rebuilt rows).
// - dev.23 compares a client's own pending events with their pulled copies by plain deepEqual
//   (0.4.0 first canonicalizes through JSON). An args key whose value is `undefined` does not
//   survive a network backend's JSON, so such an event would send the merge down a false rebase.
//   The hub here delivers JSON like a network backend; the first test checks that our engine never
//   pushes such a key.
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'

import { Schema } from '@livestore/livestore'
import { createFileSync } from 'filesync-livestore'

import { captureConsole } from './support/console.mjs'
import { serverFromEnv } from './support/server.mjs'
import { openStore, rawFiles, rawLocalStates, sleep, until } from './support/stores.mjs'
import { makeSyncHub } from './support/sync-hub.mjs'

const server = serverFromEnv()
const SYNCED = ['v1.FileCreated', 'v1.FileUpdated', 'v1.FileDeleted']
const bytes = (text) => new TextEncoder().encode(text)
const h = (c) => c.repeat(64)

let work
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'filesync-compat-wire-'))
})
after(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Two linked stores with the same storeId: ours and 0.8.0's (0.8.0's on disk when `v08Dir`). */
async function pair(storeId, { v08Dir } = {}) {
  const hub = makeSyncHub()
  const ours = await openStore({ kind: 'ours', storeId, clientId: 'ours', hub })
  const v08 = await openStore({ kind: 'v08', storeId, clientId: 'v08', hub, dir: v08Dir })
  return { hub, ours, v08 }
}

/** Both stores hold every event the hub has, and the same `files` rows. */
async function converged(hub, a, b) {
  await until('both stores hold the same files rows', () => {
    const head = hub.events.at(-1)?.seqNum ?? 0
    return head > 0 && JSON.stringify(rawFiles(a)) === JSON.stringify(rawFiles(b))
  })
  // Let late pulls land, then check again.
  await sleep(200)
  assert.deepEqual(rawFiles(b), rawFiles(a))
}

const decodesWith = (client, event) =>
  Schema.decodeUnknownEither(client.store.schema.eventsDefsMap.get(event.name).schema)(event.args)

if (server) {
  test('our engine writes; a 0.8.0 store decodes every event and holds the same rows, also after rebuilding its state', async () => {
    const v08Dir = join(work, 'v08-store')
    const logged = captureConsole()
    let { hub, ours, v08 } = await pair('wire-ours', { v08Dir })
    const engine = createFileSync({
      store: ours.store,
      fileSystem: 'memory',
      remote: { signerBaseUrl: server.url, authToken: server.token },
      options: { deleteGracePeriodMs: 0 },
    })
    try {
      await engine.start()
      const a = await engine.saveFile(new File([bytes('typed file')], 'a.txt', { type: 'text/plain' }))
      const b = await engine.saveFile(bytes('untyped bytes'))
      const c = await engine.saveFile(bytes('to be deleted'))
      await until('the three uploads are recorded', () =>
        [a, b, c].every(({ fileId }) => rawFiles(ours).find((r) => r.id === fileId)?.remoteKey !== ''),
      )
      const b2 = await engine.updateFile(b.fileId, new File([bytes('edited')], 'b.bin', { type: 'application/octet-stream' }))
      await until('the update is uploaded', () => rawFiles(ours).find((r) => r.id === b.fileId)?.remoteKey === `wire-ours/${b2.contentHash}`)
      await engine.deleteFile(c.fileId)
      await until('the delete is recorded', () => rawFiles(ours).find((r) => r.id === c.fileId)?.deletedAt != null)
      await converged(hub, ours, v08)

      // Only synced events went over the wire: our client-only ones (localFileState and our own
      // fileTransferState) stayed on our client, and 0.8.0 never saw them.
      const names = new Set(hub.events.map((e) => e.name))
      assert.deepEqual([...names].sort(), [...SYNCED].sort())
      assert.ok(rawLocalStates(ours).length >= 2, 'our client has its localFileState rows')
      assert.ok(ours.store.query({ query: 'SELECT COUNT(*) AS n FROM fileTransferState', bindValues: [] })[0].n >= 1)
      assert.equal(rawLocalStates(v08).length, 0, '0.8.0 received no client-only event of ours')
      assert.equal(v08.store.schema.state.sqlite.tables.has('fileTransferState'), false)

      // Every event decodes with 0.8.0's own event schemas; the upload records carry our optional
      // ifContentHash, which 0.8.0's decoder accepts and drops.
      for (const event of hub.events) {
        const decoded = decodesWith(v08, event)
        assert.equal(decoded._tag, 'Right', `${event.name} ${JSON.stringify(event.args)}: ${decoded.left}`)
        assert.equal('ifContentHash' in decoded.right, false)
      }
      const uploads = hub.events.filter((e) => e.name === 'v1.FileUpdated' && e.args.remoteKey !== '')
      assert.ok(uploads.length >= 4, 'one upload record per uploaded content')
      for (const e of uploads) assert.equal(e.args.ifContentHash, e.args.contentHash, 'an upload names the content it uploaded')

      // No key of ours is `undefined` (JSON drops such keys; dev.23 would then take our own
      // pending event and its pulled copy for different events: a false rebase).
      for (const event of hub.pushed) {
        assert.deepEqual(Object.entries(event.args).filter(([, v]) => v === undefined), [], `${event.name}`)
      }

      // No schema hash travels with an event: the encoded event holds exactly these keys.
      for (const event of hub.events) {
        assert.deepEqual(Object.keys(event).sort(), ['args', 'clientId', 'name', 'parentSeqNum', 'seqNum', 'sessionId'])
      }
      // ...although the two schemas hash differently (event and state hashes).
      const hashOf = (s, name) => Schema.hash(s.store.schema.eventsDefsMap.get(name).schema)
      assert.notEqual(hashOf(ours, 'v1.FileUpdated'), hashOf(v08, 'v1.FileUpdated'))
      assert.equal(hashOf(ours, 'v1.FileCreated'), hashOf(v08, 'v1.FileCreated'))
      assert.notEqual(ours.store.schema.state.sqlite.hash, v08.store.schema.state.sqlite.hash)

      // 0.8.0 rebuilds its state from its eventlog (which kept our raw args, ifContentHash
      // included) to the same rows: remove its state database and open the store again.
      await v08.store.shutdownPromise()
      const storeDir = join(v08Dir, 'wire-ours')
      const stateDbs = (await readdir(storeDir)).filter((n) => n.startsWith('state'))
      assert.equal(stateDbs.length, 1, `one state database: ${stateDbs}`)
      await rm(join(storeDir, stateDbs[0]))
      v08 = await openStore({ kind: 'v08', storeId: 'wire-ours', clientId: 'v08', hub, dir: v08Dir })
      assert.deepEqual(rawFiles(v08), rawFiles(ours))

      // Nothing was logged about the differing schemas, at sync time or at the rebuild (0.8.0's
      // eventlog holds its own schema hashes, written when it pulled our events).
      assert.deepEqual(logged.lines.filter((l) => /mismatch|unknown-event|ParseError/i.test(l)), [])
    } finally {
      logged.stop()
      await engine.dispose()
      await ours.store.shutdownPromise()
      await v08.store.shutdownPromise().catch(() => {})
    }
  })

  test('0.8.0 writes every shape of its events; our store decodes them and holds the same rows', async () => {
    const { hub, ours, v08 } = await pair('wire-v08')
    try {
      const t = (ms) => new Date(Date.UTC(2026, 0, 1) + ms)
      const e = v08.events
      v08.store.commit(
        e.fileCreated({ id: 'f1', path: `livestore-filesync-files/wire-v08/${h('a')}`, contentHash: h('a'), createdAt: t(1), updatedAt: t(1) }),
        e.fileCreated({ id: 'f2', path: `livestore-filesync-files/wire-v08/${h('b')}`, contentHash: h('b'), metadataJson: null, createdAt: t(2), updatedAt: t(2) }),
        e.fileCreated({ id: 'f3', path: `livestore-filesync-files/wire-v08/${h('c')}`, contentHash: h('c'), metadataJson: '{"mimeType":"image/png","sizeBytes":3,"image":{"width":1,"height":2}}', createdAt: t(3), updatedAt: t(3) }),
      )
      v08.store.commit(
        // an upload record without metadataJson: keeps the row's metadata
        e.fileUpdated({ id: 'f3', path: `livestore-filesync-files/wire-v08/${h('c')}`, remoteKey: `wire-v08/${h('c')}`, contentHash: h('c'), updatedAt: t(4) }),
        // 0.8.0's own upload record passes the row's metadataJson (null here)
        e.fileUpdated({ id: 'f2', path: `livestore-filesync-files/wire-v08/${h('b')}`, remoteKey: `wire-v08/${h('b')}`, contentHash: h('b'), metadataJson: null, updatedAt: t(5) }),
        // a content update with new metadata, then its upload
        e.fileUpdated({ id: 'f1', path: `livestore-filesync-files/wire-v08/${h('d')}`, remoteKey: '', contentHash: h('d'), metadataJson: '{"mimeType":"text/plain"}', updatedAt: t(6) }),
        e.fileUpdated({ id: 'f1', path: `livestore-filesync-files/wire-v08/${h('d')}`, remoteKey: `wire-v08/${h('d')}`, contentHash: h('d'), updatedAt: t(7) }),
        e.fileDeleted({ id: 'f2', deletedAt: t(8) }),
        // client-only events of 0.8.0's own
        e.localFileStateUpsert({ fileId: 'f1', path: 'p', localHash: h('d'), downloadStatus: 'done', uploadStatus: 'done', lastSyncError: '' }),
        e.fileSyncCursorSet({ lastEventSequence: 'e3', updatedAt: t(9) }),
      )
      await converged(hub, v08, ours)
      const rows = rawFiles(ours)
      assert.deepEqual(rows.map((r) => [r.id, r.remoteKey, r.metadataJson, r.deletedAt]), [
        ['f1', `wire-v08/${h('d')}`, '{"mimeType":"text/plain"}', null],
        ['f2', `wire-v08/${h('b')}`, null, t(8).getTime()],
        ['f3', `wire-v08/${h('c')}`, '{"mimeType":"image/png","sizeBytes":3,"image":{"width":1,"height":2}}', null],
      ])
      assert.equal(rows[0].updatedAt, t(7).getTime(), 'dates: ISO strings in event args, epoch ms in rows')
      for (const event of hub.events) {
        assert.equal(decodesWith(ours, event)._tag, 'Right', `${event.name} ${JSON.stringify(event.args)}`)
      }
      assert.deepEqual([...new Set(hub.events.map((e) => e.name))].sort(), [...SYNCED].sort())
      assert.equal(rawLocalStates(ours).length, 0, 'no client-only event of 0.8.0 reached our store')
      // Our package reads what 0.8.0 wrote (its getSyncStatus/getFileDisplayState take these rows).
      const { getFileDisplayState } = await import('filesync-livestore')
      const f1 = ours.store.query(ours.tables.files.where({ id: 'f1' }).first())
      assert.equal(getFileDisplayState(f1, undefined).isUploaded, true)
    } finally {
      await ours.store.shutdownPromise()
      await v08.store.shutdownPromise()
    }
  })

  test('the documented difference: an upload record ordered after another client\'s update (README, "the edit-revert race")', async () => {
    // Our client records its upload of X (with ifContentHash X) after 0.8.0 replaced the content
    // with Y. Our materializer applies the record only while the row holds X: our row keeps Y.
    // 0.8.0's drops ifContentHash and applies it (last writer wins): its row reverts to X.
    const { hub, ours, v08 } = await pair('wire-race')
    try {
      const t = (ms) => new Date(Date.UTC(2026, 0, 1) + ms)
      const path = (c) => `livestore-filesync-files/wire-race/${h(c)}`
      ours.store.commit(ours.events.fileCreated({ id: 'r', path: path('x'), contentHash: h('x'), createdAt: t(1), updatedAt: t(1) }))
      await until('0.8.0 has the row', () => rawFiles(v08).length === 1)
      v08.store.commit(v08.events.fileUpdated({ id: 'r', path: path('y'), remoteKey: '', contentHash: h('y'), metadataJson: null, updatedAt: t(2) }))
      await until('our store has Y', () => rawFiles(ours)[0]?.contentHash === h('y'))
      ours.store.commit(
        ours.events.fileUpdated({ id: 'r', path: path('x'), remoteKey: `wire-race/${h('x')}`, contentHash: h('x'), updatedAt: t(3), ifContentHash: h('x') }),
      )
      await until('0.8.0 applied the upload record', () => rawFiles(v08)[0]?.remoteKey !== '')
      await sleep(200)
      assert.equal(rawFiles(ours)[0].contentHash, h('y'), 'ours keeps the later content')
      assert.equal(rawFiles(ours)[0].remoteKey, '')
      assert.equal(rawFiles(v08)[0].contentHash, h('x'), '0.8.0 reverts (last writer wins)')
      assert.equal(hub.events.at(-1).args.ifContentHash, h('x'), 'the field travelled over the wire')
    } finally {
      await ours.store.shutdownPromise()
      await v08.store.shutdownPromise()
    }
  })
}
