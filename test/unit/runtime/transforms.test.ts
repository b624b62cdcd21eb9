import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { makeInformer } from "../../../src/runtime/informer.ts"
import { LAST_APPLIED_ANNOTATION, withoutSecretValues } from "../../../src/runtime/transforms.ts"
import { FakeApi } from "./fake-api.ts"

const VALUE = "c3VwZXItc2VjcmV0LXZhbHVl"
const APPLIED = `{"apiVersion":"v1","data":{"token":"${VALUE}"},"kind":"Secret"}`

const secret = (name: string, resourceVersion = "1"): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name,
    namespace: "ns",
    uid: `uid-${name}`,
    resourceVersion,
    labels: { app: "x" },
    annotations: { [LAST_APPLIED_ANNOTATION]: APPLIED, note: "kept" },
    ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "o", uid: "u" }],
  },
  type: "Opaque",
  data: { token: VALUE, "ca.crt": VALUE },
  stringData: { password: "plain" },
})

describe("withoutSecretValues", () => {
  it("keeps key names, metadata and type; drops every value and the kubectl apply annotation", () => {
    const input = secret("s")
    const before = JSON.stringify(input)
    const out = withoutSecretValues(input)
    assert.deepStrictEqual(out, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "s",
        namespace: "ns",
        uid: "uid-s",
        resourceVersion: "1",
        labels: { app: "x" },
        annotations: { note: "kept" },
        ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "o", uid: "u" }],
      },
      type: "Opaque",
      data: { token: "", "ca.crt": "" },
      stringData: { password: "" },
    })
    assert.notInclude(JSON.stringify(out), VALUE)
    assert.notInclude(JSON.stringify(out), "plain")
    assert.strictEqual(JSON.stringify(input), before, "the input is not mutated")
    assert.deepStrictEqual(withoutSecretValues(out), out, "idempotent")
  })

  it("leaves a Secret without data, stringData or annotations as it is", () => {
    const bare: KubeObject = {
      metadata: { name: "e", namespace: "ns", resourceVersion: "3" },
      type: "Opaque",
    }
    assert.deepStrictEqual(withoutSecretValues(bare), bare)
  })
})

describe("an informer with a transform", () => {
  it.effect("caches and hands to handlers only transformed objects, from the list and from the watch", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(Builtin.Secret, secret("listed"))
      const firstVersion = api.rv
      const inf = yield* makeInformer<KubeObject>(api.client, {
        resource: Builtin.Secret,
        transform: withoutSecretValues,
      })
      const seen: Array<string> = []
      inf.subscribe((e) => seen.push(JSON.stringify(e.obj) + JSON.stringify(e.old ?? {})))
      yield* Effect.forkScoped(inf.run)
      yield* inf.waitForSync
      api.put(Builtin.Secret, secret("watched"))
      api.put(Builtin.Secret, secret("listed", "2"))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      assert.deepStrictEqual(inf.cache.keys().toSorted(), ["ns/listed", "ns/watched"])
      assert.strictEqual(seen.length, 3)
      for (const o of [...inf.cache.list(), ...seen.map((s) => ({ s }))]) {
        assert.notInclude(JSON.stringify(o), VALUE)
        assert.notInclude(JSON.stringify(o), "plain")
      }
      const listed = inf.cache.get("ns/listed") as KubeObject & { data?: Record<string, string> }
      assert.deepStrictEqual(Object.keys(listed.data ?? {}), ["token", "ca.crt"])
      assert.strictEqual(listed.metadata.resourceVersion, String(api.rv), "the updated version is cached")
      assert.notStrictEqual(listed.metadata.resourceVersion, String(firstVersion))
    }),
  )
})
