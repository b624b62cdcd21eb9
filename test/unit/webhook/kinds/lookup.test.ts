/** WebhookLookup: cache first, one live GET on a miss, typed failures, decoded objects. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { KubeClient, type KubeClientShape } from "../../../../src/kube/client.ts"
import { Transient } from "../../../../src/kube/errors.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { Builtin, Langop } from "../../../../src/kube/resources.ts"
import { runtimeLayer } from "../../../../src/runtime/manager.ts"
import { layer, makeLiveLookup, WebhookLookup } from "../../../../src/webhook/lookup.ts"
import { FakeApi } from "../../runtime/fake-api.ts"

const obj = (kind: string, name: string, spec: Record<string, unknown>, namespace = "team"): KubeObject => ({
  apiVersion: "langop.io/v1alpha1",
  kind,
  metadata: { name, namespace },
  spec,
})

/** The fake API plus a count of GETs and a switch that makes every GET fail. */
const instrumented = (api: FakeApi) => {
  const state = { gets: [] as Array<string>, failing: false }
  const client: KubeClientShape = {
    ...api.client,
    get: (r, at) =>
      Effect.suspend(() => {
        state.gets.push(`${r.plural} ${at.namespace ?? ""}/${at.name}`)
        return state.failing
          ? Effect.fail(new Transient({ code: 503, request: "GET", message: "apiserver down" }))
          : api.client.get(r, at)
      }),
  }
  return { state, client }
}

const settle = Effect.gen(function* () {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

describe("live lookup", () => {
  it.effect("decodes what it reads (schema defaults applied), 404 is undefined, failures are typed", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(Langop.LanguageTool, obj("LanguageTool", "web", { image: "x:1" }))
      const { state, client } = instrumented(api)
      const live = makeLiveLookup(client)
      const tool = yield* live.tool("team", "web")
      assert.strictEqual(tool?.spec.deploymentMode, "service")
      assert.strictEqual(yield* live.tool("team", "nope"), undefined)
      state.failing = true
      const error = yield* Effect.flip(live.model("team", "gpt"))
      assert.deepStrictEqual(
        [error._tag, error.kind, error.key],
        ["LookupError", "LanguageModel", "team/gpt"],
      )
    }),
  )

  it.effect("an object that does not decode is a LookupError naming the problem", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(Langop.LanguagePersona, obj("LanguagePersona", "broken", { displayName: "" }))
      const error = yield* Effect.flip(makeLiveLookup(api.client).persona("team", "broken"))
      assert.include(error.message, "cannot be decoded: spec.displayName")
    }),
  )
})

describe("cached lookup (the operator's layer)", () => {
  it.effect("answers from the informer cache; a miss costs exactly one live GET", () => {
    const api = new FakeApi()
    const { state, client } = instrumented(api)
    api.put(Langop.LanguageTool, obj("LanguageTool", "web", { image: "x:1", deploymentMode: "sidecar" }))
    api.put(Builtin.Secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "key", namespace: "team" },
    })
    api.put(
      Langop.LanguagePersona,
      obj("LanguagePersona", "base", { displayName: "B", description: "B", systemPrompt: "B" }),
    )
    api.put(
      Langop.LanguagePersona,
      obj("LanguagePersona", "kid", {
        displayName: "K",
        description: "K",
        systemPrompt: "K",
        parentPersona: { name: "base" },
      }),
    )
    api.put(
      Langop.LanguageAgent,
      obj(
        "LanguageAgent",
        "a",
        { image: "a:1", modelRefs: [{ name: "m" }], personaRef: { name: "base", namespace: "team" } },
        "other",
      ),
    )
    return Effect.gen(function* () {
      const lookup = yield* WebhookLookup
      yield* settle
      assert.strictEqual((yield* lookup.tool("team", "web"))?.spec.deploymentMode, "sidecar")
      assert.isDefined(yield* lookup.secret("team", "key"))
      assert.deepStrictEqual(state.gets, [])
      assert.strictEqual(yield* lookup.tool("team", "later"), undefined)
      assert.deepStrictEqual(state.gets, ["languagetools team/later"])
      // Created after the informer synced but before the watch delivered it: the live GET finds it.
      api.objects
        .get("languagemodels")
        ?.set("team/fresh", obj("LanguageModel", "fresh", { provider: "openai", modelName: "m" }))
      assert.strictEqual((yield* lookup.model("team", "fresh"))?.spec.modelName, "m")
      const children = yield* lookup.personasInheritingFrom("team", "base")
      assert.deepStrictEqual(
        children.map((p) => p.metadata.name),
        ["kid"],
      )
      const agents = yield* lookup.agentsUsingPersona("team", "base")
      assert.deepStrictEqual(
        agents.map((a) => `${a.metadata.namespace}/${a.metadata.name}`),
        ["other/a"],
      )
    }).pipe(
      Effect.provide(
        layer.pipe(Layer.provideMerge(runtimeLayer()), Layer.provideMerge(Layer.succeed(KubeClient, client))),
      ),
    )
  })
})
