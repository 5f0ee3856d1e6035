// The Vue page: `filesync-livestore/vue` (render functions, no SFC), driven by the tests through
// `window.vueApp`.
import { createApp, defineComponent, h, reactive } from 'vue'
import { getFileMetadata, type FileSync } from 'filesync-livestore'
import { FileSyncProvider, useFileDisplayState, useFileSync, useFileUrl, useSyncStatus, useTransferProgress } from 'filesync-livestore/vue'

import { openAppStore, sha256Of, signer, someBytes, token, viewOf } from './store.ts'

const store = await openAppStore()

const watched = reactive<string[]>([])
let current: FileSync | undefined
const progressSeen: Array<{ fileId: string; progress: string }> = []

const FileView = defineComponent({
  props: { fileId: { type: String, required: true } },
  setup(props) {
    const url = useFileUrl(() => props.fileId)
    const state = useFileDisplayState(() => props.fileId)
    const progress = useTransferProgress(() => props.fileId)
    return () => {
      const s = state.value
      const p = progress.value
      const shown = p ? `${p.loaded}/${p.total}` : ''
      progressSeen.push({ fileId: props.fileId, progress: shown })
      const isImage = s !== null && getFileMetadata(s.file)?.mimeType?.startsWith('image/')
      return h(
        'div',
        {
          class: 'file',
          'data-id': props.fileId,
          'data-exists': String(s !== null),
          'data-url': url.value ?? '',
          'data-hash': s?.file.contentHash ?? '',
          'data-local': String(s?.hasLocalCopy ?? false),
          'data-uploaded': String(s?.isUploaded ?? false),
          'data-progress': shown,
        },
        url.value && isImage ? [h('img', { src: url.value })] : [],
      )
    }
  },
})

const Files = defineComponent({
  setup() {
    current = useFileSync()
    const status = useSyncStatus()
    return () => [
      h('p', { id: 'status' }, 'ready'),
      h('p', { id: 'sync' }, JSON.stringify({ hasPending: status.value.hasPending, uploading: status.value.uploadingCount, errors: status.value.errorCount })),
      ...watched.map((id) => h(FileView, { key: id, fileId: id })),
    ]
  },
})

const App = defineComponent({
  setup() {
    const remote = signer ? { signerBaseUrl: signer, authToken: () => token } : { localOnly: true }
    return () =>
      h(
        FileSyncProvider,
        { store, ...remote, options: { retryBaseDelayMs: 100, retryJitterMs: 0 } },
        { default: () => [h(Files)], fallback: () => [h('p', { id: 'status' }, 'loading')] },
      )
  },
})

createApp(App).mount('#root')

const watch = (fileId: string) => {
  if (!watched.includes(fileId)) watched.push(fileId)
}

;(window as any).vueApp = {
  saveBytes: async (size: number, seed = 1) => {
    const saved = await current!.saveFile(someBytes(size, seed))
    watch(saved.fileId)
    return saved
  },
  watch,
  view: viewOf,
  progressSeen: (fileId: string) => progressSeen.filter((p) => p.fileId === fileId).map((p) => p.progress),
  hashAt: (url: string) => sha256Of(url),
  textAt: async (url: string) => (await fetch(url)).text(),
  remove: (fileId: string) => current!.deleteFile(fileId),
}
