// LiveStore's leader worker for the large-file page of @livestore-filesync/core 0.8.0, with a
// loopback sync backend.
import { makeWorker } from '@livestore/adapter-web/worker'

import { theirs } from './schemas.ts'
import { loopbackBackend } from './sync.worker-common.ts'

makeWorker({ schema: theirs.schema, sync: { backend: loopbackBackend() } })
