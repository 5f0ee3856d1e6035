// Mixed clients on one store: a @livestore-filesync/core 0.8.0 client (its own createFileSync
// over NodeFileSystem, rooted per client; uploads through a fetch-based XMLHttpRequest) and a
// client of our package (createFileSync with nodeFileSystem), each on its own LiveStore
// 0.4.0-dev.23 store, the two stores linked by an in-process broadcasting sync backend, and our
// server (`filesync serve`) as the remote of both. A file saved by either is downloaded by the
// other, which verifies it (its localFileState row holds the content hash) and holds the same bytes.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { createFileSync } from 'filesync-livestore'
import { nodeFileSystem } from 'filesync-livestore/node'

import { remoteBytes, serverFromEnv } from './support/server.mjs'
import { openStore, until } from './support/stores.mjs'
import { makeSyncHub } from './support/sync-hub.mjs'
import { quietV08Console, startV08Client } from './support/v08.mjs'
import { FetchXhr, installXhr } from './support/xhr.mjs'

const server = serverFromEnv()
const STORE = 'mixed'
const sha256 = (data) => createHash('sha256').update(data).digest('hex')

let work
let hub, ours, v08, ourSync, v08Client, restoreXhr, restoreConsole
let savedByV08
const ourRoot = () => join(work, 'ours-files')
const v08Root = () => join(work, 'v08-cwd')

const row = (client, id) => client.store.query(client.tables.files.where({ id }).first())
const localState = (client, id) => client.store.query(client.tables.localFileState.where({ fileId: id }).first())
const verified = (client, id, hash) => {
  const s = localState(client, id)
  return s?.localHash === hash && s?.downloadStatus === 'done'
}

if (server) {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'filesync-compat-mixed-'))
    restoreXhr = installXhr()
    restoreConsole = quietV08Console()
    hub = makeSyncHub()
    ours = await openStore({ kind: 'ours', storeId: STORE, clientId: 'ours', hub })
    v08 = await openStore({ kind: 'v08', storeId: STORE, clientId: 'v08', hub })
    ourSync = createFileSync({
      store: ours.store,
      fileSystem: nodeFileSystem(ourRoot()),
      remote: { signerBaseUrl: server.url, authToken: server.token },
      options: { deleteGracePeriodMs: 0, retryBaseDelayMs: 100, retryJitterMs: 0 },
    })
    await ourSync.start()
    v08Client = startV08Client(v08, { root: v08Root(), remote: { signerBaseUrl: server.url, authToken: server.token } })
  })

  after(async () => {
    await ourSync?.dispose()
    await v08Client?.fileSync.dispose()
    await ours?.store.shutdownPromise()
    await v08?.store.shutdownPromise()
    restoreXhr?.()
    restoreConsole?.()
    await rm(work, { recursive: true, force: true })
  })

  test('saved by the 0.8.0 client: uploaded through its XHR, downloaded and verified by ours', async () => {
    const content = randomBytes(150 * 1024 + 3)
    const saved = await v08Client.fileSync.saveFile(new File([content], 'photo.png', { type: 'image/png' }))
    assert.equal(saved.contentHash, sha256(content))
    assert.equal(saved.path, `livestore-filesync-files/${STORE}/${saved.contentHash}`)
    await until('0.8.0 recorded its upload', () => row(v08, saved.fileId)?.remoteKey === `${STORE}/${saved.contentHash}`)
    assert.deepEqual(await remoteBytes(server, `${STORE}/${saved.contentHash}`), new Uint8Array(content))
    await until('ours downloaded and verified it', () => verified(ours, saved.fileId, saved.contentHash))
    const file = await ourSync.readFile(saved.path)
    assert.deepEqual(new Uint8Array(await file.arrayBuffer()), new Uint8Array(content))
    // On disk, at the same relative path in our root as in 0.8.0's working directory.
    assert.deepEqual(await readFile(join(ourRoot(), saved.path)), content)
    assert.deepEqual(await readFile(join(v08Root(), saved.path)), content)
    const url = await ourSync.resolveFileUrl(saved.fileId)
    assert.deepEqual(await readFile(fileURLToPath(url)), content)
    savedByV08 = { ...saved, type: 'image/png' }
  })

  test('the MIME type of a file 0.8.0 saved reaches our readFile', async () => {
    // 0.8.0 keeps a file's type in its local `{hash}.meta.json` sidecar and sends it to the signer
    // (the server stores it), but writes no metadataJson unless a preprocessor gives metadata. Our
    // engine stores the download's Content-Type in its own sidecar (resolveFileUrl's object URLs
    // carry it), but FileSync.readFile and getFileUrl (ts/filesync.ts #mimeOfPath) read only
    // metadataJson.mimeType, so they answer type "" for every file 0.8.0 saved. 0.8.0's readFile
    // answers the type.
    assert.ok(savedByV08, 'the first test saved a file with 0.8.0')
    assert.equal((await v08Client.fileSync.readFile(savedByV08.path)).type, savedByV08.type)
    assert.equal((await ourSync.readFile(savedByV08.path)).type, savedByV08.type)
  })

  test('saved by ours: uploaded, downloaded and verified by the 0.8.0 client', async () => {
    const content = randomBytes(90 * 1024 + 7)
    const saved = await ourSync.saveFile(new File([content], 'doc.pdf', { type: 'application/pdf' }))
    await until('ours recorded its upload', () => row(ours, saved.fileId)?.remoteKey === `${STORE}/${saved.contentHash}`)
    await until('0.8.0 downloaded it and hashed what it got', () => verified(v08, saved.fileId, saved.contentHash))
    assert.deepEqual(await readFile(join(v08Root(), saved.path)), content)
    const file = await v08Client.fileSync.readFile(saved.path)
    assert.deepEqual(new Uint8Array(await file.arrayBuffer()), new Uint8Array(content))
    // 0.8.0's `file://` URL (localPathRoot + path) names the bytes.
    const url = await v08Client.fileSync.resolveFileUrl(saved.fileId)
    assert.deepEqual(await readFile(fileURLToPath(url)), content)
  })

  test('an update by 0.8.0 of a file ours saved reaches ours; a delete by ours reaches 0.8.0', async () => {
    const first = randomBytes(20 * 1024)
    const saved = await ourSync.saveFile(first)
    await until('0.8.0 has the first content', () => verified(v08, saved.fileId, saved.contentHash))
    const second = randomBytes(30 * 1024)
    const updated = await v08Client.fileSync.updateFile(saved.fileId, new File([second], 'x.bin'))
    assert.equal(updated.contentHash, sha256(second))
    await until('ours has the new content verified', () => verified(ours, saved.fileId, updated.contentHash))
    assert.deepEqual(await readFile(join(ourRoot(), updated.path)), second)
    await until('both rows name the uploaded new content', () =>
      [ours, v08].every((c) => row(c, saved.fileId)?.remoteKey === `${STORE}/${updated.contentHash}`),
    )

    await ourSync.deleteFile(saved.fileId)
    await until('0.8.0 sees the delete', () => row(v08, saved.fileId)?.deletedAt instanceof Date)
    await until('0.8.0 removed its copy', async () => !(await stat(join(v08Root(), updated.path)).catch(() => null)))
    await until('ours removed its copy', async () => !(await stat(join(ourRoot(), updated.path)).catch(() => null)))
    // The stand-in XMLHttpRequest carried the uploads of both clients (ours uses XHR whenever the
    // scope has one): 0.8.0's of the update, ours of the first content.
    for (const hash of [saved.contentHash, updated.contentHash]) {
      assert.ok(
        FetchXhr.opened.some((r) => r.startsWith('PUT ') && r.includes(`/${STORE}/${hash}?`)),
        `an upload of ${hash} through XMLHttpRequest: ${FetchXhr.opened.join(', ')}`,
      )
    }
  })
}
