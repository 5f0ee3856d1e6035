// The demo (scripts/demo builds everything first, then runs this): starts `filesync serve` on local
// disk, LiveStore's sync backend (`wrangler dev` with @livestore/sync-cf, offline), and the built
// app twice, on two origins (localhost and 127.0.0.1: two windows of one origin share OPFS and
// LiveStore's storage, so they are one client, not two), then prints the URLs. Everything listens on
// 127.0.0.1 (localhost resolves there) and stops on Ctrl-C. State is kept in .demo/ beside this file.
//
//   DEMO_PORT=5173        the first app port (the second is +1; the server and the sync backend
//                         take +2 and +3)
//   FILESYNC_BIN          the server binary (default: target/release/filesync)
import { spawn } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { preview } from 'vite'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../..')
const STATE = join(HERE, '.demo')
const base = Number(process.env.DEMO_PORT ?? 5173)
const ports = { a: base, b: base + 1, signer: base + 2, sync: base + 3 }
const children = []

const say = (line) => console.log(`demo: ${line}`)

/** Starts `command`, remembers it for the shutdown, and fails the demo if it exits early. */
function start(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  let output = ''
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`demo: ${name} stopped (${signal ?? code}); its last output:\n${output}`)
      void stop(1)
    }
  })
  children.push(child)
  return { child, output: () => output }
}

/** Waits until `url` answers (any status), for at most `seconds`. */
async function answering(name, url, seconds, output) {
  const until = Date.now() + seconds * 1000
  while (Date.now() < until) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 250))
    }
  }
  throw new Error(`${name} did not answer ${url} within ${seconds} s:\n${output()}`)
}

let stopping = false
const previews = []
async function stop(code) {
  if (stopping) return
  stopping = true
  for (const server of previews) await server.close().catch(() => {})
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
  process.exit(code)
}
process.on('SIGINT', () => void stop(0))
process.on('SIGTERM', () => void stop(0))

try {
  await mkdir(STATE, { recursive: true })
  const bin = process.env.FILESYNC_BIN ?? join(ROOT, 'target', 'release', 'filesync')
  const dataDir = join(STATE, 'filesync-data')
  const server = start('filesync serve', bin, ['serve', '--listen', `127.0.0.1:${ports.signer}`, '--data-dir', dataDir])
  const wrangler = start(
    'wrangler dev',
    join(ROOT, 'node_modules', '.bin', 'wrangler'),
    ['dev', '--ip', '127.0.0.1', '--port', String(ports.sync), '--persist-to', join(STATE, 'wrangler'), '--show-interactive-dev-session=false'],
    { cwd: join(HERE, 'sync'), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } },
  )
  await answering('filesync serve', `http://127.0.0.1:${ports.signer}/api/health`, 30, server.output)
  await answering('the LiveStore sync backend', `http://127.0.0.1:${ports.sync}/`, 60, wrangler.output)
  const token = (await readFile(join(dataDir, 'dev-token'), 'utf8')).trim()
  process.env.FILESYNC_SIGNER = `http://127.0.0.1:${ports.signer}`
  process.env.LIVESTORE_SYNC = `http://127.0.0.1:${ports.sync}`
  process.env.FILESYNC_TOKEN = token
  for (const [host, port] of [
    ['localhost', ports.a],
    ['127.0.0.1', ports.b],
  ]) {
    previews.push(await preview({ configFile: join(HERE, 'vite.config.mjs'), preview: { host, port, strictPort: true, open: false } }))
  }
  say('ready. Open the gallery in two browser windows, one per origin (two clients):')
  say(`  http://localhost:${ports.a}/`)
  say(`  http://127.0.0.1:${ports.b}/`)
  say(`the Vue page: http://localhost:${ports.a}/vue.html`)
  say(`file server (filesync serve): http://127.0.0.1:${ports.signer}/api (data in ${dataDir})`)
  say(`LiveStore sync backend (wrangler dev): ws://127.0.0.1:${ports.sync}`)
  say('Ctrl-C stops everything.')
} catch (error) {
  console.error(`demo: ${error.message}`)
  await stop(1)
}
