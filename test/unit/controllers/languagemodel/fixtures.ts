import { Schema } from "effect"
import {
  LanguageModel,
  type LanguageModelSpec,
  type LanguageModelStatus,
} from "../../../../src/api/languagemodel.ts"
import type { ModelInput, ModelSettings } from "../../../../src/controllers/languagemodel/input.ts"
import {
  type RenderedConfig,
  type RenderInput,
  renderLiteLLMConfig,
} from "../../../../src/controllers/languagemodel/litellm.ts"
import { FINALIZER } from "../../../../src/domain/labels.ts"

export const NOW = "2025-06-01T12:00:00Z"
export const LATER = "2025-06-01T12:05:00Z"
export const UID = "uid-model-1"

/** A decoded spec (schema defaults applied), as the cache holds it. */
export const spec = (fields: Record<string, unknown>): LanguageModelSpec =>
  Schema.decodeUnknownSync(LanguageModel)({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageModel",
    metadata: { name: "m" },
    spec: { provider: "openai", modelName: "gpt-4o-mini", ...fields },
  }).spec

export const render = (fields: Record<string, unknown>, extra: Partial<RenderInput> = {}): RenderedConfig =>
  renderLiteLLMConfig({
    name: "m",
    namespace: "ns",
    clusterDomain: "cluster.local",
    spec: spec(fields),
    fallbacks: [],
    sharedRedis: undefined,
    otlpEndpoint: undefined,
    ...extra,
  })

/** The config as a plain object, for indexing in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: test-side navigation of an untyped YAML tree
export const cfg = (r: RenderedConfig): any => JSON.parse(JSON.stringify(r.config))

export const settings = (over: Partial<ModelSettings> = {}): ModelSettings => ({
  proxyImage: "ghcr.io/berriai/litellm:v1.83.10-stable",
  proxyMode: "rendered",
  clusterDomain: "cluster.local",
  sharedRedis: undefined,
  otlpEndpoint: undefined,
  usageAttribution: false,
  metricsScrape: { enabled: false, intervalMs: 60_000 },
  healthPolling: false,
  dependencyWaitMs: 10_000,
  ...over,
})

export const model = (
  fields: Record<string, unknown>,
  meta: Record<string, unknown> = {},
  status?: LanguageModelStatus,
): LanguageModel =>
  Schema.decodeUnknownSync(LanguageModel)({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguageModel",
    metadata: { name: "m", namespace: "ns", uid: UID, generation: 3, finalizers: [FINALIZER], ...meta },
    spec: { provider: "openai", modelName: "gpt-4o-mini", ...fields },
    ...(status === undefined ? {} : { status }),
  })

/** Deployment with one available replica. */
export const availableDeployment = { status: { availableReplicas: 1 } }

export const input = (over: Partial<ModelInput> = {}): ModelInput => ({
  model: model({}),
  settings: settings(),
  apiKeySecret: undefined,
  redisPasswordSecret: undefined,
  models: new Map(),
  live: {},
  deployment: availableDeployment,
  podProblems: [],
  now: NOW,
  ...over,
})
