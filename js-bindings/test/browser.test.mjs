// The built package in headless Chromium (playwright-core + Debian's Chromium): a Vite-built page
// with a real LiveStore store (web adapter: OPFS, leader worker, shared worker) and our server.
// Needs test/browser/dist (scripts/test.sh builds it with vite).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { launchChromium } from './support/chromium.mjs'
import { openPage, poll, waitReady } from './support/pages.mjs'
import { startServer } from './support/server.mjs'
import { until } from './support/store.mjs'
import { startStallingProxy } from './support/stall.mjs'
import { serveStatic } from './support/static.mjs'

const DIST = fileURLToPath(new URL('./browser/dist', import.meta.url))

let server
let site
let browser
before(async () => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: build it with npx vite build --config test/browser/vite.config.mjs`)
  server = await startServer()
  site = await serveStatic(DIST)
  browser = await launchChromium()
})
after(async () => {
  await browser?.close()
  await site?.stop()
  await server?.stop()
})

/** Opens the app for `store` in `context`; answers the page once the store and file sync are up. */
const openApp = (context, store, signer = server.url) =>
  openPage(context, `${site.origin}/?${new URLSearchParams({ store, signer, token: server.token })}`)

// LiveStore's web adapter persists a session's events from its leader worker a moment after the
// commit; events committed just before a reload can be lost (its behaviour, not ours: the engine
// then records the upload again). The tests let that moment pass before they reload.
const PERSIST_MS = 1500
const settle = () => new Promise((r) => setTimeout(r, PERSIST_MS))

async function reload(page) {
  await page.reload()
  await waitReady(page)
}

test('saved on the page: uploaded; after a reload still there and displayable from OPFS', async () => {
  const context = await browser.newContext()
  try {
    const page = await openApp(context, 'reload')
    assert.equal(await page.evaluate(() => window.app.isLeader()), true)
    const saved = await page.evaluate(() => window.app.save('hello from the page'))
    await poll(page, 'the upload', (id) => window.app.row(id)?.remoteKey !== '', saved.fileId)
    assert.equal((await page.evaluate((id) => window.app.row(id), saved.fileId)).remoteKey, `reload/${saved.contentHash}`)
    await settle()
    await reload(page)
    const shown = await page.evaluate((id) => window.app.textAt(id), saved.fileId)
    assert.match(shown.url, /^blob:/, 'the local copy is displayed (object URL), not the remote one')
    assert.equal(shown.text, 'hello from the page')
    assert.deepEqual(await page.evaluate(() => window.app.gallery()), [saved.fileId])
    assert.equal((await page.evaluate((id) => window.app.row(id), saved.fileId)).remoteKey, `reload/${saved.contentHash}`)
    assert.equal((await page.evaluate((id) => window.app.state(id), saved.fileId)).localHash, saved.contentHash)
    assert.deepEqual(await page.evaluate(() => window.app.liveKeys()), [`reload/${saved.contentHash}`])
    const usage = await page.evaluate(() => window.app.storage())
    assert.ok(usage.usage > 0 && usage.quota > usage.usage, JSON.stringify(usage))
    await page.close()
  } finally {
    await context.close()
  }
})

test('a reload in the middle of an upload: the upload completes after it', async () => {
  const proxy = await startStallingProxy(server.origin)
  const context = await browser.newContext()
  try {
    const page = await openApp(context, 'reload-mid-upload', proxy.url)
    const saved = await page.evaluate(() => window.app.save('refreshed mid-upload'))
    await poll(page, 'the upload in flight', (id) => window.app.state(id)?.uploadStatus === 'inProgress', saved.fileId)
    await settle()
    await reload(page)
    proxy.release()
    await poll(page, 'the upload to complete after the reload', (id) => window.app.row(id)?.remoteKey !== '' && window.app.state(id)?.uploadStatus === 'done', saved.fileId, 60_000)
    const shown = await page.evaluate((id) => window.app.textAt(id), saved.fileId)
    assert.equal(shown.text, 'refreshed mid-upload')
    await page.close()
  } finally {
    await context.close()
    await proxy.stop()
  }
})

test('two tabs: one leader; the other tab saves, the leader uploads; when the leader closes the other takes over and the interrupted upload completes', async () => {
  const proxy = await startStallingProxy(server.origin)
  proxy.release()
  const context = await browser.newContext()
  try {
    const first = await openApp(context, 'tabs', proxy.url)
    const second = await openApp(context, 'tabs', proxy.url)
    await poll(first, 'the first tab to lead', () => window.app.isLeader())
    assert.equal(await second.evaluate(() => window.app.isLeader()), false, 'one leader only')

    const one = await second.evaluate(() => window.app.save('saved in the second tab'))
    await poll(second, 'the leader to upload the second tab\'s save', (id) => window.app.row(id)?.remoteKey !== '', one.fileId)

    // Now hold uploads: the leader's next upload stays in flight, then the leader tab closes.
    const before = proxy.uploads()
    proxy.hold()
    const two = await second.evaluate(() => window.app.save('interrupted by a closed tab'))
    await poll(second, 'the leader\'s upload in flight', (id) => window.app.state(id)?.uploadStatus === 'inProgress', two.fileId)
    await until('the upload to reach the proxy', () => proxy.uploads() > before)
    await first.close()
    proxy.release()
    await poll(second, 'the second tab to take over', () => window.app.isLeader(), undefined, 30_000)
    await poll(second, 'the interrupted upload to complete', (id) => window.app.row(id)?.remoteKey !== '' && window.app.state(id)?.uploadStatus === 'done', two.fileId, 60_000)
    const shown = await second.evaluate((id) => window.app.textAt(id), two.fileId)
    assert.equal(shown.text, 'interrupted by a closed tab')
    await second.close()
  } finally {
    await context.close()
    await proxy.stop()
  }
})

test('an instance the engine refuses (bad remote options) leaves no worker behind', async () => {
  const context = await browser.newContext()
  try {
    const page = await openApp(context, 'refused')
    const fileSyncWorkers = () => page.workers().filter((w) => /\/worker-[^/]*\.js$/.test(w.url())).length
    await until('the page\'s own file sync worker', () => fileSyncWorkers() === 1)
    assert.equal(await page.evaluate(() => window.app.createRefused()), 'INVALID_INPUT')
    await until('the refused instance\'s worker to end', () => fileSyncWorkers() === 1)
    await new Promise((r) => setTimeout(r, 500))
    assert.equal(fileSyncWorkers(), 1, 'only the working instance keeps a worker')
    await page.close()
  } finally {
    await context.close()
  }
})
