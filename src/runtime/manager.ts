// Manager: wires informers, controllers, leader election, health, metrics and events together.
//
// Guarantees:
// - every controller's sources are registered (informers started) before leader election, on
//   every replica, so standbys keep warm caches and take over without a cold list;
// - controllers run only during a term of leadership (or always, with leader election off);
//   losing the Lease stops them immediately, shutdown stops them gracefully;
// - shutdown (interruption, e.g. SIGTERM through NodeRuntime.runMain): workers stop taking keys,
//   in-flight reconciles get `gracefulShutdownTimeoutMs`, then the Lease is released;
// - `/readyz` is ready once every informer has synced (plus any check registered through Health),
//   independent of leadership, as in controller-runtime.
import { hostname } from "node:os"
import { Duration, Effect, Layer } from "effect"
import { KubeClient } from "../kube/client.ts"
import { type BindAddress, concurrencyFor, type SettingsShape, watchNamespacesOf } from "../settings.ts"
import { type Controller, runController } from "./controller.ts"
import { EventRecorder, makeEventRecorder } from "./events.ts"
import { Health, serveHealth, serveMetrics } from "./health.ts"
import { Informers, informersLayer } from "./informers.ts"
import {
  defaultIdentity,
  type LeaderElectionConfig,
  type LeaderTerm,
  makeLeaderElector,
} from "./leaderelection.ts"
import { RuntimeMetrics } from "./metrics.ts"

export interface ManagerOptions {
  /** `false` runs the controllers unconditionally (single replica, local development). */
  readonly leaderElection: false | Omit<LeaderElectionConfig, "onChange">
  readonly gracefulShutdownTimeoutMs: number
  /** Workers per controller when the controller does not fix its own. */
  readonly concurrency: (controller: string) => number
  /** Health probe listener; undefined = none. */
  readonly healthBind?: BindAddress | undefined
  /** Metrics listener; undefined = none. */
  readonly metricsBind?: BindAddress | undefined
}

/** The services the runtime provides to the manager and to reconcilers. */
export type RuntimeServices = Informers | RuntimeMetrics | EventRecorder | Health

/** Runs the manager until interrupted. */
export const runManager = <R>(
  controllers: ReadonlyArray<Controller<R>>,
  options: ManagerOptions,
): Effect.Effect<never, never, R | KubeClient | RuntimeServices> =>
  Effect.scoped(
    Effect.gen(function* () {
      const client = yield* KubeClient
      const informers = yield* Informers
      const metrics = yield* RuntimeMetrics
      const health = yield* Health

      if (options.metricsBind !== undefined) {
        const s = yield* serveMetrics(metrics.registry, options.metricsBind)
        yield* Effect.logInfo("serving metrics", { address: `${options.metricsBind.host}:${s.port}` })
      }
      yield* health.addReadinessCheck(
        "informers-synced",
        Effect.sync(() => informers.allSynced()),
      )
      yield* health.addLivenessCheck("ping", Effect.succeed(true))
      if (options.healthBind !== undefined) {
        const s = yield* serveHealth(health, options.healthBind)
        yield* Effect.logInfo("serving health probes", { address: `${options.healthBind.host}:${s.port}` })
      }

      // Warm caches on every replica; every controller's series exist from here on, leader or not.
      for (const c of controllers) {
        metrics.initController(c.name, c.maxConcurrentReconciles ?? options.concurrency(c.name))
        yield* Effect.forEach(c.sources, (s) => informers.register(s.source))
      }

      const runControllers = (term: LeaderTerm) =>
        Effect.scoped(
          Effect.gen(function* () {
            for (const c of controllers) {
              yield* runController(c, {
                informers,
                metrics,
                concurrency: c.maxConcurrentReconciles ?? options.concurrency(c.name),
                drainTimeoutMs: () => (term.lost() ? 0 : options.gracefulShutdownTimeoutMs),
              })
            }
            return yield* Effect.never
          }),
        )

      const le = options.leaderElection
      if (le === false) return yield* runControllers({ lost: () => false })
      metrics.leader(le.name, false)
      const elector = yield* makeLeaderElector(client, {
        ...le,
        onChange: (leading) => metrics.leader(le.name, leading),
      })
      yield* Effect.logInfo("waiting for leadership", {
        lease: `${le.namespace}/${le.name}`,
        identity: elector.identity,
      })
      return yield* elector.run(runControllers)
    }),
  )

/** Manager options from the settings (identity defaults to `<pod or host>_<uuid>`). */
export const managerOptionsFromSettings = (s: SettingsShape, identity?: string): ManagerOptions => ({
  leaderElection: s.leaderElect
    ? {
        namespace: s.operatorNamespace,
        name: s.leaderElectionId,
        identity: identity ?? defaultIdentity(s.podName),
        leaseDurationMs: durationMs(s.leaseDuration),
        renewDeadlineMs: durationMs(s.renewDeadline),
        retryPeriodMs: durationMs(s.retryPeriod),
        releaseOnCancel: s.releaseOnCancel,
      }
    : false,
  gracefulShutdownTimeoutMs: durationMs(s.gracefulShutdownTimeout),
  concurrency: (name) => concurrencyFor(s, name),
  healthBind: s.healthProbeBindAddress,
  metricsBind: s.metricsBindAddress,
})

const durationMs = (d: Duration.Duration): number => Duration.toMillis(d)

export interface RuntimeLayerOptions {
  /** Event reporting instance (pod or host name). */
  readonly instance?: string | undefined
  /** Periodic re-delivery of every cached object; 0 = off. */
  readonly resyncPeriodMs?: number | undefined
  /** Watch only these namespaces (namespaced kinds); empty = all. */
  readonly namespaces?: ReadonlyArray<string> | undefined
}

/** Informers, metrics, events and health over the KubeClient of the context. */
export const runtimeLayer = (
  options: RuntimeLayerOptions = {},
): Layer.Layer<RuntimeServices, never, KubeClient> => {
  const events = Layer.effect(
    EventRecorder,
    Effect.gen(function* () {
      const client = yield* KubeClient
      const metrics = yield* RuntimeMetrics
      return yield* makeEventRecorder(client, {
        reportingInstance: options.instance ?? hostname(),
        onDropped: metrics.eventsDropped,
      })
    }),
  )
  const base = Layer.mergeAll(RuntimeMetrics.layer, Health.layer)
  return informersLayer(
    options.resyncPeriodMs !== undefined ? { resyncPeriodMs: options.resyncPeriodMs } : {},
  ).pipe(Layer.provideMerge(events), Layer.provideMerge(base))
}

/** `runtimeLayer` configured from the settings. */
export const runtimeLayerFromSettings = (s: SettingsShape): Layer.Layer<RuntimeServices, never, KubeClient> =>
  runtimeLayer({
    instance: s.podName ?? hostname(),
    resyncPeriodMs: durationMs(s.syncPeriod),
    namespaces: watchNamespacesOf(s),
  })

/**
 * Everything from the settings: the runtime services (also provided to the reconcilers, so they
 * share the manager's caches and event recorder) and the manager itself. Needs a KubeClient.
 */
export const runFromSettings = <R>(
  controllers: ReadonlyArray<Controller<R>>,
  s: SettingsShape,
): Effect.Effect<never, never, Exclude<R, RuntimeServices> | KubeClient> =>
  runManager(controllers, managerOptionsFromSettings(s)).pipe(Effect.provide(runtimeLayerFromSettings(s)))
