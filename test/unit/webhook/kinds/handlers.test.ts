/**
 * Behaviour shared by every kind's handlers, through the real handler table and the review codec:
 * docs/concepts.md X-7 skips, malformed bodies, dry-run, DELETE routing, the examples of deploy/examples, and
 * idempotent defaulting of every kind.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, JsonPatch, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { LangopPlurals, langopKinds } from "../../../../src/webhook/handlers.ts"
import { admissions, makeHandlerSet, webhookTable } from "../../../../src/webhook/index.ts"
import { layerFromObjects } from "../../../../src/webhook/lookup.ts"
import { AdmissionReviewResponse, answerReview } from "../../../../src/webhook/review.ts"
import { guardedHandler } from "../../../../src/webhook/server.ts"
import { denyLines, type Json, mutate, NS, patchOf, reviewOf, validate, world } from "./support.ts"

const examplesDir = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "examples")
const EXAMPLE_NS = "demo"
const examples: ReadonlyArray<Json> = readdirSync(examplesDir)
  .filter((file) => file.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(examplesDir, file), "utf8")).map((d) => d.toJS() as Json),
  )
  .map((o) =>
    o.kind === "LanguageCluster" ? o : { ...o, metadata: { ...(o.metadata as Json), namespace: EXAMPLE_NS } },
  )
const langopExamples = examples.filter((o) => String(o.apiVersion).startsWith("langop.io/"))
const exampleObjects = examples as unknown as ReadonlyArray<KubeObject>
const kindOf = (o: Json) => o.kind as keyof typeof admissions

const table = webhookTable()
const entry = (path: string) => {
  const found = table.find((e) => e.path === path)
  if (found === undefined) throw new Error(`no ${path}`)
  return found
}
const answer = (path: string, request: unknown, objects: ReadonlyArray<KubeObject>) =>
  Effect.runSync(
    answerReview(
      JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request }),
      guardedHandler(entry(path)),
    ).pipe(Effect.provide(layerFromObjects(objects))),
  )
const reviewed = (path: string, request: unknown, objects: ReadonlyArray<KubeObject> = world) => {
  const a = answer(path, request, objects)
  if (a._tag !== "Review") throw new Error(a.message)
  return Schema.decodeUnknownSync(AdmissionReviewResponse)(JSON.parse(JSON.stringify(a.review))).response
}

/** Mutates `object` through the table and applies the patch. */
const defaulted = (object: Json, objects: ReadonlyArray<KubeObject>) => {
  const response = reviewed(`/mutate/${LangopPlurals[kindOf(object)]}`, reviewOf(object), objects)
  return {
    patch: patchOf(response),
    result: JsonPatch.apply(patchOf(response), object as Schema.Json) as Json,
  }
}

const invalidAgent = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageAgent",
  metadata: { name: "old", namespace: NS },
  spec: {
    image: "agent:1",
    modelRefs: [{ name: "gpt" }, { name: "gpt" }],
    volumes: [{ name: "workspace", emptyDir: {} }],
  },
}

describe("the examples of deploy/examples", () => {
  it("cover every kind", () => {
    expect(new Set(langopExamples.map(kindOf))).toEqual(new Set(langopKinds))
  })
  it.each(langopExamples.map((o) => ({ name: `${o.kind} ${(o.metadata as Json).name}`, o })))(
    "$name is admitted once its defaults are applied (warnings only for the Secrets it documents)",
    ({ o }) => {
      const response = reviewed(
        `/validate/${LangopPlurals[kindOf(o)]}`,
        reviewOf(defaulted(o, exampleObjects).result),
        exampleObjects,
      )
      expect(denyLines(response)).toEqual([])
      for (const warning of response.warnings ?? [])
        expect(warning).toMatch(/: Secret "demo\/[a-z-]+" not found/u)
    },
  )
  it.each(langopExamples.map((o) => ({ name: `${o.kind} ${(o.metadata as Json).name}`, o })))(
    "defaulting $name is idempotent",
    ({ o }) => {
      const once = defaulted(o, exampleObjects).result
      expect(defaulted(once, exampleObjects).patch).toEqual([])
    },
  )
})

describe("docs/concepts.md X-7: metadata-only updates and deleting objects", () => {
  const withFinalizer = {
    ...invalidAgent,
    metadata: { ...invalidAgent.metadata, finalizers: ["langop.io/finalizer"] },
  }

  it("an invalid object is denied on CREATE", () => {
    expect(validate(admissions.LanguageAgent, reviewOf(invalidAgent)).response.allowed).toBe(false)
  })
  it("an UPDATE that leaves spec unchanged is allowed and not patched", () => {
    const request = { oldObject: invalidAgent as Json }
    expect(validate(admissions.LanguageAgent, reviewOf(withFinalizer, request)).response).toEqual({
      uid: expect.any(String),
      allowed: true,
    })
    expect(mutate(admissions.LanguageAgent, withFinalizer, request).patch).toEqual([])
  })
  it("spec key order does not count as a change", () => {
    const reordered = {
      ...invalidAgent,
      spec: Object.fromEntries(Object.entries(invalidAgent.spec).reverse()),
    }
    expect(
      validate(admissions.LanguageAgent, reviewOf(reordered, { oldObject: invalidAgent })).response.allowed,
    ).toBe(true)
  })
  it("any UPDATE of an object being deleted is allowed and not patched", () => {
    const deleting = {
      ...invalidAgent,
      metadata: { ...invalidAgent.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" },
    }
    const changed = { ...deleting, spec: { ...deleting.spec, image: "agent:2" } }
    expect(
      validate(admissions.LanguageAgent, reviewOf(changed, { oldObject: deleting })).response.allowed,
    ).toBe(true)
    expect(mutate(admissions.LanguageAgent, changed, { oldObject: deleting }).patch).toEqual([])
  })
  it("an UPDATE that changes spec is validated in full", () => {
    const changed = { ...invalidAgent, spec: { ...invalidAgent.spec, image: "agent:2" } }
    expect(
      denyLines(validate(admissions.LanguageAgent, reviewOf(changed, { oldObject: invalidAgent })).response),
    ).toEqual([
      'spec.modelRefs[1]: duplicates spec.modelRefs[0] ("team/gpt")',
      'spec.volumes[0].name: volume name "workspace" is reserved for the operator (workspace, agent-config, knowledge-<n>)',
    ])
  })
})

describe("through the handler table and the review codec", () => {
  it("registers mutate and validate for every kind, and the Pod webhook", () => {
    expect(table.map((e) => e.path)).toEqual([
      ...langopKinds.flatMap((k) => [`/mutate/${LangopPlurals[k]}`, `/validate/${LangopPlurals[k]}`]),
      "/mutate/pods",
    ])
    expect(Object.keys(makeHandlerSet())).toEqual([...langopKinds, "Pod"])
  })

  it("a dry-run review is answered exactly like a real one", () => {
    const real = reviewed("/validate/languageagents", reviewOf(invalidAgent))
    const dry = reviewed("/validate/languageagents", reviewOf(invalidAgent, { dryRun: true }))
    expect(dry).toEqual(real)
    expect(real.allowed).toBe(false)
    const mutatedReal = reviewed("/mutate/languageagents", reviewOf(invalidAgent))
    expect(reviewed("/mutate/languageagents", reviewOf(invalidAgent, { dryRun: true }))).toEqual(mutatedReal)
    expect(mutatedReal.patch).toBeDefined()
  })

  it("an object that is not an object is denied with 400, never a crash", () => {
    for (const path of ["/mutate/languageagents", "/validate/languageagents"]) {
      const response = reviewed(path, { ...reviewOf(invalidAgent), object: "garbage" })
      expect(response).toMatchObject({
        allowed: false,
        status: { code: 400, message: "object: expected a LanguageAgent object" },
      })
    }
  })

  it("a body that does not decode at all is denied with every schema line", () => {
    const response = reviewed(
      "/validate/languagemodels",
      reviewOf({ ...invalidAgent, kind: "LanguageModel", spec: { provider: 3 } }),
    )
    expect(response.status?.message?.split("\n")).toEqual([
      'spec.provider: Expected "openai" | "anthropic" | "openai-compatible" | "azure" | "bedrock" | "vertex" | "custom"',
      "spec.modelName: Required value",
    ])
  })

  it("persona DELETE reaches the validating handler (warnings), other kinds' DELETE is not registered", () => {
    const base = world.find((o) => o.metadata.name === "base")
    const response = reviewed(
      "/validate/languagepersonas",
      reviewOf(null, { operation: "DELETE", oldObject: base as Json }),
    )
    expect(response.allowed).toBe(true)
    expect(response.warnings).toHaveLength(2)
    expect(entry("/validate/languageagents").operations).toEqual(["CREATE", "UPDATE"])
  })

  it("the Pod webhook resolves the agent and its sidecar tools through the same lookup", () => {
    const agent = {
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      metadata: { name: "with-files", namespace: NS },
      spec: { image: "agent:1", modelRefs: [{ name: "gpt" }], toolRefs: [{ name: "files" }] },
    }
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "a-1",
        namespace: NS,
        labels: { "langop.io/kind": "LanguageAgent", "app.kubernetes.io/name": "with-files" },
        annotations: { "langop.io/sidecar-tools": `${NS}/files` },
      },
      spec: { containers: [{ name: "agent", image: "agent:1" }] },
    }
    const request = {
      ...reviewOf(pod as Json),
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
    }
    const response = reviewed("/mutate/pods", request, [...world, agent as unknown as KubeObject])
    expect(response.allowed).toBe(true)
    expect(response.patch).toBeDefined()
    // Without the agent in the lookup, the same Pod is refused: the list has nothing to back it.
    const refused = reviewed("/mutate/pods", request)
    expect(refused.allowed).toBe(false)
    expect(refused.status?.message).toContain(`LanguageAgent ${NS}/with-files`)
  })

  it("validating handlers never return a patch", () => {
    for (const o of langopExamples) {
      const response = reviewed(`/validate/${LangopPlurals[kindOf(o)]}`, reviewOf(o))
      expect(response.patch).toBeUndefined()
    }
  })
})
