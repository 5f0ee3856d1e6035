// The React page: `filesync-livestore/react` under StrictMode (the build uses React's development
// code, so the double mount really happens), driven by the tests through `window.reactApp`.
import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { FileSync, getFileMetadata, getFileSync } from 'filesync-livestore'
import { FileSyncProvider, useFileDisplayState, useFileSync, useFileUrl, useSyncStatus, useTransferProgress } from 'filesync-livestore/react'

import { openAppStore, png, sha256Of, signer, someBytes, token, viewOf } from './store.ts'

// Every instance started and disposed, whoever made it: StrictMode must not make two.
const started = new Set<FileSync>()
const disposed = new Set<FileSync>()
const start = FileSync.prototype.start
FileSync.prototype.start = function (this: FileSync) {
  started.add(this)
  return start.call(this)
}
const dispose = FileSync.prototype.dispose
FileSync.prototype.dispose = function (this: FileSync) {
  disposed.add(this)
  return dispose.call(this)
}

const store = await openAppStore()

/** What rendered, in order: the fallback, the children (with the instance they saw), file views. */
const renders: Array<{ what: 'fallback' | 'children' | 'file'; fileId?: string; url?: string | null; progress?: string }> = []
const instancesSeen = new Set<FileSync>()
/** Mount effects of the children: 2 for one mount under StrictMode's development double mount. */
let childEffects = 0
let current: FileSync | undefined
let control: { setWatched: (f: (ids: string[]) => string[]) => void; setUser: (user: string) => void } | undefined

function Fallback() {
  renders.push({ what: 'fallback' })
  return <p id="status">loading</p>
}

function FileView({ fileId }: { fileId: string }) {
  const url = useFileUrl(fileId)
  const state = useFileDisplayState(fileId)
  const progress = useTransferProgress(fileId)
  const shown = progress ? `${progress.loaded}/${progress.total}` : ''
  renders.push({ what: 'file', fileId, url, progress: shown })
  const isImage = state !== null && getFileMetadata(state.file)?.mimeType?.startsWith('image/')
  return (
    <div
      className="file"
      data-id={fileId}
      data-exists={String(state !== null)}
      data-url={url ?? ''}
      data-hash={state?.file.contentHash ?? ''}
      data-local={String(state?.hasLocalCopy ?? false)}
      data-uploaded={String(state?.isUploaded ?? false)}
      data-progress={shown}
    >
      {url && isImage ? <img src={url} /> : null}
    </div>
  )
}

function Files({ watched }: { watched: string[] }) {
  const fileSync = useFileSync()
  const status = useSyncStatus()
  renders.push({ what: 'children' })
  instancesSeen.add(fileSync)
  useEffect(() => {
    current = fileSync
  }, [fileSync])
  useEffect(() => {
    childEffects += 1
  }, [])
  return (
    <>
      <p id="status">ready</p>
      <p id="sync">{JSON.stringify({ hasPending: status.hasPending, uploading: status.uploadingCount, errors: status.errorCount })}</p>
      {watched.map((id) => (
        <FileView key={id} fileId={id} />
      ))}
    </>
  )
}

function App() {
  const [watched, setWatched] = useState<string[]>([])
  const [user, setUser] = useState('first-user')
  useEffect(() => {
    control = { setWatched, setUser }
  }, [])
  return (
    <FileSyncProvider
      store={store}
      userId={user}
      {...(signer ? { signerBaseUrl: signer, authToken: () => token } : { localOnly: true })}
      options={{ retryBaseDelayMs: 100, retryJitterMs: 0 }}
      fallback={<Fallback />}
    >
      <Files watched={watched} />
    </FileSyncProvider>
  )
}

const root = createRoot(document.getElementById('root')!)
root.render(
  <StrictMode>
    <App />
  </StrictMode>,
)

const watch = (fileId: string) => control!.setWatched((ids) => (ids.includes(fileId) ? ids : [...ids, fileId]))
const save = async (file: File) => {
  const saved = await current!.saveFile(file)
  watch(saved.fileId)
  return saved
}

;(window as any).reactApp = {
  instances: () => ({ started: started.size, disposed: disposed.size, seen: instancesSeen.size, childEffects, currentDisposed: current !== undefined && disposed.has(current) }),
  renders: (fileId?: string) => renders.filter((r) => fileId === undefined || r.fileId === fileId),
  singletonAlive: () => {
    try {
      return getFileSync() !== undefined
    } catch {
      return false
    }
  },
  saveText: (text: string) => save(new File([text], 'note.txt', { type: 'text/plain' })),
  saveImage: async (width: number, height: number) => save(await png(width, height)),
  saveBytes: (size: number, seed = 1) => save(someBytes(size, seed)),
  watch,
  view: viewOf,
  remove: (fileId: string) => current!.deleteFile(fileId),
  /** The file's row as this page's store has it (raw SQL), to tell the store from the hooks. */
  row: (id: string) => (store.query({ query: 'SELECT contentHash, deletedAt FROM files WHERE id = ?', bindValues: [id] } as any) as any[])[0] ?? null,
  hashAt: (url: string) => sha256Of(url),
  fetchFails: (url: string) => fetch(url).then(() => false, () => true),
  setUser: (user: string) => control!.setUser(user),
  unmount: () => root.unmount(),
}
