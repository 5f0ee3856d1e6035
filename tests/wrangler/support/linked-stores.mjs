// Two LiveStore stores (the package's test app schema, adapter-node, in memory) linked by the
// @livestore/sync-cf backend that `wrangler dev` runs (support/wrangler.mjs), over WebSocket, and
// what a test needs to explain a stuck sync.
//
// The settle step: with LiveStore 0.4.0 and sync-cf 0.4.0, when a store's first live pull (from the
// start of the log) overlaps another client's push, the backend can deliver that event twice on the
// pull stream; the receiving client then interrupts its pull and never starts another on the still
// open WebSocket, so it stops receiving events for good (NOTES.md, diagnose-stall.mjs; about 1 run
// in 5 to 40 without this step, none in 80 with it). Both stores are therefore left to connect and
// finish that first pull before a test writes anything.
import { StoreInternalsSymbol } from '@livestore/livestore'
import { makeWsSync } from '@livestore/sync-cf/client'
import { Effect } from 'effect'

import { openStore, until } from '../.js-support/store.mjs'

export const SETTLE_MS = 1_000

/** Opens stores A and B of `storeId` against the sync backend at `origin` (http://127.0.0.1:N). */
export async function openLinkedStores(storeId, origin) {
  const sync = () => ({ backend: makeWsSync({ url: origin.replace(/^http/, 'ws') }) })
  const a = await openStore({ storeId, clientId: 'client-a', sync: sync() })
  const b = await openStore({ storeId, clientId: 'client-b', sync: sync() })
  const connected = async (client) => (await Effect.runPromise(client.store.networkStatus.get)).isConnected
  await until('both stores to connect to the sync backend', async () => (await connected(a)) && (await connected(b)), 20_000)
  await new Promise((r) => setTimeout(r, SETTLE_MS))
  return { a, b, sync }
}

/** A store's LiveStore sync state as text: the session's status, the leader's heads and pending
 * count, and whether its WebSocket is connected. */
export async function syncInfo(store) {
  try {
    const leader = store[StoreInternalsSymbol].clientSession.leaderThread
    const state = await Effect.runPromise(leader.syncState.get)
    const net = await Effect.runPromise(store.networkStatus.get)
    return JSON.stringify({
      session: store.syncStatus(),
      leader: { localHead: state.localHead, upstreamHead: state.upstreamHead, pending: state.pending.length },
      network: { isConnected: net.isConnected },
    })
  } catch (error) {
    return `(unavailable: ${error})`
  }
}
