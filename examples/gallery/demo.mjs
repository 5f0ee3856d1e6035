// The demo (scripts/demo builds everything first, then runs this): starts `filesync serve` on local
// disk, LiveStore's sync backend (`wrangler dev` with @livestore/sync-cf, offline) and the built app
// on two origins (localhost and 127.0.0.1: two windows of one origin share OPFS and LiveStore's
// storage, so they are one client, not two), then prints the URLs (stack.mjs). Everything listens on
// 127.0.0.1 (localhost resolves there) and stops on Ctrl-C. State is kept in .demo/ beside this file.
//
//   DEMO_PORT=5173        the first app port (the second is +1; the server, the sync backend and
//                         its inspector take +2, +3 and +4)
//   FILESYNC_BIN          the server binary (default: target/release/filesync)
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { startStack } from './stack.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const base = Number(process.env.DEMO_PORT ?? 5173)
const say = (line) => console.log(`demo: ${line}`)

let stack
const stop = async (code) => {
  await stack?.stop()
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

try {
  stack = await startStack({
    ports: { a: base, b: base + 1, signer: base + 2, sync: base + 3, inspector: base + 4 },
    state: join(HERE, '.demo'),
    bin: process.env.FILESYNC_BIN ?? join(resolve(HERE, '../..'), 'target', 'release', 'filesync'),
    onExit: (name, why, output) => {
      console.error(`demo: ${name} stopped (${why}); its last output:\n${output}`)
      void stop(1)
    },
  })
  const [a, b] = stack.origins
  say('ready. Open the gallery in two browser windows, one per origin (two clients):')
  say(`  ${a}/`)
  say(`  ${b}/`)
  say(`the Vue page: ${a}/vue.html`)
  say(`file server (filesync serve): ${stack.signer} (data in ${stack.dataDir})`)
  say(`LiveStore sync backend (wrangler dev): ${stack.sync}`)
  say('Ctrl-C stops everything.')
} catch (error) {
  console.error(`demo: ${error.message}`)
  await stop(1)
}
