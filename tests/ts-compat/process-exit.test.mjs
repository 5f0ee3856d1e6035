// A Node app exits once it has disposed our engine and shut its store down.
//
// A regression test: the engine's timers (request deadlines, the runtime's sleeps) used to stay
// armed after the futures that set them were dropped; in Node they kept the process alive up to
// ~61 s after dispose(). They are cleared on drop now.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { serverFromEnv } from './support/server.mjs'

const server = serverFromEnv()

if (server) {
  test('the process exits within 5 s of dispose() and store shutdown', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./support/exit-child.mjs', import.meta.url))], {
      env: { ...process.env, FILESYNC_URL: server.url, FILESYNC_TOKEN: server.token },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    let doneAt
    child.stdout.on('data', (chunk) => {
      output += chunk
      if (doneAt === undefined && /^done$/m.test(output)) doneAt = Date.now()
    })
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })))
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const waitDone = async () => {
      while (doneAt === undefined && child.exitCode === null) await new Promise((r) => setTimeout(r, 20))
    }
    await waitDone()
    assert.ok(doneAt, `the child never got to dispose: ${output}`)
    const limit = setTimeout(() => child.kill('SIGKILL'), 5_000)
    const { code, at } = await exited
    clearTimeout(limit)
    clearTimeout(timeout)
    assert.equal(code, 0, `the process was still running ${at - doneAt} ms after dispose (killed)`)
  })
}
