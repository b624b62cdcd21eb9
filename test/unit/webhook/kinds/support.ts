/**
 * Shared fixtures of the admission table tests: a small world of existing objects (namespace
 * `team`, plus `shared`), review builders, and one runner that returns both the AdmissionResponse a
 * kubectl user sees and the findings (with rule ids) behind it. Not a test file itself.
 */
import { Effect, JsonPatch, type Schema } from "effect"
import { expect } from "vitest"
import type { Finding, Rule, ValidationOptions } from "../../../../src/domain/rules.ts"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { type LangopKind, LangopPlurals } from "../../../../src/webhook/handlers.ts"
import {
  evaluate,
  type KindAdmission,
  mutatingHandler,
  validatingHandler,
} from "../../../../src/webhook/kinds/common.ts"
import {
  LookupError,
  makeLookupFromObjects,
  type WebhookLookupShape,
} from "../../../../src/webhook/lookup.ts"
import type { AdmissionRequest, AdmissionResponse, Operation } from "../../../../src/webhook/review.ts"

export const NS = "team"
export type Json = { readonly [key: string]: unknown }

const meta = (kind: string, name: string, namespace = NS) => ({
  apiVersion: kind === "Secret" ? "v1" : "langop.io/v1alpha1",
  kind,
  metadata: { name, namespace },
})

export const LONG_PROMPT = "You are a careful assistant. Answer briefly and say so when you are not sure."

/** What exists: models, tools (service and sidecar, local and in `shared`), personas, Secrets, an agent. */
export const world: ReadonlyArray<KubeObject> = [
  { ...meta("LanguageModel", "gpt"), spec: { provider: "openai", modelName: "gpt-4o-mini" } },
  { ...meta("LanguageModel", "backup"), spec: { provider: "openai", modelName: "gpt-4o" } },
  { ...meta("LanguageTool", "web-fetch"), spec: { image: "ghcr.io/langop/mcp-web-fetch:1.0" } },
  { ...meta("LanguageTool", "files"), spec: { image: "fs:1", deploymentMode: "sidecar", port: 9000 } },
  { ...meta("LanguageTool", "shared-svc", "shared"), spec: { image: "svc:1" } },
  { ...meta("LanguageTool", "shared-sidecar", "shared"), spec: { image: "sc:1", deploymentMode: "sidecar" } },
  {
    ...meta("LanguagePersona", "base"),
    spec: { displayName: "Base", description: "Base persona", systemPrompt: LONG_PROMPT },
  },
  {
    ...meta("LanguagePersona", "child"),
    spec: {
      displayName: "Child",
      description: "Child",
      systemPrompt: LONG_PROMPT,
      parentPersona: { name: "base" },
    },
  },
  {
    ...meta("LanguageAgent", "uses-base"),
    spec: { image: "agent:1", modelRefs: [{ name: "gpt" }], personaRef: { name: "base" } },
  },
  { ...meta("LanguageAgent", "support"), spec: { image: "agent:1", modelRefs: [{ name: "gpt" }] } },
  { ...meta("Secret", "openai-credentials"), data: {} },
  { ...meta("Secret", "memory-url"), data: {} },
  { ...meta("Secret", "tls-cert"), data: {} },
]

export const lookup = makeLookupFromObjects(world)

/** A lookup whose every read fails (API server unreachable). */
export const failingLookup: WebhookLookupShape = {
  tool: (ns, name) =>
    Effect.fail(new LookupError({ kind: "LanguageTool", key: `${ns}/${name}`, message: "timeout" })),
  model: (ns, name) =>
    Effect.fail(new LookupError({ kind: "LanguageModel", key: `${ns}/${name}`, message: "timeout" })),
  persona: (ns, name) =>
    Effect.fail(new LookupError({ kind: "LanguagePersona", key: `${ns}/${name}`, message: "timeout" })),
  agent: (ns, name) =>
    Effect.fail(new LookupError({ kind: "LanguageAgent", key: `${ns}/${name}`, message: "timeout" })),
  secret: (ns, name) =>
    Effect.fail(new LookupError({ kind: "Secret", key: `${ns}/${name}`, message: "timeout" })),
  namespace: (name) => Effect.fail(new LookupError({ kind: "Namespace", key: name, message: "timeout" })),
  personasInheritingFrom: () =>
    Effect.fail(new LookupError({ kind: "LanguagePersona", key: "(all namespaces)", message: "timeout" })),
  agentsUsingPersona: () =>
    Effect.fail(new LookupError({ kind: "LanguageAgent", key: "(all namespaces)", message: "timeout" })),
}

export interface RequestOptions {
  readonly operation?: Operation
  readonly oldObject?: Json | undefined
  readonly namespace?: string | undefined
  readonly dryRun?: boolean
}

/** An AdmissionRequest as the API server sends it for `object` (kind taken from the object). */
export const reviewOf = (object: Json | null, options: RequestOptions = {}): AdmissionRequest => {
  const source = object ?? options.oldObject ?? {}
  const kind = String(source.kind) as LangopKind
  const metadata = (source.metadata ?? {}) as { name?: string; namespace?: string }
  const namespace = options.namespace ?? metadata.namespace
  return {
    uid: "0b5d7c1e-6b4f-4a36-9d3e-3f1f5c9c2a11",
    kind: { group: "langop.io", version: "v1alpha1", kind },
    resource: { group: "langop.io", version: "v1alpha1", resource: LangopPlurals[kind] },
    ...(metadata.name === undefined ? {} : { name: metadata.name }),
    ...(namespace === undefined ? {} : { namespace }),
    operation: options.operation ?? (options.oldObject === undefined ? "CREATE" : "UPDATE"),
    object,
    oldObject: options.oldObject ?? null,
    dryRun: options.dryRun ?? false,
  }
}

export interface Outcome {
  readonly response: AdmissionResponse
  readonly findings: ReadonlyArray<Finding>
}

/** Runs the validating handler and, alongside, the evaluation that produced its answer. */
export const validate = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  request: AdmissionRequest,
  use: WebhookLookupShape = lookup,
  options: ValidationOptions = {},
): Outcome => {
  const response = Effect.runSync(validatingHandler(admission, use, options)(request))
  const evaluation = Effect.runSync(evaluate(admission, request, use, options))
  return { response, findings: evaluation._tag === "Evaluated" ? evaluation.findings : [] }
}

/** The deny lines of a response ([] when allowed). */
export const denyLines = (response: AdmissionResponse): ReadonlyArray<string> =>
  response.allowed ? [] : (response.status?.message ?? "").split("\n")

/** The JSON Patch of a mutating response, decoded ([] when none). */
export const patchOf = (response: AdmissionResponse): JsonPatch.JsonPatch =>
  response.patch === undefined ? [] : JSON.parse(Buffer.from(response.patch, "base64").toString("utf8"))

/** Runs the mutating handler: the response, its patch, and the object with the patch applied. */
export const mutate = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  object: Json,
  options: RequestOptions = {},
) => {
  const response = Effect.runSync(mutatingHandler(admission)(reviewOf(object, options)))
  const patch = patchOf(response)
  const result = JsonPatch.apply(patch, object as Schema.Json) as Json
  return { response, patch, result }
}

/** A table row: the object (and old object) under review and exactly what the user must see. */
export interface Row {
  readonly name: string
  readonly object: Json | null
  readonly oldObject?: Json
  readonly operation?: Operation
  readonly lookup?: WebhookLookupShape
  readonly options?: ValidationOptions
  /** Every deny line, in order; empty or absent = allowed. */
  readonly deny?: ReadonlyArray<string>
  /** Every warning, in order. */
  readonly warn?: ReadonlyArray<string>
}

/** Checks one row and returns the ids of the rules it exercised. */
export const checkRow = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  row: Row,
): ReadonlyArray<string> => {
  const request = reviewOf(row.object, {
    ...(row.operation === undefined ? {} : { operation: row.operation }),
    oldObject: row.oldObject,
  })
  const { response, findings } = validate(admission, request, row.lookup ?? lookup, row.options ?? {})
  expect(response.uid).toBe(request.uid)
  expect({ deny: denyLines(response), warn: response.warnings ?? [] }).toEqual({
    deny: row.deny ?? [],
    warn: row.warn ?? [],
  })
  expect(response.allowed).toBe((row.deny ?? []).length === 0)
  return findings.map((f) => f.rule)
}

/** Every rule of `catalog` must have been exercised by some row. */
export const expectCovered = (catalog: ReadonlyArray<Rule>, exercised: ReadonlySet<string>) => {
  const missing = catalog.map((r) => r.id).filter((id) => !exercised.has(id))
  expect(missing).toEqual([])
}

/** Shallow spec override of a manifest (top-level spec keys replaced; `undefined` removes). */
export const withSpec = (object: Json, spec: Json, metadata: Json = {}): Json => {
  const merged: Record<string, unknown> = { ...(object.spec as Json), ...spec }
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k]
  return { ...object, metadata: { ...(object.metadata as Json), ...metadata }, spec: merged }
}
