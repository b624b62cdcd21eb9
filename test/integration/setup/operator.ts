// An in-process operator for integration tests: the runtime's own manager (src/runtime/manager.ts) with
// the given controllers, against the shared test cluster, plus a record of every API write it makes.
//
//   const op = await startOperator([languageToolControllerFromSettings(settings)])
//   onTestFinished(op.stop)            // or afterAll
//   … op.writes() / op.reconciles("languagetool") …
//
// The write record wraps the KubeClient layer (a decorator, not an apiserver audit), so it sees exactly
// what the controllers send: create/replace/apply/patch/delete, with resource, namespace, name and
// subresource. Dry-run requests are recorded with `dryRun: true` (they never persist anything).
import { Effect, Exit, Fiber, Layer } from "effect"
import { KubeClient, type KubeClientShape, layerFromFile } from "../../../src/kube/client.ts"
import { Dns } from "../../../src/network/dns.ts"
import { DnsMemory } from "../../../src/network/memory.ts"
import type { Controller } from "../../../src/runtime/controller.ts"
import { type RuntimeServices, runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts"
import { kubeconfigPath } from "./context.ts"

export interface RecordedWrite {
  readonly verb: "create" | "replace" | "apply" | "patch" | "delete"
  /** Kind, e.g. `Deployment`. */
  readonly kind: string
  readonly namespace: string
  readonly name: string
  readonly subresource?: string | undefined
  readonly dryRun: boolean
}

export interface RunningOperator {
  /** Every write so far, in order. */
  readonly writes: () => ReadonlyArray<RecordedWrite>
  /** Completed reconciles of one controller (any outcome), from the manager's metrics. */
  readonly reconciles: (controller: string) => Promise<number>
  /** Interrupts the manager (graceful shutdown) and waits for it. */
  readonly stop: () => Promise<void>
}

export interface OperatorOptions {
  /** Periodic resync of every cached object (ms); default off. */
  readonly resyncPeriodMs?: number
  readonly concurrency?: number
  /** Name resolution for egress `dns` names; default: every name NXDOMAIN (hermetic). */
  readonly dns?: Layer.Layer<Dns>
  /** Decorates the real client (fault injection); the write record sees what passes through it. */
  readonly wrapClient?: (inner: KubeClientShape) => KubeClientShape
}

/** What the operator's controllers may require: the runtime plus the egress name resolution services. */
export type OperatorServices = KubeClient | RuntimeServices | Dns | DnsMemory

const recording = (inner: KubeClientShape, log: Array<RecordedWrite>): KubeClientShape => {
  const note = (w: RecordedWrite) => Effect.sync(() => log.push(w))
  return {
    ...inner,
    create: (r, obj, opts) =>
      Effect.andThen(
        note({
          verb: "create",
          kind: r.kind,
          namespace: obj.metadata.namespace ?? "",
          name: obj.metadata.name ?? "",
          dryRun: opts?.dryRun === true,
        }),
        inner.create(r, obj, opts),
      ),
    replace: (r, obj, opts) =>
      Effect.andThen(
        note({
          verb: "replace",
          kind: r.kind,
          namespace: obj.metadata.namespace ?? "",
          name: obj.metadata.name ?? "",
          subresource: opts?.subresource,
          dryRun: opts?.dryRun === true,
        }),
        inner.replace(r, obj, opts),
      ),
    apply: (r, obj, opts) =>
      Effect.andThen(
        note({
          verb: "apply",
          kind: r.kind,
          namespace: obj.metadata.namespace ?? "",
          name: obj.metadata.name ?? "",
          subresource: opts.subresource,
          dryRun: opts.dryRun === true,
        }),
        inner.apply(r, obj, opts),
      ),
    patch: (r, at, p, opts) =>
      Effect.andThen(
        note({
          verb: "patch",
          kind: r.kind,
          namespace: at.namespace ?? "",
          name: at.name,
          subresource: opts?.subresource,
          dryRun: opts?.dryRun === true,
        }),
        inner.patch(r, at, p, opts),
      ),
    delete: (r, at, opts) =>
      Effect.andThen(
        note({
          verb: "delete",
          kind: r.kind,
          namespace: at.namespace ?? "",
          name: at.name,
          dryRun: opts?.dryRun === true,
        }),
        inner.delete(r, at, opts),
      ),
  }
}

/** Starts the manager in the background; resolves once it is running (caches sync before reconciles). */
export const startOperator = async (
  controllers: ReadonlyArray<Controller<OperatorServices>>,
  options: OperatorOptions = {},
): Promise<RunningOperator> => {
  const log: Array<RecordedWrite> = []
  const client = Layer.effect(
    KubeClient,
    Effect.map(Effect.service(KubeClient), (inner) => recording(options.wrapClient?.(inner) ?? inner, log)),
  ).pipe(Layer.provide(layerFromFile(kubeconfigPath())))
  const layer = runtimeLayer({
    instance: "integration-test",
    ...(options.resyncPeriodMs !== undefined ? { resyncPeriodMs: options.resyncPeriodMs } : {}),
  }).pipe(
    Layer.provideMerge(client),
    // Default: every name is NXDOMAIN, never the system resolver (no test touches the internet).
    Layer.merge(Layer.mergeAll(options.dns ?? Dns.layerTest({}), DnsMemory.layer)),
  )
  let metricsText: () => Promise<string> = () => Promise.resolve("")
  const program = Effect.gen(function* () {
    const metrics = yield* RuntimeMetrics
    metricsText = () => metrics.registry.metrics()
    return yield* runManager(controllers, {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 5_000,
      concurrency: () => options.concurrency ?? 2,
    })
  }).pipe(Effect.provide(layer))
  const fiber = Effect.runFork(program)
  return {
    writes: () => [...log],
    reconciles: async (controller) => {
      const text = await metricsText()
      return text
        .split("\n")
        .filter(
          (l) =>
            l.startsWith("controller_runtime_reconcile_total{") && l.includes(`controller="${controller}"`),
        )
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0)
    },
    stop: async () => {
      const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
      if (Exit.isFailure(exit) && !exit.cause.reasons.every((r) => r._tag === "Interrupt"))
        throw new Error(`operator failed: ${String(exit.cause)}`)
    },
  }
}
