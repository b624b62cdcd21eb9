// The runtime's Prometheus series as a dashboard sees them: present at zero from the start, panics,
// in-flight work, and the API-call and admission hooks.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { AdmissionObserver, ApiCallObserver } from "../../../src/observability/hooks.ts"
import { type Controller, defineController } from "../../../src/runtime/controller.ts"
import { runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { makeRuntimeMetrics, RuntimeMetrics } from "../../../src/runtime/metrics.ts"
import { cm, FakeApi } from "./fake-api.ts"

const CM = Builtin.ConfigMap

const settle = Effect.gen(function* () {
  for (let i = 0; i < 30; i++) yield* Effect.yieldNow
})

const withRuntime =
  (api: FakeApi) =>
  <A, E, R>(eff: Effect.Effect<A, E, R>) =>
    Effect.provide(eff, runtimeLayer().pipe(Layer.provideMerge(Layer.succeed(KubeClient, api.client))))

const start = <R>(ctrl: Controller<R>, concurrency = 3) =>
  Effect.forkScoped(
    runManager([ctrl], {
      leaderElection: false,
      gracefulShutdownTimeoutMs: 1000,
      concurrency: () => concurrency,
    }),
  ).pipe(Effect.andThen(settle))

const text = Effect.flatMap(Effect.service(RuntimeMetrics), (m) => Effect.promise(() => m.registry.metrics()))

/** Value of the sample `series` (exact name and labels), or undefined when the series does not exist. */
const value = (t: string, series: string): number | undefined => {
  const line = t.split("\n").find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe("runtime metrics", () => {
  it.effect("every series of a registered controller exists at zero before its first event", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const ctrl = defineController({
        name: "quiet",
        for: { resource: CM },
        reconcile: () => Effect.void,
      })
      yield* start(ctrl)
      const t = yield* text
      for (const result of ["success", "error", "requeue", "requeue_after"])
        assert.strictEqual(
          value(t, `controller_runtime_reconcile_total{controller="quiet",result="${result}"}`),
          0,
        )
      for (const name of [
        "controller_runtime_reconcile_errors_total",
        "controller_runtime_terminal_reconcile_errors_total",
        "controller_runtime_reconcile_panics_total",
        "controller_runtime_reconcile_time_seconds_count",
        "controller_runtime_active_workers",
      ])
        assert.strictEqual(value(t, `${name}{controller="quiet"}`), 0, name)
      assert.strictEqual(value(t, `controller_runtime_max_concurrent_reconciles{controller="quiet"}`), 3)
      for (const name of [
        "workqueue_retries_total",
        "workqueue_adds_total",
        "workqueue_depth",
        "workqueue_queue_duration_seconds_count",
        "workqueue_work_duration_seconds_count",
        "workqueue_unfinished_work_seconds",
        "workqueue_longest_running_processor_seconds",
      ])
        assert.strictEqual(value(t, `${name}{name="quiet",controller="quiet"}`), 0, name)
    }).pipe(withRuntime(api))
  })

  it.effect("a reconcile that dies with a defect counts as a panic and as an error", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const ctrl = defineController({
        name: "buggy",
        for: { resource: CM },
        reconcile: () => Effect.die(new Error("bug")),
      })
      api.put(CM, cm("ns", "a"))
      yield* start(ctrl)
      const t = yield* text
      assert.strictEqual(value(t, `controller_runtime_reconcile_panics_total{controller="buggy"}`), 1)
      assert.strictEqual(value(t, `controller_runtime_reconcile_errors_total{controller="buggy"}`), 1)
      assert.strictEqual(value(t, `controller_runtime_reconcile_total{controller="buggy",result="error"}`), 1)
    }).pipe(withRuntime(api))
  })

  it.effect("a running reconcile shows as unfinished work, active worker and longest processor", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const release = yield* Deferred.make<void>()
      const ctrl = defineController({
        name: "slow",
        for: { resource: CM },
        reconcile: (req) => (req.name === "stuck" ? Deferred.await(release) : Effect.void),
      })
      api.put(CM, cm("ns", "stuck"))
      yield* start(ctrl)
      yield* TestClock.adjust("3 seconds")
      let t = yield* text
      const l = '{name="slow",controller="slow"}'
      assert.strictEqual(value(t, `workqueue_unfinished_work_seconds${l}`), 3)
      assert.strictEqual(value(t, `workqueue_longest_running_processor_seconds${l}`), 3)
      assert.strictEqual(value(t, `controller_runtime_active_workers{controller="slow"}`), 1)
      yield* Deferred.succeed(release, undefined)
      yield* settle
      t = yield* text
      assert.strictEqual(value(t, `workqueue_unfinished_work_seconds${l}`), 0)
      assert.strictEqual(value(t, `controller_runtime_active_workers{controller="slow"}`), 0)
      assert.strictEqual(
        value(t, `controller_runtime_reconcile_total{controller="slow",result="success"}`),
        1,
      )
    }).pipe(withRuntime(api))
  })

  it.effect("the layer routes API calls and admission requests of its fibers into its registry", () =>
    Effect.gen(function* () {
      const api = yield* Effect.service(ApiCallObserver)
      const admission = yield* Effect.service(AdmissionObserver)
      api.record({ method: "GET", host: "10.0.0.1:6443", code: "200", seconds: 0.02 })
      api.record({ method: "PATCH", host: "10.0.0.1:6443", code: "<error>", seconds: 0.3 })
      admission.registered("/mutate/pods")
      const done = admission.started("/validate/languageagents")
      let t = yield* text
      assert.strictEqual(
        value(t, 'controller_runtime_webhook_requests_in_flight{webhook="/validate/languageagents"}'),
        1,
      )
      done(200)
      t = yield* text
      assert.strictEqual(
        value(t, 'rest_client_requests_total{code="200",method="GET",host="10.0.0.1:6443"}'),
        1,
      )
      assert.strictEqual(
        value(t, 'rest_client_requests_total{code="<error>",method="PATCH",host="10.0.0.1:6443"}'),
        1,
      )
      assert.strictEqual(
        value(t, 'rest_client_request_duration_seconds_bucket{le="0.025",verb="GET",host="10.0.0.1:6443"}'),
        1,
      )
      assert.strictEqual(
        value(t, 'rest_client_request_duration_seconds_bucket{le="0.25",verb="PATCH",host="10.0.0.1:6443"}'),
        0,
      )
      assert.strictEqual(
        value(t, 'controller_runtime_webhook_requests_total{webhook="/validate/languageagents",code="200"}'),
        1,
      )
      assert.strictEqual(
        value(t, 'controller_runtime_webhook_requests_in_flight{webhook="/validate/languageagents"}'),
        0,
      )
      assert.strictEqual(
        value(t, 'controller_runtime_webhook_latency_seconds_count{webhook="/validate/languageagents"}'),
        1,
      )
      assert.strictEqual(value(t, 'controller_runtime_webhook_requests_in_flight{webhook="/mutate/pods"}'), 0)
      for (const code of ["200", "500"])
        assert.strictEqual(
          value(t, `controller_runtime_webhook_requests_total{webhook="/mutate/pods",code="${code}"}`),
          0,
        )
    }).pipe(Effect.provide(RuntimeMetrics.layer)),
  )

  it("without the layer, the hooks record nothing and cost nothing", () => {
    const m = makeRuntimeMetrics({ processMetrics: false })
    const observer = Effect.runSync(Effect.service(ApiCallObserver))
    observer.record({ method: "GET", host: "h", code: "200", seconds: 1 })
    return m.registry.metrics().then((t) => assert.notInclude(t, "rest_client_requests_total{"))
  })
})
