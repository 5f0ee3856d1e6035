/**
 * `filesync-livestore`: file sync for LiveStore apps, with a Rust engine compiled to WebAssembly.
 *
 * @module
 */
export * from './schema.js'
export * from './errors.js'
export * from './helpers.js'
export { hashFile, WEBCRYPTO_HASH_MAX_BYTES } from './hash.js'
export { engineMemoryBytes } from './wasm.js'
export {
  createFileSync,
  FileSync,
  type CreateFileSyncConfig,
  type FileSyncEvent,
  type FileSyncEventCallback,
  type FileSyncOptions,
  type FileSystemOption,
  type LogEntry,
  type LogLevel,
  type RemoteOptions,
  type SavedFileResult,
} from './filesync.js'
export * from './singleton.js'
export type * from './file-system.js'
export { fileSystemError } from './file-system.js'
