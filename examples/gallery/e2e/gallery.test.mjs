// End-to-end tests of the example app, the way a user meets the product: the built gallery
// (React, and the Vue page) in headless Chromium, two browser contexts as two clients (each its own
// OPFS and LiveStore storage, like two origins), linked by LiveStore's real sync backend (`wrangler
// dev` with @livestore/sync-cf), `filesync serve` as the file server. One stack for the whole file
// (stack.mjs), a fresh store id per scenario. Run by e2e/run.sh (the README test command).
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { launchChromium, launchPersistentChromium, memoryDuring, memoryFigures } from '../../../js-bindings/test/support/chromium.mjs'
import { startStack } from '../stack.mjs'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
/** Where the tests save screenshots of the app (kept out of git; docs/ holds one). */
const SHOTS = join(ROOT, 'target', 'gallery-e2e-screenshots')
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')
/** The extended command (scripts/extended) sets this: scenarios too slow or too flaky for CI. */
const EXTENDED = process.env.GALLERY_E2E_EXTENDED === '1'

let stack, browser, state
before(async () => {
  state = await mkdtemp(join(tmpdir(), 'filesync-gallery-e2e-'))
  stack = await startStack({
    state,
    bin: process.env.FILESYNC_BIN ?? join(ROOT, 'target', 'debug', 'filesync'),
    onExit: (name, why, output) => console.error(`${name} stopped (${why}):\n${output}`),
    throttle: true,
  })
  browser = await launchChromium()
})
after(async () => {
  await browser?.close()
  await stack?.stop()
  if (state) await rm(state, { recursive: true, force: true })
})

/**
 * Waits until every page's store is connected to the sync backend, then a second more, before a
 * scenario writes: a client whose first pull overlaps another's first pushes can stop pulling for
 * good in LiveStore 0.4.0 (tests/wrangler/NOTES.md), which is LiveStore's to fix, not ours.
 */
async function settled(pages) {
  for (const page of pages) await page.getByTestId('store-sync').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 })
  await new Promise((r) => setTimeout(r, 1000))
}

let scenario = 0
/** Two clients (browser contexts) on a fresh store, each on the page `path` of its own origin. */
async function clients(path = '/', count = 2, query = '') {
  const store = `e2e-${process.pid}-${++scenario}`
  const pages = []
  for (let i = 0; i < count; i++) {
    const context = await browser.newContext()
    const page = await context.newPage()
    page.errors = []
    page.on('pageerror', (e) => page.errors.push(String(e)))
    const origin = stack.origins[i % stack.origins.length]
    await page.goto(`${origin}${path}?store=${store}${query}`)
    await page.getByRole('heading', { level: 1 }).waitFor({ timeout: 60_000 })
    pages.push(page)
  }
  await settled(pages)
  scenarioPages = pages
  return { store, pages }
}

/** The bytes the server holds under `key`, or null (a signed download, as any client would). */
async function remoteBytes(key) {
  const signed = await fetch(`${stack.signer}/v1/sign/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  })
  if (!signed.ok) throw new Error(`sign/download ${key}: ${signed.status}`)
  const answer = await fetch((await signed.json()).url)
  if (answer.status === 404) return null
  if (!answer.ok) throw new Error(`GET ${key}: ${answer.status}`)
  return Buffer.from(await answer.arrayBuffer())
}

const card = (page, name) => page.locator('.card', { hasText: name })
const stateOf = (page, name) => card(page, name).getAttribute('data-state', { timeout: 1000 }).catch(() => null)
/** Every card of the page as `name: state`, for failure messages. */
const cards = (page) =>
  page.locator('.card').evaluateAll((els) => els.map((el) => `${el.querySelector('.name')?.textContent}: ${el.dataset.state}`).join(', '))
async function until(what, check, timeoutMs = 60_000, pages = []) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (${(await Promise.all(pages.map(cards))).join(' | ')})`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
/** How many times pages were reloaded because LiveStore stopped delivering events. */
let stalls = 0
/** The pages of the scenario running now (reloaded together on a LiveStore stall). */
let scenarioPages = []
after(() => console.log(`LiveStore stalls recovered by reloading the pages: ${stalls}`))
/**
 * Waits until another client's change to `name` reached `page`, as LiveStore delivers it: `want`
 * 'shown' (its card), 'gone' (no card), or 'uploaded' (its row has a remote key: the card is past
 * 'pending'). LiveStore 0.4.0 can stop pushing or pulling for good after concurrent pushes
 * (tests/wrangler/NOTES.md; fixed upstream after 0.4.0): when nothing arrives in 25 s the
 * scenario's pages are reloaded once (counted, and logged), as their users would, and `page` must
 * then show the change. Only
 * LiveStore's delivery of rows is waited for this way, never a transfer of ours.
 */
async function arrives(page, name, want = 'shown') {
  const there = async () => {
    if (want === 'gone') return (await card(page, name).count()) === 0
    const state = await stateOf(page, name)
    return want === 'shown' ? state !== null : state !== null && state !== 'pending'
  }
  const stalledAt = Date.now() + 25_000
  while (Date.now() < stalledAt) {
    if (await there()) return
    await sleep(100)
  }
  stalls++
  // The sender's pushes may be the stuck part: every page of the scenario reloads (a reloaded
  // LiveStore client pushes what it has not pushed yet, and pulls afresh).
  const all = [page, ...scenarioPages.filter((p) => p !== page && !p.isClosed())]
  console.log(`LiveStore did not deliver ${name} (${want}) to ${page.url()} within 25 s: reloading ${all.length} page(s)`)
  for (const p of all) await p.reload()
  await settled(all)
  await until(`${name} ${want} after a reload`, there, 60_000, [page])
}
const add = (page, name, buffer, mimeType = 'application/octet-stream') =>
  page.getByTestId('file-input').setInputFiles({ name, mimeType, buffer })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const count = async (page, id) => Number(await page.getByTestId(id).textContent())
/** Saves a screenshot of `page` as `name`.png among the tests' screenshots. */
async function shoot(page, name) {
  await mkdir(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, `${name}.png`) })
}
/** Every file in the page's OPFS (its origin's), as paths. */
const opfsFiles = (page) =>
  page.evaluate(async () => {
    const out = []
    const walk = async (dir, prefix) => {
      for await (const [name, handle] of dir.entries()) {
        if (handle.kind === 'directory') await walk(handle, `${prefix}${name}/`)
        else out.push(`${prefix}${name}`)
      }
    }
    await walk(await navigator.storage.getDirectory(), '')
    return out
  })
/** Transfers through the throttling proxy run at `bytesPerSecond` while `work` runs. */
async function throttled(bytesPerSecond, work) {
  stack.throttle.setRate(bytesPerSecond)
  try {
    return await work()
  } finally {
    stack.throttle.setRate(Infinity)
  }
}

test('a file added on one client shows at once, uploads, and the server holds bytes that hash to its name', async () => {
  const { store, pages } = await clients('/', 1)
  const [a] = pages
  const bytes = randomBytes(200_000)
  await add(a, 'notes.bin', bytes)
  await card(a, 'notes.bin').waitFor({ timeout: 10_000 })
  await until('the upload', async () => (await stateOf(a, 'notes.bin')) === 'synced')
  const hash = sha256(bytes)
  const held = await remoteBytes(`${store}/${hash}`)
  assert.ok(held, 'the server holds the object')
  assert.equal(sha256(held), hash, 'its bytes hash to its name')

  // Many at once, dropped on the drop zone.
  const dropped = await a.evaluateHandle(() => {
    const transfer = new DataTransfer()
    transfer.items.add(new File(['dropped one'], 'drop-1.txt', { type: 'text/plain' }))
    transfer.items.add(new File(['dropped two'], 'drop-2.txt', { type: 'text/plain' }))
    return transfer
  })
  await a.getByRole('region', { name: 'Add files' }).dispatchEvent('drop', { dataTransfer: dropped })
  for (const name of ['drop-1.txt', 'drop-2.txt']) await until(`${name} uploaded`, async () => (await stateOf(a, name)) === 'synced', 60_000, [a])
  // The keyboard reaches the picker.
  const chooser = a.waitForEvent('filechooser', { timeout: 10_000 })
  for (let i = 0; i < 10 && !(await a.evaluate(() => document.activeElement?.textContent === 'Choose files…')); i++) await a.keyboard.press('Tab')
  await a.keyboard.press('Enter')
  assert.ok((await chooser).isMultiple(), 'the picker takes many files')
  assert.deepEqual(a.errors, [])
})

test('the other client sees the file, downloads and verifies it, and displays it', async () => {
  const { pages } = await clients()
  const [a, b] = pages
  const bytes = randomBytes(300_000)
  await add(a, 'shared.bin', bytes)
  await arrives(b, 'shared.bin', 'uploaded')
  await until('the download on B', async () => (await stateOf(b, 'shared.bin')) === 'synced')
  await shoot(b, 'idle')
  // What B offers to open is the file's bytes.
  const href = await card(b, 'shared.bin').locator('a').getAttribute('href')
  const shown = await b.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href)
  assert.equal(sha256(Buffer.from(shown)), sha256(bytes))
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('a replaced file shows its new content on the other client; a delete removes it everywhere, and from the server after the grace period', async () => {
  const { store, pages } = await clients('/', 2, '&graceMs=2000')
  const [a, b] = pages
  const first = Buffer.from('first version\n')
  await add(a, 'doc.txt', first, 'text/plain')
  await arrives(b, 'doc.txt', 'uploaded')
  await until('B to have the first version', async () => (await stateOf(b, 'doc.txt')) === 'synced')
  const second = Buffer.from('second version, longer\n')
  await card(a, 'doc.txt').getByLabel('Replace doc.txt').setInputFiles({ name: 'doc.txt', mimeType: 'text/plain', buffer: second })
  await until('B to show the second version', async () => {
    const facts = await card(b, 'doc.txt').locator('.facts').textContent()
    return facts.includes(`${second.length} B`) && (await stateOf(b, 'doc.txt')) === 'synced'
  })
  // The replaced content's remote copy goes after the grace period (nothing else references it).
  await until('the first version gone from the server', async () => (await remoteBytes(`${store}/${sha256(first)}`)) === null, 30_000)
  assert.ok(await remoteBytes(`${store}/${sha256(second)}`), 'the second version stays')
  await card(b, 'doc.txt').getByRole('button', { name: 'Delete' }).click()
  await arrives(b, 'doc.txt', 'gone')
  await arrives(a, 'doc.txt', 'gone')
  await until('the second version gone from the server', async () => (await remoteBytes(`${store}/${sha256(second)}`)) === null, 30_000)
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('the Vue page saves a file through the Vue provider, and the React page of the other client displays it', async () => {
  const store = `e2e-${process.pid}-vue`
  const vueContext = await browser.newContext()
  const vue = await vueContext.newPage()
  const errors = []
  vue.on('pageerror', (e) => errors.push(String(e)))
  await vue.goto(`${stack.origins[0]}/vue.html?store=${store}`)
  await vue.getByRole('heading', { name: 'Gallery (Vue)' }).waitFor({ timeout: 60_000 })
  // The React page of the other client first, connected (see settled).
  const react = await (await browser.newContext()).newPage()
  react.on('pageerror', (e) => errors.push(String(e)))
  await react.goto(`${stack.origins[1]}/?store=${store}`)
  await settled([react])
  scenarioPages = [vue, react]
  const png = Buffer.from(
    await vue.evaluate(async () => {
      const canvas = new OffscreenCanvas(40, 30)
      const g = canvas.getContext('2d')
      g.fillStyle = '#3559e0'
      g.fillRect(0, 0, 40, 30)
      const blob = await canvas.convertToBlob({ type: 'image/png' })
      return Array.from(new Uint8Array(await blob.arrayBuffer()))
    }),
  )
  await vue.getByTestId('file-input').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: png })
  await vue.locator('.card img').waitFor({ timeout: 30_000 })
  await arrives(react, 'square.png', 'uploaded')
  await until('the React page to show the image', async () => (await stateOf(react, 'square.png')) === 'synced', 60_000)
  await card(react, 'square.png').locator('img').waitFor()
  assert.match(await card(react, 'square.png').locator('.facts').textContent(), /40×30/, 'the size recorded by the preprocessor')
  assert.deepEqual(errors, [])
})

test('identical content saved twice, one deleted: the other still displays on every client, and the server keeps it', async () => {
  const { store, pages } = await clients('/', 2, '&graceMs=1000')
  const [a, b] = pages
  const bytes = randomBytes(120_000)
  await add(a, 'first.bin', bytes)
  await arrives(b, 'first.bin') // one write at a time (see two tabs)
  await add(b, 'second.bin', bytes)
  for (const page of [a, b]) {
    for (const name of ['first.bin', 'second.bin']) {
      await until(`${name} synced on ${page === a ? 'A' : 'B'}`, async () => (await stateOf(page, name)) === 'synced')
    }
  }
  await card(a, 'first.bin').getByRole('button', { name: 'Delete' }).click()
  await arrives(a, 'first.bin', 'gone')
  await arrives(b, 'first.bin', 'gone')
  // Past the grace period, the remote copy stays: another live file references it.
  await sleep(4000)
  assert.ok(await remoteBytes(`${store}/${sha256(bytes)}`), 'the server keeps the shared content')
  // The same bytes stay for the other item, on both clients, and can be opened.
  for (const page of [a, b]) {
    assert.equal(await stateOf(page, 'second.bin'), 'synced')
    const href = await card(page, 'second.bin').locator('a').getAttribute('href')
    const shown = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href).catch((err) => {
      throw new Error(`the shown URL ${href} on ${page === a ? 'A' : 'B'} cannot be read: ${err.message}`)
    })
    assert.equal(sha256(Buffer.from(shown)), sha256(bytes))
  }
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('local-only makes no request to the file server; switching to remote uploads what was saved meanwhile', async () => {
  const { store, pages } = await clients('/', 1, '&localOnly=1')
  const [a] = pages
  const toServer = []
  a.on('request', (request) => {
    const path = new URL(request.url()).pathname
    if (path.startsWith('/api') || path.startsWith('/livestore-filesync-files')) toServer.push(`${request.method()} ${path}`)
  })
  await a.getByTestId('connection').filter({ hasText: 'Local only' }).waitFor()
  const bytes = randomBytes(50_000)
  await add(a, 'offline-first.bin', bytes)
  await until('the file on this device', async () => (await stateOf(a, 'offline-first.bin')) === 'local')
  await new Promise((r) => setTimeout(r, 2000))
  assert.deepEqual(toServer, [], 'no request to the file server while local-only')
  await a.getByLabel('Local only').uncheck()
  await until('the upload after switching to remote', async () => (await stateOf(a, 'offline-first.bin')) === 'synced')
  const held = await remoteBytes(`${store}/${sha256(bytes)}`)
  assert.ok(held && sha256(held) === sha256(bytes), 'the server holds the bytes')
  assert.ok(toServer.length > 0, 'requests went to the server once remote')
  assert.deepEqual(a.errors, [])
})

test('offline: files added offline upload once back online; a file the other client added meanwhile arrives; recovery comes from health checks alone', async () => {
  const { store, pages } = await clients()
  const [a, b] = pages
  // 1. The browser offline (its network gone, with its offline and online events).
  await a.context().setOffline(true)
  const offline = [randomBytes(70_000), randomBytes(90_000)]
  await add(a, 'offline-1.bin', offline[0])
  await add(a, 'offline-2.bin', offline[1])
  await a.getByTestId('connection').filter({ hasText: 'Offline' }).waitFor({ timeout: 15_000 })
  const waiting = async (name) => ['local', 'upload-queued'].includes(await stateOf(a, name))
  await until('both files on this device', async () => (await waiting('offline-1.bin')) && (await waiting('offline-2.bin')), 10_000, [a])
  await shoot(a, 'offline')
  await a.context().setOffline(false)
  for (const [i, name] of ['offline-1.bin', 'offline-2.bin'].entries()) {
    await until(`${name} uploaded`, async () => (await stateOf(a, name)) === 'synced')
    const held = await remoteBytes(`${store}/${sha256(offline[i])}`)
    assert.ok(held && sha256(held) === sha256(offline[i]), `the server holds ${name}`)
    await arrives(b, name, 'uploaded')
    await until(`${name} on B`, async () => (await stateOf(b, name)) === 'synced')
  }

  // 2. The file server unreachable while the browser believes it is online (no online or offline
  // event ever fires): only the engine's health checks can tell it is back.
  await a.evaluate(() => {
    window.onlineEvents = 0
    addEventListener('online', () => window.onlineEvents++)
    addEventListener('offline', () => window.onlineEvents++)
  })
  const unreachable = (route) => route.abort('connectionrefused')
  const toServer = (url) => url.pathname.startsWith('/api') || url.pathname.startsWith('/livestore-filesync-files')
  await a.context().route(toServer, unreachable)
  const mine = randomBytes(60_000)
  const theirs = randomBytes(80_000)
  await add(a, 'while-down.bin', mine)
  await a.getByTestId('connection').filter({ hasText: 'Offline' }).waitFor({ timeout: 15_000 })
  await arrives(b, 'while-down.bin') // one write at a time (see two tabs)
  await add(b, 'from-b.bin', theirs)
  await until('B to upload its file', async () => (await stateOf(b, 'from-b.bin')) === 'synced')
  await arrives(a, 'from-b.bin')
  await sleep(1000)
  assert.notEqual(await stateOf(a, 'from-b.bin'), 'synced', 'A cannot download it yet')
  assert.ok(await waiting('while-down.bin'), await cards(a))
  await a.context().unroute(toServer, unreachable)
  await until('A back online', async () => (await a.getByTestId('connection').textContent()) === 'Online', 30_000)
  await until('A to upload and download', async () => (await stateOf(a, 'while-down.bin')) === 'synced' && (await stateOf(a, 'from-b.bin')) === 'synced', 60_000)
  await arrives(b, 'while-down.bin', 'uploaded')
  await until('B to download A\'s file', async () => (await stateOf(b, 'while-down.bin')) === 'synced')
  assert.equal(await a.evaluate(() => window.onlineEvents), 0, 'no browser online or offline event')
  assert.equal(await count(a, 'errors'), 0)
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('a blob corrupted on the server: the receiving client refuses it, shows an error, and keeps no bad bytes', async () => {
  const { store, pages } = await clients('/', 1)
  const [a] = pages
  const bytes = randomBytes(150_000)
  const hash = sha256(bytes)
  await add(a, 'fragile.bin', bytes)
  await until('the upload', async () => (await stateOf(a, 'fragile.bin')) === 'synced')
  // One byte flipped on the server's disk; size and sidecar unchanged.
  const blob = join(stack.dataDir, 'blobs', store, hash)
  const held = await readFile(blob)
  held[held.length >> 1] ^= 0xff
  await writeFile(blob, held)

  const b = await (await browser.newContext()).newPage()
  b.errors = []
  b.on('pageerror', (e) => b.errors.push(String(e)))
  // One retry (the bytes may have been damaged in transit), then the engine gives up.
  await b.goto(`${stack.origins[1]}/?store=${store}&retries=1`)
  scenarioPages = [a, b]
  await arrives(b, 'fragile.bin')
  await until('the error on B', async () => (await stateOf(b, 'fragile.bin')) === 'error', 60_000, [b])
  const alert = await card(b, 'fragile.bin').getByRole('alert').textContent()
  assert.match(alert, /hash|match|corrupt|verif/i, `the error says what went wrong: ${alert}`)
  assert.ok(await card(b, 'fragile.bin').getByRole('button', { name: 'Retry' }).isVisible(), 'a retry button')
  const href = await card(b, 'fragile.bin').locator('a').getAttribute('href').catch(() => null)
  assert.ok(!href?.startsWith('blob:'), `no local copy to open (${href})`)
  await shoot(b, 'error')
  const kept = (await opfsFiles(b)).filter((path) => path.includes(hash))
  assert.deepEqual(kept, [], 'no bytes of the file kept, not even a partial')
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('a reload in the middle of an upload and of a download: both resume and complete, nothing stays in progress, nothing verified is downloaded twice', async () => {
  const { store, pages } = await clients()
  const [a, b] = pages
  const SIZE = 4 * 1024 * 1024
  const bytes = randomBytes(SIZE)
  const key = `${store}/${sha256(bytes)}`
  await throttled(1_500_000, async () => {
    const putBefore = stack.throttle.sent('PUT')
    await add(a, 'reloaded.bin', bytes)
    await until('a third of the upload', async () => stack.throttle.sent('PUT') - putBefore > SIZE / 3)
    await shoot(a, 'syncing')
    await a.reload()
    await until('the upload after the reload', async () => (await stateOf(a, 'reloaded.bin')) === 'synced', 90_000)
    const held = await remoteBytes(key)
    assert.ok(held && sha256(held) === sha256(bytes), 'the server holds the whole file')

    const getBefore = stack.throttle.sent('GET')
    await until('a third of the download', async () => stack.throttle.sent('GET') - getBefore > SIZE / 3, 60_000)
    await b.reload()
    await until('the download after the reload', async () => (await stateOf(b, 'reloaded.bin')) === 'synced', 90_000)
    const downloaded = stack.throttle.sent('GET') - getBefore
    assert.ok(downloaded < 1.5 * SIZE, `the download resumed: ${downloaded} bytes for ${SIZE}`)
  })
  // Verified copies stay: another reload of both moves no byte.
  const moved = stack.throttle.sent('GET') + stack.throttle.sent('PUT')
  await Promise.all([a.reload(), b.reload()])
  await settled([a, b])
  await sleep(2000)
  for (const page of [a, b]) {
    assert.equal(await stateOf(page, 'reloaded.bin'), 'synced')
    assert.equal(await count(page, 'uploading'), 0)
    assert.equal(await count(page, 'downloading'), 0)
  }
  assert.equal(stack.throttle.sent('GET') + stack.throttle.sent('PUT'), moved, 'nothing moved again')
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('the file server killed and restarted in the middle of a transfer: the transfer completes after it returns', {
  // The same recovery is held in CI by the engine's native tests (e2e_native, cancel_native) and
  // the package's Node tests; CI time is short (issue 14 added S3 mode to it).
  skip: !EXTENDED && 'the extended command runs it (GALLERY_E2E_EXTENDED=1)',
}, async () => {
  const { store, pages } = await clients()
  const [a, b] = pages
  const SIZE = 3 * 1024 * 1024
  const bytes = randomBytes(SIZE)
  await throttled(1_500_000, async () => {
    const putBefore = stack.throttle.sent('PUT')
    await add(a, 'restart.bin', bytes)
    await until('part of the upload', async () => stack.throttle.sent('PUT') - putBefore > SIZE / 4)
    await stack.restartServer(1000, 'SIGKILL')
    await until('the upload after the restart', async () => (await stateOf(a, 'restart.bin')) === 'synced', 90_000, [a])
    assert.ok(stack.throttle.sent('PUT') - putBefore > SIZE, 'the first upload was cut, and sent again')
    // Mid-download too.
    {
      const getBefore = stack.throttle.sent('GET')
      await until('part of the download', async () => stack.throttle.sent('GET') - getBefore > SIZE / 4, 60_000)
      await stack.restartServer(1000, 'SIGKILL')
    }
    await arrives(b, 'restart.bin', 'uploaded')
    await until('the download', async () => (await stateOf(b, 'restart.bin')) === 'synced', 90_000, [b])
  })
  const held = await remoteBytes(`${store}/${sha256(bytes)}`)
  assert.ok(held && sha256(held) === sha256(bytes))
  const href = await card(b, 'restart.bin').locator('a').getAttribute('href')
  const shown = await b.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href)
  assert.equal(sha256(Buffer.from(shown)), sha256(bytes))
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('two tabs of one client: one leader, no transfer twice, no error; closing the leader tab hands over', {
  // In about 1 run of 5, LiveStore 0.4.0 leaves one tab's events unconfirmed when the two tabs
  // commit at nearly the same time (the saving tab, and the leading tab recording the upload):
  // the other tab and the other client never see them. LiveStore's to fix (its issue 707 and
  // pull requests 1472 and 1530, later than 0.4.0); the engine's part, one upload per save
  // whichever tab saves, is also held by filesync's unit test
  // a_save_in_an_engine_not_started_is_uploaded_once_by_the_one_that_runs.
  skip: !EXTENDED && 'the extended command runs it (GALLERY_E2E_EXTENDED=1)',
}, async () => {
  const { pages } = await clients('/', 1)
  const [b] = pages
  const store = new URL(b.url()).searchParams.get('store')
  const context = await browser.newContext()
  const tabs = []
  for (let i = 0; i < 2; i++) {
    const tab = await context.newPage()
    tab.errors = []
    tab.on('pageerror', (e) => tab.errors.push(String(e)))
    await tab.goto(`${stack.origins[0]}/?store=${store}`)
    tabs.push(tab)
  }
  await settled(tabs)
  scenarioPages = [...tabs, b]
  const blobRequests = []
  context.on('requestfinished', async (request) => {
    if (!new URL(request.url()).pathname.startsWith('/livestore-filesync-files')) return
    const tab = tabs.indexOf(request.frame()?.page())
    blobRequests.push(`tab ${tab} ${(await request.response())?.status()} ${request.method()} ${new URL(request.url()).pathname}`)
  })
  // Saved in the second tab, uploaded once; saved by the other client, downloaded once.
  const ours = randomBytes(100_000)
  const theirs = randomBytes(110_000)
  // One write at a time across clients: concurrent pushes can stop a LiveStore 0.4.0 client from
  // pulling for good (seen in 1 run of 4 here; LiveStore's, see the closing note of issue 13).
  await add(tabs[1], 'from-tab.bin', ours)
  await arrives(b, 'from-tab.bin')
  await add(b, 'from-other.bin', theirs)
  try {
    for (const tab of tabs) {
      for (const name of ['from-tab.bin', 'from-other.bin']) await until(`${name} in a tab`, async () => (await stateOf(tab, name)) === 'synced', 30_000, [...tabs, b])
    }
  } catch (error) {
    // Where did the event stop? A fresh client pulls what the sync backend holds.
    const fresh = await (await browser.newContext()).newPage()
    await fresh.goto(`${stack.origins[1]}/?store=${store}`)
    const arrived = await card(fresh, 'from-other.bin').waitFor({ timeout: 20_000 }).then(() => true, () => false)
    await fresh.context().close()
    throw new Error(`${error.message}; a fresh client ${arrived ? 'sees' : 'does not see'} from-other.bin`)
  }
  await arrives(b, 'from-tab.bin', 'uploaded')
  await until('B to download', async () => (await stateOf(b, 'from-tab.bin')) === 'synced')
  await sleep(1000)
  const once = (method, hash) => blobRequests.filter((r) => r.includes(method) && r.endsWith(hash)).length
  assert.equal(once('PUT', sha256(ours)), 1, `one upload: ${blobRequests.join(', ')}`)
  assert.equal(once('GET', sha256(theirs)), 1, `one download: ${blobRequests.join(', ')}`)
  const leads = async (tab) => (await tab.getByTestId('role').textContent()) === 'This tab'
  await until('one leading tab', async () => (await leads(tabs[0])) !== (await leads(tabs[1])))
  const [leader, other] = (await leads(tabs[0])) ? tabs : [tabs[1], tabs[0]]
  await leader.close()
  await until('the other tab to lead', () => leads(other), 30_000)
  const later = randomBytes(90_000)
  await add(b, 'after-close.bin', later)
  await until('the remaining tab to download it', async () => (await stateOf(other, 'after-close.bin')) === 'synced', 60_000, [other, b])
  const last = randomBytes(50_000)
  await add(other, 'from-remaining.bin', last)
  await arrives(b, 'from-remaining.bin', 'uploaded')
  await until('B to get the remaining tab\'s file', async () => (await stateOf(b, 'from-remaining.bin')) === 'synced', 60_000, [other, b])
  assert.deepEqual([...tabs[0].errors, ...tabs[1].errors, ...b.errors], [])
})

test('never more transfers at once than the configured limit', async () => {
  const { pages } = await clients('/', 2, '&uploads=2&downloads=2')
  const [a, b] = pages
  const track = (page) => {
    const t = { now: 0, max: 0 }
    const blob = (request) => new URL(request.url()).pathname.startsWith('/livestore-filesync-files')
    page.on('request', (request) => {
      if (!blob(request)) return
      t.now++
      t.max = Math.max(t.max, t.now)
    })
    const done = (request) => {
      if (blob(request)) t.now--
    }
    page.on('requestfinished', done)
    page.on('requestfailed', done)
    return t
  }
  const up = track(a)
  const down = track(b)
  const files = Array.from({ length: 6 }, (_, i) => ({ name: `many-${i}.bin`, mimeType: 'application/octet-stream', buffer: randomBytes(400_000) }))
  await throttled(1_000_000, async () => {
    await a.getByTestId('file-input').setInputFiles(files)
    for (const { name } of files) {
      await arrives(b, name, 'uploaded')
      await until(`${name} on both`, async () => (await stateOf(a, name)) === 'synced' && (await stateOf(b, name)) === 'synced', 90_000)
    }
  })
  assert.equal(up.max, 2, `uploads at once: at most ${up.max}`)
  assert.equal(down.max, 2, `downloads at once: at most ${down.max}`)
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('the LiveStore sync backend restarted: both clients converge afterwards', {
  skip: !EXTENDED && 'the extended command runs it (GALLERY_E2E_EXTENDED=1): it fits, but CI time is short',
}, async () => {
  const { pages } = await clients()
  const [a, b] = pages
  const before = randomBytes(40_000)
  await add(a, 'before.bin', before)
  await until('B to have it', async () => (await stateOf(b, 'before.bin')) === 'synced', 60_000, [a, b])
  // Down for 3 s (its state kept on disk); A saves meanwhile.
  const restarting = stack.restartSync(3000)
  await sleep(1000)
  const during = randomBytes(50_000)
  await add(a, 'during.bin', during)
  await restarting
  await until('B to get what A saved while the backend was down', async () => (await stateOf(b, 'during.bin')) === 'synced', 120_000, [a, b])
  const after = randomBytes(60_000)
  await add(b, 'after.bin', after)
  await until('A to get what B saved after', async () => (await stateOf(a, 'after.bin')) === 'synced', 120_000, [a, b])
  for (const page of [a, b]) assert.equal(await page.getByTestId('store-sync').textContent(), 'Connected')
  assert.deepEqual([...a.errors, ...b.errors], [])
})

const MiB = 1024 * 1024
/** The large file's size in MiB: 64 in the fast tier; the extended command runs 1024. */
const LARGE = Number(process.env.GALLERY_LARGE_MIB ?? 64)
const mib = (bytes) => `${(bytes / MiB).toFixed(1)} MiB`

/** The gallery's JS heap and engine memory (evaluated in the page, for the memory helpers). */
const galleryMemory = () => globalThis.galleryMemory()
async function sha256OfFile(path) {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk)
  return hash.digest('hex')
}

test(`a ${LARGE} MiB file uploads from one client and downloads to the other with memory bounded (wasm, JS heap, every Chromium process)`, async () => {
  const store = `e2e-${process.pid}-large`
  const dir = await mkdtemp(join(tmpdir(), 'gallery-large-'))
  const browsers = []
  try {
    // The file on disk, picked by path (never a buffer in this process).
    const source = join(dir, 'large.bin')
    const out = createWriteStream(source)
    for (let i = 0; i < LARGE; i++) if (!out.write(randomBytes(MiB))) await new Promise((r) => out.once('drain', r))
    await new Promise((r) => out.end(r))
    const hash = await sha256OfFile(source)
    // Profiles on disk: incognito contexts keep OPFS in memory, which would hide what we measure.
    const pages = []
    for (const origin of stack.origins) {
      const context = await launchPersistentChromium(join(dir, `profile-${pages.length}`))
      browsers.push(context)
      const page = context.pages()[0] ?? (await context.newPage())
      page.errors = []
      page.on('pageerror', (e) => page.errors.push(String(e)))
      await page.goto(`${origin}/?store=${store}`)
      pages.push(page)
    }
    const [a, b] = pages
    await settled(pages)
    scenarioPages = pages
    // B waits (its transfers stopped) until A's upload is done, so each is measured alone.
    await b.getByLabel('Go offline').check()
    const upload = await memoryDuring(a, galleryMemory, async () => {
      await a.getByTestId('file-input').setInputFiles(source)
      await until('the upload', async () => (await stateOf(a, 'large.bin')) === 'synced', 600_000, [a])
    })
    assert.equal(await sha256OfFile(join(stack.dataDir, 'blobs', store, hash)), hash, 'the server holds the file')
    const download = await memoryDuring(b, galleryMemory, async () => {
      await b.getByLabel('Go offline').uncheck()
      await arrives(b, 'large.bin', 'uploaded')
      await until('the download', async () => (await stateOf(b, 'large.bin')) === 'synced', 600_000, [b])
    })
    if (LARGE <= 64) {
      const href = await card(b, 'large.bin').locator('a').getAttribute('href')
      assert.match(href, /^blob:/)
      const shown = await b.evaluate(async (url) => {
        const digest = await crypto.subtle.digest('SHA-256', await (await fetch(url)).arrayBuffer())
        return Array.from(new Uint8Array(digest), (x) => x.toString(16).padStart(2, '0')).join('')
      }, href)
      assert.equal(shown, hash, 'the other client shows the same bytes')
    }
    console.log(`gallery, ${LARGE} MiB, memory above idle — save + upload on A: peak ${memoryFigures(upload.peak)}; held after a GC ${memoryFigures(upload.held)}`)
    console.log(`gallery, ${LARGE} MiB, memory above idle — download on B: peak ${memoryFigures(download.peak)}; held after a GC ${memoryFigures(download.held)}`)
    // Held memory is bounded by chunks and parts, not by the file. The processes' figure moves by
    // tens of MiB with garbage and allocator caches: bounded where the file dwarfs that (1 GiB).
    for (const [what, { peak, held }] of [['save + upload', upload], ['download', download]]) {
      assert.ok(held.wasm < 16 * MiB, `${what}: wasm memory grew ${mib(held.wasm)}`)
      assert.ok(held.jsHeap < 16 * MiB, `${what}: the JS heap holds ${mib(held.jsHeap)} more`)
      if (LARGE >= 512) assert.ok(peak.processes < (LARGE * MiB) / 4, `${what}: Chromium's processes grew ${mib(peak.processes)}`)
    }
    assert.deepEqual([...a.errors, ...b.errors], [])
  } finally {
    for (const context of browsers) await context.close().catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
})
