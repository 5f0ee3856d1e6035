// Our server (`filesync serve`), started by run.sh: FILESYNC_URL (signer base, `…/api`) and
// FILESYNC_TOKEN (its development token).
import { test } from 'node:test'
import assert from 'node:assert/strict'

/** `{ url, origin, token }`, or `null` (then a failing test says how to run). */
export function serverFromEnv() {
  const url = process.env.FILESYNC_URL
  const token = process.env.FILESYNC_TOKEN
  if (!url || !token) {
    // Fail loudly instead of skipping: a skipped compat test looks green in CI.
    test('configuration', () => {
      assert.fail('FILESYNC_URL and FILESYNC_TOKEN are not set: run tests/ts-compat/run.sh (it starts filesync serve)')
    })
    return null
  }
  return { url, origin: new URL(url).origin, token }
}

/** The bytes the server holds under `key` (the package tests' helper, copied by run.sh). */
export { remoteBytes } from '../.package-tests/support/server.mjs'
