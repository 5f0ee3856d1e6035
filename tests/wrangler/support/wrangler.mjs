// Runs a worker of this folder locally with `wrangler dev` (workerd from the wrangler npm package,
// offline) on 127.0.0.1 and a free port, with its state (Durable Object SQLite, R2) in a throwaway
// directory. Used by the tests' before/after hooks: start() waits until the worker answers HTTP,
// stop() ends wrangler and its workerd processes (its own process group) and removes the state.
// If the test process is told to stop (SIGTERM/SIGINT, e.g. from run.sh's `timeout`) or exits without
// stop(), the group is killed on the way out; run.sh also kills any group listed in
// $WRANGLER_PID_DIR (one file per wrangler started, named by its pid, holding its state dir) and
// removes those state dirs when it ends, for a test process killed hard.
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const WRANGLER = join(HERE, '..', 'node_modules', 'wrangler', 'bin', 'wrangler.js')

/** A TCP port that was free on 127.0.0.1 a moment ago (wrangler needs a fixed `--port`). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/**
 * Starts `wrangler dev` in `workerDir` (the folder holding its wrangler.toml). Answers
 * `{ origin, port, readyMs, output(), stop() }`. `probePath` is requested until it answers any
 * HTTP status (the worker is then loaded, not just the proxy in front of it); `readyTimeoutMs`
 * bounds the wait; `vars` become the Worker's env values (`--var NAME:value`).
 */
export async function startWrangler(workerDir, { probePath = '/', readyTimeoutMs = 60_000, vars = {} } = {}) {
  const port = await freePort()
  const inspectorPort = await freePort()
  const stateDir = await mkdtemp(join(tmpdir(), 'filesync-wrangler-'))
  const started = Date.now()
  const child = spawn(
    process.execPath,
    [
      WRANGLER, 'dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--inspector-port', String(inspectorPort),
      '--persist-to', stateDir,
      '--show-interactive-dev-session=false',
      '--log-level', 'info',
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ],
    {
      cwd: workerDir,
      // Its own process group, so stop() reaches workerd too.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_COLOR: '1' },
    },
  )
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  let exited = null
  child.on('exit', (code, signal) => (exited = { code, signal }))
  const pidFile = process.env.WRANGLER_PID_DIR ? join(process.env.WRANGLER_PID_DIR, String(child.pid)) : null
  if (pidFile) writeFileSync(pidFile, stateDir)
  const killGroup = () => {
    try {
      process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }
  const onSignal = (signal) => {
    killGroup()
    rmSync(stateDir, { recursive: true, force: true })
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.on('exit', killGroup)
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)

  const stop = async () => {
    if (exited === null) {
      try {
        process.kill(-child.pid, 'SIGTERM')
      } catch {}
      const gone = await Promise.race([
        new Promise((r) => child.once('exit', () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 10_000).unref()),
      ])
      if (!gone) {
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {}
      }
    }
    // workerd may outlive wrangler by a moment: end the rest of the group.
    killGroup()
    process.off('exit', killGroup)
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    if (pidFile) rmSync(pidFile, { force: true })
    await rm(stateDir, { recursive: true, force: true })
  }

  const origin = `http://127.0.0.1:${port}`
  const deadline = started + readyTimeoutMs
  for (;;) {
    if (exited !== null) {
      await stop()
      throw new Error(`wrangler dev in ${workerDir} exited (${JSON.stringify(exited)}) before it was ready:\n${output}`)
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`wrangler dev in ${workerDir} did not answer ${origin}${probePath} within ${readyTimeoutMs} ms:\n${output}`)
    }
    try {
      const answer = await fetch(`${origin}${probePath}`, { signal: AbortSignal.timeout(5_000) })
      await answer.arrayBuffer()
      break
    } catch {
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  return { origin, port, readyMs: Date.now() - started, output: () => output, stop }
}
