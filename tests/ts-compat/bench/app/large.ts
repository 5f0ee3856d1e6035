// What both large-file pages share: a source file written into OPFS without holding it in memory,
// and the timed upload (from the save to the row's remoteKey), exposed as `window.large`.

/** Writes `mib` MiB of deterministic bytes (xorshift, seeded) to OPFS `/large-sources/{name}`. */
async function writeSource(name: string, mib: number, seed: number) {
  const root = await navigator.storage.getDirectory()
  const dir = await root.getDirectoryHandle('large-sources', { create: true })
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
}

/** Removes the OPFS file at `path` (relative to the OPFS root), as an eviction would. */
async function removeLocal(path: string) {
  let dir = await navigator.storage.getDirectory()
  const parts = path.split('/').filter(Boolean)
  for (const part of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(part)
  await dir.removeEntry(parts[parts.length - 1]!)
}

/** What a large-file page gives the benchmark about its package. */
export interface LargeSide {
  /** Saves a file. */
  save(file: File): Promise<{ fileId: string }>
  /** The file's row. */
  row(fileId: string): { path: string; contentHash: string; remoteKey: string } | undefined
  /** The file's local state row. */
  localState(fileId: string): { localHash: string; downloadStatus: string } | undefined
  /** Makes the package download the file again, its local copy being gone. */
  redownload(fileId: string): Promise<unknown> | void
}

const tick = () => new Promise((r) => setTimeout(r, 20))

/**
 * Exposes `window.large = { writeSource, upload, download }` and marks the page ready.
 * `upload(name)` saves the OPFS source file (a disk-backed File) and answers `{ ms, fileId }`, the ms
 * until the row's remoteKey is set (the upload is on the server); `download(fileId)` removes the
 * local copy, has the package download it again and answers the ms until its local state says the
 * bytes are verified. Both poll every 20 ms.
 */
export function readyLarge(side: LargeSide) {
  ;(window as any).large = {
    writeSource,
    upload: async (name: string) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('large-sources')
      const file = await (await dir.getFileHandle(name)).getFile()
      const t0 = performance.now()
      const saved = await side.save(file)
      while (!side.row(saved.fileId)?.remoteKey) await tick()
      return { ms: performance.now() - t0, fileId: saved.fileId }
    },
    download: async (fileId: string) => {
      const row = side.row(fileId)!
      await removeLocal(row.path)
      const t0 = performance.now()
      await side.redownload(fileId)
      const done = () => {
        const s = side.localState(fileId)
        return s?.downloadStatus === 'done' && s.localHash === row.contentHash
      }
      // The state may still say done from before: give it a moment to leave that first.
      for (let i = 0; i < 50 && done(); i++) await tick()
      while (!done()) await tick()
      return performance.now() - t0
    },
  }
  document.getElementById('status')!.textContent = 'ready'
}
