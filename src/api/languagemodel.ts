/**
 * LanguageModel (namespaced): access to one LLM (provider, model id, endpoint, credentials, limits,
 * reliability and cost settings), served to agents and clients by one LiteLLM proxy per model at
 * `http://<name>.<namespace>.svc.<domain>:8000`. Spec and behaviour: docs/languagemodel.md.
 *
 * The spec marks no rule of this kind as a "schema rule", so the CRD has no CEL rules: the endpoint
 * requirement per provider, absolute http(s) URLs, the generation-parameter ranges (temperature 0–2,
 * penalties −2–2, topP 0–1; docs/languagemodel.md LM-7 keeps them out of the schema), reserved
 * `additionalParameters` keys and same-namespace Secrets (docs/concepts.md X-3) are enforced by the validating
 * webhook and re-checked at reconcile. The descriptions state them so `kubectl explain` shows them.
 * There are deliberately no image, replicas, resources, env, scheduling or clusterRef fields (docs/languagemodel.md LM-1).
 */
import { Schema } from "effect"
import {
  Conditions,
  DateTime,
  Duration,
  defineKind,
  described,
  Egress,
  flag,
  Int32,
  Int64,
  NonEmptyString,
  optional,
  SecretReference,
  StringMap,
  withDefault,
} from "./shared.ts"

const duration = (value: string, description: string) =>
  withDefault(
    described(
      Duration,
      `${description} One integer and one unit (ns, us, µs, ms, s, m, h), e.g. ${value}; 1h30m and 1.5s are invalid. Default ${value}.`,
    ),
    value,
  )
/** Integer fields without a format (`type: integer`), as the API has always published them. */
const integer = (description: string) => optional(Schema.Int, description)
const number = (description: string) => optional(Schema.Finite, description)
const URL_RULE = "Must be an absolute http or https URL."

// ---------------------------------------------------------------------------------------------------------
// Enums other code switches on

export const ModelProvider = Schema.Literals([
  "openai",
  "anthropic",
  "openai-compatible",
  "azure",
  "bedrock",
  "vertex",
  "custom",
])
export type ModelProvider = typeof ModelProvider.Type
export const LoadBalancingStrategy = Schema.Literals([
  "round-robin",
  "least-connections",
  "random",
  "weighted",
  "latency-based",
])
export type LoadBalancingStrategy = typeof LoadBalancingStrategy.Type
export const CacheBackend = Schema.Literals(["memory", "redis", "memcached"])
export type CacheBackend = typeof CacheBackend.Type
export const ModelLogLevel = Schema.Literals(["debug", "info", "warn", "error"])
export type ModelLogLevel = typeof ModelLogLevel.Type
export const ModelPhase = Schema.Literals(["Ready", "NotReady", "Error", "Configuring", "Degraded"])
export type ModelPhase = typeof ModelPhase.Type

// ---------------------------------------------------------------------------------------------------------
// Generation parameters and limits

export const ModelConfiguration = Schema.Struct({
  maxTokens: integer("Maximum tokens to generate per request (LiteLLM max_tokens)."),
  temperature: number(
    "Sampling temperature; must be between 0 and 2 (checked by the admission webhook, not the schema).",
  ),
  topP: number("Nucleus sampling probability; must be between 0 and 1 (checked by the admission webhook)."),
  frequencyPenalty: number("Frequency penalty; must be between -2 and 2 (checked by the admission webhook)."),
  presencePenalty: number("Presence penalty; must be between -2 and 2 (checked by the admission webhook)."),
  stopSequences: optional(Schema.Array(Schema.String), "Sequences that stop generation (LiteLLM stop)."),
  additionalParameters: optional(
    StringMap,
    "Provider-specific parameters merged into LiteLLM's litellm_params; a value that parses as a JSON number, boolean, null, array or object is passed as that, otherwise as the string (e.g. api_version for azure). The keys model, api_key and api_base are reserved.",
  ),
}).annotate({ description: "Default generation parameters of every request through the proxy." })
export type ModelConfiguration = typeof ModelConfiguration.Type

export const ModelRateLimits = Schema.Struct({
  requestsPerMinute: integer(
    "Requests per UTC minute in total; split by weight across endpoints and regions. A request over the limit is answered 429 (retry-after 60). Enforced only with loadBalancing.strategy round-robin or random (the proxy then routes each request to the least used deployment); with other strategies it is reported in FeaturesSupported and not applied.",
  ),
  tokensPerMinute: integer(
    "Tokens per UTC minute in total; split by weight across endpoints and regions. Once the minute's tokens are used up requests are answered 429. Enforced only with loadBalancing.strategy round-robin or random, like requestsPerMinute.",
  ),
  concurrentRequests: integer(
    "Requests in flight at the same time in total; split by weight across endpoints and regions. Further requests wait in the proxy until one finishes.",
  ),
}).annotate({ description: "Rate limits of the model, enforced by the proxy (docs/languagemodel.md LM-8)." })
export type ModelRateLimits = typeof ModelRateLimits.Type

export const ModelRetryPolicy = Schema.Struct({
  maxAttempts: withDefault(
    described(
      Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10 })),
      "Retries of a failed request, 0-10 (0 = no retries). Default 3.",
    ),
    3,
  ),
  initialBackoff: duration("1s", "Minimum wait before a retry."),
  maxBackoff: duration("30s", "Longest wait between retries (not representable in LiteLLM; reported)."),
  backoffMultiplier: withDefault(
    described(
      Schema.Finite,
      "Growth factor of the wait between retries (not representable in LiteLLM; reported). Default 2.",
    ),
    2,
  ),
  retryableStatusCodes: optional(
    Schema.Array(Int32),
    "HTTP status codes that are retried (429, 408, 5xx, 400, 401, 403 map to LiteLLM error classes; others are reported).",
  ),
}).annotate({ description: "Retries of failed provider requests." })
export type ModelRetryPolicy = typeof ModelRetryPolicy.Type

export const ModelFallback = Schema.Struct({
  modelRef: described(
    Schema.String,
    "Name of a LanguageModel in the same namespace to use when this model fails; a missing one degrades the model, a self-reference or cycle is skipped.",
  ),
  conditions: optional(
    Schema.Array(Schema.String),
    "When to use the fallback, free text: context_window or content_policy select LiteLLM's dedicated fallback lists; anything else (error, rate_limit, timeout, or nothing) the general list.",
  ),
}).annotate({ description: "One fallback model, tried in list order." })
export type ModelFallback = typeof ModelFallback.Type

// ---------------------------------------------------------------------------------------------------------
// Load balancing

export const ModelEndpoint = Schema.Struct({
  url: described(Schema.String, `Base URL of the endpoint. ${URL_RULE}`),
  weight: withDefault(
    described(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
      "Relative weight, at least 0 (0 = never picked with the weighted strategy); also splits the rate limits. Default 100.",
    ),
    100,
  ),
  region: optional(Schema.String, "Region of the endpoint (informational for LiteLLM)."),
  priority: integer("Priority; lower is tried first, higher only when those are unavailable."),
}).annotate({ description: "One load-balanced endpoint of the model." })
export type ModelEndpoint = typeof ModelEndpoint.Type

export const ModelHealthCheck = Schema.Struct({
  enabled: flag(
    true,
    "Let the proxy check endpoints in the background (real, billed model calls) and the operator poll their health.",
  ),
  interval: duration("30s", "Time between health checks, also how long a failed endpoint is skipped."),
  timeout: duration("5s", "Timeout of one health check."),
  unhealthyThreshold: withDefault(
    described(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
      "Failures, at least 1, before an endpoint is taken out of rotation. Default 3.",
    ),
    3,
  ),
  healthyThreshold: withDefault(
    described(
      Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
      "Successes, at least 1, before an endpoint is used again (not representable in LiteLLM; reported). Default 2.",
    ),
    2,
  ),
}).annotate({ description: "Health checking of the load-balanced endpoints." })
export type ModelHealthCheck = typeof ModelHealthCheck.Type

export const ModelLoadBalancing = Schema.Struct({
  strategy: withDefault(
    described(
      LoadBalancingStrategy,
      "How requests are spread over the endpoints (round-robin and random are approximated by LiteLLM's simple-shuffle). Default round-robin.",
    ),
    "round-robin",
  ),
  endpoints: optional(
    Schema.Array(ModelEndpoint),
    "Endpoints to balance over; when non-empty they replace spec.endpoint.",
  ),
  healthCheck: optional(
    ModelHealthCheck,
    "Health checking of the endpoints; when absent or disabled the proxy runs no background checks.",
  ),
}).annotate({ description: "Load balancing over several endpoints of the same model." })
export type ModelLoadBalancing = typeof ModelLoadBalancing.Type

// ---------------------------------------------------------------------------------------------------------
// ModelCaching, observability, cost, regions

export const ModelCaching = Schema.Struct({
  enabled: flag(false, "Cache responses in the proxy."),
  ttl: optional(
    Duration,
    "Lifetime of a cached response: one integer and one unit (ns, us, µs, ms, s, m, h), e.g. 10m.",
  ),
  maxSize: integer("Cache size in MB (no LiteLLM equivalent; ignored and reported)."),
  backend: withDefault(
    described(
      CacheBackend,
      "Cache store: memory (per proxy), redis (the operator's shared Redis; memory when none is configured) or memcached (unsupported by LiteLLM; memory). Default memory.",
    ),
    "memory",
  ),
}).annotate({ description: "Response cache of the proxy." })
export type ModelCaching = typeof ModelCaching.Type

export const ModelLogging = Schema.Struct({
  level: withDefault(described(ModelLogLevel, "Log level of the proxy. Default info."), "info"),
  logRequests: flag(true, "Log request messages."),
  logResponses: flag(
    false,
    "Log response messages (LiteLLM logs both or neither; message logging is off only when both are false).",
  ),
}).annotate({ description: "Logging of the proxy." })
export type ModelLogging = typeof ModelLogging.Type

export const ModelObservability = Schema.Struct({
  metrics: flag(true, "Expose Prometheus metrics on the proxy (port 4000, /metrics)."),
  tracing: flag(false, "Export OpenTelemetry traces to the operator's collector."),
  logging: optional(ModelLogging, "Logging of the proxy (level and message logging)."),
}).annotate({ description: "Metrics, tracing and logging of the proxy." })
export type ModelObservability = typeof ModelObservability.Type

export const ModelCostTracking = Schema.Struct({
  enabled: flag(false, "Compute status.costMetrics from the proxy's token counts."),
  currency: withDefault(described(Schema.String, "Currency of the costs. Default USD."), "USD"),
  inputTokenCost: number("Cost per 1000 input tokens."),
  outputTokenCost: number("Cost per 1000 output tokens."),
}).annotate({ description: "Cost tracking of the model." })
export type ModelCostTracking = typeof ModelCostTracking.Type

export const ModelRegion = Schema.Struct({
  name: described(
    Schema.String,
    "Region name, e.g. us-east-1 (the AWS region for bedrock, the location for vertex).",
  ),
  endpoint: optional(Schema.String, `Region-specific base URL. ${URL_RULE}`),
  priority: integer("Priority; lower is tried first."),
  enabled: flag(true, "Serve from this region."),
}).annotate({ description: "One region the model is deployed in." })
export type ModelRegion = typeof ModelRegion.Type

// ---------------------------------------------------------------------------------------------------------
// Spec

export const LanguageModelSpec = Schema.Struct({
  provider: described(
    ModelProvider,
    "Provider of the model. openai-compatible and azure need a URL for every deployment (endpoint, loadBalancing.endpoints or enabled regions with an endpoint); custom without endpoint is a warning (modelName is then LiteLLM's provider/model).",
  ),
  modelName: described(
    NonEmptyString,
    "The provider's model id (e.g. gpt-4o-mini), at least 1 character; agents and clients request the model under this name.",
  ),
  endpoint: optional(
    Schema.String,
    `API base URL of the primary deployment. Required for openai-compatible and azure unless loadBalancing.endpoints is non-empty (its entries replace the primary deployment) or an enabled region has an endpoint (the regions then are the deployments). ${URL_RULE}`,
  ),
  apiKeySecretRef: optional(
    SecretReference,
    "Secret with the API key, in the model's namespace (key defaults to api-key). For bedrock the whole Secret becomes environment variables; for vertex the key holds a service-account JSON.",
  ),
  configuration: optional(
    ModelConfiguration,
    "Default generation parameters of every request through the proxy; requests may override them.",
  ),
  rateLimits: optional(
    ModelRateLimits,
    "Rate limits enforced by the proxy, as totals; with several endpoints or regions each gets a share by weight (docs/languagemodel.md LM-8).",
  ),
  timeout: duration("5m", "Per-request timeout."),
  retryPolicy: optional(
    ModelRetryPolicy,
    "Retries of failed provider requests; LiteLLM uses its own exponential backoff, so maxBackoff and backoffMultiplier are reported as unsupported.",
  ),
  fallbacks: optional(
    Schema.Array(ModelFallback),
    "Ordered fallback LanguageModels in the same namespace; requests fall through to their proxies when this model fails.",
  ),
  loadBalancing: optional(
    ModelLoadBalancing,
    "Load balancing over several endpoints of the same model, with optional health checks.",
  ),
  caching: optional(ModelCaching, "Response cache of the proxy (off unless enabled)."),
  observability: optional(
    ModelObservability,
    "Metrics, tracing and logging of the proxy; when absent the proxy has no callbacks.",
  ),
  costTracking: optional(
    ModelCostTracking,
    "Token prices used to compute status.costMetrics (needs the operator's metrics scraping).",
  ),
  regions: optional(
    Schema.Array(ModelRegion),
    "Multi-region deployments: each enabled region is an extra deployment of the model in the proxy (needs an endpoint unless the provider is bedrock or vertex).",
  ),
  egress: optional(
    Egress,
    "Egress allowed to the proxy pods beyond the automatic rules (provider hosts, endpoint, load-balanced and regional endpoints, same namespace, cluster DNS). Everything else is denied.",
  ),
}).annotate({ description: "Desired state of the LanguageModel." })
export type LanguageModelSpec = typeof LanguageModelSpec.Type

// ---------------------------------------------------------------------------------------------------------
// Status

export const ModelEndpointStatus = Schema.Struct({
  url: described(Schema.String, "The endpoint URL as written in spec.loadBalancing.endpoints."),
  healthy: described(Schema.Boolean, "Whether the last health check succeeded."),
  lastCheck: optional(DateTime, "Time of the last health check."),
  failureCount: integer("Consecutive failed health checks."),
  latency: integer("Latency reported by the last health check, in milliseconds."),
}).annotate({ description: "Health of one load-balanced endpoint." })
export type ModelEndpointStatus = typeof ModelEndpointStatus.Type

export const ModelRegionStatus = Schema.Struct({
  name: described(Schema.String, "Region name."),
  available: described(Schema.Boolean, "Whether the region's deployment is healthy."),
  latency: integer("Latency reported by the last health check, in milliseconds."),
  lastCheck: optional(DateTime, "Time of the last health check."),
}).annotate({ description: "Health of one enabled region." })
export type ModelRegionStatus = typeof ModelRegionStatus.Type

const counter = (description: string) => optional(Int64, description)

export const ModelMetrics = Schema.Struct({
  totalRequests: counter("Requests served since the proxy started."),
  successfulRequests: counter("Requests that succeeded (total minus failed)."),
  failedRequests: counter("Requests that failed."),
  totalTokens: counter("Tokens used (input plus output)."),
  inputTokens: counter("Input tokens."),
  outputTokens: counter("Output tokens."),
  averageLatency: integer("Average request latency in milliseconds."),
  p95Latency: integer("95th percentile request latency in milliseconds."),
  p99Latency: integer("99th percentile request latency in milliseconds."),
}).annotate({
  description: "Usage scraped from the proxy's Prometheus metrics (only when the operator scrapes them).",
})
export type ModelMetrics = typeof ModelMetrics.Type

export const ModelCostMetrics = Schema.Struct({
  totalCost: number("Total cost (input plus output)."),
  inputTokenCost: number("Total cost of input tokens (not a rate)."),
  outputTokenCost: number("Total cost of output tokens (not a rate)."),
  currency: optional(Schema.String, "Currency, from spec.costTracking.currency."),
  lastReset: optional(DateTime, "Start of the proxy's current counters."),
}).annotate({ description: "Costs computed from the token counts and spec.costTracking." })
export type ModelCostMetrics = typeof ModelCostMetrics.Type

export const LanguageModelStatus = Schema.Struct({
  observedGeneration: optional(Int64, "The metadata.generation the status reflects."),
  phase: optional(
    ModelPhase,
    "Configuring until the proxy is available; Ready; Degraded when some settings are unsupported or endpoints unhealthy; NotReady when the proxy pods fail; Error on an invalid spec, Secret problem or reconcile error.",
  ),
  conditions: Schema.optionalKey(Conditions),
  healthy: optional(Schema.Boolean, "Whether the proxy serves requests (phase Ready or Degraded)."),
  lastHealthCheck: optional(DateTime, "Time of the operator's last health poll; unset when polling is off."),
  endpointStatus: optional(
    Schema.Array(ModelEndpointStatus),
    "One entry per load-balanced endpoint (only with health polling).",
  ),
  regionStatus: optional(
    Schema.Array(ModelRegionStatus),
    "One entry per enabled region (only with health polling).",
  ),
  metrics: optional(
    ModelMetrics,
    "Usage scraped from the proxy's Prometheus metrics (only when the operator scrapes them).",
  ),
  costMetrics: optional(
    ModelCostMetrics,
    "Costs computed from the scraped token counts and spec.costTracking (only when cost tracking is enabled).",
  ),
  lastUpdateTime: optional(DateTime, "When the status last changed."),
  message: optional(Schema.String, "Message of the Ready condition."),
  reason: optional(Schema.String, "Reason of the Ready condition."),
}).annotate({ description: "Observed state of the LanguageModel." })
export type LanguageModelStatus = typeof LanguageModelStatus.Type

export const LanguageModelKind = defineKind({
  kind: "LanguageModel",
  plural: "languagemodels",
  singular: "languagemodel",
  listKind: "LanguageModelList",
  shortNames: ["lmodel"],
  scope: "Namespaced",
  description:
    "LanguageModel describes access to one LLM (provider, model, endpoint, credentials, limits, retries, fallbacks, caching and cost) and runs a LiteLLM proxy for it at http://<name>.<namespace>.svc:8000 with an OpenAI-compatible API.",
  printerColumns: [
    { name: "Provider", type: "string", jsonPath: ".spec.provider" },
    { name: "Model", type: "string", jsonPath: ".spec.modelName" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Healthy", type: "boolean", jsonPath: ".status.healthy" },
    { name: "Requests", type: "integer", jsonPath: ".status.metrics.totalRequests" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: true,
  spec: LanguageModelSpec,
  status: LanguageModelStatus,
})
export const LanguageModel = LanguageModelKind.resource
export type LanguageModel = typeof LanguageModel.Type
