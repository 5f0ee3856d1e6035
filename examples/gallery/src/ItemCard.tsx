// One item: its preview (an image, its space reserved from the metadata) or a card with name, type
// and size; its sync state with a progress bar while bytes move; replace, delete, and retry after
// an error. Everything about the file comes from the package's hooks.
import { useStore } from '@livestore/react'
import { useFileDisplayState, useFileSync, useFileUrl, useTransferProgress } from 'filesync-livestore/react'
import { useRef, useState } from 'react'

import { formatBytes, metaOf } from './format.ts'
import { events } from './schema.ts'
import { galleryStore } from './store.ts'

interface Item {
  readonly id: string
  readonly fileId: string
  readonly title: string
}

export function ItemCard({ item }: { item: Item }) {
  const store = useStore(galleryStore)
  const fileSync = useFileSync()
  const display = useFileDisplayState(item.fileId)
  const url = useFileUrl(item.fileId)
  const progress = useTransferProgress(item.fileId)
  const replace = useRef<HTMLInputElement>(null)
  const [busy, setBusy] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)

  const meta = metaOf(display?.file.metadataJson)
  const type = meta.mimeType ?? 'application/octet-stream'
  const name = meta.name ?? item.title
  const isImage = type.startsWith('image/')
  const error = display?.localState?.lastSyncError ?? ''
  const state = stateOf(display, progress, error)

  const act = async (what: () => Promise<unknown>) => {
    setBusy(true)
    setProblem(null)
    try {
      await what()
    } catch (e) {
      setProblem((e as Error).message)
    } finally {
      setBusy(false)
    }
  }

  return (
    <li className="card" data-file-id={item.fileId} data-state={state.key}>
      <div className="preview" style={isImage && meta.image ? { aspectRatio: `${meta.image.width} / ${meta.image.height}` } : undefined}>
        {isImage && url ? (
          <img src={url} alt={name} loading="lazy" />
        ) : isImage ? (
          <span className="placeholder">{display?.canDisplay === false ? 'Not available yet' : 'Loading…'}</span>
        ) : (
          <span className="kind">{kindOf(type, name)}</span>
        )}
      </div>
      <div className="details">
        <p className="name" title={name}>
          {url && !isImage ? (
            <a href={url} download={name}>
              {name}
            </a>
          ) : (
            name
          )}
        </p>
        <p className="facts">
          {type} · {meta.sizeBytes !== undefined ? formatBytes(meta.sizeBytes) : '–'}
          {meta.image ? ` · ${meta.image.width}×${meta.image.height}` : ''}
        </p>
        <p className={`state state-${state.key}`} aria-live="polite">
          {state.label}
        </p>
        {progress && (
          <progress max={100} value={progress.percent ?? undefined} aria-label={`${progress.kind} progress`}>
            {progress.percent ?? 0}%
          </progress>
        )}
        {(error || problem) && (
          <p className="problem" role="alert">
            {problem ?? error}
          </p>
        )}
        <div className="actions">
          {error && (
            <button type="button" disabled={busy} onClick={() => act(() => fileSync.retryErrors())}>
              Retry
            </button>
          )}
          <button type="button" disabled={busy} onClick={() => replace.current?.click()}>
            Replace…
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() =>
              act(async () => {
                await fileSync.deleteFile(item.fileId)
                store.commit(events.itemRemoved({ id: item.id, deletedAt: new Date() }))
              })
            }
          >
            Delete
          </button>
          <input
            ref={replace}
            type="file"
            hidden
            aria-label={`Replace ${name}`}
            onChange={(e) => {
              const file = e.target.files?.[0]
              e.target.value = ''
              if (file) void act(() => fileSync.updateFile(item.fileId, file))
            }}
          />
        </div>
      </div>
    </li>
  )
}

type Display = ReturnType<typeof useFileDisplayState>
type Progress = ReturnType<typeof useTransferProgress>

/** The one line of state a person needs. */
function stateOf(display: Display, progress: Progress, error: string): { key: string; label: string } {
  if (error) {
    const local = display?.localState
    const gaveUp = local?.uploadStatus === 'error' || local?.downloadStatus === 'error'
    // A failed transfer is tried again a few times before it is given up.
    return gaveUp ? { key: 'error', label: 'Sync failed' } : { key: 'retrying', label: 'Failed; trying again soon' }
  }
  if (!display) return { key: 'missing', label: 'Removed' }
  if (progress?.kind === 'upload' || display.isUploading) return { key: 'uploading', label: `Uploading${pct(progress)}` }
  if (progress?.kind === 'download' || display.isDownloading) return { key: 'downloading', label: `Downloading${pct(progress)}` }
  if (display.isUploadQueued) return { key: 'upload-queued', label: 'Waiting to upload' }
  if (display.isDownloadQueued) return { key: 'download-queued', label: 'Waiting to download' }
  if (display.hasLocalCopy && display.isUploaded) return { key: 'synced', label: 'Synced' }
  if (display.hasLocalCopy) return { key: 'local', label: 'On this device' }
  if (display.isUploaded) return { key: 'remote', label: 'On the server' }
  return { key: 'pending', label: 'Pending' }
}

const pct = (progress: Progress) => (progress?.percent != null ? ` ${progress.percent}%` : '…')

/** A short label for a non-image file: its extension, else its type. */
function kindOf(type: string, name: string): string {
  const ext = name.includes('.') ? name.split('.').pop()! : ''
  return (ext || type.split('/').pop() || 'file').slice(0, 6).toUpperCase()
}
