// Informer: list + watch of one resource into a cache, notifying handlers of every change.
//
// Why our own loop instead of client-node's ListWatch/makeInformer: ListWatch stops for good on any
// non-410 error, has no inactivity timeout, does not paginate its relist, keeps managedFields and
// cannot decode. This loop is plain Effect code over KubeClient.list/watch, so it is interruptible,
// testable with TestClock and a fake client, and supervised by construction.
//
// Guarantees:
// - never stops on its own: every failure (network, 5xx, 410, malformed event, inactivity, a
//   throwing handler) ends the current round and a new one starts after a backoff of
//   0.8 s·2^n (jittered ×0.8–1.2, capped at 30 s); the backoff resets after 2 min of healthy watch;
// - after a watch ends cleanly (server timeout, randomised 5–10 min) it resumes from the last seen
//   resourceVersion (bookmarks keep it fresh) without a relist; on 410 Gone it relists;
// - a relist diffs against the cache: objects gone from the list are delivered as deletes, changed
//   ones as updates (by resourceVersion), new ones as adds, so no change is lost across outages;
// - a watch silent for `inactivityTimeoutMs` (90 s; bookmarks arrive about every minute) is
//   abandoned and reopened: half-open TCP connections cannot stall the cache;
// - an object that fails to decode is reported once per resourceVersion (onDecodeError) and not
//   stored; the last good version stays in the cache; its deletion is still delivered;
// - handlers run synchronously right after the cache write, in event order; `subscribe` with
//   `replay` delivers the current contents first, atomically, so no event falls between the two.
import { Clock, Deferred, Effect, Random, Result, Stream } from "effect"
import type { KubeClientShape, WatchEvent } from "../kube/client.ts"
import type { Decoder } from "../kube/decode.ts"
import { describeError, Gone, type KubeError, Transient } from "../kube/errors.ts"
import { type KubeObject, objectKey, stripManagedFields } from "../kube/objects.ts"
import { type ResourceDescriptor, resourceId } from "../kube/resources.ts"
import {
  defaultWatchBackoff,
  jitteredMs,
  type WatchBackoff,
  watchRetryDelayMs,
  watchTimeoutSeconds,
} from "./backoff.ts"
import { type CacheReader, type Indexers, Store } from "./cache.ts"

/** What to watch, how to decode it and how to index it. Sources with equal `id` share one informer. */
export interface InformerSource<T> {
  readonly resource: ResourceDescriptor
  /** Restricts the watch to one namespace; undefined = all namespaces. */
  readonly namespace?: string | undefined
  readonly labelSelector?: string | undefined
  readonly fieldSelector?: string | undefined
  readonly decode?: Decoder<T> | undefined
  /**
   * Applied to every received object before anything else (client-go's SetTransform): list items page
   * by page, watch events one by one. What it drops is never cached, logged or handed to a handler.
   * Must be idempotent and must keep `metadata` (name, namespace, resourceVersion).
   */
  readonly transform?: ((obj: KubeObject) => KubeObject) | undefined
  readonly indexers?: Indexers<T> | undefined
}

export const sourceId = (
  s: Pick<InformerSource<unknown>, "resource" | "namespace" | "labelSelector" | "fieldSelector">,
): string =>
  [resourceId(s.resource), s.namespace ?? "", s.labelSelector ?? "", s.fieldSelector ?? ""].join("|")

export interface InformerEvent<T> {
  readonly type: "add" | "update" | "delete"
  readonly key: string
  /** The new object; for deletes the last known state. */
  readonly obj: T
  /** The previous object (updates only). */
  readonly old?: T | undefined
  /** From the first list or a subscription replay (processed after real changes). */
  readonly initial: boolean
  /** A periodic resync re-delivery of an unchanged object. */
  readonly resync: boolean
}

export type Handler<T> = (ev: InformerEvent<T>) => void

export interface InformerMetrics {
  readonly watchRestart?: (reason: "closed" | "error" | "inactive" | "gone") => void
  readonly relist?: () => void
  readonly decodeFailure?: () => void
}

export interface InformerOptions {
  readonly inactivityTimeoutMs?: number
  readonly backoff?: WatchBackoff
  /** Re-deliver every cached object as a `resync` update this often (jittered ±10%); 0 = never. */
  readonly resyncPeriodMs?: number
  readonly metrics?: InformerMetrics
  /** Called for an object that fails to decode (log + Event); must not fail. */
  readonly onDecodeError?: (raw: KubeObject, lines: ReadonlyArray<string>) => Effect.Effect<void>
}

export interface Informer<T> {
  readonly id: string
  readonly source: InformerSource<T>
  readonly cache: CacheReader<T>
  /** Registers a handler; with `replay`, first delivers every cached object as an initial add. */
  readonly subscribe: (handler: Handler<T>, options?: { readonly replay?: boolean }) => () => void
  /** Adds indexers (before or after start; existing objects are indexed at once). */
  readonly addIndexers: (indexers: Indexers<T>) => void
  readonly hasSynced: () => boolean
  readonly waitForSync: Effect.Effect<void>
  /** The supervised list/watch loop; runs until interrupted. */
  readonly run: Effect.Effect<never>
}

class WatchInactive extends Transient {}

export const makeInformer = <T>(
  client: KubeClientShape,
  source: InformerSource<T>,
  options: InformerOptions = {},
): Effect.Effect<Informer<T>> =>
  Effect.gen(function* () {
    const id = sourceId(source)
    const store = new Store<T>(source.indexers ?? {})
    const handlers = new Set<Handler<T>>()
    const synced = yield* Deferred.make<void>()
    const backoff = options.backoff ?? defaultWatchBackoff
    const inactivityMs = options.inactivityTimeoutMs ?? 90_000
    const m = options.metrics ?? {}
    /** resourceVersion of the last object reported as undecodable, per key (report once). */
    const reportedBad = new Map<string, string>()
    const handlerErrors: Array<unknown> = []

    const dispatch = (ev: InformerEvent<T>) => {
      for (const h of handlers) {
        try {
          h(ev)
        } catch (e) {
          handlerErrors.push(e)
        }
      }
    }

    const flushHandlerErrors = Effect.suspend(() => {
      const errs = handlerErrors.splice(0)
      return Effect.forEach(
        errs,
        (e) => Effect.logError("informer handler threw", { resource: id, error: String(e) }),
        {
          discard: true,
        },
      )
    })

    /** Decodes; on failure reports once per version and returns undefined. */
    const decode = (raw: KubeObject, key: string): Effect.Effect<T | undefined> => {
      if (source.decode === undefined) return Effect.succeed(raw as unknown as T)
      const r = source.decode(raw)
      if (Result.isSuccess(r)) {
        reportedBad.delete(key)
        return Effect.succeed(r.success)
      }
      const rv = raw.metadata.resourceVersion ?? ""
      if (reportedBad.get(key) === rv) return Effect.succeed(undefined)
      reportedBad.set(key, rv)
      m.decodeFailure?.()
      return Effect.as(
        Effect.all([
          Effect.logWarning("object does not decode; keeping the last good version", {
            resource: id,
            key,
            problems: r.failure,
          }),
          options.onDecodeError?.(raw, r.failure) ?? Effect.void,
        ]),
        undefined,
      )
    }

    /** What the informer keeps of a received object (idempotent: list items arrive already prepared). */
    const prepare = (raw: KubeObject): KubeObject => {
      const stripped = stripManagedFields(raw)
      return source.transform === undefined ? stripped : source.transform(stripped)
    }

    const rvOf = (o: T): string | undefined =>
      (o as unknown as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion

    /**
     * Stores one received object and notifies. List items are compared by resourceVersion (a
     * relist only reports what changed); only the FIRST list counts as `initial` (low priority) —
     * differences found by a later relist are real changes missed while disconnected.
     */
    const apply = (raw0: KubeObject, deleted: boolean, fromList: boolean) =>
      Effect.gen(function* () {
        const initial = fromList && !store.hasSynced()
        const raw = prepare(raw0)
        const key = objectKey(raw)
        const obj = yield* decode(raw, key)
        if (deleted) {
          const old = store.delete(key)
          reportedBad.delete(key)
          const last = obj ?? old
          if (last !== undefined) dispatch({ type: "delete", key, obj: last, initial, resync: false })
          return
        }
        if (obj === undefined) return
        const old = store.upsert(key, obj)
        if (old === undefined) dispatch({ type: "add", key, obj, initial, resync: false })
        else if (!fromList || rvOf(old) !== rvOf(obj))
          dispatch({ type: "update", key, obj, old, initial, resync: false })
      })

    /** Full list; replaces the cache contents and emits the difference. Returns the list's resourceVersion. */
    const relist = Effect.gen(function* () {
      const list = yield* client.listAll(source.resource, {
        namespace: source.namespace,
        labelSelector: source.labelSelector,
        fieldSelector: source.fieldSelector,
        transform: prepare,
      })
      m.relist?.()
      const seen = new Set<string>()
      for (const item of list.items) {
        seen.add(objectKey(item))
        yield* apply(item, false, true)
      }
      for (const key of store.keys()) {
        if (!seen.has(key)) {
          const old = store.delete(key)
          if (old !== undefined) dispatch({ type: "delete", key, obj: old, initial: false, resync: false })
        }
      }
      store.markSynced()
      yield* Deferred.succeed(synced, undefined)
      return list.resourceVersion
    })

    let resourceVersion: string | undefined

    const handleEvent = (ev: WatchEvent): Effect.Effect<void, KubeError> => {
      if (ev.type === "ERROR") {
        const code = ev.object.code ?? 0
        const message = ev.object.message ?? "watch error"
        const request = `WATCH ${id}`
        return Effect.fail(
          code === 410 || ev.object.reason === "Expired" || ev.object.reason === "Gone"
            ? new Gone({ code: 410, request, message })
            : new Transient({ code, request, message }),
        )
      }
      const rv = ev.object.metadata.resourceVersion
      if (ev.type === "BOOKMARK") {
        if (rv !== undefined) resourceVersion = rv
        return Effect.void
      }
      return Effect.tap(
        apply(ev.object, ev.type === "DELETED", false),
        Effect.sync(() => {
          if (rv !== undefined) resourceVersion = rv
        }),
      )
    }

    /** One list (if needed) + one watch. Succeeds when the server ends the watch cleanly. */
    const round = Effect.gen(function* () {
      if (resourceVersion === undefined) resourceVersion = yield* relist
      const timeoutSeconds = watchTimeoutSeconds(yield* Random.next)
      yield* client
        .watch(source.resource, {
          namespace: source.namespace,
          labelSelector: source.labelSelector,
          fieldSelector: source.fieldSelector,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
        })
        .pipe(
          Stream.timeoutOrElse({
            duration: inactivityMs,
            orElse: () =>
              Stream.fail(
                new WatchInactive({
                  code: 0,
                  request: `WATCH ${id}`,
                  message: `no event for ${inactivityMs} ms`,
                }),
              ),
          }),
          Stream.runForEach((ev) => Effect.andThen(handleEvent(ev), flushHandlerErrors)),
        )
    })

    const run: Informer<T>["run"] = Effect.gen(function* () {
      let attempt = 0
      for (;;) {
        const clock = yield* Clock.Clock
        const began = clock.currentTimeMillisUnsafe()
        const exit = yield* Effect.exit(round)
        yield* flushHandlerErrors
        if (clock.currentTimeMillisUnsafe() - began >= backoff.resetAfterMs) attempt = 0
        if (exit._tag === "Success") {
          m.watchRestart?.("closed")
          // A server that closes watches at once (a misbehaving proxy) must not cause a hot loop.
          if (clock.currentTimeMillisUnsafe() - began < 1000) {
            yield* Effect.sleep(watchRetryDelayMs(attempt, yield* Random.next, backoff))
            attempt++
          }
          continue
        }
        const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
        const error = failure?._tag === "Fail" ? failure.error : undefined
        if (error instanceof Gone) {
          // Too old to resume: relist at once (the relist itself backs off if it fails).
          m.watchRestart?.("gone")
          resourceVersion = undefined
          yield* Effect.logInfo("watch expired; relisting", { resource: id })
          continue
        }
        const reason = error instanceof WatchInactive ? "inactive" : "error"
        m.watchRestart?.(reason)
        const delay = watchRetryDelayMs(attempt, yield* Random.next, backoff)
        attempt++
        yield* Effect.logWarning("list/watch failed; retrying", {
          resource: id,
          error: error !== undefined ? describeError(error) : String(exit.cause),
          retryInMs: delay,
        })
        yield* Effect.sleep(delay)
      }
    }).pipe(
      // Interruption is the only way out; a defect escaping the loop itself restarts it.
      Effect.catchCause((cause) =>
        Effect.logError("informer loop crashed; restarting", { resource: id, cause }),
      ),
      Effect.forever,
    )

    const resyncLoop =
      options.resyncPeriodMs !== undefined && options.resyncPeriodMs > 0
        ? Effect.gen(function* () {
            const period = options.resyncPeriodMs ?? 0
            for (;;) {
              yield* Effect.sleep(jitteredMs(period, yield* Random.next))
              for (const key of store.keys()) {
                const obj = store.get(key)
                if (obj !== undefined)
                  dispatch({ type: "update", key, obj, old: obj, initial: true, resync: true })
              }
              yield* flushHandlerErrors
            }
          })
        : Effect.never

    return {
      id,
      source,
      cache: store,
      subscribe: (handler, opts) => {
        if (opts?.replay === true) {
          for (const key of store.keys()) {
            const obj = store.get(key)
            if (obj !== undefined) handler({ type: "add", key, obj, initial: true, resync: false })
          }
        }
        handlers.add(handler)
        return () => void handlers.delete(handler)
      },
      addIndexers: (ix) => store.addIndexers(ix),
      hasSynced: () => store.hasSynced(),
      waitForSync: Deferred.await(synced),
      run: Effect.raceFirst(run, resyncLoop),
    } satisfies Informer<T>
  })
