// The app's store: LiveStore's web adapter (OPFS) with its leader worker. The store id comes from
// `?store=` (the demo's default is "gallery"), so one origin can hold several galleries.
import { makePersistedAdapter } from '@livestore/adapter-web'
import LiveStoreSharedWorker from '@livestore/adapter-web/shared-worker?sharedworker'
import { storeOptions } from '@livestore/livestore'
import { unstable_batchedUpdates as batchUpdates } from 'react-dom'

import LiveStoreWorker from './livestore.worker.ts?worker'
import { schema } from './schema.ts'

export const params = new URLSearchParams(location.search)
export const storeId = params.get('store') ?? 'gallery'

const adapter = makePersistedAdapter({ storage: { type: 'opfs' }, worker: LiveStoreWorker, sharedWorker: LiveStoreSharedWorker })

export const galleryStore = storeOptions({ storeId, schema, adapter, batchUpdates, disableDevtools: true })
