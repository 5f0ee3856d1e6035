// The gallery: a header with the sync panel and the switches, a drop zone and a file picker, and a
// grid of items, newest first. Items reference files by `fileId`; the package does the rest.
import { queryDb } from '@livestore/livestore'
import { useStore } from '@livestore/react'
import { FileSyncProvider, useFileSync } from 'filesync-livestore/react'
import { useCallback, useRef, useState } from 'react'

import { ItemCard } from './ItemCard.tsx'
import { imageSize } from './preprocess.ts'
import { StatusPanel } from './StatusPanel.tsx'
import { events, tables } from './schema.ts'
import { galleryStore, params } from './store.ts'

const LOCAL_ONLY_KEY = 'gallery:local-only'

/**
 * `?uploads=N&downloads=N` set how many transfers of each kind run at once, `?graceMs=N` how long
 * a remote delete waits, `?retries=N` how often a failed transfer is tried again (defaults: the
 * package's).
 */
const limit = (name: string) => {
  const n = Number(params.get(name))
  return Number.isInteger(n) && n > 0 ? n : undefined
}
const transferLimits = {
  ...(limit('uploads') ? { maxConcurrentUploads: limit('uploads') } : {}),
  ...(limit('downloads') ? { maxConcurrentDownloads: limit('downloads') } : {}),
  ...(limit('graceMs') ? { deleteGracePeriodMs: limit('graceMs') } : {}),
  ...(params.has('retries') && Number.isInteger(Number(params.get('retries'))) ? { maxRetries: Number(params.get('retries')) } : {}),
}

export function App() {
  const store = useStore(galleryStore)
  const [localOnly, setLocalOnly] = useState(() => params.get('localOnly') === '1' || localStorage.getItem(LOCAL_ONLY_KEY) === '1')
  const switchLocalOnly = (on: boolean) => {
    localStorage.setItem(LOCAL_ONLY_KEY, on ? '1' : '0')
    setLocalOnly(on)
  }
  return (
    <FileSyncProvider
      store={store}
      signerBaseUrl="/api"
      localOnly={localOnly}
      healthCheckIntervalMs={3000}
      options={{ preprocessors: { 'image/*': imageSize }, ...transferLimits }}
      fallback={<p className="loading">Starting file sync…</p>}
    >
      <Gallery localOnly={localOnly} onLocalOnly={switchLocalOnly} />
    </FileSyncProvider>
  )
}

const liveItems$ = queryDb(tables.items.where({ deletedAt: null }).orderBy('createdAt', 'desc'), { label: 'items' })

function Gallery({ localOnly, onLocalOnly }: { localOnly: boolean; onLocalOnly: (on: boolean) => void }) {
  const store = useStore(galleryStore)
  const fileSync = useFileSync()
  const items = store.useQuery(liveItems$)
  const [dragging, setDragging] = useState(false)
  const [problem, setProblem] = useState<string | null>(null)
  const picker = useRef<HTMLInputElement>(null)

  const add = useCallback(
    async (files: Iterable<File>) => {
      setProblem(null)
      const failed: string[] = []
      await Promise.all(
        Array.from(files, async (file) => {
          try {
            const saved = await fileSync.saveFile(file)
            store.commit(events.itemAdded({ id: crypto.randomUUID(), fileId: saved.fileId, title: file.name, createdAt: new Date() }))
          } catch (error) {
            failed.push(`${file.name}: ${(error as Error).message}`)
          }
        }),
      )
      if (failed.length) setProblem(`Could not add ${failed.join('; ')}`)
    },
    [fileSync, store],
  )

  return (
    <main className="shell">
      <header className="top">
        <div>
          <h1>Gallery</h1>
          <p className="subtitle">Files live on this device first and sync in the background.</p>
        </div>
        <StatusPanel localOnly={localOnly} onLocalOnly={onLocalOnly} />
      </header>

      <section
        className={`drop ${dragging ? 'drop-active' : ''}`}
        aria-label="Add files"
        onDragOver={(e) => {
          e.preventDefault()
          setDragging(true)
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault()
          setDragging(false)
          void add(e.dataTransfer.files)
        }}
      >
        <p>Drop files here, or</p>
        <button type="button" className="primary" onClick={() => picker.current?.click()}>
          Choose files…
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? [])
            e.target.value = ''
            void add(files)
          }}
        />
      </section>
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}

      {items.length === 0 ? (
        <p className="empty">No files yet. Add a few: photos show as previews, anything else as a card.</p>
      ) : (
        <ul className="grid" aria-label="Files">
          {items.map((item) => (
            <ItemCard key={item.id} item={item} />
          ))}
        </ul>
      )}
    </main>
  )
}
