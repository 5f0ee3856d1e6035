// Builds the side-by-side benchmark pages (app/): ours.html with filesync-livestore, theirs.html
// with @livestore-filesync/core 0.8.0 + @livestore-filesync/opfs, both on LiveStore 0.4.0-dev.23
// (this project's node_modules) and the web adapter. Vite itself comes from the root workspace.
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vite'

const at = (p) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: at('./app'),
  logLevel: 'warn',
  build: {
    outDir: at('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        ours: at('./app/ours.html'),
        theirs: at('./app/theirs.html'),
        'ours-large': at('./app/ours-large.html'),
        'theirs-large': at('./app/theirs-large.html'),
      },
    },
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@livestore/wa-sqlite', 'filesync-livestore'] },
})
