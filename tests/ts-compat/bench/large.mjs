// Benchmark (scripts/extended, via bench/run.sh with BENCH_ONLY=large or in the full run): one large
// file (BENCH_LARGE_MIB, default 256 MiB) saved and uploaded, then downloaded again (its local copy
// removed), by filesync-livestore and by
// @livestore-filesync/core 0.8.0, each in its own page of one headless Chromium with a persistent
// profile (OPFS on disk), LiveStore 0.4.0-dev.23 with a loopback sync backend in each page's leader
// worker (0.8.0 uploads only what comes back from a sync backend), our server (FILESYNC_BIN, a
// release build for figures) as the remote of both. Uploads are timed from saveFile to the row's
// remoteKey, downloads from the trigger (0.8.0: a v1.FileUpdated of the row; ours: triggerSync) to
// a verified local state; the peak memory growth of all Chromium processes is sampled every 100 ms.
// Pages alternate which goes first; medians of BENCH_ROUNDS (default 3).
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { launchPersistentChromium, peakGrowthDuring as sampled } from '../../../js-bindings/test/support/chromium.mjs'
import { startServer } from '../../../js-bindings/test/support/server.mjs'
import { serveStatic } from '../../../js-bindings/test/support/static.mjs'

const MIB = Number(process.env.BENCH_LARGE_MIB ?? 256)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DIST = fileURLToPath(new URL('./dist', import.meta.url))
const BYTES = MIB * 1024 * 1024
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rate = (ms) => `${(BYTES / (ms / 1000) / 1e9).toFixed(2)} GB/s`

const server = await startServer()
const site = await serveStatic(DIST)
const profile = await mkdtemp(join(tmpdir(), 'filesync-bench-large-08-'))
const context = await launchPersistentChromium(profile)
const results = { ours: { up: [], down: [] }, theirs: { up: [], down: [] } }
const memory = { ours: { up: [], down: [] }, theirs: { up: [], down: [] } }
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
        const [up, upGrew] = await sampled(() => page.evaluate((n) => window.large.upload(n), name))
        results[kind].up.push(up.ms)
        memory[kind].up.push(upGrew)
        execFileSync('sync')
        const [down, downGrew] = await sampled(() => page.evaluate((id) => window.large.download(id), up.fileId))
        results[kind].down.push(down)
        memory[kind].down.push(downGrew)
        const mib = (b) => `+${(b / 1048576).toFixed(0)} MiB`
        console.error(`round ${round + 1}/${ROUNDS} ${kind}: up ${rate(up.ms)} ${mib(upGrew)}; down ${rate(down)} ${mib(downGrew)}`)
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
const cell = (kind, dir) =>
  results[kind][dir].length
    ? `${rate(median(results[kind][dir]))}, +${(median(memory[kind][dir]) / 1048576).toFixed(0)} MiB`
    : 'did not finish'
const ratio = (dir) =>
  results.ours[dir].length && results.theirs[dir].length
    ? `${(median(results.theirs[dir]) / median(results.ours[dir])).toFixed(2)}x`
    : '-'
console.log(`\none ${MIB} MiB file in Chromium (OPFS on disk, filesync serve on loopback), medians of ${ROUNDS} rounds; peak memory growth of all Chromium processes`)
console.log('| package | save + upload | download (local copy removed) |')
console.log('|---|---|---|')
console.log(`| @livestore-filesync/core 0.8.0 | ${cell('theirs', 'up')} | ${cell('theirs', 'down')} |`)
console.log(`| filesync-livestore | ${cell('ours', 'up')} | ${cell('ours', 'down')} |`)
console.log(`| 0.8.0 time / ours | ${ratio('up')} | ${ratio('down')} |`)
for (const f of failures) console.log(`- ${f}`)
