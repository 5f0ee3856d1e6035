// What the test app's pages share: the URL's settings, the store (LiveStore's web adapter: OPFS,
// leader worker, shared worker) and small helpers for the tests.
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { createStorePromise } from '@livestore/livestore'

import LiveStoreWorker from './livestore.worker.ts?worker'
import { schema } from './schema.ts'

/** The page's URL parameters: `store`, `signer` (none: local-only), `token`, `start`. */
export const params = new URLSearchParams(location.search)
/** The store's id. */
export const storeId = params.get('store') ?? 'browser-test'
/** The signer's base URL, or null. */
export const signer = params.get('signer')
/** The signer's token. */
export const token = params.get('token') ?? ''

/** Opens the page's store. */
export function openAppStore() {
  const adapter = makePersistedAdapter({
    storage: { type: 'opfs' },
    worker: LiveStoreWorker,
    sharedWorker: LiveStoreSharedWorker,
  })
  return createStorePromise({ adapter, schema, storeId, disableDevtools: true })
}

/** A PNG of `width` x `height` pixels. */
export async function png(width: number, height: number): Promise<File> {
  const canvas = new OffscreenCanvas(width, height)
  const context = canvas.getContext('2d')!
  context.fillStyle = `rgb(${width * 40 % 256}, ${height * 60 % 256}, 120)`
  context.fillRect(0, 0, width, height)
  return new File([await canvas.convertToBlob({ type: 'image/png' })], `${width}x${height}.png`, { type: 'image/png' })
}

/** `size` bytes, different for each `seed`. */
export function someBytes(size: number, seed: number): File {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 7) & 0xff
  return new File([bytes], `bytes-${seed}.bin`, { type: 'application/octet-stream' })
}

/** The SHA-256 (hex) of what `url` answers. */
export async function sha256Of(url: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await (await fetch(url)).arrayBuffer())
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** What a file view of the React or Vue page shows (its data attributes), or null. */
export function viewOf(fileId: string) {
  const element = document.querySelector<HTMLElement>(`.file[data-id="${fileId}"]`)
  if (element === null) return null
  const img = element.querySelector('img')
  return {
    exists: element.dataset.exists === 'true',
    url: element.dataset.url ?? '',
    hash: element.dataset.hash ?? '',
    local: element.dataset.local === 'true',
    uploaded: element.dataset.uploaded === 'true',
    progress: element.dataset.progress ?? '',
    image: img !== null && img.complete && img.naturalWidth > 0 ? { width: img.naturalWidth, height: img.naturalHeight } : null,
  }
}
