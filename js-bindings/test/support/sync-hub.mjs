// An in-process LiveStore sync backend that hands every accepted push to every connected client
// (LiveStore's own mock backend gives each event to one puller only, so two stores never converge
// through it). Delivery to one client can be held back and released, to order events on purpose.
// Pushed events are kept and delivered as JSON (a round trip through JSON.stringify/parse), as a
// network backend would: keys whose value is `undefined` do not survive it, and 0.4.0-dev.23
// compares a client's pending events with their pulled copies by plain deepEqual. tests/ts-compat
// uses this same file (copied next to its tests, so that it resolves that project's LiveStore).
import { ServerAheadError, SyncBackend } from '@livestore/common'
import { Effect, Option, PubSub, Stream, SubscriptionRef } from 'effect'

/** A hub: pass `hub.backend` as an adapter's `sync: { backend }`. */
export function makeSyncHub() {
  const events = []
  const pushed = [] // the same events as their clients pushed them, before the JSON round trip
  const pubsub = Effect.runSync(PubSub.unbounded())
  const lock = Effect.runSync(Effect.makeSemaphore(1))
  const held = new Map() // clientId -> { waiting: [], resume }
  const head = () => (events.length === 0 ? 0 : events.at(-1).seqNum)
  const page = (batch) => ({
    batch: batch.map((eventEncoded) => ({ eventEncoded, metadata: Option.none() })),
    pageInfo: SyncBackend.pageInfoNoMore,
  })
  // Waits while delivery to `clientId` is held.
  const gate = (clientId) =>
    Effect.promise(() => held.get(clientId)?.released ?? Promise.resolve())

  const backend = ({ clientId }) =>
    Effect.gen(function* () {
      const isConnected = yield* SubscriptionRef.make(true)
      return SyncBackend.of({
        isConnected,
        connect: Effect.void,
        ping: Effect.void,
        metadata: { name: 'test-sync-hub', description: 'in-process broadcast backend for tests' },
        supports: { pullPageInfoKnown: true, pullLive: true },
        pull: (cursor, options) =>
          Stream.unwrapScoped(
            Effect.gen(function* () {
              const since = Option.match(cursor, { onNone: () => 0, onSome: (c) => c.eventSequenceNumber })
              // Subscribe before the snapshot, so nothing falls in between.
              const live = options?.live ? yield* PubSub.subscribe(pubsub) : undefined
              yield* gate(clientId)
              const snapshot = events.filter((e) => e.seqNum > since)
              const snapshotHead = snapshot.length ? snapshot.at(-1).seqNum : since
              const first = Stream.make(page(snapshot))
              if (!live) return first
              const rest = Stream.fromQueue(live).pipe(
                Stream.filter((e) => e.seqNum > snapshotHead),
                Stream.chunks,
                Stream.mapEffect((chunk) => gate(clientId).pipe(Effect.as(page([...chunk])))),
              )
              return Stream.concat(first, rest)
            }),
          ),
        push: (batch) =>
          Effect.gen(function* () {
            if (batch[0].seqNum !== head() + 1) {
              return yield* new ServerAheadError({ minimumExpectedNum: head() + 1, providedNum: batch[0].seqNum })
            }
            const wire = JSON.parse(JSON.stringify(batch))
            pushed.push(...batch)
            events.push(...wire)
            yield* PubSub.publishAll(pubsub, wire)
          }).pipe(lock.withPermits(1)),
      })
    })

  return {
    backend,
    events,
    pushed,
    /** Holds back what is delivered to `clientId` until `release(clientId)`. */
    hold(clientId) {
      if (held.has(clientId)) return
      let release
      const released = new Promise((r) => (release = r))
      held.set(clientId, { released, release })
    },
    /** Delivers what was held back for `clientId`, and everything after. */
    release(clientId) {
      held.get(clientId)?.release()
      held.delete(clientId)
    },
  }
}
