// Running @livestore-filesync/core 0.8.0 clients in Node, the way its README wires them
// (`createFileSync({store, schema, remote, fileSystem: NodeFileSystem.layer, options: {localPathRoot}})`),
// with what that needs here:
//
// - a file system rooted per client: 0.8.0 writes its files at relative paths
//   (`livestore-filesync-files/{storeId}/{hash}`, plus a `{hash}.meta.json` sidecar), i.e. relative
//   to the process's working directory, and `localPathRoot` only shapes its `file://` URLs. Two
//   clients in one process would share one directory, so `rootedNodeFileSystem(root)` is
//   @effect/platform-node's NodeFileSystem with every relative path resolved against `root`: what a
//   0.8.0 app leaves in its working directory `root`;
// - an XMLHttpRequest (support/xhr.mjs): 0.8.0 uploads only through it.
import { isAbsolute, resolve } from 'node:path'

import { FileSystem } from '@effect/platform'
import { NodeFileSystem } from '@effect/platform-node'
import { createFileSync } from '@livestore-filesync/core'
import { queryDb } from '@livestore/livestore'
import { Effect, Layer } from 'effect'

/** NodeFileSystem with relative paths resolved against `root` (0.8.0's working directory). */
export function rootedNodeFileSystem(root) {
  const at = (path) => (isAbsolute(path) ? path : resolve(root, path))
  return Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (fs) => {
      const one = (name) => (path, ...rest) => fs[name](at(path), ...rest)
      const two = (name) => (from, to, ...rest) => fs[name](at(from), at(to), ...rest)
      return {
        ...fs,
        ...Object.fromEntries(
          ['access', 'chmod', 'chown', 'exists', 'makeDirectory', 'open', 'readDirectory', 'readFile', 'readFileString',
            'readLink', 'realPath', 'remove', 'sink', 'stat', 'stream', 'truncate', 'utimes', 'watch', 'writeFile',
            'writeFileString'].map((name) => [name, one(name)]),
        ),
        ...Object.fromEntries(['copy', 'copyFile', 'link', 'rename', 'symlink'].map((name) => [name, two(name)])),
      }
    }),
  ).pipe(Layer.provide(NodeFileSystem.layer))
}

/**
 * A 0.8.0 client over `client` (a store from support/stores.mjs with the v08 schema), its files
 * under `root`, its remote `remote` (`{signerBaseUrl, authToken}`), started.
 */
export function startV08Client(client, { root, remote, options = {} }) {
  const events = []
  const fileSync = createFileSync({
    store: client.store,
    schema: { tables: client.tables, events: client.events, queryDb },
    fileSystem: rootedNodeFileSystem(root),
    remote,
    options: {
      localPathRoot: root,
      healthCheckIntervalMs: 300,
      ...options,
      onEvent: (event) => events.push(event),
    },
  })
  fileSync.start()
  return { fileSync, events }
}

/**
 * 0.8.0 logs every step of every upload with console.log/console.error ("[FileSync] …",
 * "createFileRecord file ID: …", "checkHealth true"). Those lines are kept out of the test output (set
 * FILESYNC_COMPAT_VERBOSE=1 to see them); answers a function that restores the console.
 */
export function quietV08Console() {
  if (process.env.FILESYNC_COMPAT_VERBOSE) return () => {}
  const { log, error } = console
  const chatty = (args) => typeof args[0] === 'string' && /^(\[FileSync\]|createFileRecord|checkHealth$)/.test(args[0])
  console.log = (...args) => (chatty(args) ? undefined : log(...args))
  console.error = (...args) => (chatty(args) ? undefined : error(...args))
  return () => {
    console.log = log
    console.error = error
  }
}
