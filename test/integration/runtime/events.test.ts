// The Event recorder against a real API server: events.k8s.io/v1 objects are accepted, and a
// repeated event becomes a series on the same object.
import { Effect } from "effect"
import { expect } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { makeEventRecorder } from "../../../src/runtime/events.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { eventually, withClient } from "./support.ts"

test("records an Event and counts its repeats as a series", async ({ namespace }) => {
  const path = kubeconfigPath()
  await withClient(path)(
    Effect.gen(function* () {
      const k = yield* KubeClient
      const cm = yield* k.create(Builtin.ConfigMap, { metadata: { name: "subject", namespace } })
      const subject = { ...cm, apiVersion: "v1", kind: "ConfigMap" }
      const rec = yield* makeEventRecorder(k, { reportingInstance: "test-pod" })
      const event = {
        regarding: subject,
        type: "Warning",
        reason: "ToolNotFound",
        action: "Reconcile",
        note: "tool web is missing",
      } as const
      yield* rec.record(event)
      yield* Effect.sleep("300 millis")
      yield* rec.record(event)
      yield* Effect.sleep("300 millis")
      yield* rec.record(event)
      yield* rec.record({ ...event, type: "Normal", reason: "Ready", note: "all good" })
    }),
  )
  const events = await eventually("the events to be written", () =>
    withClient(path)(
      Effect.gen(function* () {
        const list = yield* (yield* KubeClient).list(Builtin.Event, { namespace })
        const warning = list.items.find((e) => e.reason === "ToolNotFound") as
          | { series?: { count: number } }
          | undefined
        return list.items.length === 2 && warning?.series?.count === 3 ? list.items : undefined
      }),
    ),
  )
  const warning = events.find((e) => e.reason === "ToolNotFound")
  expect(warning).toMatchObject({
    reportingController: "langop.io/operator",
    reportingInstance: "test-pod",
    action: "Reconcile",
    type: "Warning",
    note: "tool web is missing",
    regarding: { kind: "ConfigMap", name: "subject", namespace },
    series: { count: 3 },
  })
})
