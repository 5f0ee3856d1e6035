// Benchmark (scripts/extended, via bench/run.sh with BENCH_ONLY=large or in the full run): one large
// file (BENCH_LARGE_MIB, default 256 MiB) saved and uploaded by filesync-livestore and by
// @livestore-filesync/core 0.8.0, each in its own page of one headless Chromium with a persistent
// profile (OPFS on disk), LiveStore 0.4.0-dev.23 with a loopback sync backend in each page's leader
// worker (0.8.0 uploads only what comes back from a sync backend), our server (FILESYNC_BIN, a
// release build for figures) as the remote of both. Timed from saveFile to the row's remoteKey;
// the peak memory growth of all Chromium processes is sampled every 100 ms. Pages alternate which
// goes first; medians of BENCH_ROUNDS (default 3). 0.8.0's downloads are not measured here: a
// second client needs a shared sync backend across pages.
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromiumMemory, launchPersistentChromium } from '../../../js-bindings/test/support/chromium.mjs'
import { startServer } from '../../../js-bindings/test/support/server.mjs'
import { serveStatic } from '../../../js-bindings/test/support/static.mjs'

const MIB = Number(process.env.BENCH_LARGE_MIB ?? 256)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DIST = fileURLToPath(new URL('./dist', import.meta.url))
const BYTES = MIB * 1024 * 1024
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rate = (ms) => `${(BYTES / (ms / 1000) / 1e9).toFixed(2)} GB/s`

/** Runs `work`, sampling every Chromium process every 100 ms; answers `[result, peak growth]`. */
async function sampled(work) {
  const before = (await chromiumMemory()).total
  let peak = 0
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, (await chromiumMemory()).total - before)
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  try {
    return [await work(), peak]
  } finally {
    running = false
    await sampler
  }
}

const server = await startServer()
const site = await serveStatic(DIST)
const profile = await mkdtemp(join(tmpdir(), 'filesync-bench-large-08-'))
const context = await launchPersistentChromium(profile)
const results = { ours: [], theirs: [] }
const memory = { ours: [], theirs: [] }
const failures = []
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? ['theirs', 'ours'] : ['ours', 'theirs']) {
      const page = await context.newPage()
      page.on('pageerror', (e) => console.error(`[${kind}] page error: ${e.message}`))
      page.on('crash', () => console.error(`[${kind}] the page crashed`))
      const store = `large-${kind}-${round}`
      await page.goto(`${site.origin}/${kind}-large.html?${new URLSearchParams({ store, signer: server.url, token: server.token })}`)
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 })
      const name = `${kind}-${round}.bin`
      await page.evaluate(([n, mib, seed]) => window.large.writeSource(n, mib, seed), [name, MIB, 1000 + round * 2 + (kind === 'ours' ? 0 : 1)])
      execFileSync('sync')
      try {
        const [ms, grew] = await sampled(() => page.evaluate((n) => window.large.upload(n), name))
        results[kind].push(ms)
        memory[kind].push(grew)
        console.error(`round ${round + 1}/${ROUNDS} ${kind}: ${rate(ms)}, +${(grew / 1048576).toFixed(0)} MiB`)
      } catch (error) {
        failures.push(`${kind} round ${round + 1}: ${error.message.split('\n')[0]}`)
        console.error(`round ${round + 1}/${ROUNDS} ${kind}: failed: ${error.message.split('\n')[0]}`)
      }
      await page.close()
    }
  }
} finally {
  await context.close()
  await site.stop()
  await server.stop()
  await rm(profile, { recursive: true, force: true })
}
const row = (kind, label) =>
  results[kind].length
    ? `| ${label} | ${rate(median(results[kind]))} | ${(median(memory[kind]) / 1048576).toFixed(0)} MiB |`
    : `| ${label} | did not finish | |`
console.log(`\none ${MIB} MiB file saved and uploaded in Chromium (OPFS on disk, filesync serve on loopback), medians of ${ROUNDS} rounds`)
console.log('| package | save + upload | peak memory growth, all Chromium processes |')
console.log('|---|---|---|')
console.log(row('theirs', '@livestore-filesync/core 0.8.0'))
console.log(row('ours', 'filesync-livestore'))
if (results.ours.length && results.theirs.length) {
  console.log(`| ratio 0.8.0 time / ours | ${(median(results.theirs) / median(results.ours)).toFixed(2)}x | |`)
}
for (const f of failures) console.log(`- ${f}`)
