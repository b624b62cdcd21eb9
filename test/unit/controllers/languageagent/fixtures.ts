// Fixtures for the languageagent unit tests: objects are decoded with the API schemas, so schema defaults
// (executionMode, maxIterations, toolRefs[].enabled, …) are filled exactly as in the informer cache.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { parse } from "yaml"
import { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { LanguageModel } from "../../../../src/api/languagemodel.ts"
import { LanguagePersona } from "../../../../src/api/languagepersona.ts"
import { LanguageTool } from "../../../../src/api/languagetool.ts"
import type { AgentInput } from "../../../../src/controllers/languageagent/decide.ts"
import type { Lookups } from "../../../../src/controllers/languageagent/dependencies.ts"
import { emptyWorld } from "../../../../src/network/peers.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../../src/network/settings.ts"

export const NS = "ns"
export const T0 = "2025-01-01T00:00:00Z"
export const T1 = "2025-01-01T01:00:00Z"

const examplesDir = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "examples")
export const exampleSpec = (file: string): Record<string, unknown> =>
  (parse(readFileSync(join(examplesDir, file), "utf8")) as { spec: Record<string, unknown> }).spec

const decodeAgent = Schema.decodeUnknownSync(LanguageAgent)
const decodeModel = Schema.decodeUnknownSync(LanguageModel)
const decodeTool = Schema.decodeUnknownSync(LanguageTool)
const decodePersona = Schema.decodeUnknownSync(LanguagePersona)

const meta = (name: string, namespace: string, extra: Record<string, unknown> = {}) => ({
  name,
  namespace,
  uid: `uid-${namespace}-${name}`,
  generation: 1,
  resourceVersion: "1",
  ...extra,
})

/** A decoded agent `ns/name`: a minimal valid spec plus `spec`. */
export const agent = (
  spec: Record<string, unknown> = {},
  options: {
    readonly name?: string
    readonly namespace?: string
    readonly status?: Record<string, unknown>
    readonly metadata?: Record<string, unknown>
  } = {},
): LanguageAgent =>
  decodeAgent({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageAgent",
    metadata: meta(options.name ?? "bot", options.namespace ?? NS, options.metadata),
    spec: { image: "agent:1", modelRefs: [{ name: "m1" }], ...spec },
    ...(options.status !== undefined ? { status: options.status } : {}),
  })

export const model = (
  name: string,
  spec: Record<string, unknown> = {},
  options: { namespace?: string; phase?: string } = {},
) =>
  decodeModel({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageModel",
    metadata: meta(name, options.namespace ?? NS),
    spec: { provider: "openai", modelName: `${name}-model`, ...spec },
    status: { phase: options.phase ?? "Ready" },
  })

export const tool = (
  name: string,
  spec: Record<string, unknown> = {},
  options: { namespace?: string } = {},
) =>
  decodeTool({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageTool",
    metadata: meta(name, options.namespace ?? NS),
    spec: { image: `${name}:1`, ...spec },
  })

export const persona = (
  name: string,
  spec: Record<string, unknown> = {},
  options: { namespace?: string; phase?: string } = {},
) =>
  decodePersona({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguagePersona",
    metadata: meta(name, options.namespace ?? NS),
    spec: {
      displayName: name,
      description: `${name} persona`,
      systemPrompt: `You are ${name}.`,
      ...spec,
    },
    status: { phase: options.phase ?? "Ready" },
  })

export interface World {
  readonly models?: ReadonlyArray<LanguageModel>
  readonly tools?: ReadonlyArray<LanguageTool>
  readonly personas?: ReadonlyArray<LanguagePersona>
  /** Secret name → keys (agent namespace). */
  readonly secrets?: Readonly<Record<string, ReadonlyArray<string>>>
}

const find = <T extends { metadata: { name?: string | undefined; namespace?: string | undefined } }>(
  list: ReadonlyArray<T> | undefined,
  namespace: string,
  name: string,
) => list?.find((o) => o.metadata.name === name && o.metadata.namespace === namespace)

/** Lookups over a fixed world; by default model `m1` exists (Ready). */
export const lookups = (world: World = {}): Lookups => ({
  model: (ns, n) => find(world.models ?? [model("m1")], ns, n),
  tool: (ns, n) => find(world.tools, ns, n),
  persona: (ns, n) => find(world.personas, ns, n),
  secretKeys: (n) => world.secrets?.[n],
})

/** A complete decide input around `a`; overrides win. */
export const input = (
  a: LanguageAgent,
  world: World = {},
  overrides: Partial<AgentInput> = {},
): AgentInput => ({
  agent: a,
  cluster: undefined,
  lookups: lookups(world),
  secretVersions: {},
  live: {},
  jobs: [],
  pods: [],
  world: emptyWorld,
  usage: [],
  settings: {
    clusterDomain: "cluster.local",
    egress: DEFAULT_EGRESS_SETTINGS,
    otlpEndpoint: undefined,
    defaultFsGroup: undefined,
  },
  now: T1,
  ...overrides,
})
