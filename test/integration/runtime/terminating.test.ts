// A reconcile in a namespace that is being deleted, against a real API server: the NamespaceLifecycle
// admission plugin refuses every create there with a 403; the client classifies it as
// NamespaceTerminating and the controller runtime treats it as expected — no ERROR log line.
import { Effect, Exit, Fiber, Layer, Logger } from "effect"
import { expect, onTestFinished } from "vitest"
import { KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { defineController } from "../../../src/runtime/controller.ts"
import { formatLine } from "../../../src/runtime/logging.ts"
import { runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { eventually, withClient } from "./support.ts"

const HOLD = "langop.io/test-hold"

test("a reconcile that creates in a terminating namespace logs no error", async ({ namespace }) => {
  const path = kubeconfigPath()
  const client = (eff: Effect.Effect<void, unknown, KubeClient>): Promise<void> => withClient(path)(eff)
  // Held by a finalizer, so the namespace stays Terminating while this object (and its events) remain.
  await client(
    Effect.gen(function* () {
      yield* (yield* KubeClient).create(Builtin.ConfigMap, {
        metadata: { name: "held", namespace, finalizers: [HOLD] },
      })
    }),
  )
  onTestFinished(() =>
    client(
      Effect.gen(function* () {
        yield* (yield* KubeClient)
          .patch(
            Builtin.ConfigMap,
            { namespace, name: "held" },
            { type: "merge", body: { metadata: { finalizers: null } } },
          )
          .pipe(Effect.catchTag("NotFound", () => Effect.void))
      }),
    ),
  )

  const outcomes: Array<string> = []
  const lines: Array<string> = []
  const capture = Logger.layer([Logger.make((o) => void lines.push(formatLine(o)))])
  const ctrl = defineController({
    name: "children",
    for: { resource: Builtin.ConfigMap, namespace },
    reconcile: (req) =>
      Effect.gen(function* () {
        if (req.name.endsWith("-child")) return
        const k = yield* KubeClient
        const child: KubeObject = { metadata: { name: `${req.name}-child`, namespace: req.namespace } }
        const created = yield* Effect.result(k.create(Builtin.ConfigMap, child))
        const tag = created._tag === "Success" ? "created" : created.failure._tag
        outcomes.push(tag)
        if (tag === "AlreadyExists" || tag === "created") return
        return yield* Effect.fail(created._tag === "Failure" ? created.failure : new Error(tag))
      }),
  })
  const layer = runtimeLayer({ instance: "test" }).pipe(Layer.provideMerge(layerFromFile(path)))
  const fiber = Effect.runFork(
    runManager([ctrl], {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 5_000,
      concurrency: () => 1,
    }).pipe(Effect.provide(layer), Effect.provide(capture)),
  )
  const stop = async () => {
    const exit = await Effect.runPromise(Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber))))
    if (Exit.isFailure(exit) && !exit.cause.reasons.every((r) => r._tag === "Interrupt"))
      throw new Error(`manager failed: ${String(exit.cause)}`)
  }
  let stopped = false
  onTestFinished(async () => {
    if (!stopped) await stop()
  })

  await eventually("the child of the held ConfigMap", () => outcomes.includes("created"), 60_000)
  await client(
    Effect.gen(function* () {
      yield* (yield* KubeClient).delete(Builtin.Namespace, { name: namespace })
    }),
  )
  // The namespace controller deletes the child; the held ConfigMap gets its deletionTimestamp (an update
  // event), and its reconcile tries to create the child again in the terminating namespace.
  await eventually(
    "a create refused because the namespace is terminating",
    () => outcomes.includes("NamespaceTerminating"),
    120_000,
  )
  await stop()
  stopped = true
  const level = (l: string) => (JSON.parse(l) as { level: string }).level
  expect(
    lines.filter((l) => level(l) === "error"),
    lines.join("\n"),
  ).toEqual([])
  expect(lines.filter((l) => level(l) === "warn" && l.includes("terminated"))).toEqual([])
})
