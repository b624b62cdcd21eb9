// Decoded objects (schema defaults applied, as the informer caches hold them) and inputs for decide.
import { Result, type Schema } from "effect"
import { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { LanguageClient } from "../../../../src/api/languageclient.ts"
import { LanguageModel } from "../../../../src/api/languagemodel.ts"
import { LanguagePersona } from "../../../../src/api/languagepersona.ts"
import { LanguageTool } from "../../../../src/api/languagetool.ts"
import type { ClientInput } from "../../../../src/controllers/languageclient/decide.ts"
import { decodeObject } from "../../../../src/kube/decode.ts"

export const NOW = "2025-11-01T10:00:00Z"
export const LATER = "2025-11-01T11:00:00Z"
export const NS = "demo"

const make =
  <S extends Schema.Top>(schema: S, kind: string) =>
  (name: string, spec: Record<string, unknown>, extra: Record<string, unknown> = {}): S["Type"] => {
    const decoded = decodeObject(schema as never)({
      apiVersion: "langop.io/v1alpha1",
      kind,
      metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1 },
      spec,
      ...extra,
    }) as Result.Result<S["Type"], ReadonlyArray<string>>
    if (Result.isFailure(decoded)) throw new Error(decoded.failure.join("\n"))
    return decoded.success
  }

export const model = (name: string, ready = true) =>
  make(LanguageModel, "LanguageModel")(
    name,
    { provider: "openai", modelName: `${name}-id` },
    ready ? { status: { phase: "Ready" } } : {},
  )
export const tool = (name: string, spec: Record<string, unknown> = {}) =>
  make(LanguageTool, "LanguageTool")(name, { image: "tool:1", ...spec })
export const agent = (name: string, spec: Record<string, unknown> = {}) =>
  make(LanguageAgent, "LanguageAgent")(name, { image: "agent:1", modelRefs: [{ name: "gpt" }], ...spec })
export const persona = (name: string, phase = "Ready") =>
  make(LanguagePersona, "LanguagePersona")(
    name,
    { displayName: "Support", description: "Helps", systemPrompt: "Be kind.", tone: "friendly" },
    { status: { phase } },
  )

export interface ClientOverrides {
  readonly name?: string
  readonly spec?: Record<string, unknown>
  readonly status?: Record<string, unknown>
  readonly finalizers?: ReadonlyArray<string>
  readonly generation?: number
}

export const client = (o: ClientOverrides = {}): LanguageClient => {
  const decoded = decodeObject(LanguageClient)({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageClient",
    metadata: {
      name: o.name ?? "chat",
      namespace: NS,
      uid: "uid-client",
      generation: o.generation ?? 1,
      finalizers: o.finalizers ?? ["langop.io/finalizer"],
    },
    spec: { image: "chat:1", modelRefs: [{ name: "gpt" }], ...o.spec },
    ...(o.status !== undefined ? { status: o.status } : {}),
  })
  if (Result.isFailure(decoded)) throw new Error(decoded.failure.join("\n"))
  return decoded.success
}

export interface World {
  readonly models?: ReadonlyArray<LanguageModel>
  readonly tools?: ReadonlyArray<LanguageTool>
  readonly agents?: ReadonlyArray<LanguageAgent>
  readonly personas?: ReadonlyArray<LanguagePersona>
  readonly secrets?: Readonly<Record<string, string>>
}

const finder =
  <T extends { readonly metadata: { readonly name?: string; readonly namespace?: string } }>(
    list: ReadonlyArray<T>,
  ) =>
  (ns: string, name: string) =>
    list.find((o) => o.metadata.namespace === ns && o.metadata.name === name)

export const input = (c: LanguageClient, world: World = {}, over: Partial<ClientInput> = {}): ClientInput => {
  const secrets = world.secrets ?? {}
  return {
    client: c,
    cluster: undefined,
    lookups: {
      model: finder(world.models ?? [model("gpt")]),
      tool: finder(world.tools ?? []),
      agent: finder(world.agents ?? []),
      persona: finder(world.personas ?? []),
      secretExists: (name) => secrets[name] !== undefined,
    },
    secretVersions: secrets,
    envSources: [],
    live: [],
    unreadable: [],
    pods: [],
    issuerKind: undefined,
    serviceMonitorCrd: false,
    clusterDomain: "cluster.local",
    defaultIssuer: undefined,
    now: NOW,
    ...over,
  }
}

/** A Deployment as the API server reports it (ours, with a status). */
export const deploymentWith = (
  name: string,
  replicas: number,
  ready: number,
  extra: { updated?: number; generation?: number; observedGeneration?: number } = {},
) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, generation: extra.generation ?? 1 },
  spec: { replicas },
  status: {
    observedGeneration: extra.observedGeneration ?? 1,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: extra.updated ?? replicas,
    unavailableReplicas: replicas - ready,
  },
})
