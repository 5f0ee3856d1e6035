// What the gallery runs against, started on this machine only: `filesync serve` on local disk,
// LiveStore's sync backend (`wrangler dev` with @livestore/sync-cf, offline), and the built app
// (dist/) served by `vite preview` on two origins (localhost and 127.0.0.1), each forwarding /api,
// the signed blob URLs and /sync (vite.config.mjs). Used by demo.mjs and by the end-to-end tests.
import { spawn } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { preview } from 'vite'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../..')

/** A port free on 127.0.0.1 a moment ago. */
export async function freePort() {
  const server = createServer()
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

/**
 * Starts `command` in a process group of its own (so stopping it reaches what it starts, like
 * wrangler's workerd; the group is also killed when this process exits); answers `{ child,
 * output(), stop() }`. `onExit` hears an exit before `stop()`.
 */
function start(command, args, options, onExit) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options })
  const kill = (signal) => {
    try {
      process.kill(-child.pid, signal)
    } catch {
      // Already gone.
    }
  }
  const killOnExit = () => kill('SIGKILL')
  process.on('exit', killOnExit)
  let output = ''
  let stopping = false
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  child.on('exit', (code, signal) => {
    if (!stopping) onExit?.(`${signal ?? code}`, output)
  })
  return {
    child,
    output: () => output,
    /** Stops it: `signal` first (SIGTERM: let it finish what it does), SIGKILL after 5 s. */
    async stop(signal = 'SIGTERM') {
      stopping = true
      process.off('exit', killOnExit)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        kill(signal)
        const timer = setTimeout(() => kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
      kill('SIGKILL') // what the leader left behind
    },
  }
}

/** Waits until `url` answers (any status), for at most `seconds`. */
async function answering(name, url, seconds, output) {
  const until = Date.now() + seconds * 1000
  while (Date.now() < until) {
    try {
      await fetch(url)
      return
    } catch {
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  throw new Error(`${name} did not answer ${url} within ${seconds} s:\n${output()}`)
}

/**
 * Starts the stack. `ports` = `{ a, b, signer, sync }` (free ones when absent), `state` = the
 * directory for the server's data and the sync backend's, `bin` = the `filesync` binary,
 * `onExit(name, why, output)` = a process stopped early, `throttle` = put the tests' throttling
 * proxy (js-bindings/test/support/throttle.mjs) between the app and the server. Answers `{ origins:
 * [a, b], signer, token, dataDir, throttle, restartServer(), restartSync(), stop() }`.
 */
export async function startStack({ ports = {}, state, bin, onExit, throttle = false } = {}) {
  const p = {
    a: ports.a ?? (await freePort()),
    b: ports.b ?? (await freePort()),
    signer: ports.signer ?? (await freePort()),
    sync: ports.sync ?? (await freePort()),
    inspector: ports.inspector ?? (await freePort()),
  }
  await mkdir(state, { recursive: true })
  const dataDir = join(state, 'filesync-data')
  const previews = []
  let server, wrangler, proxy
  const stop = async () => {
    for (const preview of previews) await preview.close().catch(() => {})
    await proxy?.stop()
    await server?.stop()
    await wrangler?.stop()
  }
  const startServer = async () => {
    server = start(bin, ['serve', '--listen', `127.0.0.1:${p.signer}`, '--data-dir', dataDir], {}, (why, out) => onExit?.('filesync serve', why, out))
    await answering('filesync serve', `http://127.0.0.1:${p.signer}/api/health`, 30, server.output)
  }
  const startSync = async () => {
    wrangler = start(
      join(ROOT, 'node_modules', '.bin', 'wrangler'),
      ['dev', '--ip', '127.0.0.1', '--port', String(p.sync), '--inspector-port', String(p.inspector), '--persist-to', join(state, 'wrangler'), '--show-interactive-dev-session=false'],
      { cwd: join(HERE, 'sync'), env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1' } },
      (why, out) => onExit?.('wrangler dev', why, out),
    )
    await answering('the LiveStore sync backend', `http://127.0.0.1:${p.sync}/`, 90, wrangler.output)
  }
  try {
    await Promise.all([startServer(), startSync()])
    const token = (await readFile(join(dataDir, 'dev-token'), 'utf8')).trim()
    let signerOrigin = `http://127.0.0.1:${p.signer}`
    if (throttle) {
      const { startThrottlingProxy } = await import('../../js-bindings/test/support/throttle.mjs')
      proxy = await startThrottlingProxy(signerOrigin)
      signerOrigin = new URL(proxy.url).origin
    }
    // vite.config.mjs reads these when each preview loads it.
    process.env.FILESYNC_SIGNER = signerOrigin
    process.env.LIVESTORE_SYNC = `http://127.0.0.1:${p.sync}`
    process.env.FILESYNC_TOKEN = token
    for (const [host, port] of [
      ['localhost', p.a],
      ['127.0.0.1', p.b],
    ]) {
      previews.push(await preview({ configFile: join(HERE, 'vite.config.mjs'), logLevel: 'error', preview: { host, port, strictPort: true, open: false } }))
    }
    return {
      origins: [`http://localhost:${p.a}`, `http://127.0.0.1:${p.b}`],
      signer: `http://127.0.0.1:${p.signer}/api`,
      sync: `ws://127.0.0.1:${p.sync}`,
      token,
      dataDir,
      ports: p,
      /** The throttling proxy (`setRate`, `sent`), when asked for. */
      throttle: proxy,
      /**
       * Stops `filesync serve` and starts it again on the same port and data after `downMs`;
       * `signal` SIGKILL cuts the requests in flight (a crash), SIGTERM lets them finish.
       */
      async restartServer(downMs = 0, signal = 'SIGTERM') {
        await server.stop(signal)
        await new Promise((r) => setTimeout(r, downMs))
        await startServer()
      },
      /** Stops the LiveStore sync backend and starts it again on the same port and state. */
      async restartSync(downMs = 0) {
        await wrangler.stop()
        await new Promise((r) => setTimeout(r, downMs))
        await startSync()
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
