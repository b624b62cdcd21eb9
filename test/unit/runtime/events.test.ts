import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { KubeClientShape } from "../../../src/kube/client.ts"
import { NotFound } from "../../../src/kube/errors.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { type EventInput, makeEventRecorder, microTime } from "../../../src/runtime/events.ts"

interface Call {
  readonly op: "create" | "patch"
  readonly name: string
  readonly namespace: string
  readonly body: unknown
}

const recordingClient = (calls: Array<Call>, failPatch = false): KubeClientShape => {
  const unused = () => Effect.die(new Error("not used"))
  return {
    get: unused,
    list: unused,
    listAll: unused,
    watch: () => {
      throw new Error("not used")
    },
    replace: unused,
    apply: unused,
    delete: unused,
    create: (_r, obj) =>
      Effect.sync(() => {
        calls.push({
          op: "create",
          name: obj.metadata.name ?? "",
          namespace: obj.metadata.namespace ?? "",
          body: obj,
        })
        return obj
      }),
    patch: (_r, at, p) =>
      failPatch
        ? Effect.fail(new NotFound({ code: 404, request: "PATCH", message: "gone" }))
        : Effect.sync(() => {
            calls.push({
              op: "patch",
              name: at.name,
              namespace: at.namespace ?? "",
              body: p.type === "merge" ? p.body : p.ops,
            })
            return { metadata: {} } as KubeObject
          }),
  }
}

const agent: KubeObject = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageAgent",
  metadata: { name: "bot", namespace: "team", uid: "u-1" },
}
const warning = (note: string, regarding: KubeObject = agent): EventInput => ({
  regarding,
  type: "Warning",
  reason: "ToolNotFound",
  action: "Reconcile",
  note,
})

const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

describe("EventRecorder", () => {
  it.effect("creates an events.k8s.io/v1 Event on first occurrence", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      const rec = yield* makeEventRecorder(recordingClient(calls), { reportingInstance: "pod-1" })
      yield* rec.record(warning("tool web missing"))
      yield* settle
      assert.strictEqual(calls.length, 1)
      const [c] = calls
      assert.strictEqual(c?.op, "create")
      assert.strictEqual(c?.namespace, "team")
      assert.match(c?.name ?? "", /^bot\./u)
      assert.deepInclude(c?.body as object, {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        reportingController: "langop.io/operator",
        reportingInstance: "pod-1",
        type: "Warning",
        reason: "ToolNotFound",
        action: "Reconcile",
        note: "tool web missing",
        regarding: {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguageAgent",
          name: "bot",
          namespace: "team",
          uid: "u-1",
        },
        eventTime: microTime(0),
      })
    }),
  )

  it.effect("a repeat within 6 minutes bumps series.count instead of creating a new Event", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      const rec = yield* makeEventRecorder(recordingClient(calls), { reportingInstance: "pod-1" })
      yield* rec.record(warning("tool web missing"))
      yield* settle
      yield* TestClock.adjust("1 minute")
      yield* rec.record(warning("tool web missing"))
      yield* settle
      yield* TestClock.adjust("1 minute")
      // Two repeats before the writer runs are coalesced into one patch with the final count.
      yield* rec.record(warning("tool web missing"))
      yield* rec.record(warning("tool web missing"))
      yield* settle
      assert.deepStrictEqual(
        calls.map((c) => c.op),
        ["create", "patch", "patch"],
      )
      assert.deepStrictEqual(calls[1]?.body, { series: { count: 2, lastObservedTime: microTime(60_000) } })
      assert.deepStrictEqual(calls[2]?.body, { series: { count: 4, lastObservedTime: microTime(120_000) } })
      assert.strictEqual(calls[1]?.name, calls[0]?.name)
    }),
  )

  it.effect("different notes, objects or an expired window make new Events", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      const rec = yield* makeEventRecorder(recordingClient(calls), { reportingInstance: "pod-1" })
      yield* rec.record(warning("tool web missing"))
      yield* rec.record(warning("tool db missing"))
      yield* rec.record(
        warning("tool web missing", { ...agent, metadata: { name: "other", namespace: "team" } }),
      )
      yield* settle
      yield* TestClock.adjust("7 minutes")
      yield* rec.record(warning("tool web missing"))
      yield* settle
      assert.deepStrictEqual(
        calls.map((c) => c.op),
        ["create", "create", "create", "create"],
      )
      assert.strictEqual(new Set(calls.map((c) => c.name)).size, 4)
    }),
  )

  it.effect("events about cluster-scoped objects go to the default namespace", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      const rec = yield* makeEventRecorder(recordingClient(calls), { reportingInstance: "pod-1" })
      yield* rec.record(
        warning("x", { apiVersion: "langop.io/v1alpha1", kind: "LanguageCluster", metadata: { name: "c" } }),
      )
      yield* settle
      assert.strictEqual(calls[0]?.namespace, "default")
    }),
  )

  it.effect("never fails the caller: write errors and a full buffer are counted as dropped", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      let dropped = 0
      const rec = yield* makeEventRecorder(recordingClient(calls, true), {
        reportingInstance: "pod-1",
        maxPending: 2,
        onDropped: () => dropped++,
      })
      for (const n of ["a", "b", "c", "d"]) yield* rec.record(warning(n))
      assert.strictEqual(dropped, 2, "two did not fit the buffer")
      yield* settle
      yield* rec.record(warning("a")) // repeat → patch → 404 → logged and counted
      yield* settle
      assert.strictEqual(dropped, 3)
      assert.strictEqual(calls.length, 2)
    }),
  )

  it.effect("truncates notes to 1 kB", () =>
    Effect.gen(function* () {
      const calls: Array<Call> = []
      const rec = yield* makeEventRecorder(recordingClient(calls), { reportingInstance: "pod-1" })
      yield* rec.record(warning("x".repeat(5000)))
      yield* settle
      assert.strictEqual(((calls[0]?.body ?? {}) as { note?: string }).note?.length, 1024)
    }),
  )
})
