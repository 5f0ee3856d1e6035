// The gallery's small Vue page: the same store (schema, sync backend, OPFS) through the Vue
// provider and composables of filesync-livestore: add files, see them with their state.
import { createStorePromise, queryDb } from '@livestore/livestore'
import { FileSyncProvider, useFileSync, useFileUrl, useSyncStatus } from 'filesync-livestore/vue'
import { computed, createApp, defineComponent, h, onUnmounted, shallowRef } from 'vue'

import { imageSize } from './preprocess.ts'
import { events, tables } from './schema.ts'
import { galleryStore } from './store.ts'
import './styles.css'

const store = await createStorePromise(galleryStore)
const items$ = queryDb(tables.items.where({ deletedAt: null }).orderBy('createdAt', 'desc'), { label: 'vue-items' })

/** The items, kept current with `store.subscribe`. */
function useItems() {
  const items = shallowRef(store.query(items$))
  const off = store.subscribe(items$, (rows) => (items.value = rows))
  onUnmounted(off)
  return items
}

const Item = defineComponent({
  props: { fileId: { type: String, required: true }, title: { type: String, required: true } },
  setup(props) {
    const url = useFileUrl(() => props.fileId)
    return () =>
      h('li', { class: 'card', 'data-file-id': props.fileId }, [
        h('div', { class: 'preview' }, url.value ? h('img', { src: url.value, alt: props.title }) : h('span', { class: 'placeholder' }, 'Loading…')),
        h('div', { class: 'details' }, [h('p', { class: 'name' }, props.title)]),
      ])
  },
})

const Gallery = defineComponent({
  setup() {
    const fileSync = useFileSync()
    const status = useSyncStatus()
    const items = useItems()
    const moving = computed(() => status.value.uploadingCount + status.value.downloadingCount)
    const add = async (files: FileList | null) => {
      for (const file of Array.from(files ?? [])) {
        const saved = await fileSync.saveFile(file)
        store.commit(events.itemAdded({ id: crypto.randomUUID(), fileId: saved.fileId, title: file.name, createdAt: new Date() }))
      }
    }
    return () =>
      h('main', { class: 'shell' }, [
        h('header', { class: 'top' }, [
          h('div', [h('h1', 'Gallery (Vue)'), h('p', { class: 'subtitle' }, `${items.value.length} files · ${moving.value} moving`)]),
        ]),
        h('section', { class: 'drop' }, [
          h('label', ['Add files ', h('input', { type: 'file', multiple: true, 'data-testid': 'file-input', onChange: (e: Event) => add((e.target as HTMLInputElement).files) })]),
        ]),
        h(
          'ul',
          { class: 'grid', 'aria-label': 'Files' },
          items.value.map((item) => h(Item, { key: item.id, fileId: item.fileId, title: item.title })),
        ),
      ])
  },
})

createApp(
  defineComponent({
    setup: () => () =>
      h(
        FileSyncProvider,
        { store, signerBaseUrl: '/api', options: { preprocessors: { 'image/*': imageSize } } },
        { default: () => [h(Gallery)], fallback: () => [h('p', { class: 'loading' }, 'Starting file sync…')] },
      ),
  }),
).mount('#root')
