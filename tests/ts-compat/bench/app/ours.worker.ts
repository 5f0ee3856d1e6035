// LiveStore's leader worker for the page of filesync-livestore.
import { makeWorker } from '@livestore/adapter-web/worker'

import { ours } from './schemas.ts'

makeWorker({ schema: ours.schema })
