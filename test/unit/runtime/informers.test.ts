import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { EventRecorder } from "../../../src/runtime/events.ts"
import type { InformerSource } from "../../../src/runtime/informer.ts"
import { Informers, informersLayer } from "../../../src/runtime/informers.ts"
import { RuntimeMetrics } from "../../../src/runtime/metrics.ts"
import { cm, FakeApi } from "./fake-api.ts"

const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

const layer = (api: FakeApi, namespaces: ReadonlyArray<string>) =>
  informersLayer({ namespaces }).pipe(
    Layer.provide(Layer.succeed(KubeClient, api.client)),
    Layer.provide(RuntimeMetrics.layer),
    Layer.provide(EventRecorder.noop),
  )

describe("Informers registry", () => {
  it.effect("shares one informer per source and merges indexers", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const informers = yield* Informers
      const byName = (o: KubeObject) => [o.metadata.name ?? ""]
      const a = yield* informers.register<KubeObject>({ resource: Builtin.ConfigMap })
      const b = yield* informers.register<KubeObject>({ resource: Builtin.ConfigMap, indexers: { byName } })
      assert.strictEqual(a, b)
      api.put(Builtin.ConfigMap, cm("x", "one"))
      yield* a.waitForSync
      yield* settle
      assert.deepStrictEqual(a.cache.keysByIndex("byName", "one"), ["x/one"])
      const decode = () => {
        throw new Error("unused")
      }
      const exit = yield* Effect.exit(informers.register({ resource: Builtin.ConfigMap, decode }))
      assert.strictEqual(exit._tag, "Failure", "another decoder for the same source is a wiring bug")
    }).pipe(Effect.provide(layer(api, [])))
  })

  it.effect("with watch namespaces, lists and watches only those and presents one cache", () => {
    const api = new FakeApi()
    return Effect.gen(function* () {
      const informers = yield* Informers
      for (const ns of ["a", "b", "c"]) api.put(Builtin.ConfigMap, cm(ns, "x"))
      const source: InformerSource<KubeObject> = {
        resource: Builtin.ConfigMap,
        indexers: { all: () => ["*"] },
      }
      const inf = yield* informers.register(source)
      const seen: Array<string> = []
      inf.subscribe((e) => seen.push(`${e.type} ${e.key}`), { replay: true })
      yield* inf.waitForSync
      api.put(Builtin.ConfigMap, cm("b", "y"))
      api.put(Builtin.ConfigMap, cm("c", "y"))
      yield* settle
      assert.deepStrictEqual([...inf.cache.keys()].sort(), ["a/x", "b/x", "b/y"])
      assert.strictEqual(inf.cache.get("c/x"), undefined)
      assert.deepStrictEqual(inf.cache.list("b").length, 2)
      assert.deepStrictEqual(inf.cache.keysByIndex("all", "*").length, 3)
      assert.isTrue(informers.allSynced())
      assert.deepStrictEqual(seen.sort(), ["add a/x", "add b/x", "add b/y"])
      assert.deepStrictEqual(
        api.calls.filter((c) => c.startsWith("list")).length,
        2,
        "one list per namespace",
      )
      // Cluster-scoped kinds are not split.
      const nsInf = yield* informers.register<KubeObject>({ resource: Builtin.Namespace })
      yield* nsInf.waitForSync
      assert.strictEqual(informers.cache({ resource: Builtin.Namespace }), nsInf.cache)
    }).pipe(Effect.provide(layer(api, ["a", "b"])))
  })
})
