// Starts `filesync serve` (our server) on 127.0.0.1 with a throwaway data dir, for one test file.
// The binary comes from FILESYNC_BIN, else target/debug/filesync (scripts/test builds it first).
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)))

/** Starts a server; answers `{ url, token, stop() }` (url is the signer base, `…/api`). */
export async function startServer() {
  const bin = process.env.FILESYNC_BIN ?? join(ROOT, 'target', 'debug', 'filesync')
  const dataDir = await mkdtemp(join(tmpdir(), 'filesync-js-test-'))
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const found = await new Promise((resolveFound, reject) => {
    const timer = setTimeout(() => reject(new Error(`filesync serve printed no URL in 30 s:\n${output}`)), 30_000)
    const onData = (chunk) => {
      output += chunk
      const origin = output.match(/http:\/\/127\.0\.0\.1:[0-9]+/)?.[0]
      const tokenLine = output.split('\n').find((line) => /token/i.test(line))
      if (origin && tokenLine) {
        clearTimeout(timer)
        resolveFound({ origin, token: tokenLine.trim().split(/\s+/).pop() })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`filesync serve exited (${code}) before it was ready:\n${output}`))
    })
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`could not start ${bin} (build it with cargo build -p filesync-cli): ${error.message}`))
    })
  })
  child.removeAllListeners('exit')
  return {
    url: `${found.origin}/api`,
    origin: found.origin,
    token: found.token,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => child.once('exit', r))
      }
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/** The bytes the server holds under `key` (signed download), or `null` when it has none. */
export async function remoteBytes(server, key) {
  const signed = await fetch(`${server.url}/v1/sign/download`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  })
  if (!signed.ok) throw new Error(`signing a download of ${key} failed: ${signed.status} ${await signed.text()}`)
  const { url, headers } = await signed.json()
  const answer = await fetch(url, { headers: headers ?? {} })
  if (answer.status === 404) return null
  if (!answer.ok) throw new Error(`GET ${key}: ${answer.status}`)
  return new Uint8Array(await answer.arrayBuffer())
}
