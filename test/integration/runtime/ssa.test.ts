// Server-side apply ownership and 409 handling against a real API server.
import { Effect } from "effect"
import { expect } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { retryOnConflict } from "../../../src/kube/retry.ts"
import { defineController } from "../../../src/runtime/controller.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { eventually, sample, startManager, withClient } from "./support.ts"

const CM = Builtin.ConfigMap
const cm = (namespace: string, name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace },
  data,
})
const managersOf = (o: KubeObject) =>
  (o.metadata.managedFields ?? []).map((f) => (f as { manager: string }).manager).sort()

test("server-side apply from two field managers keeps each one's fields", async ({ namespace }) => {
  await withClient(kubeconfigPath())(
    Effect.gen(function* () {
      const k = yield* KubeClient
      const at = { namespace, name: "shared" }
      yield* k.apply(CM, cm(namespace, "shared", { a: "1" }), { fieldManager: "manager-a" })
      yield* k.apply(CM, cm(namespace, "shared", { b: "2" }), { fieldManager: "manager-b" })
      yield* k.apply(CM, cm(namespace, "shared", { a: "10" }), { fieldManager: "manager-a" })
      const both = yield* k.get(CM, at)
      expect(both.data).toEqual({ a: "10", b: "2" })
      expect(managersOf(both)).toEqual(["manager-a", "manager-b"])

      // Taking a field another manager owns is a 409 naming the field, unless forced.
      const conflict = yield* Effect.flip(
        k.apply(CM, cm(namespace, "shared", { a: "x" }), { fieldManager: "manager-b" }),
      )
      expect(conflict._tag).toBe("Conflict")
      expect(conflict._tag === "Conflict" ? conflict.causes.map((c) => c.field) : []).toEqual([".data.a"])
      yield* k.apply(CM, cm(namespace, "shared", { a: "x", b: "2" }), {
        fieldManager: "manager-b",
        force: true,
      })

      // manager-a no longer owns `a`: applying without it leaves it in place.
      yield* k.apply(CM, cm(namespace, "shared", {}), { fieldManager: "manager-a" })
      expect((yield* k.get(CM, at)).data).toEqual({ a: "x", b: "2" })
      // manager-b dropping `b` from its applied configuration removes it.
      yield* k.apply(CM, cm(namespace, "shared", { a: "x" }), { fieldManager: "manager-b" })
      expect((yield* k.get(CM, at)).data).toEqual({ a: "x" })
    }),
  )
})

test("retryOnConflict re-runs a read-modify-write whose update hit a stale resourceVersion", async ({
  namespace,
}) => {
  await withClient(kubeconfigPath())(
    Effect.gen(function* () {
      const k = yield* KubeClient
      const at = { namespace, name: "counter" }
      yield* k.create(CM, cm(namespace, "counter", { n: "0" }))
      let attempts = 0
      const increment = Effect.gen(function* () {
        const cur = yield* k.get(CM, at)
        attempts++
        if (attempts === 1) yield* k.patch(CM, at, { type: "merge", body: { data: { other: "writer" } } })
        const n = Number((cur.data as Record<string, string>).n)
        return yield* k.replace(CM, { ...cur, data: { ...(cur.data as object), n: String(n + 1) } })
      })
      const result = yield* retryOnConflict(increment)
      expect(attempts).toBe(2)
      expect(result.data).toEqual({ n: "1", other: "writer" })
    }),
  )
})

test("a reconcile that fails with 409 Conflict is retried by the controller until it succeeds", async ({
  namespace,
}) => {
  const path = kubeconfigPath()
  let attempts = 0
  const ctrl = defineController({
    name: "conflicts",
    for: { resource: CM, namespace, labelSelector: "test=conflict" },
    reconcile: (req) =>
      Effect.gen(function* () {
        const k = yield* KubeClient
        const cur = yield* k.get(CM, req)
        if ((cur.data as Record<string, string> | undefined)?.done === "yes") return
        attempts++
        // Another writer changes the object between our read and our write, once.
        if (attempts === 1) yield* k.patch(CM, req, { type: "merge", body: { data: { other: "writer" } } })
        yield* k.replace(CM, { ...cur, data: { ...(cur.data as object), done: "yes" } })
      }),
  })
  const mgr = startManager(path, [ctrl], {
    leaderElection: false,
    gracefulShutdownTimeoutMs: 5000,
    concurrency: () => 1,
  })
  try {
    await withClient(path)(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* k.create(CM, {
          ...cm(namespace, "target", { v: "1" }),
          metadata: { name: "target", namespace, labels: { test: "conflict" } },
        })
      }),
    )
    const final = await eventually("the reconcile to succeed", () =>
      withClient(path)(
        Effect.gen(function* () {
          const o = yield* (yield* KubeClient).get(CM, { namespace, name: "target" })
          return (o.data as Record<string, string>).done === "yes" ? o : undefined
        }),
      ),
    )
    expect(final.data).toEqual({ v: "1", other: "writer", done: "yes" })
    const text = await mgr.metrics()
    expect(sample(text, 'controller_runtime_reconcile_errors_total{controller="conflicts"}')).toBe(1)
    expect(sample(text, 'workqueue_retries_total{name="conflicts"')).toBeGreaterThanOrEqual(1)
    expect(attempts).toBe(2)
  } finally {
    await mgr.stop()
  }
})
