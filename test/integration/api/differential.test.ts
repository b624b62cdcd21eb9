/**
 * One source of truth, checked both ways: the Effect Schema (what the operator and the webhook decode with)
 * and the CRD generated from it (what the API server enforces) must reject the same bad input. Bad inputs
 * are derived from the CRD itself: for every property of every object that an example of `deploy/examples/`
 * contains, each constraint of the property's schema (enum, minimum/maximum, min/maxLength, pattern,
 * min/maxItems, type, required) is broken once on a copy of the example. Each copy must fail to decode AND
 * be refused by a real kube-apiserver (server-side dry-run create). The CEL rules have their own fixtures
 * (crds.test.ts).
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Result, type Schema } from "effect"
import { beforeAll, describe, expect } from "vitest"
import { parseAllDocuments } from "yaml"
import { decodeAll } from "../../../src/api/decode.ts"
import {
  allKinds,
  LanguageAgent,
  LanguageClient,
  LanguageCluster,
  LanguageModel,
  LanguagePersona,
  LanguageTool,
} from "../../../src/api/index.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Langop } from "../../../src/kube/resources.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"

type Json = { [key: string]: unknown }
type Path = ReadonlyArray<string | number>

const schemas: Record<string, Schema.Decoder<unknown>> = {
  LanguageCluster,
  LanguageAgent,
  LanguageTool,
  LanguageModel,
  LanguagePersona,
  LanguageClient,
}

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const examples: ReadonlyArray<Json> = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith(".yaml"))
  .flatMap((f) => parseAllDocuments(readFileSync(join(EXAMPLES, f), "utf8")).map((d) => d.toJS() as Json))
  .filter((o) => String(o.apiVersion).startsWith("langop.io/"))

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

const setAt = (root: Json, path: Path, value: unknown | typeof REMOVE): Json => {
  const [head, ...rest] = path
  if (head === undefined) return root
  const copy = (Array.isArray(root) ? [...root] : { ...root }) as Record<string | number, unknown>
  if (rest.length === 0) {
    if (value === REMOVE) delete copy[head]
    else copy[head] = value
  } else copy[head] = setAt(copy[head] as Json, rest, value)
  return copy as Json
}
const REMOVE = Symbol("remove")

interface Case {
  readonly kind: string
  readonly what: string
  readonly object: Json
}

/** A string that breaks `pattern` (tried in order), or undefined when every candidate matches. */
const breaking = (pattern: string): string | undefined =>
  ["Not Valid!", "-", "_x_", "", "0", "a/b", "ÄÖ"].find((s) => !new RegExp(pattern, "u").test(s))

/** Bad values for one property schema (each breaks exactly one constraint). */
const badValues = (schema: Json): ReadonlyArray<{ readonly rule: string; readonly value: unknown }> => {
  if (
    schema["x-kubernetes-int-or-string"] === true ||
    schema["x-kubernetes-preserve-unknown-fields"] === true
  )
    return []
  const out: Array<{ rule: string; value: unknown }> = []
  const type = schema.type
  if (Array.isArray(schema.enum)) out.push({ rule: "enum", value: "not-a-listed-value" })
  if (type === "integer" || type === "number") {
    if (typeof schema.minimum === "number") out.push({ rule: "minimum", value: schema.minimum - 1 })
    if (typeof schema.maximum === "number") out.push({ rule: "maximum", value: schema.maximum + 1 })
    out.push({ rule: "type", value: "seven" })
  }
  if (type === "integer") out.push({ rule: "integer", value: 1.5 })
  if (type === "string") {
    if (typeof schema.maxLength === "number")
      out.push({ rule: "maxLength", value: "a".repeat(schema.maxLength + 1) })
    if (typeof schema.minLength === "number" && schema.minLength > 0)
      out.push({ rule: "minLength", value: "" })
    if (typeof schema.pattern === "string") {
      const s = breaking(schema.pattern)
      if (s !== undefined) out.push({ rule: "pattern", value: s })
    }
    out.push({ rule: "type", value: 7 })
  }
  if (type === "boolean") out.push({ rule: "type", value: "yes" })
  if (type === "array") {
    out.push({ rule: "type", value: { not: "a list" } })
    if (typeof schema.maxItems === "number")
      out.push({ rule: "maxItems", value: Array(schema.maxItems + 1).fill(null) })
  }
  if (type === "object" && schema.properties !== undefined)
    out.push({ rule: "type", value: ["not", "an object"] })
  return out
}

/** Walks the example along the CRD schema: every object it contains, every property of that object. */
const casesOf = (kind: string, example: Json, root: Json): Array<Case> => {
  const out: Array<Case> = []
  const visit = (value: unknown, schema: Json, path: Path) => {
    if (isObject(value) && isObject(schema.properties)) {
      for (const [key, propSchema] of Object.entries(schema.properties as Record<string, Json>)) {
        const at = [...path, key]
        for (const { rule, value: bad } of badValues(propSchema))
          out.push({
            kind,
            what: `${at.join(".")} ${rule} ${JSON.stringify(bad).slice(0, 40)}`,
            object: setAt(example, at, bad),
          })
        if (value[key] !== undefined) visit(value[key], propSchema, at)
      }
      for (const key of (schema.required as ReadonlyArray<string> | undefined) ?? [])
        if (value[key] !== undefined)
          out.push({
            kind,
            what: `${[...path, key].join(".")} required`,
            object: setAt(example, [...path, key], REMOVE),
          })
    }
    if (Array.isArray(value) && isObject(schema.items) && value.length > 0)
      visit(value[0], schema.items, [...path, 0])
  }
  visit(example.spec, ((root.properties as Json).spec ?? {}) as Json, ["spec"])
  return out
}

const crdSchemas = Object.fromEntries(
  allKinds.map((k) => [k.kind, crdFor(k).spec.versions[0]?.schema.openAPIV3Schema as Json]),
)
const cases: ReadonlyArray<Case> = examples.flatMap((e) =>
  casesOf(String(e.kind), e, crdSchemas[String(e.kind)] ?? {}),
)

const client = layerFromFile(kubeconfigPath())
const resources: Record<string, (typeof Langop)[keyof typeof Langop]> = Langop

describe("Effect Schema and CRD reject the same bad input", () => {
  beforeAll(installCrds)

  test(`${cases.length} bad inputs derived from the CRD, each refused by both`, async ({ namespace }) => {
    expect(cases.length).toBeGreaterThan(200)
    const results = await Effect.runPromise(
      Effect.forEach(
        cases,
        (c) =>
          Effect.gen(function* () {
            const kube = yield* KubeClient
            const object = {
              ...c.object,
              metadata:
                c.kind === "LanguageCluster" ? { name: "differential" } : { name: "differential", namespace },
            } as unknown as KubeObject
            const decoded = decodeAll(schemas[c.kind] as Schema.Decoder<unknown>)(object)
            const served = yield* Effect.result(
              kube.create(resources[c.kind] as (typeof Langop)["LanguageAgent"], object, { dryRun: true }),
            )
            return {
              what: `${c.kind} ${c.what}`,
              decoder: Result.isFailure(decoded) ? "rejects" : "accepts",
              apiserver: served._tag === "Failure" ? `rejects (${served.failure._tag})` : "accepts",
            }
          }),
        { concurrency: 8 },
      ).pipe(Effect.provide(client)),
    )
    // Control: the unbroken examples are accepted by both, so every refusal above is the broken constraint's.
    const controls = await Effect.runPromise(
      Effect.forEach(examples, (e) =>
        Effect.gen(function* () {
          const kube = yield* KubeClient
          const kind = String(e.kind)
          const object = {
            ...e,
            metadata:
              kind === "LanguageCluster" ? { name: "differential" } : { name: "differential", namespace },
          } as unknown as KubeObject
          const served = yield* Effect.result(
            kube.create(resources[kind] as (typeof Langop)["LanguageAgent"], object, { dryRun: true }),
          )
          return `${kind}: decoder ${Result.isSuccess(decodeAll(schemas[kind] as Schema.Decoder<unknown>)(object)) ? "accepts" : "rejects"}, API server ${served._tag === "Success" ? "accepts" : "rejects"}`
        }),
      ).pipe(Effect.provide(client)),
    )
    expect(controls.filter((c) => !c.endsWith("decoder accepts, API server accepts"))).toEqual([])
    const disagreements = results
      .filter((r) => r.decoder !== "rejects" || !r.apiserver.startsWith("rejects (Invalid)"))
      .map((r) => `${r.what}: decoder ${r.decoder}, API server ${r.apiserver}`)
    expect(disagreements).toEqual([])
  })
})
