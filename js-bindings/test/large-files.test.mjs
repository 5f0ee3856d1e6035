// Large files through the built package in headless Chromium (the test app of browser.test.mjs:
// real LiveStore web adapter, OPFS, our server behind a loopback proxy that counts and paces blob
// bytes): a 64 MiB file is saved, uploaded and downloaded without ever being held whole in wasm
// memory, the JS heap or any Chromium process (measured, printed, and bounded well under the
// file's size); a reload in the middle of a download or of a resumable upload continues after the
// bytes that already moved. Needs test/browser/dist (scripts/test.sh builds it with vite).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { launchPersistentChromium, memoryDuring, memoryFigures } from './support/chromium.mjs'
import { openPage, poll as pollPage, waitReady } from './support/pages.mjs'
import { startServer } from './support/server.mjs'
import { until } from './support/store.mjs'
import { serveStatic } from './support/static.mjs'
import { startThrottlingProxy } from './support/throttle.mjs'

const DIST = fileURLToPath(new URL('./browser/dist', import.meta.url))
const MiB = 1 << 20
// The large file's size (FILESYNC_LARGE_MIB; the extended command runs 1 GiB).
const LARGE = Number(process.env.FILESYNC_LARGE_MIB ?? 64)

let server
let site
let context
let profile
before(async () => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build it with npx vite build --config test/browser/vite.config.mjs`)
  server = await startServer()
  site = await serveStatic(DIST)
  // A profile on disk: incognito contexts keep OPFS in memory, which would hide what we measure.
  profile = await mkdtemp(join(tmpdir(), 'filesync-large-'))
  context = await launchPersistentChromium(profile)
})
after(async () => {
  await context?.close()
  await site?.stop()
  await server?.stop()
  if (profile) await rm(profile, { recursive: true, force: true })
})

/** Opens the app for `store` (a tab of the one persistent context) with `signer`. */
const openApp = (store, signer) => openPage(context, `${site.origin}/?${new URLSearchParams({ store, signer, token: server.token })}`)

const poll = (page, what, fn, arg, timeout = 60_000) => pollPage(page, what, fn, arg, timeout)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Writes a source file of `mib` MiB into OPFS, saves it and waits for its upload; answers the save. */
async function savedAndUploaded(page, name, mib, seed) {
  await page.evaluate(([n, m, s]) => window.app.writeSource(n, m, s), [name, mib, seed])
  const saved = await page.evaluate((n) => window.app.saveSource(n), name)
  await uploaded(page, saved)
  return saved
}

const uploaded = (page, saved, what = 'the upload', timeout = 60_000) =>
  poll(page, what, (id) => window.app.row(id)?.remoteKey !== '' && window.app.state(id)?.uploadStatus === 'done', saved.fileId, timeout)

const downloaded = (page, saved, what = 'the download', timeout = 60_000) =>
  poll(page, what, ([id, hash]) => window.app.state(id)?.localHash === hash && window.app.state(id)?.downloadStatus === 'done', [saved.fileId, saved.contentHash], timeout)

/** Removes the local copy behind the engine's back (as an eviction would) and asks for a sync: a download starts. */
async function evictAndSync(page, saved) {
  await page.evaluate((id) => window.app.dropLocalCopy(id), saved.fileId)
  await page.evaluate(() => window.app.triggerSync())
}

/** The SHA-256 of what the page displays for `saved` now. */
const shownHash = async (page, saved) => (await page.evaluate((id) => window.app.shownHash(id), saved.fileId)).hash

/** The test page's JS heap and wasm memory (evaluated in it, for the memory helpers). */
const appMemory = () => window.app.memory()

const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`

test(`a ${LARGE} MiB file is saved, uploaded and downloaded with memory well under its size (wasm, JS heap, every Chromium process)`, async () => {
  const proxy = await startThrottlingProxy(server.origin)
  try {
    const page = await openApp('large-memory', proxy.url)
    await page.evaluate((n) => window.app.writeSource('big.bin', n, 7), LARGE)
    let saved
    const upload = await memoryDuring(page, appMemory, async () => {
      saved = await page.evaluate(() => window.app.saveSource('big.bin'))
      await uploaded(page, saved, 'the upload', 120_000)
    })
    assert.equal(saved.size, LARGE * MiB)
    assert.ok(proxy.sent('PUT') >= LARGE * MiB, `uploaded ${proxy.sent('PUT')} bytes`)

    // The local copy goes (as when the browser evicts it); the engine downloads it again.
    await page.evaluate((id) => window.app.dropLocalCopy(id), saved.fileId)
    const getsBefore = proxy.sent('GET')
    const download = await memoryDuring(page, appMemory, async () => {
      await page.evaluate(() => window.app.triggerSync())
      await downloaded(page, saved, 'the download', 120_000)
    })
    assert.ok(proxy.sent('GET') - getsBefore >= LARGE * MiB, 'the bytes came from the server')
    const shown = await page.evaluate((id) => window.app.shownHash(id), saved.fileId)
    assert.match(shown.url, /^blob:/)
    assert.equal(shown.hash, saved.contentHash, 'the downloaded copy is the saved file')

    console.log(`${LARGE} MiB, memory above idle — save + upload: peak ${memoryFigures(upload.peak)}; held (after a forced GC) ${memoryFigures(upload.held)}`)
    console.log(`${LARGE} MiB, memory above idle — download: peak ${memoryFigures(download.peak)}; held (after a forced GC) ${memoryFigures(download.held)}`)
    // What stays held is bounded by chunks and parts, not by the file: well under its size. The
    // processes' figure moves by tens of MiB with garbage collection and allocator caches, so it
    // is bounded only where the file dwarfs that (the extended command's 1 GiB run).
    for (const [what, { peak, held }] of [['save + upload', upload], ['download', download]]) {
      assert.ok(held.wasm < 16 * MiB, `${what}: wasm memory grew ${mib(held.wasm)}`)
      assert.ok(held.jsHeap < 16 * MiB, `${what}: the JS heap holds ${mib(held.jsHeap)} more`)
      if (LARGE >= 512) assert.ok(peak.processes < (LARGE * MiB) / 4, `${what}: Chromium's processes grew ${mib(peak.processes)}`)
    }
    await page.close()
  } finally {
    await proxy.stop()
  }
})

test('a reload in the middle of a download: it resumes after the bytes that arrived, and nothing is downloaded twice', async () => {
  const SIZE = 24
  const proxy = await startThrottlingProxy(server.origin)
  try {
    const page = await openApp('reload-mid-download', proxy.url)
    const saved = await savedAndUploaded(page, 'mid.bin', SIZE, 11)
    await sleep(1500) // LiveStore persists the session's events a moment after the commit

    proxy.setRate(4 * MiB)
    await evictAndSync(page, saved)
    await until('8 MiB of the download', () => proxy.sent('GET') >= 8 * MiB, 30_000)
    const beforeReload = proxy.sent('GET')
    await page.reload()
    await waitReady(page)
    const kept = await page.evaluate(() => window.app.partialSizes())
    proxy.setRate(Infinity)
    await downloaded(page, saved, 'the resumed download')
    const total = proxy.sent('GET')
    console.log(`reload mid-download: ${mib(beforeReload)} had arrived, the partial file kept ${kept.map(mib).join(', ') || 'nothing'}; ${mib(total)} downloaded in all for a ${SIZE} MiB file`)
    assert.ok(total <= (SIZE + 3) * MiB, `the download started over: ${mib(total)} for ${SIZE} MiB (${mib(beforeReload)} before the reload)`)
    assert.equal(await shownHash(page, saved), saved.contentHash)

    // Verified now: another reload downloads nothing and leaves nothing in progress.
    await sleep(1500)
    await page.reload()
    await waitReady(page)
    await sleep(2000)
    assert.equal(proxy.sent('GET'), total, 'nothing verified is downloaded again')
    const state = await page.evaluate((id) => window.app.state(id), saved.fileId)
    assert.equal(state.downloadStatus, 'done')
    assert.equal(state.uploadStatus, 'done')
    assert.deepEqual(await page.evaluate(() => window.app.partialSizes()), [], 'no partial file left')
    await page.close()
  } finally {
    await proxy.stop()
  }
})

test('a partial download whose bytes changed while the engine was stopped is never kept: the download starts over and the file is right', async () => {
  const SIZE = 16
  const proxy = await startThrottlingProxy(server.origin)
  try {
    const page = await openApp('corrupt-partial', proxy.url)
    const saved = await savedAndUploaded(page, 'corrupt.bin', SIZE, 17)
    proxy.setRate(4 * MiB)
    await evictAndSync(page, saved)
    await until('4 MiB of the download', () => proxy.sent('GET') >= 4 * MiB, 30_000)
    await page.evaluate(() => window.app.stop())
    const before = proxy.sent('GET')
    const partial = await page.evaluate(() => window.app.corruptPartial())
    assert.ok(partial > 0, 'the stopped engine kept the partial download')
    proxy.setRate(Infinity)
    await page.evaluate(() => window.app.startSync())
    await downloaded(page, saved, 'the download after the corrupt partial')
    const total = proxy.sent('GET')
    console.log(`corrupt partial: ${mib(partial)} kept and corrupted, ${mib(total)} downloaded in all for a ${SIZE} MiB file`)
    assert.equal(await shownHash(page, saved), saved.contentHash, 'what is shown is the file, not the corrupt bytes')
    assert.ok(total - before >= SIZE * MiB, `the download started over (${mib(total - before)} after the corruption)`)
    assert.deepEqual(await page.evaluate(() => window.app.partialSizes()), [], 'no partial file left')
    await page.close()
  } finally {
    await proxy.stop()
  }
})

test('a reload in the middle of a resumable upload (64 MiB): it continues with the parts not sent yet', async () => {
  const SIZE = 64
  const proxy = await startThrottlingProxy(server.origin, 8 * MiB)
  try {
    const page = await openApp('reload-mid-resumable', proxy.url)
    await page.evaluate((n) => window.app.writeSource('up.bin', n, 13), SIZE)
    const saved = await page.evaluate(() => window.app.saveSource('up.bin'))
    await until('24 MiB of the upload', () => proxy.sent('PUT') >= 24 * MiB, 60_000)
    await sleep(1500) // the save's events and the resume token persist
    const beforeReload = proxy.sent('PUT')
    await page.reload()
    await waitReady(page)
    proxy.setRate(Infinity)
    await uploaded(page, saved, 'the resumed upload', 120_000)
    const total = proxy.sent('PUT')
    console.log(`reload mid-upload: ${mib(beforeReload)} sent before the reload, ${mib(total)} in all for a ${SIZE} MiB file`)
    assert.ok(total < SIZE * MiB + beforeReload - 8 * MiB, `the upload started over: ${mib(total)} for ${SIZE} MiB (${mib(beforeReload)} before the reload)`)
    const state = await page.evaluate((id) => window.app.state(id), saved.fileId)
    assert.equal(state.uploadStatus, 'done')
    await page.close()
  } finally {
    await proxy.stop()
  }
})

test('a page with a strict Content-Security-Policy (no blob: workers, no eval): the worker starts and files sync', async () => {
  // What an app with a strict policy allows: its own scripts and workers, WebAssembly compilation,
  // the signer's origin, and object URLs (blob:) to show and read files; no blob: workers, no eval.
  const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' blob: http://127.0.0.1:*; img-src 'self' blob:"
  const strict = await serveStatic(DIST, { 'content-security-policy': csp })
  try {
    const page = await context.newPage()
    const messages = []
    page.on('console', (m) => messages.push(m.text()))
    await page.addInitScript(() => {
      window.__violations = []
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective}: ${e.blockedURI}`))
    })
    const query = new URLSearchParams({ store: 'strict-csp', signer: server.url, token: server.token })
    await page.goto(`${strict.origin}/?${query}`)
    await waitReady(page)
    const saved = await savedAndUploaded(page, 'csp.bin', 2, 17)
    await evictAndSync(page, saved)
    await downloaded(page, saved)
    assert.equal(await shownHash(page, saved), saved.contentHash)
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'nothing the policy refused')
    assert.deepEqual(messages.filter((m) => /worker/i.test(m) && /not start|could not/i.test(m)), [], 'the file sync worker started')
    await page.close()
  } finally {
    await strict.stop()
  }
})

test('the leader tab closes in the middle of a download: the next leader resumes it after the bytes that arrived', async () => {
  const SIZE = 24
  const proxy = await startThrottlingProxy(server.origin)
  try {
    const first = await openApp('handover-download', proxy.url)
    const second = await openApp('handover-download', proxy.url)
    await poll(first, 'the first tab to lead', () => window.app.isLeader())
    const saved = await savedAndUploaded(first, 'handover.bin', SIZE, 19)
    await sleep(1500) // LiveStore persists the session's events a moment after the commit

    proxy.setRate(4 * MiB)
    await evictAndSync(first, saved)
    await until('8 MiB of the download', () => proxy.sent('GET') >= 8 * MiB, 30_000)
    const beforeClose = proxy.sent('GET')
    await first.close()
    proxy.setRate(Infinity)
    await poll(second, 'the second tab to take over', () => window.app.isLeader())
    await downloaded(second, saved, 'the resumed download')
    const total = proxy.sent('GET')
    console.log(`leader closed mid-download: ${mib(beforeClose)} had arrived; ${mib(total)} downloaded in all for a ${SIZE} MiB file`)
    // What the closed tab had fetched but its worker had not written yet is fetched again (the
    // saver keeps up to 16 MiB in flight); what was on disk is not.
    const after = total - beforeClose
    assert.ok(after <= (SIZE - 2) * MiB, `the download started over: ${mib(after)} after the close for ${SIZE} MiB (${mib(beforeClose)} before it)`)
    assert.equal(await shownHash(second, saved), saved.contentHash)
    await second.close()
  } finally {
    await proxy.stop()
  }
})
