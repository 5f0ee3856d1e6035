// LiveStore's leader worker: the app's schema, synced through the LiveStore sync backend that the
// page's own server forwards at `/sync` (scripts/demo: `wrangler dev` with @livestore/sync-cf).
import { makeWorker } from '@livestore/adapter-web/worker'
import { makeWsSync } from '@livestore/sync-cf/client'

import { schema } from './schema.ts'

const url = new URL('/sync', self.location.origin)
url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'

makeWorker({ schema, sync: { backend: makeWsSync({ url: url.href }) } })
