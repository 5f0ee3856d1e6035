// A loopback LiveStore sync backend for a page's leader worker (the in-process hub of the package's
// tests, here with one client): every pushed event comes back through the live pull, as from a
// server. @livestore-filesync/core 0.8.0 starts its uploads only from events that come back this
// way (store.eventsStream), so its large-file benchmark needs one; ours gets the same for fairness.
// @ts-ignore: a JS module copied next to this project's tests by ../../run.sh
import { makeSyncHub } from '../../support/sync-hub.mjs'

/** A fresh hub's backend, for `makeWorker({ sync: { backend } })`. */
export const loopbackBackend = () => makeSyncHub().backend
