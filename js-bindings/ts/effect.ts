/**
 * `filesync-livestore/effect`: file sync as an Effect service. `fileSyncLayer(config)` makes an
 * instance when the layer is built (and starts it) and disposes it when the layer's scope closes;
 * the service's methods are `Effect`s whose errors are the package's error classes, each with a
 * `_tag`, so `Effect.catchTag("FileNotFoundError", …)` works. `effect` (3.x) is an optional peer:
 * only this entry point imports it.
 *
 * ```ts
 * const program = Effect.gen(function* () {
 *   const fileSync = yield* FileSyncService
 *   const { fileId } = yield* fileSync.saveFile(file)
 *   return yield* fileSync.resolveFileUrl(fileId)
 * })
 * await Effect.runPromise(program.pipe(Effect.provide(fileSyncLayer({ store, remote: false }))))
 * ```
 *
 * @module
 */
import { Context, Effect, Layer, Stream, type Scope } from 'effect'

import {
  toFileSyncError,
  type FileNotFoundError,
  type FileSyncError,
  type InvalidInputError,
  type NotInitializedError,
  type RemoteError,
  type StorageError,
  type StoreError,
} from './errors.js'
import { createFileSync, type CreateFileSyncConfig, type FileSync, type FileSyncEvent, type SavedFileResult } from './filesync.js'

/** Every error a file sync call fails with: one of the package's error classes (`_tag` tells which). */
export type FileSyncFailure = FileNotFoundError | InvalidInputError | StorageError | RemoteError | StoreError | NotInitializedError | FileSyncError

/** What `saveFile` and `updateFile` take. */
export type FileContent = File | Blob | Uint8Array | ArrayBuffer

/** The file sync service: the instance API as `Effect`s. */
export interface FileSyncServiceApi {
  /** The instance behind the service (its Promise API), e.g. for a UI binding. */
  readonly instance: FileSync
  /** See {@link FileSync.saveFile}. */
  readonly saveFile: (file: FileContent) => Effect.Effect<SavedFileResult, FileSyncFailure>
  /** See {@link FileSync.updateFile}. */
  readonly updateFile: (fileId: string, file: FileContent) => Effect.Effect<SavedFileResult, FileSyncFailure>
  /** See {@link FileSync.deleteFile}. */
  readonly deleteFile: (fileId: string) => Effect.Effect<void, FileSyncFailure>
  /** See {@link FileSync.readFile}. */
  readonly readFile: (path: string) => Effect.Effect<File, FileSyncFailure>
  /** See {@link FileSync.getFileUrl}. */
  readonly getFileUrl: (path: string) => Effect.Effect<string | null, FileSyncFailure>
  /** See {@link FileSync.resolveFileUrl}. */
  readonly resolveFileUrl: (fileId: string) => Effect.Effect<string | null, FileSyncFailure>
  /** See {@link FileSync.prioritizeDownload}. */
  readonly prioritizeDownload: (fileId: string) => Effect.Effect<void, FileSyncFailure>
  /** See {@link FileSync.triggerSync}. */
  readonly triggerSync: Effect.Effect<void, FileSyncFailure>
  /** See {@link FileSync.retryErrors}. */
  readonly retryErrors: Effect.Effect<string[], FileSyncFailure>
  /** See {@link FileSync.isOnline}. */
  readonly isOnline: Effect.Effect<boolean>
  /** See {@link FileSync.listLiveRemoteKeys}. */
  readonly listLiveRemoteKeys: Effect.Effect<string[]>
  /** True when nothing is queued, running or waiting. */
  readonly isIdle: Effect.Effect<boolean, FileSyncFailure>
  /** The instance's events from the moment the stream is run (it ends when its consumer stops). */
  readonly events: Stream.Stream<FileSyncEvent>
}

/** The file sync service's tag: `yield* FileSyncService` in an `Effect.gen`. */
export class FileSyncService extends Context.Tag('filesync-livestore/FileSyncService')<FileSyncService, FileSyncServiceApi>() {}

/** What {@link fileSyncLayer} takes: `createFileSync`'s config, and whether to start syncing. */
export interface FileSyncLayerConfig extends CreateFileSyncConfig {
  /** Start syncing when the layer is built (default true). */
  readonly autoStart?: boolean
}

const attempt = <A>(run: () => Promise<A>): Effect.Effect<A, FileSyncFailure> =>
  Effect.tryPromise({ try: run, catch: (error) => toFileSyncError(error) as FileSyncFailure })

/** The service over an existing instance (nothing is started or disposed). */
export function fileSyncServiceOf(instance: FileSync): FileSyncServiceApi {
  return {
    instance,
    saveFile: (file) => attempt(() => instance.saveFile(file)),
    updateFile: (fileId, file) => attempt(() => instance.updateFile(fileId, file)),
    deleteFile: (fileId) => attempt(() => instance.deleteFile(fileId)),
    readFile: (path) => attempt(() => instance.readFile(path)),
    getFileUrl: (path) => attempt(() => instance.getFileUrl(path)),
    resolveFileUrl: (fileId) => attempt(() => instance.resolveFileUrl(fileId)),
    prioritizeDownload: (fileId) => attempt(() => instance.prioritizeDownload(fileId)),
    triggerSync: attempt(() => instance.triggerSync()),
    retryErrors: attempt(() => instance.retryErrors()),
    isOnline: Effect.sync(() => instance.isOnline()),
    listLiveRemoteKeys: Effect.sync(() => instance.listLiveRemoteKeys()),
    isIdle: attempt(() => instance.isIdle()),
    events: Stream.async<FileSyncEvent>((emit) => {
      const off = instance.onEvent((event) => void emit.single(event))
      return Effect.sync(off)
    }),
  }
}

/**
 * A scoped instance: made (and started, unless `autoStart: false`) now, disposed when the scope
 * closes. A failed start disposes it and fails with the start's error.
 */
export function makeFileSyncService(config: FileSyncLayerConfig): Effect.Effect<FileSyncServiceApi, FileSyncFailure, Scope.Scope> {
  const { autoStart, ...createConfig } = config
  return Effect.acquireRelease(
    Effect.gen(function* () {
      const instance = yield* Effect.try({ try: () => createFileSync(createConfig), catch: (error) => toFileSyncError(error) as FileSyncFailure })
      if (autoStart !== false) {
        yield* attempt(() => instance.start()).pipe(Effect.tapError(() => Effect.promise(() => instance.dispose())))
      }
      return fileSyncServiceOf(instance)
    }),
    (service) => Effect.promise(() => service.instance.dispose()),
  )
}

/** The {@link FileSyncService} layer: an instance made and started when the layer is built,
 * disposed when its scope closes. */
export function fileSyncLayer(config: FileSyncLayerConfig): Layer.Layer<FileSyncService, FileSyncFailure> {
  return Layer.scoped(FileSyncService, makeFileSyncService(config))
}
