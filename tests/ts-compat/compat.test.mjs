// Protocol compatibility test: the signer-backed remote client shipped in
// @livestore-filesync/core 0.8.0 talks to OUR server (DESIGN.md §6).
//
// Every transfer below goes through the package's own RemoteStorage service
// (`makeRemoteStorageLive` -> `RemoteStorage` tag), run with Effect.runPromise.
// No LiveStore store is needed: the RemoteStorage layer has no dependencies.
// The remote key is derived with the package's own helpers, exactly the way its
// FileSync service derives it: stripFilesRoot(makeStoredPath(storeId, sha256hex)).
//
// Run: FILESYNC_URL=http://127.0.0.1:PORT/api FILESYNC_TOKEN=... node --test compat.test.mjs
// or:  ./run.sh   (builds and starts our server, then runs this file)

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { Effect } from 'effect'
import {
  HashServiceLive,
  MemoryFile,
  RemoteStorage,
  hashUint8Array,
  makeRemoteStorageLive,
  makeStoredPath,
  sanitizeStoreId,
  stripFilesRoot,
} from '@livestore-filesync/core'

const BASE_URL = process.env.FILESYNC_URL
const TOKEN = process.env.FILESYNC_TOKEN

const HOW_TO_RUN = `
This test needs a running filesync server.
  FILESYNC_URL   absolute signer base URL, e.g. http://127.0.0.1:8787/api
  FILESYNC_TOKEN bearer token the server accepts (the development token printed by 'filesync serve')
Easiest: tests/ts-compat/run.sh (builds our server, starts it on 127.0.0.1:0 and runs this test).
Manual: FILESYNC_URL=... FILESYNC_TOKEN=... node --test tests/ts-compat/compat.test.mjs`

if (!BASE_URL || !TOKEN) {
  // Fail loudly instead of skipping: a skipped compat test looks green in CI.
  test('ts-compat: configuration', () => {
    assert.fail(`FILESYNC_URL and/or FILESYNC_TOKEN is not set.${HOW_TO_RUN}`)
  })
} else {
  defineCompatTests(BASE_URL, TOKEN)
}

// ---------------------------------------------------------------------------

/** Run `f(remoteStorage)` against the package's signer client built from `config`. */
function withRemote(config, f) {
  const program = Effect.gen(function* () {
    const remote = yield* RemoteStorage
    return yield* f(remote)
  })
  return Effect.runPromise(program.pipe(Effect.provide(makeRemoteStorageLive(config))))
}

/** Like withRemote but resolves to the typed failure (or null on success). */
async function failureOf(config, f) {
  const either = await withRemote(config, (r) => Effect.either(f(r)))
  return either._tag === 'Left' ? either.left : null
}

/** sha256 hex through the package's own Hash service. */
function packageSha256(bytes) {
  const copy = new Uint8Array(bytes) // hashUint8Array hashes the whole underlying buffer
  return Effect.runPromise(hashUint8Array(copy).pipe(Effect.provide(HashServiceLive)))
}

/** The remote key exactly as the package's FileSync computes it for an upload. */
function remoteKeyFor(storeId, hash) {
  return stripFilesRoot(makeStoredPath(sanitizeStoreId(storeId), hash))
}

// Package 0.8.0 quirk: RemoteStorage.download() WITHOUT an onProgress callback always
// fails with "Failed to read response body" when the response has a body: it takes a
// stream reader (locking the body) before deciding to fall back to arrayBuffer().
// Its FileSync service always passes onProgress, so that is the path that matters;
// every download in this test therefore passes one.
function download(remote, key, events = []) {
  return remote.download(key, { onProgress: (p) => events.push(p) })
}

async function bytesOf(file) {
  return new Uint8Array(await file.arrayBuffer())
}

function errorText(err) {
  return `${err?._tag}: ${err?.message} / cause: ${err?.cause?.message ?? err?.cause ?? '-'}`
}

// Minimal XMLHttpRequest stand-in for Node (which has none), built on fetch.
// The package's upload switches to XHR whenever an onProgress callback is given,
// and its FileSync service ALWAYS passes one, so this is the path real app uploads take.
// The shim implements only what that code path touches: open, setRequestHeader,
// send(ArrayBuffer), upload.onprogress, onload/onerror/ontimeout, status,
// getResponseHeader. It reports one progress event once the body is sent.
class FetchBackedXhr {
  constructor() {
    this.upload = { onprogress: null }
    this.onload = null
    this.onerror = null
    this.ontimeout = null
    this.status = 0
    this._headers = {}
    this._response = null
  }
  open(method, url) {
    this._method = method
    this._url = url
  }
  setRequestHeader(name, value) {
    this._headers[name] = value
  }
  getResponseHeader(name) {
    return this._response ? this._response.headers.get(name) : null
  }
  send(body) {
    fetch(this._url, { method: this._method, headers: this._headers, body }).then(
      async (response) => {
        await response.arrayBuffer()
        const size = body?.byteLength ?? 0
        this.upload.onprogress?.({ lengthComputable: true, loaded: size, total: size })
        this._response = response
        this.status = response.status
        this.onload?.()
      },
      () => this.onerror?.(),
    )
  }
}

function defineCompatTests(baseUrl, token) {
  const config = { signerBaseUrl: baseUrl, authToken: token }
  // A storeId with characters the package sanitizes (' ', '#', '/').
  const storeId = `ts compat/${crypto.randomUUID()}#1`
  const payload = new TextEncoder().encode(
    `livestore-filesync ts-compat ${new Date().toISOString()} ${crypto.randomUUID()}\n`,
  )
  const binary = crypto.randomBytes(200 * 1024 + 17) // not a multiple of any chunk size
  let key
  let binaryKey

  before(async () => {
    assert.ok(
      /^https?:\/\//.test(baseUrl),
      `FILESYNC_URL must be absolute (Node's fetch has no page origin to resolve against): ${baseUrl}`,
    )
    key = remoteKeyFor(storeId, await packageSha256(payload))
    binaryKey = remoteKeyFor(storeId, await packageSha256(binary))
  })

  after(async () => {
    // Best effort cleanup of the second blob.
    await withRemote(config, (r) => Effect.either(r.delete(binaryKey))).catch(() => {})
  })

  test('key derivation matches DESIGN.md §4 ({sanitized storeId}/{sha256hex})', () => {
    const hex = crypto.createHash('sha256').update(payload).digest('hex')
    assert.equal(key, `${storeId.replace(/[^A-Za-z0-9._-]/g, '_')}/${hex}`)
  })

  test('health: checkHealth() is true', { timeout: 30_000 }, async () => {
    const healthy = await withRemote(config, (r) => r.checkHealth())
    assert.equal(healthy, true, `GET ${baseUrl}/health with the bearer token did not return 2xx`)
  })

  test('upload rejects a wrong token (401 on sign)', { timeout: 30_000 }, async () => {
    const file = new MemoryFile(payload, 'x', '')
    const err = await failureOf({ ...config, authToken: `${token}-wrong` }, (r) => r.upload(file, { key }))
    assert.ok(err, 'upload with a wrong token succeeded')
    assert.equal(err._tag, 'UploadError', errorText(err))
    assert.match(String(err.cause?.message), /401/, errorText(err))
  })

  test('upload (fetch path, no progress callback)', { timeout: 30_000 }, async () => {
    const file = new File([payload], 'note.txt', { type: 'text/plain' })
    const result = await withRemote(config, (r) => r.upload(file, { key }))
    assert.equal(result.key, key)
  })

  test('download returns the same bytes and the stored content type', { timeout: 30_000 }, async () => {
    const file = await withRemote(config, (r) => download(r, key))
    assert.deepEqual(await bytesOf(file), payload)
    assert.equal(file.name, key.split('/').pop())
    // The sign-upload request carried contentType "text/plain"; DESIGN §6 says the server stores it.
    assert.equal(file.type.split(';')[0].trim(), 'text/plain', 'content type was not preserved')
  })

  test('download reports progress up to the full size', { timeout: 30_000 }, async () => {
    const events = []
    const file = await withRemote(config, (r) => download(r, key, events))
    assert.deepEqual(await bytesOf(file), payload)
    assert.ok(events.length > 0, 'no progress events')
    assert.equal(events.at(-1).loaded, payload.length)
  })

  test('getDownloadUrl gives an absolute URL usable without any headers (<img src>)', { timeout: 30_000 }, async () => {
    const url = await withRemote(config, (r) => r.getDownloadUrl(key))
    assert.doesNotThrow(() => new URL(url), `signed download URL is not absolute: ${url}`)
    // resolveFileUrl() hands this URL to the app as-is (e.g. <img src>), so it must work bare.
    const response = await fetch(url)
    assert.equal(response.status, 200)
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), payload)
  })

  test('upload with progress (XHR path, as FileSync uploads) + download', { timeout: 60_000 }, async () => {
    const hadXhr = 'XMLHttpRequest' in globalThis
    const previous = globalThis.XMLHttpRequest
    globalThis.XMLHttpRequest = FetchBackedXhr
    try {
      const events = []
      const file = new MemoryFile(new Uint8Array(binary), 'blob', '') // no type: contentType omitted
      const result = await withRemote(config, (r) =>
        r.upload(file, { key: binaryKey, onProgress: (p) => events.push(p) }),
      )
      assert.equal(result.key, binaryKey)
      assert.ok(events.length > 0, 'no upload progress events')
    } finally {
      if (hadXhr) globalThis.XMLHttpRequest = previous
      else delete globalThis.XMLHttpRequest
    }
    const back = await withRemote(config, (r) => download(r, binaryKey))
    assert.deepEqual(await bytesOf(back), new Uint8Array(binary))
  })

  test('server refuses bytes that do not hash to the key', { timeout: 30_000 }, async () => {
    const wrongKey = remoteKeyFor(storeId, crypto.createHash('sha256').update('other bytes').digest('hex'))
    const err = await failureOf(config, (r) => r.upload(new MemoryFile(payload, 'x', ''), { key: wrongKey }))
    assert.ok(err, 'an upload whose bytes do not match the key hash was accepted')
    assert.equal(err._tag, 'UploadError', errorText(err))
    const stillMissing = await failureOf(config, (r) => download(r, wrongKey))
    assert.ok(stillMissing, 'the poisoned blob is downloadable')
  })

  test('delete, then the download fails with 404', { timeout: 30_000 }, async () => {
    await withRemote(config, (r) => r.delete(key))
    const err = await failureOf(config, (r) => download(r, key))
    assert.ok(err, 'download still succeeds after delete')
    assert.equal(err._tag, 'DownloadError', errorText(err))
    // Our engine re-uploads on a 404 (DESIGN §5 self-healing), so the status matters.
    assert.match(`${err.message} ${err.cause?.message ?? ''}`, /404/, errorText(err))
  })

  test('deleting a missing key still succeeds (2xx)', { timeout: 30_000 }, async () => {
    await withRemote(config, (r) => r.delete(key))
  })
}
