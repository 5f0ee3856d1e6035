// Benchmark (scripts/extended): one large file (BENCH_LARGE_MIB, default 256 MiB) through the
// package in headless Chromium (the test app: real LiveStore web adapter, OPFS on disk in a
// persistent profile), against hand-written baselines in the same page and run:
// - upload: the engine's upload of the saved file (XHR with the OPFS file as the body, 8 MiB parts, 3 at a
//   time through the resumable protocol) vs one `fetch` PUT of the same OPFS file to a signed URL;
// - download: the engine's download into OPFS (fetch on the page, SHA-256 on the way, written by
//   the package's worker through sync access handles) vs a dedicated worker that fetches and writes
//   through a sync access handle without hashing.
// Medians of BENCH_ROUNDS rounds (default 3), sides alternating. Needs the built test app
// (test/browser/dist) and a release `filesync` (FILESYNC_BIN; a debug server hashes slowly).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { launchPersistentChromium, peakGrowthDuring as sampled } from '../test/support/chromium.mjs'
import { startServer } from '../test/support/server.mjs'
import { serveStatic } from '../test/support/static.mjs'

const MIB = Number(process.env.BENCH_LARGE_MIB ?? 256)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DIST = fileURLToPath(new URL('../test/browser/dist', import.meta.url))
const BYTES = MIB * 1024 * 1024

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rate = (ms) => `${(BYTES / (ms / 1000) / 1e9).toFixed(2)} GB/s`

async function sign(server, route, body) {
  const answer = await fetch(`${server.url}/v1/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!answer.ok) throw new Error(`${route}: ${answer.status} ${await answer.text()}`)
  return answer.json()
}

const server = await startServer()
const site = await serveStatic(DIST)
const profile = await mkdtemp(join(tmpdir(), 'filesync-bench-large-'))
const context = await launchPersistentChromium(profile)
const results = { oursUp: [], rawUp: [], oursDown: [], rawDown: [] }
const memory = { oursUp: [], rawUp: [], oursDown: [], rawDown: [] }
const measure = async (key, work) => {
  const [ms, grew] = await sampled(work)
  results[key].push(ms)
  memory[key].push(grew)
}
try {
  for (let round = 0; round < ROUNDS; round++) {
    const store = `bench-large-${round}`
    const page = await context.newPage()
    await page.goto(`${site.origin}/?${new URLSearchParams({ store, signer: server.url, token: server.token, start: '0' })}`)
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 60_000 })
    const name = `bench-${round}.bin`
    await page.evaluate(([n, mib, seed]) => window.app.writeSource(n, mib, seed), [name, MIB, round + 101])
    const hash = await page.evaluate((n) => window.app.sourceHash(n), name)
    const key = `${store}/${hash}`
    const oursFirst = round % 2 === 0

    // Ours: the save starts the upload (the engine runs from then on), timed from its
    // upload:start to its upload:complete; the save itself is not timed.
    let saved
    const oursUp = async () => {
      const timed = await page.evaluate((n) => window.app.timeUpload(n), name)
      saved = timed.saved
      return timed.ms
    }
    // The baseline uploads under a key of its own: a key the server holds already would let
    // whichever side goes second skip its bytes.
    const rawKey = `bench-large-raw-${round}/${hash}`
    const rawUp = async () => {
      const signed = await sign(server, 'sign/upload', { key: rawKey, contentLength: BYTES })
      return page.evaluate(([n, url, headers]) => window.app.rawUpload(n, url, headers), [name, signed.url, signed.headers ?? {}])
    }
    for (const side of oursFirst ? ['ours', 'raw'] : ['raw', 'ours']) {
      if (side === 'ours') await measure('oursUp', oursUp)
      else await measure('rawUp', rawUp)
    }

    const oursDown = async () => {
      await page.evaluate((id) => window.app.dropLocalCopy(id), saved.fileId)
      return page.evaluate((id) => window.app.timeUntil('download:complete', id, 'triggerSync'), saved.fileId)
    }
    const rawDown = async () => {
      const signed = await sign(server, 'sign/download', { key })
      const got = await page.evaluate(([n, url]) => window.app.rawDownload(n, url), [name, signed.url])
      if (got.bytes !== BYTES) throw new Error(`raw download got ${got.bytes} bytes`)
      return got.ms
    }
    for (const side of oursFirst ? ['ours', 'raw'] : ['raw', 'ours']) {
      if (side === 'ours') await measure('oursDown', oursDown)
      else await measure('rawDown', rawDown)
    }
    await page.close()
    console.error(`round ${round + 1}/${ROUNDS}: up ours ${rate(results.oursUp.at(-1))} raw ${rate(results.rawUp.at(-1))}; down ours ${rate(results.oursDown.at(-1))} raw ${rate(results.rawDown.at(-1))}`)
  }
} finally {
  await context.close()
  await site.stop()
  await server.stop()
  await rm(profile, { recursive: true, force: true })
}
const m = (k) => median(results[k])
const grew = (k) => `${(median(memory[k]) / 1048576).toFixed(0)} MiB`
console.log(`\none ${MIB} MiB file in Chromium (OPFS on disk, filesync serve on loopback), medians of ${ROUNDS} rounds`)
console.log('| direction | filesync-livestore | hand-written baseline | ratio | peak memory growth, all Chromium processes: ours / baseline |')
console.log('|---|---|---|---|---|')
console.log(`| upload (ours: XHR of the OPFS file, 8 MiB parts, 3 at a time; baseline: one fetch PUT of it) | ${rate(m('oursUp'))} | ${rate(m('rawUp'))} | ${(m('rawUp') / m('oursUp')).toFixed(2)}x | ${grew('oursUp')} / ${grew('rawUp')} |`)
console.log(`| download into OPFS (ours: hashed, written by the worker; baseline: worker fetch + sync access handle, no hash) | ${rate(m('oursDown'))} | ${rate(m('rawDown'))} | ${(m('rawDown') / m('oursDown')).toFixed(2)}x | ${grew('oursDown')} / ${grew('rawDown')} |`)
