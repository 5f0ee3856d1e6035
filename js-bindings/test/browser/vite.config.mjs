// Builds the browser test app (app/) into dist/ with the workspace's package.
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@livestore/wa-sqlite', 'filesync-livestore'] },
})
