// LiveStore's leader worker for the large-file page of filesync-livestore, with a loopback sync
// backend (as the 0.8.0 page needs one).
import { makeWorker } from '@livestore/adapter-web/worker'

import { ours } from './schemas.ts'
import { loopbackBackend } from './sync.worker-common.ts'

makeWorker({ schema: ours.schema, sync: { backend: loopbackBackend() } })
