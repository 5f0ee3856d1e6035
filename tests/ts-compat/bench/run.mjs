// Benchmark (scripts/extended, via bench/run.sh): filesync-livestore against
// @livestore-filesync/core 0.8.0 in the same headless Chromium, same run, both on LiveStore
// 0.4.0-dev.23 with the web adapter (OPFS), in alternating pages (each package has its own schema
// and so its own store): saveFile of COUNT files of SIZE bytes with a MIME type, one at a time and
// 16 in flight; hashing files of HASH_MIB sizes (our hashFile vs 0.8.0's hashFile); and package
// weight (minified + gzipped, what each adds to a LiveStore app's bundle). Prints tables with
// ratios. Needs dist/ (run.sh builds it).
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

import { build } from 'vite'

import { launchChromium } from '../../../js-bindings/test/support/chromium.mjs'
import { serveStatic } from '../../../js-bindings/test/support/static.mjs'

const COUNT = Number(process.env.BENCH_COUNT ?? 1000)
const SIZE = Number(process.env.BENCH_SIZE ?? 100 * 1024)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const HASH_MIB = (process.env.BENCH_HASH_MIB ?? '1,8,64,256').split(',').map(Number)
const SIGNER = process.env.BENCH_SIGNER // a running server's signer URL: saves with uploads on
const at = (p) => fileURLToPath(new URL(p, import.meta.url))

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const rate = (ms) => (COUNT / (ms / 1000)).toFixed(0)

async function openPage(browser, origin, kind, store) {
  const context = await browser.newContext() // empty OPFS, a new store
  const page = await context.newPage()
  page.on('pageerror', (e) => console.error(`[${kind}] page error: ${e.message}`))
  const signer = SIGNER ? `&signer=${encodeURIComponent(SIGNER)}&token=${process.env.BENCH_TOKEN ?? ''}` : ''
  await page.goto(`${origin}/${kind}.html?store=${store}${signer}`)
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 })
  return { page, context }
}

async function saves(browser, origin) {
  const results = { ours: { 1: [], 16: [] }, theirs: { 1: [], 16: [] } }
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? ['theirs', 'ours'] : ['ours', 'theirs']) {
      const { page, context } = await openPage(browser, origin, kind, `bench-${kind}-${round}`)
      for (const inFlight of [1, 16]) {
        results[kind][inFlight].push(await page.evaluate(([n, s, k]) => window.bench.saveAll(n, s, k), [COUNT, SIZE, inFlight]))
      }
      await context.close()
    }
  }
  const m = (kind, k) => median(results[kind][k])
  console.log(`\nsaveFile in Chromium: ${COUNT} x ${SIZE} B with a MIME type, LiveStore 0.4.0-dev.23 web adapter (OPFS), ${SIGNER ? 'uploads on' : 'local-only'}; medians of ${ROUNDS} rounds`)
  console.log('| package | one at a time (saves/s) | 16 in flight (saves/s) |')
  console.log('|---|---|---|')
  console.log(`| @livestore-filesync/core 0.8.0 | ${rate(m('theirs', 1))} | ${rate(m('theirs', 16))} |`)
  console.log(`| filesync-livestore | ${rate(m('ours', 1))} | ${rate(m('ours', 16))} |`)
  console.log(`| ratio ours / 0.8.0 | ${(m('theirs', 1) / m('ours', 1)).toFixed(2)}x | ${(m('theirs', 16) / m('ours', 16)).toFixed(2)}x |`)
}

async function hashing(browser, origin) {
  const pages = {}
  for (const kind of ['ours', 'theirs']) pages[kind] = await openPage(browser, origin, kind, `bench-hash-${kind}`)
  console.log(`\nhashFile in Chromium (SHA-256 of an in-memory File; medians of ${ROUNDS} rounds)`)
  console.log('| size | 0.8.0 hashFile (MB/s) | our hashFile (MB/s) | ratio |')
  console.log('|---|---|---|---|')
  for (const mib of HASH_MIB) {
    const ms = {}
    for (const kind of ['theirs', 'ours']) ms[kind] = await pages[kind].page.evaluate(([m, r]) => window.bench.hash(m, r), [mib, ROUNDS])
    const mbs = (t) => ((mib * 1048576) / 1e6 / (t / 1000)).toFixed(0)
    console.log(`| ${mib} MiB | ${mbs(ms.theirs)} | ${mbs(ms.ours)} | ${(ms.theirs / ms.ours).toFixed(2)}x |`)
  }
  for (const { context } of Object.values(pages)) await context.close()
}

// Package weight: one minified bundle per entry (Vite/Rollup, as an app builds), JS + wasm,
// gzipped. "adds" = the bundle with the package minus the same app without it (what an app
// that already has LiveStore and its Effect pays); "alone" = the package with its dependencies
// bundled, LiveStore left out as the peer it is.
async function weight() {
  const base = `export { createStorePromise, queryDb } from '@livestore/livestore'\nexport { makePersistedAdapter } from '@livestore/adapter-web'\n`
  const entries = {
    base,
    ours: `${base}export * from 'filesync-livestore'\n`,
    theirs: `${base}export * from '@livestore-filesync/core'\nexport * from '@livestore-filesync/opfs'\n`,
    oursAlone: `export * from 'filesync-livestore'\n`,
    theirsAlone: `export * from '@livestore-filesync/core'\nexport * from '@livestore-filesync/opfs'\n`,
  }
  const sizes = {}
  for (const [name, code] of Object.entries(entries)) {
    const id = '\0entry.js'
    const out = await build({
      configFile: false,
      root: at('./app'),
      logLevel: 'silent',
      plugins: [{ name: 'entry', resolveId: (s) => (s === 'entry' ? id : null), load: (i) => (i === id ? code : null) }],
      build: {
        write: false,
        target: 'es2022',
        minify: true,
        rollupOptions: {
          input: 'entry',
          preserveEntrySignatures: 'strict',
          external: name.endsWith('Alone') ? [/^@livestore\/(livestore|adapter-web|common|utils)/] : [],
        },
      },
    })
    let raw = 0
    let gz = 0
    for (const item of (Array.isArray(out) ? out : [out]).flatMap((o) => o.output)) {
      const bytes = item.type === 'chunk' ? Buffer.from(item.code) : Buffer.from(item.source)
      raw += bytes.length
      gz += gzipSync(bytes, { level: 9 }).length
    }
    sizes[name] = { raw, gz }
  }
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
  console.log('\npackage weight (Vite production build, minified; JS + wasm; gzip -9)')
  console.log('| package | adds to a LiveStore app: raw | gzipped | alone (LiveStore external): raw | gzipped |')
  console.log('|---|---|---|---|---|')
  for (const [label, k] of [['@livestore-filesync/core + opfs 0.8.0', 'theirs'], ['filesync-livestore', 'ours']]) {
    console.log(`| ${label} | ${kib(sizes[k].raw - sizes.base.raw)} | ${kib(sizes[k].gz - sizes.base.gz)} | ${kib(sizes[`${k}Alone`].raw)} | ${kib(sizes[`${k}Alone`].gz)} |`)
  }
}

const only = process.env.BENCH_ONLY // saves | hash | weight
if (!only || only === 'weight') await weight()
if (!only || only === 'saves' || only === 'hash') {
  const site = await serveStatic(at('./dist'))
  const browser = await launchChromium()
  try {
    if (!only || only === 'saves') await saves(browser, site.origin)
    if (!only || only === 'hash') await hashing(browser, site.origin)
  } finally {
    await browser.close()
    await site.stop()
  }
}
