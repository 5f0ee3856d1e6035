/**
 * Pure helpers over rows: sync status, display state, metadata, transfer progress, MIME patterns
 * (the names and results of `@livestore-filesync/core` 0.8.0's helpers).
 *
 * @module
 */

/** `pending | queued | inProgress | done | error`. */
export type TransferStatus = 'pending' | 'queued' | 'inProgress' | 'done' | 'error'

/** A `files` row as LiveStore's query builder returns it (dates as `Date`). */
export interface FileRecord {
  readonly id: string
  readonly path: string
  readonly remoteKey: string
  readonly contentHash: string
  readonly metadataJson: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly deletedAt: Date | null
}

/** A `localFileState` row. */
export interface LocalFileStateRow {
  readonly fileId: string
  readonly path: string
  readonly localHash: string
  readonly downloadStatus: TransferStatus | string
  readonly uploadStatus: TransferStatus | string
  readonly lastSyncError: string
}

/** A file's error in {@link SyncStatus}. */
export interface SyncError {
  readonly fileId: string
  readonly error: string
}

/** The aggregate of this client's `localFileState` rows. */
export interface SyncStatus {
  readonly uploadingCount: number
  readonly downloadingCount: number
  readonly queuedUploadCount: number
  readonly queuedDownloadCount: number
  readonly pendingUploadCount: number
  readonly pendingDownloadCount: number
  readonly errorCount: number
  readonly isSyncing: boolean
  readonly hasPending: boolean
  readonly uploadingFileIds: ReadonlyArray<string>
  readonly downloadingFileIds: ReadonlyArray<string>
  readonly queuedUploadFileIds: ReadonlyArray<string>
  readonly queuedDownloadFileIds: ReadonlyArray<string>
  readonly pendingUploadFileIds: ReadonlyArray<string>
  readonly pendingDownloadFileIds: ReadonlyArray<string>
  readonly errors: ReadonlyArray<SyncError>
}

/** Sync status of `rows` (the rows of `localFileState`, e.g. from a LiveStore query). */
export function getSyncStatus(rows: Iterable<LocalFileStateRow>): SyncStatus {
  const uploading: string[] = []
  const downloading: string[] = []
  const queuedUp: string[] = []
  const queuedDown: string[] = []
  const pendingUp: string[] = []
  const pendingDown: string[] = []
  const errors: SyncError[] = []
  for (const row of rows) {
    if (row.uploadStatus === 'inProgress') uploading.push(row.fileId)
    else if (row.uploadStatus === 'queued') queuedUp.push(row.fileId)
    else if (row.uploadStatus === 'pending') pendingUp.push(row.fileId)
    if (row.downloadStatus === 'inProgress') downloading.push(row.fileId)
    else if (row.downloadStatus === 'queued') queuedDown.push(row.fileId)
    else if (row.downloadStatus === 'pending') pendingDown.push(row.fileId)
    if ((row.uploadStatus === 'error' || row.downloadStatus === 'error') && row.lastSyncError !== '') {
      errors.push({ fileId: row.fileId, error: row.lastSyncError })
    }
  }
  return {
    uploadingCount: uploading.length,
    downloadingCount: downloading.length,
    queuedUploadCount: queuedUp.length,
    queuedDownloadCount: queuedDown.length,
    pendingUploadCount: pendingUp.length,
    pendingDownloadCount: pendingDown.length,
    errorCount: errors.length,
    isSyncing: uploading.length + downloading.length > 0,
    hasPending: uploading.length + downloading.length + queuedUp.length + queuedDown.length + pendingUp.length + pendingDown.length > 0,
    uploadingFileIds: uploading,
    downloadingFileIds: downloading,
    queuedUploadFileIds: queuedUp,
    queuedDownloadFileIds: queuedDown,
    pendingUploadFileIds: pendingUp,
    pendingDownloadFileIds: pendingDown,
    errors,
  }
}

/** What a UI needs to show one file. */
export interface FileDisplayState<F extends Pick<FileRecord, 'contentHash' | 'remoteKey'> = FileRecord> {
  readonly file: F
  readonly localState: LocalFileStateRow | undefined
  /** Bytes are here or on the remote. */
  readonly canDisplay: boolean
  /** This client holds bytes of the row's current content. */
  readonly hasLocalCopy: boolean
  /** The current content is on the remote. */
  readonly isUploaded: boolean
  readonly isUploading: boolean
  readonly isDownloading: boolean
  readonly isUploadQueued: boolean
  readonly isDownloadQueued: boolean
}

/** The display state of a file row and this client's state row for it. */
export function getFileDisplayState<F extends Pick<FileRecord, 'contentHash' | 'remoteKey'>>(
  file: F,
  localState?: LocalFileStateRow | null,
): FileDisplayState<F> {
  const local = localState ?? undefined
  const hasLocalCopy = local !== undefined && local.localHash !== '' && local.localHash === file.contentHash
  const isUploaded = file.remoteKey !== ''
  return {
    file,
    localState: local,
    canDisplay: hasLocalCopy || isUploaded,
    hasLocalCopy,
    isUploaded,
    isUploading: local?.uploadStatus === 'inProgress',
    isDownloading: local?.downloadStatus === 'inProgress',
    isUploadQueued: local?.uploadStatus === 'queued',
    isDownloadQueued: local?.downloadStatus === 'queued',
  }
}

/** The JSON kept in `files.metadataJson`. */
export interface FileMetadata {
  readonly mimeType?: string
  readonly sizeBytes?: number
  readonly name?: string
  readonly image?: { readonly width: number; readonly height: number }
  readonly custom?: Readonly<Record<string, unknown>>
  readonly [key: string]: unknown
}

/** `metadataJson` parsed; `null` when absent or not a JSON object. */
export function parseFileMetadata(json: string | null | undefined): FileMetadata | null {
  if (json == null || json === '') return null
  try {
    const value: unknown = JSON.parse(json)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as FileMetadata) : null
  } catch {
    return null
  }
}

/** A file row's metadata (see {@link parseFileMetadata}). */
export function getFileMetadata(file: Pick<FileRecord, 'metadataJson'>): FileMetadata | null {
  return parseFileMetadata(file.metadataJson)
}

/** Byte progress of one transfer. */
export interface ActiveTransferProgress {
  readonly fileId: string
  readonly kind: 'upload' | 'download'
  readonly loaded: number
  readonly total: number
  /** 0–100, rounded; `null` when the total is unknown (0). */
  readonly percent: number | null
}

/** Active transfers by file id. */
export type ActiveTransfers = Readonly<Record<string, ActiveTransferProgress>>

/** One transfer's progress. */
export function createActiveTransferProgress(
  fileId: string,
  kind: 'upload' | 'download',
  loaded: number,
  total: number,
): ActiveTransferProgress {
  return { fileId, kind, loaded, total, percent: total > 0 ? Math.round((loaded / total) * 100) : null }
}

/** `transfers` with `progress` set for its file. */
export function updateActiveTransfers(transfers: ActiveTransfers, progress: ActiveTransferProgress): ActiveTransfers {
  return { ...transfers, [progress.fileId]: progress }
}

/** `transfers` without `fileId`. */
export function removeActiveTransfer(transfers: ActiveTransfers, fileId: string): ActiveTransfers {
  if (!(fileId in transfers)) return transfers
  const { [fileId]: _removed, ...rest } = transfers
  return rest
}

/** The sum over `transfers`. */
export function computeTotalProgress(transfers: ActiveTransfers): {
  totalLoaded: number
  totalSize: number
  percent: number | null
  count: number
} {
  let totalLoaded = 0
  let totalSize = 0
  let count = 0
  for (const t of Object.values(transfers)) {
    totalLoaded += t.loaded
    totalSize += t.total
    count += 1
  }
  return { totalLoaded, totalSize, percent: totalSize > 0 ? Math.round((totalLoaded / totalSize) * 100) : null, count }
}

/** Whether `mimeType` matches `pattern` (`*`, `*\/*`, `type/*` or exact; case-insensitive). */
export function matchMimeType(pattern: string, mimeType: string): boolean {
  const p = pattern.trim().toLowerCase()
  const m = mimeType.trim().toLowerCase()
  if (p === '*' || p === '*/*') return true
  if (p.endsWith('/*')) return m.startsWith(p.slice(0, -1))
  return p === m
}

/** A preprocessor's answer: the processed file, optionally with metadata to record. */
export type FilePreprocessorResult = File | Blob | { readonly file: File | Blob; readonly metadata?: Record<string, unknown> }

/** Runs before hashing: the hash, stored bytes and upload are of what it returns. */
export type FilePreprocessor = (file: File | Blob) => Promise<FilePreprocessorResult>

/** Preprocessors by MIME pattern. */
export type PreprocessorMap = Readonly<Record<string, FilePreprocessor>>

/** The preprocessor for `mimeType`: exact, then `type/*`, then `*`, then `*\/*`. */
export function findPreprocessor(map: PreprocessorMap | undefined, mimeType: string): FilePreprocessor | undefined {
  if (map === undefined) return undefined
  const m = mimeType.trim().toLowerCase()
  const entries = Object.entries(map).map(([k, v]) => [k.trim().toLowerCase(), v] as const)
  const exact = entries.find(([k]) => k === m)
  if (exact) return exact[1]
  const slash = m.indexOf('/')
  if (slash > 0) {
    const wildcard = entries.find(([k]) => k === `${m.slice(0, slash)}/*`)
    if (wildcard) return wildcard[1]
  }
  return entries.find(([k]) => k === '*')?.[1] ?? entries.find(([k]) => k === '*/*')?.[1]
}
