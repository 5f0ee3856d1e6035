// What both benchmark pages share: the files to save and the timing loops. Each page exposes
// `window.bench = {saveAll, hash, ...}` for run.mjs.

/** `count` distinct files of `size` bytes with a MIME type (the first 64 KiB random, an index at the end). */
export function makeFiles(count: number, size: number, prefix: string): File[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(size)
    crypto.getRandomValues(bytes.subarray(0, Math.min(size, 65536)))
    new DataView(bytes.buffer).setUint32(size - 4, i)
    return new File([bytes], `${prefix}${i}.bin`, { type: 'application/octet-stream' })
  })
}

/** Runs `save` over `files`, `inFlight` at a time; answers the elapsed ms. */
export async function timeSaves(files: File[], inFlight: number, save: (f: File) => Promise<unknown>): Promise<number> {
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < files.length) await save(files[next++]!)
    }),
  )
  return performance.now() - t0
}

/** A file of `mib` MiB (random 1 MiB repeated, a counter per MiB so no two MiB are equal). */
export function bigFile(mib: number): File {
  const chunk = new Uint8Array(1 << 20)
  crypto.getRandomValues(chunk.subarray(0, 65536))
  const parts: Uint8Array[] = []
  for (let i = 0; i < mib; i++) {
    const part = chunk.slice()
    new DataView(part.buffer).setUint32(0, i)
    parts.push(part)
  }
  return new File(parts, 'big.bin', { type: 'application/octet-stream' })
}

/** Median ms of `rounds` runs of `f`. */
export async function medianMs(rounds: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    await f()
    times.push(performance.now() - t0)
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

/** Marks the page ready for run.mjs. */
export function ready(bench: object) {
  ;(window as any).bench = bench
  document.getElementById('status')!.textContent = 'ready'
}
