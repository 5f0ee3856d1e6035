/**
 * `filesync-livestore/vue`: a `FileSyncProvider` component (provide/inject) and composables over the
 * store's rows and the instance's events. Vue (3.3 or newer) is an optional peer: only this entry
 * point imports it. No dependency on `vue-livestore`: pass the store you have.
 *
 * ```vue
 * <FileSyncProvider :store="store" :auth-token="getToken">
 *   <template #fallback>Loading…</template>
 *   <Gallery />
 * </FileSyncProvider>
 *
 * <!-- Photo.vue -->
 * <script setup lang="ts">
 * const props = defineProps<{ fileId: string }>()
 * const url = useFileUrl(() => props.fileId)
 * </script>
 * <template><img v-if="url" :src="url" /></template>
 * ```
 *
 * @module
 */
import {
  defineComponent,
  inject,
  onBeforeUnmount,
  onMounted,
  provide,
  shallowRef,
  toValue,
  watch,
  type InjectionKey,
  type MaybeRefOrGetter,
  type PropType,
  type ShallowRef,
  type SlotsType,
  type VNode,
} from 'vue'
import type { Store } from '@livestore/livestore'

import { initConfigOf, instanceKeyOf, sameInstanceKey, type ProvidedFileSync } from './config.js'
import { FileNotFoundError, NotInitializedError } from './errors.js'
import type { FileSync, FileSyncOptions, FileSystemOption, RemoteOptions } from './filesync.js'
import { getSyncStatus, type ActiveTransferProgress, type FileDisplayState, type FileRecord, type SyncStatus } from './helpers.js'
import { liveFile, liveSyncStatus, transferProgressOf, urlSignature, type LiveValue } from './live.js'
import { getFileSync, initFileSync } from './singleton.js'

export type { ProviderSettings } from './config.js'

const PROVIDED: InjectionKey<Readonly<ShallowRef<ProvidedFileSync | null>>> = Symbol('filesync-livestore')

/**
 * Sets up file sync for `store` with `initFileSync` (the package's reference-counted singleton,
 * so the module-level functions such as `saveFile` work too) and renders its default slot once
 * the engine is loaded (the `fallback` slot until then). It disposes on unmount; a new store,
 * `userId`, signer URL, local-only mode or file system makes a new instance (the other props are
 * read when the instance is made, except `authToken`, read before every signer call). A failure to
 * start is thrown while rendering (for `onErrorCaptured` or the app's error handler). Props are
 * those of the React provider: `store`, `signerBaseUrl` (`"/api"`), `localOnly`, `headers`,
 * `authHeaders`, `authToken`, `includeCredentials`, `healthCheckIntervalMs`, `userId`,
 * `fileSystem`, `worker`, `options`, `autoStart`.
 */
export const FileSyncProvider = defineComponent({
  name: 'FileSyncProvider',
  props: {
    /** The LiveStore store (its schema includes `createFileSyncSchema()`). */
    store: { type: Object as PropType<Store<any>>, required: true },
    /** The signer's base URL (default `"/api"`). */
    signerBaseUrl: { type: String, default: undefined },
    /** No remote at all: files stay on this device. */
    localOnly: { type: Boolean, default: false },
    /** Extra headers for every signer call, read when the instance is made. */
    headers: { type: Object as PropType<Readonly<Record<string, string>>>, default: undefined },
    /** Called when the instance is made; its headers are added to `headers`. */
    authHeaders: { type: Function as PropType<() => Readonly<Record<string, string>>>, default: undefined },
    /** The Bearer token (a string or a getter), read before every signer call. */
    authToken: { type: [String, Function] as PropType<RemoteOptions['authToken']>, default: undefined },
    /** Send cookies to the signer. */
    includeCredentials: { type: Boolean, default: undefined },
    /** How often the remote's health is checked while offline. */
    healthCheckIntervalMs: { type: Number, default: undefined },
    /** The signed-in user: another user makes a new instance. */
    userId: { type: String, default: undefined },
    /** Where bytes are kept (default `"opfs"`). */
    fileSystem: { type: [String, Object] as PropType<FileSystemOption>, default: undefined },
    /** With OPFS, the worker downloads are written in (default true: the package's own). */
    worker: { type: [Boolean, String, Object] as PropType<boolean | string | URL>, default: undefined },
    /** Every engine option (see `initFileSync`). */
    options: { type: Object as PropType<FileSyncOptions>, default: undefined },
    /** Start syncing at once (default true). */
    autoStart: { type: Boolean, default: true },
  },
  slots: Object as SlotsType<{ default?: () => VNode[]; fallback?: () => VNode[] }>,
  setup(props, { slots }) {
    const provided = shallowRef<ProvidedFileSync | null>(null)
    const failure = shallowRef<{ readonly error: unknown } | null>(null)
    provide(PROVIDED, provided)
    let close: (() => void) | undefined
    const open = (): void => {
      const store = props.store
      const dispose = initFileSync(store, initConfigOf(() => props))
      const fileSync = getFileSync()
      let live = true
      fileSync.ready().then(
        () => {
          if (live) provided.value = { store, fileSync, progress: transferProgressOf(fileSync) }
        },
        (error: unknown) => {
          if (live) failure.value = { error }
        },
      )
      close = () => {
        live = false
        provided.value = null
        failure.value = null
        void dispose()
      }
    }
    onMounted(open)
    watch(
      () => [props.store, ...instanceKeyOf(props)],
      (now, before) => {
        if (close === undefined || sameInstanceKey(now, before)) return
        close()
        open()
      },
    )
    onBeforeUnmount(() => {
      close?.()
      close = undefined
    })
    return () => {
      if (failure.value !== null) throw failure.value.error
      return provided.value !== null ? slots.default?.() : slots.fallback?.()
    }
  },
})

function useProvided(): Readonly<ShallowRef<ProvidedFileSync | null>> {
  const provided = inject(PROVIDED, null)
  if (provided === null) {
    throw new NotInitializedError('NOT_INITIALIZED', 'the file sync composables need a <FileSyncProvider> above them, and are called in setup')
  }
  return provided
}

/** A ref that follows the {@link LiveValue} `source()` answers (`empty` while it answers `null`). */
function liveRef<T>(source: () => LiveValue<T> | null, empty: T): Readonly<ShallowRef<T>> {
  const out = shallowRef(empty) as ShallowRef<T>
  watch(
    source,
    (live, _before, onCleanup) => {
      if (live === null) {
        out.value = empty
        return
      }
      out.value = live.get()
      onCleanup(live.subscribe(() => (out.value = live.get())))
    },
    { immediate: true },
  )
  return out
}

/** The file sync instance of the nearest {@link FileSyncProvider} (`saveFile`, `deleteFile`, …). */
export function useFileSync(): FileSync {
  const provided = useProvided().value
  if (provided === null) throw new NotInitializedError('NOT_INITIALIZED', 'file sync is not ready: use it inside <FileSyncProvider>\'s default slot')
  return provided.fileSync
}

/**
 * What a UI needs to show file `fileId` (`getFileDisplayState` of its row and this client's state
 * row), updated when either changes, whoever changed it; `null` while the file has no live row
 * (unknown, not synced here yet, or deleted) or `fileId` is empty.
 */
export function useFileDisplayState(fileId: MaybeRefOrGetter<string | null | undefined>): Readonly<ShallowRef<FileDisplayState<FileRecord> | null>> {
  const provided = useProvided()
  return liveRef(() => {
    const p = provided.value
    const id = toValue(fileId)
    return p !== null && id ? liveFile(p.store, id) : null
  }, null)
}

/**
 * A URL to display file `fileId` (`resolveFileUrl`): the local copy's object URL, else a signed
 * remote URL, else `null`; resolved again when the file's content, its remote copy or this
 * client's copy or transfers change, and `null` once it is deleted. The previous URL of the same
 * file stays while a new one resolves. Object URLs are the package's (`resolveFileUrl` revokes a
 * file's previous one when it makes a new one, on delete and on dispose): nothing is revoked here.
 * A failure to resolve logs a warning and gives `null` (a file without a live row gives `null` without
 * a warning).
 */
export function useFileUrl(fileId: MaybeRefOrGetter<string | null | undefined>): Readonly<ShallowRef<string | null>> {
  const provided = useProvided()
  const state = useFileDisplayState(fileId)
  const url = shallowRef<string | null>(null)
  let shownFor: string | undefined
  watch(
    [() => provided.value?.fileSync, () => toValue(fileId), () => urlSignature(state.value)],
    ([fileSync, id], _before, onCleanup) => {
      if (fileSync === undefined || !id) {
        url.value = null
        shownFor = undefined
        return
      }
      if (shownFor !== id) url.value = null
      let live = true
      onCleanup(() => (live = false))
      fileSync.resolveFileUrl(id).then(
        (resolved) => {
          if (!live) return
          url.value = resolved
          shownFor = id
        },
        (error: unknown) => {
          if (!live) return
          // No live file (deleted, or not synced here yet) is no failure: the answer is null.
        if (!(error instanceof FileNotFoundError)) console.warn(`[filesync] useFileUrl could not resolve ${id}`, error)
          url.value = null
          shownFor = id
        },
      )
    },
    { immediate: true },
  )
  return url
}

/** `getSyncStatus` of this client's `localFileState` rows, updated when it changes. */
export function useSyncStatus(): Readonly<ShallowRef<SyncStatus>> {
  const provided = useProvided()
  return liveRef(() => {
    const p = provided.value
    return p !== null ? liveSyncStatus(p.store) : null
  }, getSyncStatus([]))
}

/**
 * The bytes moved so far by file `fileId`'s upload or download in flight (`{kind, loaded, total,
 * percent}`), `null` when none is. Transfers run in the tab that leads the store's sync loop: in
 * other tabs this stays `null`.
 */
export function useTransferProgress(fileId: MaybeRefOrGetter<string | null | undefined>): Readonly<ShallowRef<ActiveTransferProgress | null>> {
  const provided = useProvided()
  return liveRef(() => {
    const p = provided.value
    const id = toValue(fileId)
    return p !== null && id ? p.progress.of(id) : null
  }, null)
}
