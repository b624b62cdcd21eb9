// Kubernetes Events (events.k8s.io/v1) with de-duplication of repeats.
//
// Guarantees:
// - `record` never fails and never waits for the API server: writes happen on a background fiber;
// - an event equal to one recorded less than 6 minutes earlier (same regarding object, related
//   object, type, reason, action and note — client-go's "isomorphic" events) does not create a new
//   object: the existing Event's `series.count` / `series.lastObservedTime` are patched instead,
//   and repeats that arrive while a write is pending are coalesced into one patch;
// - at most `maxPending` distinct events wait to be written; beyond that they are dropped and
//   counted (langop_events_dropped_total) rather than growing memory without bound;
// - events about cluster-scoped objects go to the `default` namespace, as client-go does.
// - closing the recorder's scope flushes pending writes (for at most 5 s).
// Assumption: Events are best-effort diagnostics; a failed write is logged, not retried.
import { Clock, Context, Effect, Layer, Queue, type Scope, Semaphore } from "effect"
import { KubeClient, type KubeClientShape } from "../kube/client.ts"
import { describeError, isKubeError } from "../kube/errors.ts"
import type { KubeObject } from "../kube/objects.ts"
import { Builtin } from "../kube/resources.ts"

export interface ObjectReference {
  readonly apiVersion?: string | undefined
  readonly kind?: string | undefined
  readonly name?: string | undefined
  readonly namespace?: string | undefined
  readonly uid?: string | undefined
}

export interface EventInput {
  /** The object the event is about (an object or a reference to one). */
  readonly regarding: KubeObject | ObjectReference
  readonly related?: KubeObject | ObjectReference | undefined
  readonly type: "Normal" | "Warning"
  /** UpperCamelCase machine-readable reason, e.g. `InvalidSpec`. */
  readonly reason: string
  /** What the controller did or failed to do, e.g. `Reconcile`, `Decode`. */
  readonly action: string
  /** Human-readable; truncated to 1 kB as the API requires. */
  readonly note: string
}

export interface EventRecorderShape {
  readonly record: (e: EventInput) => Effect.Effect<void>
}

export class EventRecorder extends Context.Service<EventRecorder, EventRecorderShape>()(
  "langop/EventRecorder",
) {
  /** Discards every event (unit tests of code that records events). */
  static readonly noop: Layer.Layer<EventRecorder> = Layer.succeed(EventRecorder, {
    record: () => Effect.void,
  })
}

export const REPORTING_CONTROLLER = "langop.io/operator"
/** client-go's window within which an identical event counts as a repeat. */
export const ISOMORPHIC_WINDOW_MS = 6 * 60_000

export interface EventRecorderOptions {
  readonly reportingController?: string
  /** Pod name (or host name) of this replica. */
  readonly reportingInstance: string
  readonly maxPending?: number
  /** Distinct events remembered for de-duplication (oldest forgotten first). */
  readonly cacheSize?: number
  readonly onDropped?: () => void
}

const refOf = (o: KubeObject | ObjectReference): ObjectReference => {
  if ("metadata" in o && typeof o.metadata === "object" && o.metadata !== null) {
    const k = o as KubeObject
    return {
      apiVersion: k.apiVersion,
      kind: k.kind,
      name: k.metadata.name,
      namespace: k.metadata.namespace,
      uid: k.metadata.uid,
    }
  }
  return o as ObjectReference
}

/** Drops undefined fields (the API rejects nothing, but stored objects stay tidy). */
const compact = (r: ObjectReference): Record<string, string> =>
  Object.fromEntries(Object.entries(r).filter((kv): kv is [string, string] => typeof kv[1] === "string"))

/** MicroTime as the API serialises it: RFC 3339 with 6 fractional digits. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/u, ".$1000Z")

interface Series {
  readonly name: string
  readonly namespace: string
  readonly body: KubeObject
  count: number
  lastObserved: number
  created: boolean
  pending: boolean
}

export const makeEventRecorder = (
  client: KubeClientShape,
  options: EventRecorderOptions,
): Effect.Effect<EventRecorderShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const controller = options.reportingController ?? REPORTING_CONTROLLER
    const maxPending = options.maxPending ?? 1000
    const cacheSize = options.cacheSize ?? 4096
    const clock = yield* Clock.Clock
    const series = new Map<string, Series>()
    const pending = yield* Queue.unbounded<string>()
    let pendingCount = 0
    let seq = 0

    const write = (key: string) =>
      Effect.gen(function* () {
        const s = series.get(key)
        if (s === undefined) return
        s.pending = false
        if (!s.created) {
          s.created = true
          yield* client.create(Builtin.Event, s.body)
          return
        }
        yield* client.patch(
          Builtin.Event,
          { name: s.name, namespace: s.namespace },
          {
            type: "merge",
            body: { series: { count: s.count, lastObservedTime: microTime(s.lastObserved) } },
          },
        )
      }).pipe(
        Effect.catch((e) => {
          options.onDropped?.()
          // An Event cannot be created in a namespace that is being deleted; that is expected, not a problem.
          const log =
            isKubeError(e) && e._tag === "NamespaceTerminating" ? Effect.logDebug : Effect.logWarning
          return log("could not write Event", {
            event: key,
            error: isKubeError(e) ? describeError(e) : String(e),
          })
        }),
      )

    // Writes are serialised (a series patch must never overtake the create of its Event), and a key
    // taken from the queue is always written: only the wait in `take` is interruptible, so closing the
    // scope waits for an in-flight write instead of losing it.
    const lock = yield* Semaphore.make(1)
    const locked = (key: string) => lock.withPermits(1)(write(key))
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(restore(Queue.take(pending)), (key) => {
            pendingCount--
            return locked(key)
          }),
        ),
      ),
    )
    // On close (runs before the writer is interrupted): flush what is pending, for at most 5 s.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        for (let key = yield* Queue.poll(pending); key._tag === "Some"; key = yield* Queue.poll(pending)) {
          pendingCount--
          yield* locked(key.value)
        }
      }).pipe(Effect.timeoutOption("5 seconds"), Effect.asVoid),
    )

    const record: EventRecorderShape["record"] = (e) =>
      Effect.sync(() => {
        const regarding = refOf(e.regarding)
        const related = e.related !== undefined ? refOf(e.related) : undefined
        const note = e.note.length > 1024 ? `${e.note.slice(0, 1021)}...` : e.note
        const key = JSON.stringify([regarding, related ?? null, e.type, e.reason, e.action, note])
        const now = clock.currentTimeMillisUnsafe()
        const existing = series.get(key)
        if (existing !== undefined && now - existing.lastObserved < ISOMORPHIC_WINDOW_MS) {
          existing.count++
          existing.lastObserved = now
          // Refresh recency for the LRU order.
          series.delete(key)
          series.set(key, existing)
          if (!existing.pending) enqueue(key, existing)
          return
        }
        const namespace =
          regarding.namespace !== undefined && regarding.namespace !== "" ? regarding.namespace : "default"
        const name = `${regarding.name ?? "object"}.${now.toString(16)}${(seq++ % 4096).toString(16).padStart(3, "0")}`
        const s: Series = {
          name,
          namespace,
          count: 1,
          lastObserved: now,
          created: false,
          pending: false,
          body: {
            apiVersion: "events.k8s.io/v1",
            kind: "Event",
            metadata: { name, namespace },
            eventTime: microTime(now),
            reportingController: controller,
            reportingInstance: options.reportingInstance,
            action: e.action,
            reason: e.reason,
            type: e.type,
            note,
            regarding: compact(regarding),
            ...(related !== undefined ? { related: compact(related) } : {}),
          },
        }
        series.delete(key)
        series.set(key, s)
        if (series.size > cacheSize) {
          const oldest = series.keys().next()
          if (oldest.done !== true) series.delete(oldest.value)
        }
        enqueue(key, s)
      })

    const enqueue = (key: string, s: Series) => {
      if (pendingCount >= maxPending) {
        options.onDropped?.()
        return
      }
      s.pending = true
      pendingCount++
      Queue.offerUnsafe(pending, key)
    }

    return { record }
  })

/** The recorder over the KubeClient of the context. */
export const eventRecorderLayer = (
  options: EventRecorderOptions,
): Layer.Layer<EventRecorder, never, KubeClient> =>
  Layer.effect(
    EventRecorder,
    Effect.flatMap(KubeClient, (client) => makeEventRecorder(client, options)),
  )
