// Builds the example app (index.html: React; vue.html: Vue) into dist/. `vite preview` serves it
// and forwards `/api` (the signer, with the server's token added) and the signed blob URLs to
// `filesync serve`, and `/sync` (WebSocket) to the LiveStore sync backend, so the app, the server and
// the sync backend share the page's origin: no CORS, no token in the page, and a second origin is
// just a second preview. demo.mjs sets FILESYNC_SIGNER, FILESYNC_TOKEN and LIVESTORE_SYNC.
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vite'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))
const signer = process.env.FILESYNC_SIGNER ?? 'http://127.0.0.1:8787'
const sync = process.env.LIVESTORE_SYNC ?? 'http://127.0.0.1:8788'
const token = process.env.FILESYNC_TOKEN
// The Host header is kept, so the server signs URLs on the page's origin (and they come back here).
const proxy = {
  '/api': { target: signer, headers: token ? { authorization: `Bearer ${token}` } : {} },
  '/livestore-filesync-files': { target: signer },
  '/sync': { target: sync, ws: true, changeOrigin: true },
}

export default defineConfig({
  root: at('.'),
  logLevel: 'warn',
  build: {
    outDir: at('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: at('./index.html'), vue: at('./vue.html') } },
  },
  define: {
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  esbuild: { jsx: 'automatic' },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@livestore/wa-sqlite', 'filesync-livestore'] },
  preview: { proxy, strictPort: true },
  server: { proxy },
})
