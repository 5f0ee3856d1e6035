/**
 * `filesync-livestore/react`: a `FileSyncProvider` component and hooks over the store's rows and
 * the instance's events. React (18 or newer) is an optional peer: only this entry point imports it.
 *
 * ```tsx
 * <FileSyncProvider store={store} authToken={getToken} fallback={<Spinner />}>
 *   <Gallery />
 * </FileSyncProvider>
 *
 * function Photo({ fileId }: { fileId: string }) {
 *   const url = useFileUrl(fileId)
 *   const progress = useTransferProgress(fileId)
 *   return url ? <img src={url} /> : <p>{progress ? `${progress.percent ?? 0} %` : '…'}</p>
 * }
 * ```
 *
 * @module
 */
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react'
import type { Store } from '@livestore/livestore'

import { initConfigOf, instanceKeyOf, type ProvidedFileSync, type ProviderSettings } from './config.js'
import { FileNotFoundError, NotInitializedError } from './errors.js'
import type { FileSync } from './filesync.js'
import type { ActiveTransferProgress, FileDisplayState, FileRecord, SyncStatus } from './helpers.js'
import { constant, liveFile, liveSyncStatus, transferProgressOf, urlSignature, type LiveValue } from './live.js'
import { getFileSync, initFileSync } from './singleton.js'

export type { ProviderSettings } from './config.js'

/** The props of {@link FileSyncProvider}. */
export interface FileSyncProviderProps extends ProviderSettings {
  /**
   * The LiveStore store (its schema includes `createFileSyncSchema()`). With `@livestore/react`,
   * pass the store its `useStore` answers: `useStore(storeOptions)` in 0.4.0, `useStore().store`
   * under 0.4.0-dev's `<LiveStoreProvider>`. This package does not depend on `@livestore/react`.
   */
  readonly store: Store<any>
  /** Rendered until file sync is ready (default: nothing). */
  readonly fallback?: ReactNode
  /** Rendered once file sync is ready. */
  readonly children?: ReactNode
}

const FileSyncContext = createContext<ProvidedFileSync | null>(null)

/**
 * Sets up file sync for `store` with `initFileSync` (the package's reference-counted singleton,
 * so the module-level functions such as `saveFile` work too) and renders `children` once its
 * engine is loaded (`fallback` until then). It disposes on unmount; a new store, `userId`, signer
 * URL, local-only mode or file system makes a new instance (other props are read when the
 * instance is made, except `authToken`, read before every signer call). React StrictMode's double
 * mount shares one instance. A failure to start (a schema without file sync's tables, a `.wasm`
 * that cannot be fetched) is thrown while rendering, for an error boundary to show.
 */
export function FileSyncProvider(props: FileSyncProviderProps): ReactNode {
  const latest = useRef(props)
  latest.current = props
  const [state, setState] = useState<{ readonly provided?: ProvidedFileSync; readonly error?: unknown }>({})
  const { store } = props
  useEffect(() => {
    const dispose = initFileSync(store, initConfigOf(() => latest.current))
    const fileSync = getFileSync()
    let live = true
    fileSync.ready().then(
      () => {
        if (live) setState({ provided: { store, fileSync, progress: transferProgressOf(fileSync) } })
      },
      (error: unknown) => {
        if (live) setState({ error })
      },
    )
    return () => {
      live = false
      setState({})
      void dispose()
    }
    // The instance key has a fixed length: these are its parts.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, ...instanceKeyOf(props)])
  if (state.error !== undefined) throw state.error
  if (state.provided === undefined) return props.fallback ?? null
  return createElement(FileSyncContext.Provider, { value: state.provided }, props.children)
}

function useProvided(): ProvidedFileSync {
  const provided = useContext(FileSyncContext)
  if (provided === null) {
    throw new NotInitializedError('NOT_INITIALIZED', 'the file sync hooks need a <FileSyncProvider> above them (it renders its children once file sync is ready)')
  }
  return provided
}

function useLive<T>(live: LiveValue<T>): T {
  return useSyncExternalStore(live.subscribe, live.get, live.get)
}

/** The file sync instance of the nearest {@link FileSyncProvider} (`saveFile`, `deleteFile`, …). */
export function useFileSync(): FileSync {
  return useProvided().fileSync
}

/**
 * What a UI needs to show file `fileId` (`getFileDisplayState` of its row and this client's state
 * row), re-rendered when either changes, whoever changed it; `null` while the file has no live row
 * (unknown, not synced here yet, or deleted) or `fileId` is empty.
 */
export function useFileDisplayState(fileId: string | null | undefined): FileDisplayState<FileRecord> | null {
  const { store } = useProvided()
  const live = useMemo(() => (fileId ? liveFile(store, fileId) : constant(null)), [store, fileId])
  return useLive(live)
}

/**
 * A URL to display file `fileId` (`resolveFileUrl`): the local copy's object URL, else a signed
 * remote URL, else `null`. Resolved again when the file's content, its remote copy or this
 * client's copy or transfers change (a signed URL becomes the local copy's URL once downloaded;
 * another client's update shows), and `null` once it is deleted. While a new URL resolves, the
 * previous one of the same file stays. Object URLs are the package's: `resolveFileUrl` revokes a
 * file's previous one when it makes a new one, on delete and on dispose, so the hook revokes
 * nothing itself (another component may show the same URL). A failure to resolve logs a warning
 * and answers `null` (a file without a live row answers `null` without a warning).
 */
export function useFileUrl(fileId: string | null | undefined): string | null {
  const { fileSync } = useProvided()
  const trigger = urlSignature(useFileDisplayState(fileId))
  const [shown, setShown] = useState<{ readonly fileId: string; readonly url: string | null } | null>(null)
  useEffect(() => {
    if (!fileId) return
    let live = true
    fileSync.resolveFileUrl(fileId).then(
      (url) => {
        if (live) setShown({ fileId, url })
      },
      (error: unknown) => {
        if (!live) return
        // No live file (deleted, or not synced here yet) is no failure: the answer is null.
        if (!(error instanceof FileNotFoundError)) console.warn(`[filesync] useFileUrl could not resolve ${fileId}`, error)
        setShown({ fileId, url: null })
      },
    )
    return () => {
      live = false
    }
  }, [fileSync, fileId, trigger])
  return fileId && shown?.fileId === fileId ? shown.url : null
}

/** `getSyncStatus` of this client's `localFileState` rows, re-rendered when it changes. */
export function useSyncStatus(): SyncStatus {
  const { store } = useProvided()
  const live = useMemo(() => liveSyncStatus(store), [store])
  return useLive(live)
}

/**
 * The bytes moved so far by file `fileId`'s upload or download in flight (from the
 * `upload:progress`/`download:progress` events: `{kind, loaded, total, percent}`), `null` when none
 * is. Transfers run in the tab that leads the store's sync loop: in other tabs this stays `null`.
 */
export function useTransferProgress(fileId: string | null | undefined): ActiveTransferProgress | null {
  const { progress } = useProvided()
  const live = useMemo(() => (fileId ? progress.of(fileId) : constant(null)), [progress, fileId])
  return useLive(live)
}
