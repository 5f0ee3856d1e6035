// What both benchmark pages share: the store, the files to save and the timing loops. Each page
// calls `ready(prefix, save, hash)`, which exposes `window.bench = {saveAll, hash}` for run.mjs.
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { createStorePromise } from '@livestore/livestore'

/**
 * The page's LiveStore store (web adapter, OPFS) over `schema` with its leader `worker`, and the
 * URL's parameters: `store` (the store id, default `fallbackId`), `signer` and `token`.
 */
export async function openStore(schema: any, worker: new (options?: { name?: string }) => Worker, fallbackId: string) {
  const params = new URLSearchParams(location.search)
  const storeId = params.get('store') ?? fallbackId
  const adapter = makePersistedAdapter({ storage: { type: 'opfs' }, worker, sharedWorker: LiveStoreSharedWorker })
  const store = await createStorePromise({ adapter, schema, storeId, disableDevtools: true })
  const signer = params.get('signer')
  const remote = signer ? { signerBaseUrl: signer, authToken: params.get('token') ?? '' } : (false as const)
  return { store, remote }
}

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

/**
 * Exposes the benchmark to run.mjs and marks the page ready: `saveAll(count, size, inFlight)` saves
 * fresh files (names starting with `prefix`) through `save`; `hash(mib, rounds)` times `hash` on
 * one in-memory file, after one untimed call.
 */
export function ready(prefix: string, save: (f: File) => Promise<unknown>, hash: (f: File) => Promise<string>) {
  ;(window as any).bench = {
    saveAll: (count: number, size: number, inFlight: number) =>
      timeSaves(makeFiles(count, size, `${prefix}${inFlight}-`), inFlight, save),
    hash: async (mib: number, rounds: number) => {
      const file = bigFile(mib)
      await hash(file) // warm-up: the first call also compiles and loads (wasm, Effect layers)
      return medianMs(rounds, () => hash(file))
    },
  }
  document.getElementById('status')!.textContent = 'ready'
}
