/**
 * The singleton API of `@livestore-filesync/core` 0.8.0: `initFileSync(store, config)` once (it is
 * reference-counted, so React StrictMode's double mount shares one instance), then the module-level
 * functions.
 *
 * @module
 */
import type { Store } from '@livestore/livestore'

import { NotInitializedError } from './errors.js'
import {
  createFileSync,
  type FileSync,
  type FileSyncEventCallback,
  type FileSyncOptions,
  type FileSystemOption,
  type RemoteOptions,
  type SavedFileResult,
} from './filesync.js'

/** What {@link initFileSync} takes besides the store. */
export interface InitFileSyncConfig {
  /** The remote, or `false` for local-only. Default: `{signerBaseUrl: "/api"}`. */
  readonly remote?: RemoteOptions | false
  /** Where bytes are kept (default `"opfs"`). */
  readonly fileSystem?: FileSystemOption
  /** The OPFS worker: see `CreateFileSyncConfig.worker` (default true). */
  readonly worker?: boolean | string | URL
  /** Engine options. */
  readonly options?: FileSyncOptions
  /** Start syncing at once (default true). */
  readonly autoStart?: boolean
  /** The signed-in user: a different user recreates the instance. */
  readonly userId?: string
}

interface Current {
  readonly instance: FileSync
  readonly store: Store<any>
  readonly key: string
  refs: number
}

let current: Current | undefined
const pendingListeners = new Set<FileSyncEventCallback>()

const keyOf = (store: Store<any>, config: InitFileSyncConfig) =>
  JSON.stringify([
    store.storeId,
    config.userId ?? null,
    config.remote === false ? false : (config.remote?.signerBaseUrl ?? '/api'),
    typeof config.fileSystem === 'object' ? 'custom' : (config.fileSystem ?? 'opfs'),
  ])

const NOT_INITIALIZED = 'FileSync not initialized. Call initFileSync(store, config) first.'

function instance(): FileSync {
  if (current === undefined) throw new NotInitializedError('NOT_INITIALIZED', NOT_INITIALIZED)
  return current.instance
}

/**
 * Sets up file sync for `store` and answers a disposer. Calls with the same store, user and remote
 * share one instance (each gets its own disposer; the instance goes with the last one, a microtask
 * after it is called, so a dispose followed at once by an init, as in React StrictMode's double
 * mount, keeps it); a different store, user or remote mode disposes the old instance and makes a
 * new one.
 */
export function initFileSync(store: Store<any>, config: InitFileSyncConfig = {}): () => Promise<void> {
  const key = keyOf(store, config)
  if (current !== undefined && (current.key !== key || current.store !== store)) {
    const old = current
    current = undefined
    void old.instance.dispose()
  }
  if (current === undefined) {
    const made = createFileSync({
      store,
      ...(config.remote !== undefined ? { remote: config.remote } : {}),
      ...(config.fileSystem !== undefined ? { fileSystem: config.fileSystem } : {}),
      ...(config.worker !== undefined ? { worker: config.worker } : {}),
      ...(config.options !== undefined ? { options: config.options } : {}),
    })
    for (const listener of pendingListeners) made.onEvent(listener)
    current = { instance: made, store, key, refs: 0 }
    if (config.autoStart !== false) {
      made.start().catch((error) => console.error('[filesync] start failed:', error))
    }
  }
  const mine = current
  mine.refs += 1
  let disposed = false
  return async () => {
    if (disposed) return
    disposed = true
    // One microtask later: an initFileSync made in the same task (React StrictMode's unmount and
    // remount, an effect re-run with the same settings) takes its reference first and keeps the
    // instance instead of making a new one.
    await Promise.resolve()
    mine.refs -= 1
    if (mine.refs === 0) {
      if (current === mine) current = undefined
      await mine.instance.dispose()
    }
  }
}

/** The current instance, for apps that want the instance API. */
export function getFileSync(): FileSync {
  return instance()
}

/** Starts the current instance (after `initFileSync(…, {autoStart: false})`). */
export const startFileSync = async (): Promise<void> => instance().start()
/** Stops the current instance. */
export const stopFileSync = async (): Promise<void> => instance().stop()
/** Disposes the current instance at once, whatever its disposers. */
export async function disposeFileSync(): Promise<void> {
  const old = current
  current = undefined
  await old?.instance.dispose()
}

/** See {@link FileSync.saveFile}. */
export const saveFile = async (file: File | Blob | Uint8Array | ArrayBuffer): Promise<SavedFileResult> => instance().saveFile(file)
/** See {@link FileSync.updateFile}. */
export const updateFile = async (fileId: string, file: File | Blob | Uint8Array | ArrayBuffer): Promise<SavedFileResult> =>
  instance().updateFile(fileId, file)
/** See {@link FileSync.deleteFile}. */
export const deleteFile = async (fileId: string): Promise<void> => instance().deleteFile(fileId)
/** See {@link FileSync.readFile}. */
export const readFile = async (path: string): Promise<File> => instance().readFile(path)
/** See {@link FileSync.getFileUrl}. */
export const getFileUrl = async (path: string): Promise<string | null> => instance().getFileUrl(path)
/** See {@link FileSync.resolveFileUrl}. */
export const resolveFileUrl = async (fileId: string): Promise<string | null> => instance().resolveFileUrl(fileId)
/** See {@link FileSync.prioritizeDownload}. */
export const prioritizeDownload = async (fileId: string): Promise<void> => instance().prioritizeDownload(fileId)
/** See {@link FileSync.isOnline}. */
export const isOnline = (): boolean => instance().isOnline()
/** See {@link FileSync.triggerSync}. */
export const triggerSync = async (): Promise<void> => instance().triggerSync()
/** See {@link FileSync.listLiveRemoteKeys}. */
export const listLiveRemoteKeys = (): string[] => instance().listLiveRemoteKeys()
/** See {@link FileSync.getStorageUsage}. */
export const getStorageUsage = async (): Promise<{ usage: number; quota: number } | null> => instance().getStorageUsage()
/** See {@link FileSync.requestPersistentStorage}. */
export const requestPersistentStorage = async (): Promise<boolean> => instance().requestPersistentStorage()
/** See {@link FileSync.retryErrors}. */
export const retryErrors = async (): Promise<string[]> => instance().retryErrors()

/**
 * Listens to the events of the current and of later instances (a listener registered before
 * `initFileSync` is kept for the instance it makes); answers a function that stops listening.
 */
export function onFileSyncEvent(callback: FileSyncEventCallback): () => void {
  pendingListeners.add(callback)
  const off = current?.instance.onEvent(callback)
  return () => {
    pendingListeners.delete(callback)
    off?.()
  }
}
