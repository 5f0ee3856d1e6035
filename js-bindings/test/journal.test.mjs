// The change journal the catalog glue reads (fileSyncChanges), with two real stores and a rebase:
// LiveStore rolls the journal back and replays it with the events, reusing sequence numbers, and
// the reader must still report every file that changed.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { makeCatalogGlue } from '../dist/catalog.js'

import { openStore, until } from './support/store.mjs'
import { makeSyncHub } from './support/sync-hub.mjs'

const created = (events, id) => {
  const now = new Date()
  return events.fileCreated({ id, path: `p/${id}`, contentHash: id.padEnd(64, '0'), createdAt: now, updatedAt: now })
}

test('a rebase that rewrites the journal rows already read still reports the other client\'s file', async () => {
  const hub = makeSyncHub()
  const a = await openStore({ storeId: 'journal', clientId: 'client-a', sync: { backend: hub.backend } })
  const b = await openStore({ storeId: 'journal', clientId: 'client-b', sync: { backend: hub.backend } })
  try {
    const reports = []
    const stop = makeCatalogGlue(a.store).subscribe((r) => reports.push(r))
    // The first read (right after subscribing) only notes where the journal stands.
    await new Promise((r) => setTimeout(r, 50))
    a.store.commit(created(a.events, 'x0'))
    await until('A reports its own file', () => reports.some((r) => r.files.includes('x0')))
    await until('B has x0', () => b.store.query(b.tables.files.where({ id: 'x0' }).first()))

    hub.hold('client-a')
    b.store.commit(created(b.events, 'zb'))
    await until('B\'s file reached the backend', () => hub.events.some((e) => e.args.id === 'zb'))
    a.store.commit(created(a.events, 'a1'))
    await until('A reports a1', () => reports.some((r) => r.files.includes('a1')))
    const before = reports.length
    hub.release('client-a')
    await until('A has zb', () => a.store.query(a.tables.files.where({ id: 'zb' }).first()))
    await until('a report after the rebase', () => reports.length > before)
    await new Promise((r) => setTimeout(r, 200))
    const after = reports.slice(before)
    assert.ok(after.some((r) => r.everything || r.files.includes('zb')), JSON.stringify(after))
    stop()
  } finally {
    await a.store.shutdownPromise()
    await b.store.shutdownPromise()
  }
})
