// Helpers for the runtime's integration tests: a KubeClient for the test cluster, managers run as
// background fibers, and polling.
import { Effect, Exit, Fiber, Layer, type Scope } from "effect"
import { type KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import type { Controller } from "../../../src/runtime/controller.ts"
import {
  type ManagerOptions,
  type RuntimeServices,
  runManager,
  runtimeLayer,
} from "../../../src/runtime/manager.ts"
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts"

/** Runs an effect that needs a KubeClient for the kubeconfig at `path`. */
export const withClient =
  (path: string) =>
  <A, E>(eff: Effect.Effect<A, E, KubeClient | Scope.Scope>): Promise<A> =>
    Effect.runPromise(Effect.scoped(Effect.provide(eff, layerFromFile(path))))

export interface RunningManager {
  /** Interrupts the manager (graceful shutdown) and waits for it to finish. */
  readonly stop: () => Promise<void>
  /** Prometheus text of this manager's registry. */
  readonly metrics: () => Promise<string>
}

/** Starts a manager with its own runtime (informers, metrics, events) in the background. */
export const startManager = (
  kubeconfigPath: string,
  controllers: ReadonlyArray<Controller<KubeClient | RuntimeServices>>,
  options: ManagerOptions,
): RunningManager => {
  let registryText: () => Promise<string> = () => Promise.resolve("")
  const layer = runtimeLayer({ instance: "test" }).pipe(Layer.provideMerge(layerFromFile(kubeconfigPath)))
  const program = Effect.gen(function* () {
    const metrics = yield* RuntimeMetrics
    registryText = () => metrics.registry.metrics()
    return yield* runManager(controllers, options)
  }).pipe(Effect.provide(layer))
  const fiber = Effect.runFork(program)
  return {
    stop: async () => {
      const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
      if (Exit.isFailure(exit) && !exit.cause.reasons.every((r) => r._tag === "Interrupt")) {
        throw new Error(`manager failed: ${String(exit.cause)}`)
      }
    },
    metrics: () => registryText(),
  }
}

/** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
export const eventually = async <A>(
  what: string,
  check: () => A | undefined | false | Promise<A | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const r = await check()
      if (r !== undefined && r !== false) return r
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? `: ${String(last)}` : ""}`,
      )
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** Value of one sample line (`name{labels} value`) in Prometheus text, or 0. */
export const sample = (text: string, prefix: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(prefix))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1))
}
