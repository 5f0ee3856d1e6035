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

/**
 * Exposes `window.large = { writeSource, upload }` and marks the page ready. `upload(name)` saves
 * the OPFS source file (a disk-backed File) through `save` and answers the ms until `remoteKeyOf`
 * the saved file id is set (the upload is on the server), polled every 20 ms.
 */
export function readyLarge(save: (f: File) => Promise<{ fileId: string }>, remoteKeyOf: (fileId: string) => string | undefined) {
  ;(window as any).large = {
    writeSource,
    upload: async (name: string) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('large-sources')
      const file = await (await dir.getFileHandle(name)).getFile()
      const t0 = performance.now()
      const saved = await save(file)
      while (!remoteKeyOf(saved.fileId)) await new Promise((r) => setTimeout(r, 20))
      return performance.now() - t0
    },
    memory: () => (performance as any).memory?.usedJSHeapSize ?? 0,
  }
  document.getElementById('status')!.textContent = 'ready'
}
