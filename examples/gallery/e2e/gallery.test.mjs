// End-to-end tests of the example app, the way a user meets the product: the built gallery
// (React, and the Vue page) in headless Chromium, two browser contexts as two clients (each its own
// OPFS and LiveStore storage, like two origins), linked by LiveStore's real sync backend (`wrangler
// dev` with @livestore/sync-cf), `filesync serve` as the file server. One stack for the whole file
// (stack.mjs), a fresh store id per scenario. Run by e2e/run.sh (the README test command).
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { launchChromium } from '../../../js-bindings/test/support/chromium.mjs'
import { startStack } from '../stack.mjs'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
/** Where the tests save screenshots of the app (kept out of git; docs/ holds one). */
const SHOTS = join(ROOT, 'target', 'gallery-e2e-screenshots')
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

let stack, browser, state
before(async () => {
  state = await mkdtemp(join(tmpdir(), 'filesync-gallery-e2e-'))
  stack = await startStack({
    state,
    bin: process.env.FILESYNC_BIN ?? join(ROOT, 'target', 'debug', 'filesync'),
    onExit: (name, why, output) => console.error(`${name} stopped (${why}):\n${output}`),
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
const stateOf = (page, name) => card(page, name).getAttribute('data-state')
async function until(what, check, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
const add = (page, name, buffer, mimeType = 'application/octet-stream') =>
  page.getByTestId('file-input').setInputFiles({ name, mimeType, buffer })

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
  assert.deepEqual(a.errors, [])
})

test('the other client sees the file, downloads and verifies it, and displays it', async () => {
  const { pages } = await clients()
  const [a, b] = pages
  const bytes = randomBytes(300_000)
  await add(a, 'shared.bin', bytes)
  await card(b, 'shared.bin').waitFor({ timeout: 60_000 })
  await until('the download on B', async () => (await stateOf(b, 'shared.bin')) === 'synced')
  await mkdir(SHOTS, { recursive: true })
  await b.screenshot({ path: join(SHOTS, 'synced.png') })
  // What B offers to open is the file's bytes.
  const href = await card(b, 'shared.bin').locator('a').getAttribute('href')
  const shown = await b.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href)
  assert.equal(sha256(Buffer.from(shown)), sha256(bytes))
  assert.deepEqual([...a.errors, ...b.errors], [])
})

test('a replaced file shows its new content on the other client; a delete removes it everywhere', async () => {
  const { pages } = await clients()
  const [a, b] = pages
  await add(a, 'doc.txt', Buffer.from('first version\n'), 'text/plain')
  await until('B to have the first version', async () => (await stateOf(b, 'doc.txt')) === 'synced')
  const second = Buffer.from('second version, longer\n')
  await card(a, 'doc.txt').getByLabel('Replace doc.txt').setInputFiles({ name: 'doc.txt', mimeType: 'text/plain', buffer: second })
  await until('B to show the second version', async () => {
    const facts = await card(b, 'doc.txt').locator('.facts').textContent()
    return facts.includes(`${second.length} B`) && (await stateOf(b, 'doc.txt')) === 'synced'
  })
  await card(b, 'doc.txt').getByRole('button', { name: 'Delete' }).click()
  await until('the card to go on both clients', async () => (await card(a, 'doc.txt').count()) === 0 && (await card(b, 'doc.txt').count()) === 0)
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
  await until('the React page to show the image', async () => (await stateOf(react, 'square.png')) === 'synced', 60_000)
  await card(react, 'square.png').locator('img').waitFor()
  assert.match(await card(react, 'square.png').locator('.facts').textContent(), /40×30/, 'the size recorded by the preprocessor')
  assert.deepEqual(errors, [])
})

test('identical content saved twice, one deleted: the other still displays on every client', async () => {
  const { pages } = await clients()
  const [a, b] = pages
  const bytes = randomBytes(120_000)
  await add(a, 'first.bin', bytes)
  await add(b, 'second.bin', bytes)
  for (const page of [a, b]) {
    for (const name of ['first.bin', 'second.bin']) {
      await until(`${name} synced on ${page === a ? 'A' : 'B'}`, async () => (await stateOf(page, name)) === 'synced')
    }
  }
  await card(a, 'first.bin').getByRole('button', { name: 'Delete' }).click()
  await until('first.bin to go on both clients', async () => (await card(a, 'first.bin').count()) === 0 && (await card(b, 'first.bin').count()) === 0)
  // The same bytes stay for the other item, on both clients, and can be opened.
  for (const page of [a, b]) {
    assert.equal(await stateOf(page, 'second.bin'), 'synced')
    const href = await card(page, 'second.bin').locator('a').getAttribute('href')
    const shown = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), href)
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
