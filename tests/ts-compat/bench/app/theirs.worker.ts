// LiveStore's leader worker for the page of @livestore-filesync/core 0.8.0.
import { makeWorker } from '@livestore/adapter-web/worker'

import { theirs } from './schemas.ts'

makeWorker({ schema: theirs.schema })
