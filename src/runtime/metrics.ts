// Prometheus metrics of the runtime, named as controller-runtime and client-go name theirs so
// existing dashboards and alerts work unchanged.
//
// Guarantees: one prom-client Registry per RuntimeMetrics (several managers can live in one process,
// as the integration tests do); Node process metrics are included; recording never throws; every
// series of a controller exists (at zero) from the moment it is registered, as controller-runtime
// and client-go create them, so dashboards and `rate()`/`absent()` alerts work before the first event.
import { Context, Effect, Layer } from "effect"
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"
import {
  AdmissionObserver,
  type AdmissionObserverShape,
  ApiCallObserver,
  type ApiCallObserverShape,
} from "../observability/hooks.ts"
import type { InformerMetrics } from "./informer.ts"
import { makeHttpMetrics } from "./metrics-http.ts"
import type { QueueMetrics } from "./queue.ts"

export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after"
const outcomes: ReadonlyArray<ReconcileOutcome> = ["success", "error", "requeue", "requeue_after"]

export interface RuntimeMetricsShape {
  readonly registry: Registry
  readonly queue: (controller: string) => QueueMetrics
  readonly informer: (resource: string) => InformerMetrics
  readonly reconciled: (controller: string, outcome: ReconcileOutcome, seconds: number) => void
  readonly reconcileError: (controller: string, terminal: boolean) => void
  /** A reconcile that died with a defect (Go: a recovered panic); it is also counted as an error. */
  readonly reconcilePanic: (controller: string) => void
  /** Creates every series of the controller and its queue at zero (call once per controller at start). */
  readonly initController: (controller: string, maxConcurrent: number) => void
  readonly maxConcurrent: (controller: string, n: number) => void
  readonly activeWorkers: (controller: string, delta: number) => void
  readonly leader: (name: string, isLeader: boolean) => void
  readonly eventsDropped: () => void
  /** Hooks for the transport (rest_client_*) and the admission server (controller_runtime_webhook_*). */
  readonly apiCalls: ApiCallObserverShape
  readonly admission: AdmissionObserverShape
}

export class RuntimeMetrics extends Context.Service<RuntimeMetrics, RuntimeMetricsShape>()(
  "langop/RuntimeMetrics",
) {
  /**
   * A fresh registry per layer build. Also sets the API-call and admission observers, so requests
   * made by fibers that run under this layer (informers, reconciles, admission lookups) are counted.
   */
  static readonly layer: Layer.Layer<RuntimeMetrics> = Layer.effectContext(
    Effect.sync(() => {
      const m = makeRuntimeMetrics()
      return Context.make(RuntimeMetrics, m).pipe(
        Context.add(ApiCallObserver, m.apiCalls),
        Context.add(AdmissionObserver, m.admission),
      )
    }),
  )
}

/** controller-runtime's reconcile_time_seconds buckets. */
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
]
/** client-go workqueue buckets: 10 ns × 10^i, i = 0…11. */
const queueBuckets = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i)

export const makeRuntimeMetrics = (
  options: { readonly processMetrics?: boolean } = {},
): RuntimeMetricsShape => {
  const registry = new Registry()
  const registers = [registry]
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry })

  const reconcileTotal = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"],
    registers,
  })
  const reconcileErrors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"],
    registers,
  })
  const terminalErrors = new Counter({
    name: "controller_runtime_terminal_reconcile_errors_total",
    help: "Total number of terminal reconciliation errors per controller",
    labelNames: ["controller"],
    registers,
  })
  const reconcileTime = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"],
    buckets: reconcileBuckets,
    registers,
  })
  const reconcilePanics = new Counter({
    name: "controller_runtime_reconcile_panics_total",
    help: "Total number of reconciliation panics per controller",
    labelNames: ["controller"],
    registers,
  })
  const maxConcurrent = new Gauge({
    name: "controller_runtime_max_concurrent_reconciles",
    help: "Maximum number of concurrent reconciles per controller",
    labelNames: ["controller"],
    registers,
  })
  const activeWorkers = new Gauge({
    name: "controller_runtime_active_workers",
    help: "Number of currently used workers per controller",
    labelNames: ["controller"],
    registers,
  })
  const depth = new Gauge({
    name: "workqueue_depth",
    help: "Current depth of workqueue",
    labelNames: ["name", "controller"],
    registers,
  })
  const adds = new Counter({
    name: "workqueue_adds_total",
    help: "Total number of adds handled by workqueue",
    labelNames: ["name", "controller"],
    registers,
  })
  const queueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames: ["name", "controller"],
    buckets: queueBuckets,
    registers,
  })
  const workDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes",
    labelNames: ["name", "controller"],
    buckets: queueBuckets,
    registers,
  })
  const retries = new Counter({
    name: "workqueue_retries_total",
    help: "Total number of retries handled by workqueue",
    labelNames: ["name", "controller"],
    registers,
  })
  /** In-flight work per queue, read at scrape time (client-go samples it every 500 ms instead). */
  const inFlight = new Map<string, () => { readonly totalSeconds: number; readonly longestSeconds: number }>()
  new Gauge({
    name: "workqueue_unfinished_work_seconds",
    help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
    labelNames: ["name", "controller"],
    registers,
    collect() {
      for (const [c, probe] of inFlight) this.set({ name: c, controller: c }, probe().totalSeconds)
    },
  })
  new Gauge({
    name: "workqueue_longest_running_processor_seconds",
    help: "How many seconds has the longest running processor for workqueue been running.",
    labelNames: ["name", "controller"],
    registers,
    collect() {
      for (const [c, probe] of inFlight) this.set({ name: c, controller: c }, probe().longestSeconds)
    },
  })
  const idle = { totalSeconds: 0, longestSeconds: 0 }
  const leader = new Gauge({
    name: "leader_election_master_status",
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
    labelNames: ["name"],
    registers,
  })
  const watchRestarts = new Counter({
    name: "langop_informer_watch_restarts_total",
    help: "Watch connections ended and reopened, by reason (closed = server timeout, error, inactive, gone = 410)",
    labelNames: ["resource", "reason"],
    registers,
  })
  const relists = new Counter({
    name: "langop_informer_relists_total",
    help: "Full lists performed by informers (the first list included)",
    labelNames: ["resource"],
    registers,
  })
  const decodeFailures = new Counter({
    name: "langop_informer_decode_failures_total",
    help: "Object versions that failed to decode and were not cached",
    labelNames: ["resource"],
    registers,
  })
  const eventsDropped = new Counter({
    name: "langop_events_dropped_total",
    help: "Kubernetes Events not written because the recorder's buffer was full or the write failed",
    registers,
  })

  return {
    registry,
    queue: (controller) => {
      const l = { name: controller, controller }
      return {
        depth: (n) => depth.set(l, n),
        adds: () => adds.inc(l),
        queueLatencySeconds: (s) => queueDuration.observe(l, s),
        workDurationSeconds: (s) => workDuration.observe(l, s),
        retries: () => retries.inc(l),
        inFlight: (probe) => inFlight.set(controller, probe),
      }
    },
    informer: (resource) => ({
      watchRestart: (reason) => watchRestarts.inc({ resource, reason }),
      relist: () => relists.inc({ resource }),
      decodeFailure: () => decodeFailures.inc({ resource }),
    }),
    reconciled: (controller, result, seconds) => {
      reconcileTotal.inc({ controller, result })
      reconcileTime.observe({ controller }, seconds)
    },
    reconcileError: (controller, terminal) => {
      reconcileErrors.inc({ controller })
      if (terminal) terminalErrors.inc({ controller })
    },
    reconcilePanic: (controller) => reconcilePanics.inc({ controller }),
    initController: (controller, n) => {
      const c = { controller }
      for (const result of outcomes) reconcileTotal.inc({ controller, result }, 0)
      reconcileErrors.inc(c, 0)
      terminalErrors.inc(c, 0)
      reconcilePanics.inc(c, 0)
      reconcileTime.zero(c)
      maxConcurrent.set(c, n)
      activeWorkers.set(c, 0)
      const l = { name: controller, controller }
      depth.set(l, 0)
      adds.inc(l, 0)
      retries.inc(l, 0)
      queueDuration.zero(l)
      workDuration.zero(l)
      if (!inFlight.has(controller)) inFlight.set(controller, () => idle)
    },
    maxConcurrent: (controller, n) => maxConcurrent.set({ controller }, n),
    activeWorkers: (controller, delta) => activeWorkers.inc({ controller }, delta),
    leader: (name, isLeader) => leader.set({ name }, isLeader ? 1 : 0),
    eventsDropped: () => eventsDropped.inc(),
    ...makeHttpMetrics(registry),
  }
}
