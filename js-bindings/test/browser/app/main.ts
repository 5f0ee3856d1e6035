// The browser test app: a real LiveStore store (web adapter, OPFS, shared worker) and the built
// package, driven by the tests through `window.app`. The URL says which store, signer and token.
import { createFileSync, engineMemoryBytes, hashFile, type FileSyncEvent } from 'filesync-livestore'

import { events, tables } from './schema.ts'
import { openAppStore, params, png, signer, storeId, token } from './store.ts'

const store = await openAppStore()

const seen: FileSyncEvent[] = []
const fileSync = createFileSync({
  store,
  remote: signer ? { signerBaseUrl: signer, authToken: token } : false,
  options: { retryBaseDelayMs: 100, retryJitterMs: 0, onEvent: (e) => seen.push(e) },
})
if (params.get('start') !== '0') await fileSync.start()

const app = {
  storeId,
  isLeader: () => fileSync.isLeader(),
  async save(text: string, type = 'text/plain') {
    const saved = await fileSync.saveFile(new File([text], 'note.txt', { type }))
    store.commit(events.photoAdded({ id: crypto.randomUUID(), fileId: saved.fileId }))
    return saved
  },
  async update(fileId: string, text: string) {
    return fileSync.updateFile(fileId, new File([text], 'note.txt', { type: 'text/plain' }))
  },
  /** Replaces a file's content with a PNG of `width` x `height`. */
  async updateImage(fileId: string, width: number, height: number) {
    return fileSync.updateFile(fileId, await png(width, height))
  },
  remove: (fileId: string) => fileSync.deleteFile(fileId),
  async textAt(fileId: string) {
    const url = await fileSync.resolveFileUrl(fileId)
    if (url === null) return null
    return { url, text: await (await fetch(url)).text() }
  },
  row: (fileId: string) => {
    const r = store.query(tables.files.where({ id: fileId }).first())
    return r ? { contentHash: r.contentHash, remoteKey: r.remoteKey, deleted: r.deletedAt !== null } : null
  },
  state: (fileId: string) => store.query(tables.localFileState.where({ fileId }).first()) ?? null,
  gallery: () => store.query(tables.gallery).map((g) => g.fileId),
  events: () => seen.map((e) => e.type),
  stop: () => fileSync.stop(),
  /** Saves `count` files of `size` bytes (MIME type set), `inFlight` at a time; answers ms. */
  async benchSave(count: number, size: number, inFlight: number) {
    const files = Array.from({ length: count }, (_, i) => {
      const bytes = new Uint8Array(size)
      crypto.getRandomValues(bytes.subarray(0, Math.min(size, 65536)))
      new DataView(bytes.buffer).setUint32(size - 4, i)
      return new File([bytes], `f${i}.bin`, { type: 'application/octet-stream' })
    })
    // Time spent inside store.commit (the catalog glue's commits), to tell it from the rest.
    const commit = store.commit.bind(store)
    let inCommit = 0
    ;(store as any).commit = (...args: any[]) => {
      const c0 = performance.now()
      try {
        return (commit as any)(...args)
      } finally {
        inCommit += performance.now() - c0
      }
    }
    const t0 = performance.now()
    let next = 0
    try {
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < files.length) await fileSync.saveFile(files[next++]!)
        }),
      )
    } finally {
      ;(store as any).commit = commit
    }
    ;(window as any).lastCommitMs = inCommit
    return performance.now() - t0
  },
  /** `count` commits of the three events a save commits, nothing else; answers ms. */
  benchCommits(count: number) {
    const t0 = performance.now()
    for (let i = 0; i < count; i++) {
      const id = crypto.randomUUID()
      const hash = id.replace(/-/g, '').padEnd(64, '0')
      const path = `livestore-filesync-files/${storeId}/${hash}`
      const now = new Date()
      store.commit(
        events.fileCreated({ id, path, contentHash: hash, metadataJson: '{"mimeType":"application/octet-stream","sizeBytes":102400}', createdAt: now, updatedAt: now }),
        events.localFileStateUpsert({ fileId: id, path, localHash: hash, downloadStatus: 'done', uploadStatus: 'pending', lastSyncError: '' }),
        events.fileTransferStateUpsert({ fileId: id, contentHash: hash, localSize: 102400, uploadResume: null }),
      )
    }
    return performance.now() - t0
  },
  /** The same bytes written with direct OPFS calls (createWritable per file), for reference. */
  async benchRawWrites(count: number, size: number, inFlight: number, dirName: string) {
    const root = await navigator.storage.getDirectory()
    const dir = await root.getDirectoryHandle(dirName, { create: true })
    const data = new Uint8Array(size)
    const t0 = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) {
          const handle = await dir.getFileHandle(`f${next++}`, { create: true })
          const writable = await handle.createWritable()
          await writable.write(data)
          await writable.close()
        }
      }),
    )
    return performance.now() - t0
  },
  storage: () => fileSync.getStorageUsage(),
  liveKeys: () => fileSync.listLiveRemoteKeys(),
  /**
   * Writes `mib` MiB of deterministic bytes (seeded by `seed`) into OPFS at `/test-sources/{name}`
   * with direct OPFS calls, 1 MiB at a time, so a large source file never sits in memory.
   */
  async writeSource(name: string, mib: number, seed: number) {
    const root = await navigator.storage.getDirectory()
    const dir = await root.getDirectoryHandle('test-sources', { create: true })
    const writable = await (await dir.getFileHandle(name, { create: true })).createWritable()
    const chunk = new Uint8Array(1 << 20)
    const words = new Uint32Array(chunk.buffer)
    let x = seed >>> 0 || 1
    for (let i = 0; i < mib; i++) {
      for (let w = 0; w < words.length; w++) {
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        words[w] = x >>> 0
      }
      await writable.write(chunk)
    }
    await writable.close()
  },
  /** Saves the OPFS source file `name` (a disk-backed File) through the package. */
  async saveSource(name: string) {
    const root = await navigator.storage.getDirectory()
    const dir = await root.getDirectoryHandle('test-sources')
    const file = await (await dir.getFileHandle(name)).getFile()
    const saved = await fileSync.saveFile(file)
    store.commit(events.photoAdded({ id: crypto.randomUUID(), fileId: saved.fileId }))
    return saved
  },
  /** The SHA-256 of the OPFS source file `name` (the package's hashFile). */
  async sourceHash(name: string) {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('test-sources')
    return hashFile(await (await dir.getFileHandle(name)).getFile())
  },
  /**
   * Benchmark: saves the OPFS source file `name` with the engine started and answers the save and
   * the ms from its upload's `upload:start` to its `upload:complete`.
   */
  async timeUpload(name: string) {
    const marks: { type: string; fileId?: string; t: number }[] = []
    const off = fileSync.onEvent((e) => marks.push({ type: e.type, fileId: (e as any).fileId, t: performance.now() }))
    try {
      await fileSync.start()
      const saved = await app.saveSource(name)
      const at = (type: string) => marks.find((m) => m.type === type && m.fileId === saved.fileId)?.t
      while (at('upload:complete') === undefined) await new Promise((r) => setTimeout(r, 20))
      return { saved, ms: at('upload:complete')! - at('upload:start')! }
    } finally {
      off()
    }
  },
  /** Removes the local copy of a file behind the engine's back (as when the browser evicts it). */
  async dropLocalCopy(fileId: string) {
    const row = store.query(tables.files.where({ id: fileId }).first())
    if (!row) throw new Error(`no row ${fileId}`)
    let dir = await navigator.storage.getDirectory()
    const parts = row.path.split('/')
    for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part)
    await dir.removeEntry(parts[parts.length - 1]!)
  },
  /** Sizes of the store's partial downloads in OPFS (`.part-*` files). */
  async partialSizes() {
    let dir = await navigator.storage.getDirectory()
    try {
      for (const part of ['livestore-filesync-files', storeId]) dir = await dir.getDirectoryHandle(part)
    } catch {
      return []
    }
    const sizes: number[] = []
    for await (const [name, handle] of (dir as any).entries()) {
      if (name.startsWith('.part-') && handle.kind === 'file') sizes.push((await handle.getFile()).size)
    }
    return sizes
  },
  /**
   * Flips the first byte of the store's partial download (behind the engine's back, as a disk
   * fault would), retrying while the worker still holds the file; answers the file's size.
   */
  async corruptPartial() {
    let dir = await navigator.storage.getDirectory()
    for (const part of ['livestore-filesync-files', storeId]) dir = await dir.getDirectoryHandle(part)
    for (let attempt = 0; ; attempt++) {
      for await (const [name, handle] of (dir as any).entries()) {
        if (!name.startsWith('.part-') || handle.kind !== 'file') continue
        try {
          const file = await handle.getFile()
          const first = new Uint8Array(await file.slice(0, 1).arrayBuffer())
          const writable = await handle.createWritable({ keepExistingData: true })
          await writable.write({ type: 'write', position: 0, data: new Uint8Array([first[0]! ^ 0xff]) })
          await writable.close()
          return file.size
        } catch (error) {
          if (attempt >= 50) throw error
        }
      }
      if (attempt >= 50) throw new Error('no partial download to corrupt')
      await new Promise((r) => setTimeout(r, 100))
    }
  },
  /** The SHA-256 of what resolveFileUrl shows for `fileId` (read whole: call it after measuring). */
  async shownHash(fileId: string) {
    const url = await fileSync.resolveFileUrl(fileId)
    if (url === null) return null
    const bytes = await (await fetch(url)).arrayBuffer()
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
    return { url, hash: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') }
  },
  triggerSync: () => fileSync.triggerSync(),
  /** A second instance with a remote the engine refuses: answers the error's code. */
  async createRefused() {
    const refused = createFileSync({ store, remote: { signerBaseUrl: 'http://127.0.0.1:1/api', headers: { 'Content-Type': 'x' } } })
    return refused.ready().then(() => 'created', (error: any) => String(error.code))
  },
  startSync: () => fileSync.start(),
  /** Runs `action` ("start" or "triggerSync") and answers the ms until `type` fires for `fileId`. */
  timeUntil(type: string, fileId: string, action: 'start' | 'triggerSync') {
    return new Promise<number>((resolve, reject) => {
      const t0 = performance.now()
      const off = fileSync.onEvent((e) => {
        if (e.type === type && (e as any).fileId === fileId) {
          off()
          resolve(performance.now() - t0)
        }
      })
      ;(action === 'start' ? fileSync.start() : fileSync.triggerSync()).catch((error) => {
        off()
        reject(error)
      })
    })
  },
  /** Benchmark baseline: the OPFS source file `name` sent by one fetch PUT to a signed URL; ms. */
  async rawUpload(name: string, url: string, headers: Record<string, string>) {
    const root = await navigator.storage.getDirectory()
    const file = await (await (await root.getDirectoryHandle('test-sources')).getFileHandle(name)).getFile()
    const t0 = performance.now()
    const answer = await fetch(url, { method: 'PUT', headers, body: file })
    if (!answer.ok) throw new Error(`raw upload: ${answer.status} ${await answer.text()}`)
    return performance.now() - t0
  },
  /**
   * Benchmark baseline: a hand-written dedicated worker that fetches `url` and writes the body into
   * OPFS (`/raw-downloads/{name}`) through a sync access handle, no hashing; ms from the request to
   * the flushed file, timed in the worker.
   */
  async rawDownload(name: string, url: string) {
    const source = `onmessage = async (e) => {
      const { name, url } = e.data
      const root = await navigator.storage.getDirectory()
      const dir = await root.getDirectoryHandle('raw-downloads', { create: true })
      const handle = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle()
      const t0 = performance.now()
      handle.truncate(0)
      const reader = (await fetch(url)).body.getReader()
      let at = 0
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        handle.write(value, { at })
        at += value.length
      }
      handle.flush()
      handle.close()
      postMessage({ ms: performance.now() - t0, bytes: at })
    }`
    const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })))
    try {
      return await new Promise<{ ms: number; bytes: number }>((resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data)
        worker.onerror = (e) => reject(new Error(e.message))
        worker.postMessage({ name, url })
      })
    } finally {
      worker.terminate()
    }
  },
  /** The page's memory: JS heap in use and the engine's WebAssembly memory, bytes. */
  memory: () => ({ jsHeap: (performance as any).memory?.usedJSHeapSize ?? 0, wasm: engineMemoryBytes() }),
}
;(window as any).app = app
/** The instance itself, for diagnostics scripts. */
;(window as any).fileSync = fileSync
document.getElementById('status')!.textContent = 'ready'
