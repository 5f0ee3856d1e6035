// The browser test app: a real LiveStore store (web adapter, OPFS, shared worker) and the built
// package, driven by the tests through `window.app`. The URL says which store, signer and token.
import { createFileSync, type FileSyncEvent } from 'filesync-livestore'

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
}
;(window as any).app = app
document.getElementById('status')!.textContent = 'ready'
