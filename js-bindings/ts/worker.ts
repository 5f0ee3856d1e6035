/**
 * The package's dedicated worker: OPFS with sync access handles, where the engine writes
 * downloads as they arrive (so a reload resumes them). The engine on the page starts it (see
 * `worker` in {@link CreateFileSyncConfig}) and sends it the page's compiled WebAssembly module;
 * this script instantiates it with the package's own glue and serves the page's file system calls
 * and the bodies of its downloads (written and hashed here, off the page's thread).
 *
 * Apps never import this module. An app whose bundler cannot follow `new Worker(new URL(...))` or
 * that serves the package from another origin serves this file (and `wasm/` beside it) itself and
 * passes its URL as `worker`.
 *
 * @internal
 * @module
 */
import init, { __filesyncWorkerMain } from './wasm/filesync_js.js'

const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void, options: { once: boolean }): void
  postMessage(message: unknown): void
}

scope.addEventListener(
  'message',
  (event: MessageEvent) => {
    void (async () => {
      try {
        await init({ module_or_path: event.data.module })
        __filesyncWorkerMain()
      } catch (error) {
        scope.postMessage({ bootError: String((error as Error | undefined)?.stack ?? error) })
      }
    })()
  },
  { once: true },
)
