// Benchmark (scripts/extended, via bench/run.sh): start-up of a store holding N file rows (default
// 100,000), filesync-livestore against @livestore-filesync/core 0.8.0, in Node (LiveStore
// 0.4.0-dev.23, adapter-node with its files on disk, our server on loopback). Each package gets a
// store built with its own schema, as its own saves would leave it: every file uploaded and held
// locally (rows done/done; ours also records each local copy's size), plus one more row whose
// bytes exist only on the server. "Time to first sync" is from start() until that file is
// downloaded and verified: the start-up pass over all rows, then one transfer. Memory: the child
// process's RSS after it, and what starting file sync added to the RSS and to the JS heap plus
// ArrayBuffers (WebAssembly memory is one), measured after a GC. Each measurement runs in a child process of its own (startup-child.mjs).
//
// In Node rather than Chromium: writing 100,000 OPFS files per package and round takes minutes
// there; what start-up does with the rows is the same code in both runtimes. Building a store is
// slow (LiveStore commits ~1,000-2,000 events a second here, 3-4 per row: ~20-40 minutes per package
// at 100,000 rows), so each built store is kept under target/bench-startup/ and reused by later runs
// (delete that folder after changing either package's schema).
import { execFileSync } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { startServer } from '../../../js-bindings/test/support/server.mjs'
import { openStore } from '../support/stores.mjs'

const N = Number(process.env.BENCH_STARTUP_FILES ?? 100_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const STORE = 'startup'
const BATCH = 1000
const KEPT = fileURLToPath(new URL('../../../target/bench-startup', import.meta.url))
const sha256 = (data) => createHash('sha256').update(data).digest('hex')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Builds `kind`'s store under `dir` (store/ and app/), the probe's row included; answers the probe. */
async function build(kind, dir, probe) {
  const client = await openStore({ kind, storeId: STORE, clientId: 'bench', dir: join(dir, 'store') })
  const { store, events } = client
  const now = new Date()
  const row = (i) => {
    const data = Buffer.from(`file ${i} of the start-up benchmark`)
    const hash = sha256(data)
    return { id: randomUUID(), hash, data, path: `livestore-filesync-files/${STORE}/${hash}` }
  }
  for (let from = 0; from < N; from += BATCH) {
    const batch = []
    const writes = []
    for (let i = from; i < Math.min(N, from + BATCH); i++) {
      const f = row(i)
      batch.push(
        events.fileCreated({ id: f.id, path: f.path, contentHash: f.hash, createdAt: now, updatedAt: now }),
        events.fileUpdated({ id: f.id, path: f.path, remoteKey: `${STORE}/${f.hash}`, contentHash: f.hash, updatedAt: now }),
        events.localFileStateUpsert({ fileId: f.id, path: f.path, localHash: f.hash, downloadStatus: 'done', uploadStatus: 'done', lastSyncError: '' }),
      )
      if (kind === 'ours') batch.push(events.fileTransferStateUpsert({ fileId: f.id, contentHash: f.hash, localSize: f.data.length, uploadResume: null }))
      writes.push(writeFile(join(dir, 'app', f.path), f.data))
    }
    store.commit(...batch)
    await Promise.all(writes)
  }
  const path = `livestore-filesync-files/${STORE}/${probe.hash}`
  store.commit(
    events.fileCreated({ id: probe.id, path, contentHash: probe.hash, createdAt: now, updatedAt: now }),
    events.fileUpdated({ id: probe.id, path, remoteKey: probe.key, contentHash: probe.hash, updatedAt: now }),
  )
  await store.shutdownPromise()
}

const server = await startServer()
const work = await mkdtemp(join(tmpdir(), 'filesync-bench-startup-'))
try {
  // The probe's bytes on the server, uploaded through the signer API (the same bytes and id in
  // every run: kept stores reference them).
  const data = Buffer.from('the probe of the start-up benchmark')
  const probe = { id: '00000000-0000-4000-8000-00000000b0b0', hash: sha256(data) }
  probe.key = `${STORE}/${probe.hash}`
  const signed = await fetch(`${server.url}/v1/sign/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key: probe.key, contentLength: data.length }),
  }).then((r) => r.json())
  const put = await fetch(signed.url, { method: signed.method ?? 'PUT', headers: signed.headers ?? {}, body: data })
  if (!put.ok) throw new Error(`uploading the probe failed: ${put.status}`)

  const results = {}
  for (const kind of ['theirs', 'ours']) {
    const t0 = Date.now()
    const dir = join(KEPT, `${kind}-${N}`)
    const done = join(dir, '.complete')
    if (!(await access(done).then(() => true, () => false))) {
      await rm(dir, { recursive: true, force: true })
      await mkdir(join(dir, 'app', 'livestore-filesync-files', STORE), { recursive: true })
      await build(kind === 'ours' ? 'ours' : 'v08', dir, probe)
      await writeFile(done, '')
      console.error(`startup bench: built the ${kind} store with ${N} rows in ${((Date.now() - t0) / 1000).toFixed(0)} s (kept in ${dir})`)
    }
    results[kind] = []
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh copy per round: a start-up changes the store and downloads the probe.
      const copy = join(work, `${kind}-${round}`)
      execFileSync('cp', ['-a', dir, copy])
      const out = execFileSync(process.execPath, ['--expose-gc', join(dirname(fileURLToPath(import.meta.url)), 'startup-child.mjs')], {
        env: { ...process.env, KIND: kind, DIR: copy, STORE, PROBE: JSON.stringify(probe), SIGNER: server.url, TOKEN: server.token },
        maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      results[kind].push(JSON.parse(out.toString().trim().split('\n').pop()))
      await rm(copy, { recursive: true, force: true })
    }
  }
  const m = (kind, key) => median(results[kind].map((r) => r[key]))
  const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`
  console.log(`\nstart-up of a store holding ${N.toLocaleString('en')} synced files (Node, LiveStore 0.4.0-dev.23 on disk), medians of ${ROUNDS} rounds`)
  console.log('| package | time to first sync | process RSS after | RSS added | JS heap + ArrayBuffers (wasm) added |')
  console.log('|---|---|---|---|---|')
  for (const [label, kind] of [['@livestore-filesync/core 0.8.0', 'theirs'], ['filesync-livestore', 'ours']]) {
    console.log(`| ${label} | ${(m(kind, 'firstSyncMs') / 1000).toFixed(2)} s | ${mib(m(kind, 'rssAfter'))} | ${mib(m(kind, 'rssAdded'))} | ${mib(m(kind, 'heapAdded'))} |`)
  }
  console.log(`| ratio 0.8.0 / ours (time) | ${(m('theirs', 'firstSyncMs') / m('ours', 'firstSyncMs')).toFixed(2)}x | | | |`)
} finally {
  await server.stop()
  await rm(work, { recursive: true, force: true })
}
