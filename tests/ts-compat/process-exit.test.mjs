// A Node app exits once it has disposed our engine and shut its store down.
//
// KNOWN BUG (marked todo, so it is reported without failing the run): the engine's timers are not
// cleared when the futures that armed them are dropped: the request timeouts of
// filesync/src/services/remote_storage/browser/js.rs (`sleep`, raced by `within`: 30 s and 61 s
// after each signer call and transfer) and BrowserRuntime::sleep (filesync/src/runtime/browser.rs,
// e.g. the 10 s health check). In a browser a stray timer is harmless; in Node it keeps the event
// loop alive, so a script exits up to ~61 s after dispose(). The other test files here run with
// --test-force-exit for that reason. Remove `todo` once the timers are cleared on drop.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { serverFromEnv } from './support/server.mjs'

const server = serverFromEnv()

if (server) {
  test('the process exits within 5 s of dispose() and store shutdown', { todo: 'engine timers keep Node alive up to ~61 s after dispose (see the comment above)' }, async () => {
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
