/**
 * Loading the engine's WebAssembly, once, on first use (never at import: server-side rendering
 * and plain imports touch no browser API).
 *
 * In browsers (with or without a bundler) the `.wasm` file is fetched from next to this module
 * (`new URL(..., import.meta.url)`, which Vite and other bundlers understand). In Node, Deno and
 * Bun it is read from disk, since `fetch` cannot read `file:` URLs there.
 *
 * @internal
 */
import init, { engineMemoryBytes as wasmMemoryBytes, FileSyncEngine, hashBlob, setLogger } from './wasm/filesync_js.js'

export { FileSyncEngine, hashBlob, setLogger }

/** The engine's WebAssembly memory in bytes, 0 before it is loaded. */
export function engineMemoryBytes(): number {
  try {
    return wasmMemoryBytes()
  } catch {
    return 0 // not instantiated yet
  }
}

let loading: Promise<void> | undefined

const isServerRuntime = (): boolean =>
  typeof (globalThis as any).process?.versions?.node === 'string' && typeof (globalThis as any).window === 'undefined'

/** Loads and instantiates the engine's WebAssembly (idempotent). */
export function loadEngine(): Promise<void> {
  loading ??= (async () => {
    const url = new URL('./wasm/filesync_js_bg.wasm', import.meta.url)
    if (isServerRuntime() && url.protocol === 'file:') {
      // A specifier in a variable keeps bundlers from pulling Node's fs into browser builds.
      const fsModule = 'node:fs/promises'
      const { readFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises')
      await init({ module_or_path: await readFile(url) })
    } else {
      await init({ module_or_path: url })
    }
  })().catch((error: unknown) => {
    loading = undefined
    throw error
  })
  return loading
}
