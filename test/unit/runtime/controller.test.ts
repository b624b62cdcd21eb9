import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger } from "effect"
import { TestClock } from "effect/testing"
import { KubeClient } from "../../../src/kube/client.ts"
import { NamespaceTerminating } from "../../../src/kube/errors.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import {
  type Controller,
  defineController,
  Reconciled,
  type ReconcileRequest,
  TerminalError,
  watches,
} from "../../../src/runtime/controller.ts"
import { Informers } from "../../../src/runtime/informers.ts"
import { formatLine } from "../../../src/runtime/logging.ts"
import { runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts"
import { cm, FakeApi } from "./fake-api.ts"

const CM = Builtin.ConfigMap
const cms = { resource: CM }

const settle = Effect.gen(function* () {
  for (let i = 0; i < 30; i++) yield* Effect.yieldNow
})

const start = <R>(controllers: ReadonlyArray<Controller<R>>) =>
  Effect.forkScoped(
    runManager(controllers, { leaderElection: false, gracefulShutdownTimeoutMs: 1000, concurrency: () => 2 }),
  ).pipe(Effect.andThen(settle))

const withRuntime =
  (api: FakeApi) =>
  <A, E, R>(eff: Effect.Effect<A, E, R>) =>
    Effect.provide(eff, runtimeLayer().pipe(Layer.provideMerge(Layer.succeed(KubeClient, api.client))))

describe("controller", () => {
  it.effect("reconciles every object, owners of changed children, and mapped objects", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const seen: Array<string> = []
      api.put(CM, cm("ns", "parent"))
      const refs = {
        resource: CM,
        labelSelector: "kind=ref",
        indexers: {
          byTarget: (o: KubeObject) => [String((o.data as { target?: string } | undefined)?.target ?? "")],
        },
      }
      const ctrl = defineController({
        name: "configmaps",
        for: cms,
        owns: [Builtin.Secret],
        watches: [
          watches(refs, (o) => [{ namespace: "ns", name: String((o.data as { target: string }).target) }]),
        ],
        reconcile: (req: ReconcileRequest) => Effect.sync(() => void seen.push(req.key)),
      })
      yield* start([ctrl])
      assert.deepStrictEqual(seen, ["ns/parent"])
      api.put(Builtin.Secret, {
        metadata: {
          namespace: "ns",
          name: "child",
          ownerReferences: [
            { apiVersion: "v1", kind: "ConfigMap", name: "parent", uid: "u", controller: true },
          ],
        },
      })
      api.put(Builtin.Secret, {
        metadata: {
          namespace: "ns",
          name: "not-controlled",
          ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "other", uid: "u" }],
        },
      })
      yield* settle
      assert.deepStrictEqual(seen, ["ns/parent", "ns/parent"], "only the controlled child maps to its owner")
      api.put(CM, {
        ...cm("ns", "ref"),
        metadata: { namespace: "ns", name: "ref", labels: { kind: "ref" } },
        data: { target: "parent" },
      })
      yield* settle
      assert.deepStrictEqual([...seen].sort(), ["ns/parent", "ns/parent", "ns/parent", "ns/ref"])
      const informers = yield* Informers
      assert.deepStrictEqual(informers.cache(refs).keysByIndex("byTarget", "parent"), ["ns/ref"])
      assert.isTrue(informers.allSynced())
    }).pipe(withRuntime(api))
  })

  it.effect("retries failures with per-key backoff, stops on TerminalError, honours requeueAfter", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const calls: Record<string, Array<number>> = {}
      const ctrl = defineController({
        name: "cms",
        for: cms,
        reconcile: (req) =>
          Effect.gen(function* () {
            const list = calls[req.name] ?? []
            calls[req.name] = list
            list.push(list.length)
            if (req.name === "flaky" && list.length < 4) return yield* Effect.fail(new Error("transient"))
            if (req.name === "broken") return yield* new TerminalError({ message: "bad spec" })
            if (req.name === "poll") return Reconciled.requeueAfter("10 seconds")
            return Reconciled.done
          }),
      })
      api.put(CM, cm("ns", "flaky"))
      api.put(CM, cm("ns", "broken"))
      api.put(CM, cm("ns", "poll"))
      yield* start([ctrl])
      yield* TestClock.adjust("4 millis")
      assert.strictEqual(calls.flaky?.length, 1, "first retry after 5 ms")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(calls.flaky?.length, 2)
      yield* TestClock.adjust("10 millis")
      assert.strictEqual(calls.flaky?.length, 3)
      yield* TestClock.adjust("20 millis")
      assert.strictEqual(calls.flaky?.length, 4, "succeeds on the fourth attempt")
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(calls.flaky?.length, 4)
      assert.strictEqual(calls.broken?.length, 1, "terminal errors are not retried")
      assert.strictEqual(calls.poll?.length, 1 + 360, "requeued every 10 s for an hour")
      const metrics = yield* RuntimeMetrics
      const text = yield* Effect.promise(() => metrics.registry.metrics())
      assert.include(text, 'controller_runtime_reconcile_total{controller="cms",result="error"} 4')
      assert.include(text, 'controller_runtime_terminal_reconcile_errors_total{controller="cms"} 1')
      assert.include(text, 'workqueue_retries_total{name="cms",controller="cms"} 3')
      assert.include(text, 'controller_runtime_max_concurrent_reconciles{controller="cms"} 2')
    }).pipe(withRuntime(api))
  })

  it.effect(
    "a reconcile refused because its namespace is being deleted is neither retried nor logged as an error",
    () => {
      const api = new FakeApi()
      const lines: Array<string> = []
      const capture = Logger.layer([Logger.make((o) => void lines.push(formatLine(o)))])
      return Effect.gen(function* () {
        const calls: Record<string, number> = {}
        const ctrl = defineController({
          name: "cms",
          for: cms,
          reconcile: (req) =>
            Effect.gen(function* () {
              calls[req.name] = (calls[req.name] ?? 0) + 1
              if (req.namespace === "going")
                return yield* new NamespaceTerminating({
                  code: 403,
                  request: "POST /api/v1/namespaces/going/configmaps",
                  message: "unable to create new content in namespace going because it is being terminated",
                })
              return yield* Effect.fail(new Error("transient"))
            }),
        })
        api.put(CM, cm("going", "a"))
        api.put(CM, cm("ns", "b"))
        yield* start([ctrl])
        yield* TestClock.adjust("1 hour")
        assert.strictEqual(calls.a, 1, "not retried")
        assert.isAbove(calls.b ?? 0, 5, "an ordinary failure in the same run is retried")
        const level = (l: string) => (JSON.parse(l) as { level: string }).level
        const errors = lines.filter((l) => level(l) === "error")
        assert.isTrue(errors.length > 0, "the ordinary failure is logged as an error")
        assert.deepStrictEqual(
          lines.filter((l) => l.includes('"namespace":"going"') && level(l) !== "debug"),
          [],
        )
        api.put(CM, cm("going", "a", { v: "2" }))
        yield* settle
        assert.strictEqual(calls.a, 2, "reconciled again when the object changes")
      }).pipe(withRuntime(api), Effect.provide(capture))
    },
  )

  it.effect("a defect in a reconcile is retried and does not stop the controller", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      let n = 0
      const ctrl = defineController({
        name: "cms",
        for: cms,
        reconcile: () =>
          Effect.sync(() => {
            n++
            if (n === 1) throw new Error("bug")
          }),
      })
      api.put(CM, cm("ns", "a"))
      yield* start([ctrl])
      yield* TestClock.adjust("5 millis")
      assert.strictEqual(n, 2)
      api.put(CM, cm("ns", "a", { v: "2" }))
      yield* settle
      assert.strictEqual(n, 3)
    }).pipe(withRuntime(api))
  })

  it.effect("shutdown lets an in-flight reconcile finish within the drain timeout", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const finished: Array<string> = []
      const ctrl = defineController({
        name: "cms",
        for: cms,
        reconcile: (req) =>
          Effect.sleep("500 millis").pipe(Effect.andThen(Effect.sync(() => void finished.push(req.key)))),
      })
      api.put(CM, cm("ns", "slow"))
      const fiber = yield* Effect.forkChild(
        Effect.scoped(
          runManager([ctrl], {
            leaderElection: false,
            gracefulShutdownTimeoutMs: 1000,
            concurrency: () => 1,
          }),
        ),
      )
      yield* settle
      const stopping = yield* Effect.forkChild(Fiber.interrupt(fiber))
      yield* settle
      assert.deepStrictEqual(finished, [], "still running")
      yield* TestClock.adjust("600 millis")
      yield* Fiber.join(stopping)
      assert.deepStrictEqual(finished, ["ns/slow"])
    }).pipe(withRuntime(api))
  })
})
