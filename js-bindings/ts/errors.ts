/**
 * Errors: every failure is an `Error` subclass with a `code` and a message that says what to do.
 *
 * @module
 */

/** The codes of {@link FileSyncError}. */
export type FileSyncErrorCode =
  | 'FILE_NOT_FOUND'
  | 'FILE_TOO_LARGE'
  | 'INVALID_INPUT'
  | 'NOT_LOCAL'
  | 'STORAGE'
  | 'STORAGE_FULL'
  | 'CATALOG_REFUSED'
  | 'CATALOG_UNAVAILABLE'
  | 'OFFLINE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'CORRUPT_DOWNLOAD'
  | 'REMOTE'
  | 'STOPPED'
  | 'NOT_INITIALIZED'
  | 'SCHEMA_MISSING'
  | 'PREPROCESSOR_FAILED'
  | 'UNKNOWN'

/** The class names of the package's errors: {@link FileSyncError}'s `_tag`. */
export type FileSyncErrorTag =
  | 'FileSyncError'
  | 'FileNotFoundError'
  | 'InvalidInputError'
  | 'StorageError'
  | 'RemoteError'
  | 'StoreError'
  | 'NotInitializedError'

/** The base class of every error the package throws or reports. */
export class FileSyncError extends Error {
  override name = 'FileSyncError'
  /** The class's name, for Effect's `catchTag` (`filesync-livestore/effect`) and other tagged unions. */
  readonly _tag: FileSyncErrorTag = 'FileSyncError'
  /** What kind of failure (stable; match on this, not on the message). */
  readonly code: FileSyncErrorCode
  /** The file concerned, when there is one. */
  readonly fileId: string | undefined
  /** The HTTP status of a remote failure, when the remote answered one. */
  readonly status: number | undefined

  constructor(code: FileSyncErrorCode, message: string, options?: { fileId?: string; status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.fileId = options?.fileId
    this.status = options?.status
  }
}

/** No live file has this id (it may have been deleted). */
export class FileNotFoundError extends FileSyncError {
  override name = 'FileNotFoundError'
  override readonly _tag = 'FileNotFoundError' as const
}

/** The input was refused (bad arguments or options); nothing changed. */
export class InvalidInputError extends FileSyncError {
  override name = 'InvalidInputError'
  override readonly _tag = 'InvalidInputError' as const
}

/** Local storage (OPFS, disk) failed; `STORAGE_FULL` when it is out of space. */
export class StorageError extends FileSyncError {
  override name = 'StorageError'
  override readonly _tag = 'StorageError' as const
}

/** The remote storage failed (offline, refused, corrupt bytes). */
export class RemoteError extends FileSyncError {
  override name = 'RemoteError'
  override readonly _tag = 'RemoteError' as const
}

/** The LiveStore store refused or could not take the engine's events. */
export class StoreError extends FileSyncError {
  override name = 'StoreError'
  override readonly _tag = 'StoreError' as const
}

/** File sync is not set up: no `initFileSync` yet, or it was disposed or stopped. */
export class NotInitializedError extends FileSyncError {
  override name = 'NotInitializedError'
  override readonly _tag = 'NotInitializedError' as const
}

const classOf = (code: string): typeof FileSyncError => {
  switch (code) {
    case 'FILE_NOT_FOUND':
      return FileNotFoundError
    case 'INVALID_INPUT':
    case 'FILE_TOO_LARGE':
    case 'SCHEMA_MISSING':
    case 'PREPROCESSOR_FAILED':
      return InvalidInputError
    case 'STORAGE':
    case 'STORAGE_FULL':
    case 'NOT_LOCAL':
      return StorageError
    case 'CATALOG_REFUSED':
    case 'CATALOG_UNAVAILABLE':
      return StoreError
    case 'OFFLINE':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
    case 'CORRUPT_DOWNLOAD':
    case 'REMOTE':
      return RemoteError
    case 'STOPPED':
    case 'NOT_INITIALIZED':
      return NotInitializedError
    default:
      return FileSyncError
  }
}

/** A thrown engine value as the package's error class (an existing `FileSyncError` is kept). */
export function toFileSyncError(error: unknown): FileSyncError {
  if (error instanceof FileSyncError) return error
  const e = error as { code?: unknown; message?: unknown; fileId?: unknown; status?: unknown } | undefined
  const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN'
  const message = typeof e?.message === 'string' ? e.message : String(error)
  const Class = classOf(code)
  return new Class(code as FileSyncErrorCode, message, {
    ...(typeof e?.fileId === 'string' ? { fileId: e.fileId } : {}),
    ...(typeof e?.status === 'number' ? { status: e.status } : {}),
    cause: error,
  })
}

/** Awaits `promise`, turning a rejection into a {@link FileSyncError}. */
export async function wrap<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise
  } catch (error) {
    throw toFileSyncError(error)
  }
}

/** Runs `f`, turning a throw into a {@link FileSyncError}. */
export function wrapSync<T>(f: () => T): T {
  try {
    return f()
  } catch (error) {
    throw toFileSyncError(error)
  }
}
