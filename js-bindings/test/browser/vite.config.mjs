// Builds the browser test app (app/) into dist/ with the workspace's package: three pages in one
// build, sharing LiveStore's workers and the package's chunks: index.html (the package's API),
// react.html (filesync-livestore/react) and vue.html (filesync-livestore/vue).
import { fileURLToPath } from 'node:url'

import { defineConfig } from 'vite'

const page = (name) => fileURLToPath(new URL(`./app/${name}.html`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('./app', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: { input: { index: page('index'), react: page('react'), vue: page('vue') } },
  },
  // React's and Vue's development code (an optimized build otherwise): React StrictMode's double
  // mount only happens there, and both frameworks warn there. LiveStore reads `import.meta.env.DEV`
  // in browsers, which this does not change. No React plugin: esbuild compiles the TSX.
  define: {
    'process.env.NODE_ENV': JSON.stringify('development'),
    __VUE_OPTIONS_API__: 'true',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
  },
  esbuild: { jsx: 'automatic' },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['@livestore/wa-sqlite', 'filesync-livestore'] },
})
