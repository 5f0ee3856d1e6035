// Benchmark (scripts/extended): saves through the package in headless Chromium with a real
// LiveStore store (web adapter, OPFS), 1,000 files of 100 KiB with a MIME type, one at a time and
// 16 in flight, against the same bytes written by direct createWritable calls in the same page.
// Medians of ROUNDS alternating rounds; prints a table with ratios. Needs the built test app
// (scripts/test.sh builds it: test/browser/dist).
import { fileURLToPath } from 'node:url'

import { launchChromium } from '../test/support/chromium.mjs'
import { serveStatic } from '../test/support/static.mjs'

const COUNT = Number(process.env.BENCH_COUNT ?? 1000)
const SIZE = Number(process.env.BENCH_SIZE ?? 100 * 1024)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const DIST = fileURLToPath(new URL('../test/browser/dist', import.meta.url))

const site = await serveStatic(DIST)
const browser = await launchChromium()
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const results = { ours1: [], ours16: [], raw1: [], raw16: [], commits: [], inCommit1: [] }
try {
  for (let round = 0; round < ROUNDS; round++) {
    // A fresh context per round: empty OPFS, a new store.
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${site.origin}/?store=bench-${round}${process.env.BENCH_QUERY ?? ""}`)
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 60_000 })
    results.raw1.push(await page.evaluate(([n, s]) => window.app.benchRawWrites(n, s, 1, 'raw1'), [COUNT, SIZE]))
    results.ours1.push(await page.evaluate(([n, s]) => window.app.benchSave(n, s, 1), [COUNT, SIZE]))
    results.inCommit1.push(await page.evaluate(() => window.lastCommitMs))
    results.raw16.push(await page.evaluate(([n, s]) => window.app.benchRawWrites(n, s, 16, 'raw16'), [COUNT, SIZE]))
    results.ours16.push(await page.evaluate(([n, s]) => window.app.benchSave(n, s, 16), [COUNT, SIZE]))
    results.commits.push(await page.evaluate((n) => window.app.benchCommits(n), COUNT))
    await context.close()
  }
} finally {
  await browser.close()
  await site.stop()
}
const rate = (ms) => (COUNT / (ms / 1000)).toFixed(0)
console.log(`\npackage saves in Chromium: ${COUNT} x ${SIZE} B with a MIME type, real LiveStore store (OPFS), medians of ${ROUNDS} rounds`)
console.log('| what | one at a time (saves/s) | 16 in flight (saves/s) |')
console.log('|---|---|---|')
console.log(`| filesync-livestore saveFile (write + hash + commit) | ${rate(median(results.ours1))} | ${rate(median(results.ours16))} |`)
console.log(`| direct createWritable writes (no hash, no commit) | ${rate(median(results.raw1))} | ${rate(median(results.raw16))} |`)
console.log(`| of which inside store.commit (one at a time) | ${((median(results.inCommit1) / median(results.ours1)) * 100).toFixed(0)} % | |`)
console.log(`| LiveStore commits of a save's 3 events alone | ${rate(median(results.commits))} | |`)
console.log(`| ratio ours / direct writes | ${(median(results.raw1) / median(results.ours1)).toFixed(2)}x | ${(median(results.raw16) / median(results.ours16)).toFixed(2)}x |`)
