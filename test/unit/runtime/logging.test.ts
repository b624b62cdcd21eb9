// The JSON log lines as a log pipeline built for controller-runtime operators reads them.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger } from "effect"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { defineController } from "../../../src/runtime/controller.ts"
import { formatLine, parseLogLevel } from "../../../src/runtime/logging.ts"
import { runManager, runtimeLayer } from "../../../src/runtime/manager.ts"
import { cm, FakeApi } from "./fake-api.ts"

const settle = Effect.gen(function* () {
  for (let i = 0; i < 30; i++) yield* Effect.yieldNow
})

/** Runs `eff` with the JSON formatter writing into `lines` instead of stdout. */
const capturing = (lines: Array<Record<string, unknown>>) =>
  Logger.layer([
    Logger.make((options) => {
      lines.push(JSON.parse(formatLine(options)) as Record<string, unknown>)
    }),
  ])

describe("log levels", () => {
  it("accepts LANGOP_LOG_LEVEL names and --zap-log-level verbosities", () => {
    assert.strictEqual(parseLogLevel("debug"), "debug")
    assert.strictEqual(parseLogLevel(" ERROR "), "error")
    assert.strictEqual(parseLogLevel("1"), "debug")
    assert.strictEqual(parseLogLevel("4"), "trace")
    assert.strictEqual(parseLogLevel("0"), undefined)
    assert.strictEqual(parseLogLevel("verbose"), undefined)
  })
})

describe("log lines", () => {
  it.effect("put logger before msg, as zap does", () => {
    const lines: Array<Record<string, unknown>> = []
    return Effect.gen(function* () {
      yield* Effect.logInfo("hello", { extra: 1 }).pipe(Effect.annotateLogs({ logger: "admission" }))
      yield* Effect.logInfo("plain")
      assert.deepStrictEqual(Object.keys(lines[0] ?? {}), ["ts", "level", "logger", "msg", "extra"])
      assert.deepStrictEqual(Object.keys(lines[1] ?? {}), ["ts", "level", "msg"])
    }).pipe(Effect.provide(capturing(lines)))
  })

  it.effect("every line of a reconcile carries controller-runtime's fields", () => {
    const api = new FakeApi()
    const lines: Array<Record<string, unknown>> = []
    return Effect.gen(function* () {
      const ctrl = defineController({
        name: "deployments",
        for: { resource: Builtin.Deployment },
        reconcile: () => Effect.logInfo("working"),
      })
      api.put(Builtin.Deployment, { ...cm("ns", "web"), apiVersion: "apps/v1", kind: "Deployment" })
      yield* Effect.forkScoped(
        runManager([ctrl], { leaderElection: false, gracefulShutdownTimeoutMs: 1000, concurrency: () => 1 }),
      )
      yield* settle
      const line = lines.find((l) => l.msg === "working")
      assert.isDefined(line)
      assert.deepInclude(line, {
        logger: "controller",
        controller: "deployments",
        controllerGroup: "apps",
        controllerKind: "Deployment",
        namespace: "ns",
        name: "web",
        key: "ns/web",
      })
      assert.match(String(line?.reconcileID), /^[0-9a-f-]{36}$/u)
      assert.deepInclude(
        lines.find((l) => l.msg === "controller started"),
        { logger: "controller", controllerGroup: "apps", controllerKind: "Deployment" },
      )
    }).pipe(
      Effect.provide(runtimeLayer().pipe(Layer.provideMerge(Layer.succeed(KubeClient, api.client)))),
      Effect.provide(capturing(lines)),
    )
  })
})
