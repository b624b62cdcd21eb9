// Controller declaration and runner.
//
// A controller reconciles one kind (`for`). Events of that kind enqueue the object's own key;
// events of `owns` kinds enqueue the key of their controller owner (the ownerReference with
// `controller: true` whose kind and group match `for`); `watches` map any other kind's objects to
// keys (e.g. through a cache index: "agents that reference this tool"). Both the old and the new
// object of an update are mapped, so a reference that moved away still triggers its former target.
//
// Guarantees (on top of the work queue's): at most `maxConcurrentReconciles` reconciles run at
// once, never two for the same key; a reconcile that fails is retried with per-key exponential
// backoff (5 ms → 1000 s) unless it failed with `TerminalError`; a defect is treated like an error
// (logged, retried) and never stops the controller; `requeueAfter` schedules the key again (the
// failure backoff is reset); initial-list and resync events are processed after real changes.
// A reconcile that fails because its namespace is being deleted (NamespaceTerminating) is expected:
// it is logged at debug level only and not retried.
// Every log line inside a reconcile carries logger, controller, controllerGroup, controllerKind,
// namespace, name, key and reconcileID (controller-runtime's fields). With tracing on, each reconcile
// is one span (its API calls are child spans) carrying the same identifiers and the result.
import { Clock, Duration, Effect, type Exit, Option, Schema, type Scope } from "effect"
import { describeError, isKubeError } from "../kube/errors.ts"
import { type KubeObject, keyOf, type ObjectMeta, type ObjectRef, refOfKey } from "../kube/objects.ts"
import type { ResourceDescriptor } from "../kube/resources.ts"
import { spanAttribute, traced } from "../observability/hooks.ts"
import type { InformerEvent, InformerSource } from "./informer.ts"
import type { InformersShape } from "./informers.ts"
import type { ReconcileOutcome, RuntimeMetricsShape } from "./metrics.ts"
import { makeWorkQueue, type Priority } from "./queue.ts"

export interface ReconcileRequest {
  /** `namespace/name`, or `name` for cluster-scoped kinds. */
  readonly key: string
  /** "" for cluster-scoped kinds. */
  readonly namespace: string
  readonly name: string
}

export interface ReconcileResult {
  /** Reconcile this key again after this delay (e.g. the dependency-wait or DNS refresh interval). */
  readonly requeueAfter?: Duration.Input | undefined
  /** Reconcile again with the failure backoff, without reporting an error. */
  readonly requeue?: boolean | undefined
}

export const Reconciled = {
  done: {} as ReconcileResult,
  requeueAfter: (d: Duration.Input): ReconcileResult => ({ requeueAfter: d }),
  requeue: { requeue: true } as ReconcileResult,
} as const

/** Fail a reconcile with this to stop retrying until the object (or a watched object) changes. */
export class TerminalError extends Schema.TaggedError<TerminalError>()("TerminalError", {
  message: Schema.String,
  reason: Schema.optionalKey(Schema.String),
}) {}

export type EventPredicate<T> = (ev: InformerEvent<T>) => boolean

/** Predicates in the spirit of controller-runtime's. Initial-list and resync events always pass. */
export const Predicates = {
  /** Spec changes only: skips updates that leave metadata.generation unchanged (e.g. status writes). */
  generationChanged: <T extends { readonly metadata: Pick<ObjectMeta, "generation"> }>(
    ev: InformerEvent<T>,
  ) => ev.type !== "update" || ev.initial || ev.old?.metadata.generation !== ev.obj.metadata.generation,
  /** Any change of labels or annotations (combine with generationChanged using `or`). */
  labelsOrAnnotationsChanged: <T extends { readonly metadata: Pick<ObjectMeta, "labels" | "annotations"> }>(
    ev: InformerEvent<T>,
  ) =>
    ev.type !== "update" ||
    ev.initial ||
    JSON.stringify(ev.old?.metadata.labels) !== JSON.stringify(ev.obj.metadata.labels) ||
    JSON.stringify(ev.old?.metadata.annotations) !== JSON.stringify(ev.obj.metadata.annotations),
  or:
    <T>(...ps: ReadonlyArray<EventPredicate<T>>): EventPredicate<T> =>
    (ev) =>
      ps.some((p) => p(ev)),
} as const

/** A type-erased event source of a controller: which informer, and which keys an event enqueues. */
export interface WatchSpec {
  readonly source: InformerSource<unknown>
  readonly toKeys: (
    ev: InformerEvent<unknown>,
    informers: InformersShape,
    owner: ResourceDescriptor,
  ) => ReadonlyArray<string>
}

const metaOf = (o: unknown): ObjectMeta =>
  ((o as { metadata?: ObjectMeta } | null)?.metadata ?? {}) as ObjectMeta
const groupOf = (apiVersion: string) =>
  apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : ""

/** Key of the controller owner of `obj` if that owner is of kind `owner`. */
export const ownerKey = (obj: unknown, owner: ResourceDescriptor): string | undefined => {
  const meta = metaOf(obj)
  const ref = meta.ownerReferences?.find((r) => r.controller === true)
  if (ref === undefined || ref.kind !== owner.kind || groupOf(ref.apiVersion) !== owner.group)
    return undefined
  return keyOf({ namespace: owner.namespaced ? (meta.namespace ?? "") : "", name: ref.name })
}

const both = <T>(ev: InformerEvent<T>, f: (o: T) => ReadonlyArray<string>): ReadonlyArray<string> => {
  const keys = f(ev.obj)
  if (ev.type !== "update" || ev.old === undefined || ev.old === ev.obj) return keys
  return [...new Set([...keys, ...f(ev.old)])]
}

/** Children of kind `source`: their events enqueue their controller owner. */
export const owns = (
  source: ResourceDescriptor | InformerSource<KubeObject>,
  predicate?: EventPredicate<KubeObject>,
): WatchSpec => {
  const src: InformerSource<KubeObject> = "resource" in source ? source : { resource: source }
  return {
    source: src as InformerSource<unknown>,
    toKeys: (ev, _informers, owner) => {
      if (predicate !== undefined && !predicate(ev as InformerEvent<KubeObject>)) return []
      return both(ev, (o) => {
        const k = ownerKey(o, owner)
        return k === undefined ? [] : [k]
      })
    },
  }
}

/** Objects of another kind, mapped to the keys of the reconciled kind they affect. */
export const watches = <U>(
  source: InformerSource<U>,
  map: (obj: U, informers: InformersShape) => ReadonlyArray<ObjectRef | string>,
  predicate?: EventPredicate<U>,
): WatchSpec => ({
  source: source as unknown as InformerSource<unknown>,
  toKeys: (ev, informers) => {
    const e = ev as InformerEvent<U>
    if (predicate !== undefined && !predicate(e)) return []
    return both(e, (o) => map(o, informers).map((r) => (typeof r === "string" ? r : keyOf(r))))
  },
})

export interface ControllerSpec<T, E, R> {
  readonly name: string
  readonly for: InformerSource<T>
  /** Filters events of the reconciled kind (default: all pass). */
  readonly predicate?: EventPredicate<T>
  readonly owns?: ReadonlyArray<ResourceDescriptor | InformerSource<KubeObject>>
  readonly watches?: ReadonlyArray<WatchSpec>
  // biome-ignore lint/suspicious/noConfusingVoidType: an Effect.gen without `return` yields void
  readonly reconcile: (req: ReconcileRequest) => Effect.Effect<ReconcileResult | undefined | void, E, R>
  /** Default: the manager's setting (LANGOP_MAX_CONCURRENT_RECONCILES or its per-controller override). */
  readonly maxConcurrentReconciles?: number
}

/** A controller with its types erased, ready for the manager. */
export interface Controller<R> {
  readonly name: string
  readonly resource: ResourceDescriptor
  readonly sources: ReadonlyArray<WatchSpec>
  // biome-ignore lint/suspicious/noConfusingVoidType: an Effect.gen without `return` yields void
  readonly reconcile: (req: ReconcileRequest) => Effect.Effect<ReconcileResult | undefined | void, unknown, R>
  readonly maxConcurrentReconciles?: number | undefined
}

export const defineController = <T, E, R>(spec: ControllerSpec<T, E, R>): Controller<R> => {
  const self: WatchSpec = {
    source: spec.for as unknown as InformerSource<unknown>,
    toKeys: (ev) => (spec.predicate === undefined || spec.predicate(ev as InformerEvent<T>) ? [ev.key] : []),
  }
  return {
    name: spec.name,
    resource: spec.for.resource,
    sources: [self, ...(spec.owns ?? []).map((o) => owns(o)), ...(spec.watches ?? [])],
    reconcile: spec.reconcile,
    maxConcurrentReconciles: spec.maxConcurrentReconciles,
  }
}

export interface RunControllerOptions {
  readonly informers: InformersShape
  readonly metrics: RuntimeMetricsShape
  readonly concurrency: number
  /** Read at shutdown: how long in-flight reconciles may still run (0 when leadership was lost). */
  readonly drainTimeoutMs: () => number
}

/** The metrics `result` label of a finished reconcile. */
const outcomeOf = (
  // biome-ignore lint/suspicious/noConfusingVoidType: an Effect.gen without `return` yields void
  exit: Exit.Exit<ReconcileResult | undefined | void, unknown>,
): ReconcileOutcome => {
  if (exit._tag === "Failure") return "error"
  const r = exit.value ?? {}
  return r.requeueAfter !== undefined ? "requeue_after" : r.requeue === true ? "requeue" : "success"
}

const describeCause = (e: unknown): string =>
  isKubeError(e)
    ? describeError(e)
    : e instanceof Error
      ? e.message
      : typeof e === "object"
        ? JSON.stringify(e)
        : String(e)

/**
 * Starts a controller in the current scope: subscribes its sources (replaying caches as initial
 * events), waits for those caches to sync, then runs the workers. Closing the scope stops taking
 * work, lets in-flight reconciles finish within the drain timeout and interrupts the rest.
 */
export const runController = <R>(
  ctrl: Controller<R>,
  o: RunControllerOptions,
): Effect.Effect<void, never, R | Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* makeWorkQueue({ metrics: o.metrics.queue(ctrl.name) })
    const informers = yield* Effect.forEach(ctrl.sources, (s) => o.informers.register(s.source))
    for (const [i, inf] of informers.entries()) {
      const spec = ctrl.sources[i]
      if (spec === undefined) continue
      const unsubscribe = inf.subscribe(
        (ev) => {
          const priority: Priority = ev.initial ? "low" : "high"
          for (const key of spec.toKeys(ev, o.informers, ctrl.resource)) queue.addUnsafe(key, priority)
        },
        { replay: true },
      )
      yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))
    }
    yield* Effect.forEach(informers, (inf) => inf.waitForSync, { discard: true })

    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()
    let active = 0
    o.metrics.maxConcurrent(ctrl.name, o.concurrency)
    const identity = {
      logger: "controller",
      controller: ctrl.name,
      controllerGroup: ctrl.resource.group,
      controllerKind: ctrl.resource.kind,
    }
    const process = (key: string) => {
      const { namespace, name } = refOfKey(key)
      const reconcileID = crypto.randomUUID()
      return Effect.gen(function* () {
        const started = now()
        active++
        o.metrics.activeWorkers(ctrl.name, 1)
        const exit = yield* Effect.exit(
          ctrl.reconcile({ key, namespace, name }).pipe(
            Effect.onExit((e) => spanAttribute("result", outcomeOf(e))),
            traced(`reconcile ${ctrl.name}`, () => ({ ...identity, key, namespace, name, reconcileID })),
          ),
        )
        const seconds = (now() - started) / 1000
        if (exit._tag === "Success") {
          const r = exit.value ?? {}
          if (r.requeueAfter !== undefined) {
            yield* queue.forget(key)
            yield* queue.addAfter(key, Duration.toMillis(r.requeueAfter))
            o.metrics.reconciled(ctrl.name, "requeue_after", seconds)
          } else if (r.requeue === true) {
            yield* queue.addRateLimited(key)
            o.metrics.reconciled(ctrl.name, "requeue", seconds)
          } else {
            yield* queue.forget(key)
            o.metrics.reconciled(ctrl.name, "success", seconds)
          }
          yield* Effect.logDebug("reconciled", { requeueAfter: r.requeueAfter, durationSeconds: seconds })
          return
        }
        if (exit.cause.reasons.every((r) => r._tag === "Interrupt")) return
        const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
        const error = failure?._tag === "Fail" ? failure.error : undefined
        if (isKubeError(error) && error._tag === "NamespaceTerminating") {
          // Expected while a namespace goes away (its objects are still being reconciled): nothing to fix
          // and nothing to retry. The objects' deletion, or a new namespace of the same name with new
          // objects, enqueues them again.
          yield* queue.forget(key)
          o.metrics.reconciled(ctrl.name, "success", seconds)
          yield* Effect.logDebug("namespace is being deleted; not retrying", { error: describeError(error) })
          return
        }
        const terminal = error instanceof TerminalError
        if (exit.cause.reasons.some((r) => r._tag === "Die")) o.metrics.reconcilePanic(ctrl.name)
        o.metrics.reconcileError(ctrl.name, terminal)
        o.metrics.reconciled(ctrl.name, "error", seconds)
        if (terminal) {
          yield* queue.forget(key)
          yield* Effect.logError("reconciler error (terminal, not retried)", { error: describeCause(error) })
        } else {
          yield* queue.addRateLimited(key)
          // A conflict only means our read was stale; the retry re-reads. Not worth an error line.
          const log = isKubeError(error) && error._tag === "Conflict" ? Effect.logInfo : Effect.logError
          yield* log("reconciler error", {
            error: error !== undefined ? describeCause(error) : undefined,
            retries: queue.numRequeues(key),
            ...(error === undefined ? { defect: String(exit.cause) } : {}),
          })
        }
      }).pipe(
        Effect.annotateLogs({ ...identity, namespace, name, key, reconcileID }),
        Effect.ensuring(
          Effect.andThen(
            Effect.sync(() => {
              active--
              o.metrics.activeWorkers(ctrl.name, -1)
            }),
            queue.done(key),
          ),
        ),
      )
    }

    const worker = Effect.gen(function* () {
      for (;;) {
        const next = yield* queue.get
        if (Option.isNone(next)) return
        yield* process(next.value)
      }
    })
    for (let i = 0; i < o.concurrency; i++) yield* Effect.forkScoped(worker)

    // Runs before the workers are interrupted (finalizers run in reverse order).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* queue.shutdown
        const deadline = now() + o.drainTimeoutMs()
        while (active > 0 && now() < deadline) yield* Effect.sleep(50)
        if (active > 0)
          yield* Effect.logWarning("interrupting reconciles still running at shutdown", {
            controller: ctrl.name,
            active,
          })
      }),
    )
    yield* Effect.logInfo("controller started", { ...identity, workers: o.concurrency })
  })
