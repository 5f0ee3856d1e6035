// The LiveStore sync backend of the example app, run locally by `wrangler dev` (scripts/demo):
// @livestore/sync-cf's Durable Object keeps each store's event log (DO SQLite) and pushes new events
// to every client connected over WebSocket; the Worker routes LiveStore sync requests
// (`?storeId=...&transport=ws`) to the store's Durable Object and answers anything else with 404.
import { handleSyncRequest, makeDurableObject, matchSyncRequest } from '@livestore/sync-cf/cf-worker'

export class SyncBackendDO extends makeDurableObject() {}

export default {
  async fetch(request, env, ctx) {
    const searchParams = matchSyncRequest(request)
    if (searchParams !== undefined) {
      return handleSyncRequest({ request, searchParams, env, ctx, syncBackendBinding: 'SYNC_BACKEND_DO' })
    }
    return new Response('not a LiveStore sync request', { status: 404 })
  },
}
