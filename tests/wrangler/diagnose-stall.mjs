// Diagnostic, not a test (NOTES.md): reproduces the LiveStore 0.4.0 / sync-cf 0.4.0 stall that
// openLinkedStores' settle step avoids. In a loop, two stores are opened against the sync-cf backend
// under `wrangler dev` and A saves then updates a file right away (our engines, our server), while
// every WebSocket frame is recorded. When B does not see the update within 10 s it prints B's leader
// heads and the last frames each socket received and sent (event names and sequence numbers).
//   FILESYNC_BIN=.../filesync node --experimental-websocket diagnose-stall.mjs
//   ITER=80 (iterations)  STOP_AT_FIRST=1  MITIGATE=1000 (the settle step: wait for both stores to
//   connect, then this many ms, before the first save)
import { StoreInternalsSymbol } from '@livestore/livestore'
import { makeWsSync } from '@livestore/sync-cf/client'
import { Effect } from 'effect'
import { createFileSync } from 'filesync-livestore'
import { startServer } from './.js-support/server.mjs'
import { openStore, until } from './.js-support/store.mjs'
import { startWrangler } from './support/wrangler.mjs'

const sockets = []
const Base = globalThis.WebSocket
globalThis.WebSocket = class extends Base {
  constructor(...args) {
    super(...args)
    const rec = { url: String(args[0]), frames: [], sent: [], opened: Date.now(), closed: null }
    sockets.push(rec)
    this.__rec = rec
    this.addEventListener('message', (e) => rec.frames.push({ t: Date.now(), data: typeof e.data === 'string' ? e.data : `<${e.data?.byteLength ?? e.data?.size} bytes>` }))
    this.addEventListener('close', (e) => (rec.closed = { t: Date.now(), code: e.code }))
  }
  send(data) {
    this.__rec.sent.push({ t: Date.now(), data: typeof data === 'string' ? data : `<${data?.byteLength ?? data?.size} bytes>` })
    return super.send(data)
  }
}

const server = await startServer()
const backend = await startWrangler(new URL('./sync-worker', import.meta.url).pathname)
const ITER = Number(process.env.ITER ?? 40)
let stalls = 0
try {
  for (let i = 0; i < ITER; i++) {
    const storeId = `diag-${Date.now().toString(36)}-${i}`
    const sync = () => ({ backend: makeWsSync({ url: backend.origin.replace(/^http/, 'ws') }) })
    const s0 = sockets.length
    const a = await openStore({ storeId, clientId: 'client-a', sync: sync() })
    await until('a socket', () => sockets.length > s0, 10_000)
    const aSocket = sockets[sockets.length - 1]
    const b = await openStore({ storeId, clientId: 'client-b', sync: sync() })
    await until('b socket', () => sockets.length > s0 + 1, 10_000)
    const bSocket = sockets[sockets.length - 1]
    if (process.env.MITIGATE) {
      await until('connected', async () => (await Effect.runPromise(a.store.networkStatus.get)).isConnected && (await Effect.runPromise(b.store.networkStatus.get)).isConnected, 10_000)
      await new Promise((r) => setTimeout(r, Number(process.env.MITIGATE)))
    }
    const mk = (store) => createFileSync({ store, fileSystem: 'memory', remote: { signerBaseUrl: server.url, authToken: server.token }, options: { deleteGracePeriodMs: 0, retryBaseDelayMs: 100, retryJitterMs: 0 } })
    const fa = mk(a.store), fb = mk(b.store)
    await fa.start(); await fb.start()
    const row = (c, id) => c.store.query(c.tables.files.where({ id }).first())
    const st = (c, id) => c.store.query(c.tables.localFileState.where({ fileId: id }).first())
    const saved = await fa.saveFile(new TextEncoder().encode(`first ${i} ${Date.now()}`))
    await until('B verified', () => st(b, saved.fileId)?.localHash === saved.contentHash, 20_000)
    const updated = await fa.updateFile(saved.fileId, new TextEncoder().encode(`second ${i} ${Date.now()}`))
    const tUpd = Date.now()
    const ok = await until('B update', () => row(b, saved.fileId)?.contentHash === updated.contentHash, 10_000).then(() => true, () => false)
    if (!ok) {
      stalls++
      const leader = await Effect.runPromise(b.store[StoreInternalsSymbol].clientSession.leaderThread.syncState.get)
      console.log(`STALL at iteration ${i} (update committed at ${tUpd})`)
      console.log(`  B leader: local ${JSON.stringify(leader.localHead)} upstream ${JSON.stringify(leader.upstreamHead)} pending ${leader.pending.map((e) => e.name).join(',')}`)
      for (const [name, s] of [['A', aSocket], ['B', bSocket]]) {
        console.log(`  ${name} socket ${s.url} closed=${JSON.stringify(s.closed)} frames=${s.frames.length} sent=${s.sent.length}`)
        console.log(`   received the new hash? ${s.frames.some((f) => f.data.includes(updated.contentHash))}`)
        for (const f of s.frames.slice(-12)) {
          const names = [...f.data.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1])
          const seqs = [...f.data.matchAll(/"(seqNum|parentSeqNum)":(\{[^}]*\}|[0-9]+)/g)].map((m) => `${m[1]}=${m[2]}`)
          console.log(`   <- ${f.t - tUpd} ${f.data.slice(0, 60)} events=${names.join(',')} ${seqs.join(' ')}`)
        }
        for (const f of s.sent.slice(-8)) console.log(`   -> ${f.t - tUpd} ${f.data.slice(0, 300)}`)
      }
      console.log(`  sockets opened in total: ${sockets.length - s0}`)
    }
    await fa.dispose(); await fb.dispose()
    await a.store.shutdownPromise(); await b.store.shutdownPromise()
    if (!ok && process.env.STOP_AT_FIRST) break
  }
  console.log(`done: ${ITER} iterations, ${stalls} stalls`)
} finally {
  await backend.stop()
  await server.stop()
}
