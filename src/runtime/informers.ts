// The informer registry: one informer (and cache) per distinct source, shared by every controller
// and by reconcilers that read caches.
//
// Guarantees: a source registered twice (same resource, namespace and selectors) yields the same
// informer, with the union of the indexers; registering the same source with a different decoder
// or transform is a wiring bug and dies. Informers start at registration and run for the life of the layer —
// on every replica, leader or not, so a standby's caches are warm when it takes over. An object
// that fails to decode gets a Warning Event (reason InvalidObject) on itself. With `namespaces`
// (LANGOP_WATCH_NAMESPACES) nothing outside those namespaces is listed or watched.
import { Context, Effect, Layer } from "effect"
import { KubeClient } from "../kube/client.ts"
import type { CacheReader } from "./cache.ts"
import { EventRecorder } from "./events.ts"
import {
  type Informer,
  type InformerOptions,
  type InformerSource,
  makeInformer,
  sourceId,
} from "./informer.ts"
import { RuntimeMetrics } from "./metrics.ts"
import { mergeInformers } from "./multinamespace.ts"

export interface InformersShape {
  /** Returns the informer of a source, creating and starting it on first use. */
  readonly register: <T>(source: InformerSource<T>) => Effect.Effect<Informer<T>>
  /** The cache of a registered source; throws (a defect inside Effect code) if it was never registered. */
  readonly cache: <T>(source: InformerSource<T>) => CacheReader<T>
  readonly all: () => ReadonlyArray<Informer<unknown>>
  /** True when every registered informer has completed its first list. */
  readonly allSynced: () => boolean
}

export class Informers extends Context.Service<Informers, InformersShape>()("langop/Informers") {}

export interface InformersOptions {
  readonly resyncPeriodMs?: number
  readonly inactivityTimeoutMs?: number
  /**
   * Restricts sources of namespaced kinds that name no namespace to these namespaces (one
   * list/watch each, merged); empty = all namespaces. Cluster-scoped kinds are unaffected.
   */
  readonly namespaces?: ReadonlyArray<string>
}

export const informersLayer = (
  options: InformersOptions = {},
): Layer.Layer<Informers, never, KubeClient | RuntimeMetrics | EventRecorder> =>
  Layer.effect(
    Informers,
    Effect.gen(function* () {
      const client = yield* KubeClient
      const metrics = yield* RuntimeMetrics
      const events = yield* EventRecorder
      const scope = yield* Effect.scope
      const registry = new Map<string, Informer<unknown>>()

      const register = <T>(source: InformerSource<T>): Effect.Effect<Informer<T>> =>
        Effect.gen(function* () {
          const id = sourceId(source)
          const existing = registry.get(id) as Informer<T> | undefined
          if (existing !== undefined) {
            if (existing.source.decode !== source.decode) {
              return yield* Effect.die(new Error(`informer ${id} is already registered with another decoder`))
            }
            if (existing.source.transform !== source.transform) {
              return yield* Effect.die(
                new Error(`informer ${id} is already registered with another transform`),
              )
            }
            if (source.indexers !== undefined) existing.addIndexers(source.indexers)
            return existing
          }
          const informerOptions: InformerOptions = {
            metrics: metrics.informer(id),
            onDecodeError: (raw, lines) =>
              events.record({
                regarding: raw,
                type: "Warning",
                reason: "InvalidObject",
                action: "Decode",
                note: `The operator cannot read this object: ${lines.join("; ")}`,
              }),
            ...(options.resyncPeriodMs !== undefined ? { resyncPeriodMs: options.resyncPeriodMs } : {}),
            ...(options.inactivityTimeoutMs !== undefined
              ? { inactivityTimeoutMs: options.inactivityTimeoutMs }
              : {}),
          }
          const namespaces = options.namespaces ?? []
          const split = source.resource.namespaced && source.namespace === undefined && namespaces.length > 0
          const inf: Informer<T> = split
            ? mergeInformers(
                id,
                source,
                yield* Effect.forEach(namespaces, (namespace) =>
                  makeInformer(
                    client,
                    { ...source, namespace },
                    { ...informerOptions, metrics: metrics.informer(sourceId({ ...source, namespace })) },
                  ),
                ),
              )
            : yield* makeInformer(client, source, informerOptions)
          registry.set(id, inf as Informer<unknown>)
          yield* Effect.forkIn(inf.run.pipe(Effect.annotateLogs({ informer: id })), scope)
          return inf
        })

      return Informers.of({
        register,
        cache: <T>(source: InformerSource<T>) => {
          const inf = registry.get(sourceId(source))
          if (inf === undefined) throw new Error(`no informer registered for ${sourceId(source)}`)
          return inf.cache as CacheReader<T>
        },
        all: () => [...registry.values()],
        allSynced: () => [...registry.values()].every((i) => i.hasSynced()),
      })
    }),
  )
