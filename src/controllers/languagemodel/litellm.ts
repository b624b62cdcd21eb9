/**
 * Renders a LanguageModel into LiteLLM's proxy configuration (docs/languagemodel.md §LiteLLM
 * configuration). PURE: no I/O, no clock, no randomness.
 *
 * Guarantees:
 * - byte-stable: equal input gives equal text (fixed key order for our keys, user maps sorted; see
 *   yaml.ts for why the text is safe for LiteLLM's YAML 1.1 reader);
 * - no secret value is ever rendered: the API key is `os.environ/LANGOP_MODEL_API_KEY` (the container
 *   gets it from a secretKeyRef), the Redis password `os.environ/LANGOP_CACHE_REDIS_PASSWORD`;
 * - nothing the spec asks for is dropped silently: every setting LiteLLM cannot express, and every
 *   fallback to a weaker setting, is returned as a {@link FeatureIssue} for `FeaturesSupported`.
 * Keys were verified against the pinned LiteLLM (test/contract/litellm, version in
 * test/contract/setup/litellm.ts) by introspecting its Router, settings and parameter types.
 *
 * Decisions where the spec leaves room (documented for users in the report of FeaturesSupported):
 * - `maxBackoff`, `backoffMultiplier` and `healthyThreshold` have no LiteLLM key; they are reported
 *   only when they differ from their schema defaults (a decoded spec cannot tell a default from an
 *   explicit value, and reporting defaults would degrade every model with a retry policy);
 * - `caching.ttl` is rounded up to whole seconds (Redis `EX` takes integers), minimum 1;
 * - with `strategy: weighted` every deployment of the model carries a `weight` (regions and the primary
 *   weigh 100), because LiteLLM weighs missing weights as 0; when all weights are 0 they are left out
 *   (LiteLLM would divide by zero) and that is reported;
 * - `allowed_fails`/`cooldown_time` are rendered only while health checks are enabled;
 * - `rateLimits.requestsPerMinute`/`tokensPerMinute`: LiteLLM's shuffle, least-busy and latency routers
 *   read a deployment's `rpm`/`tpm` only as pick weights; only `usage-based-routing-v2` refuses a request
 *   (HTTP 429, `retry-after: 60`) once every deployment has used its per-minute share. So with limits and
 *   strategy round-robin or random (both approximations already) the proxy routes by usage; with
 *   weighted, least-connections or latency-based the limits cannot be enforced beside the strategy, are
 *   not rendered and are reported. Its router admits a deployment only while `used + 1 < rpm`, so the
 *   rendered `rpm` is the share + 1 (exactly `share` requests per minute pass). A request over the limit
 *   is not retried by the proxy (it would wait for the next minute) unless `retryPolicy` lists 429.
 */
import type { LanguageModelSpec, ModelRegion } from "../../api/languagemodel.ts"
import { primaryDeployment } from "../../domain/languagemodel-deployments.ts"
import {
  API_KEY_ENV,
  apiBase,
  DEFAULT_TIMEOUT_SECONDS,
  DUMMY_API_KEY,
  durationSeconds,
  type LiteLLMLogLevel,
  LOG_LEVELS,
  litellmModel,
  PROXY_SERVICE_PORT,
  parameterValue,
  REDIS_PASSWORD_ENV,
  RESERVED_PARAMETERS,
  ROUTING,
  retryPolicy,
  SECRETS_MOUNT_PATH,
  sortedEntries,
  splitLimit,
} from "./litellm-mapping.ts"
import { toYaml, type YamlValue } from "./yaml.ts"

// ---------------------------------------------------------------------------------------------------------
// Input and output

/** A fallback LanguageModel that exists and closes no cycle (decide.ts resolves them). */
export interface ResolvedFallback {
  /** `metadata.name` of the fallback LanguageModel (same namespace, docs/languagemodel.md LM-3). */
  readonly modelRef: string
  /** Its `spec.modelName`: the model group its own proxy serves. */
  readonly modelName: string
  /** `fallbacks[].conditions` of THIS model's entry, verbatim. */
  readonly conditions: ReadonlyArray<string>
}

/** The operator's shared Redis as this model can use it (settings + the password Secret's presence). */
export interface SharedRedisView {
  readonly host: string
  readonly port: number
  /** The password Secret setting, or undefined for a Redis without password. */
  readonly password?:
    | {
        readonly secretName: string
        readonly key: string
        /** Whether that Secret exists in the MODEL's namespace and has the key (Secrets are never copied). */
        readonly present: boolean
      }
    | undefined
}

export interface RenderInput {
  /** `metadata.name` of the LanguageModel (deployment ids, OTEL service name). */
  readonly name: string
  readonly namespace: string
  /** Operator setting, e.g. `cluster.local` (fallback proxy URLs). */
  readonly clusterDomain: string
  /** The decoded spec (schema defaults applied). */
  readonly spec: LanguageModelSpec
  /** Resolved fallbacks in spec order. */
  readonly fallbacks: ReadonlyArray<ResolvedFallback>
  /** Operator shared-Redis setting; undefined when not configured. */
  readonly sharedRedis: SharedRedisView | undefined
  /** Operator OTLP collector endpoint; undefined when not configured. */
  readonly otlpEndpoint: string | undefined
  /**
   * Operator setting LANGOP_USAGE_ATTRIBUTION (docs/languageagent.md §Cost and usage): per-end-user Prometheus
   * counters, which the agent controller reads for `status.modelUsage`. Absent = off.
   */
  readonly endUserMetrics?: boolean | undefined
}

export type FeatureReason =
  | "FallbackNotFound"
  | "FallbackCycle"
  | "CacheBackendUnavailable"
  | "CacheBackendUnsupported"
  | "RegionNotRepresentable"
  | "TracingUnavailable"
  | "PartiallySupported"

/** One spec setting that is not (fully) honoured, for condition `FeaturesSupported`. */
export interface FeatureIssue {
  readonly reason: FeatureReason
  readonly message: string
}

export interface RenderedConfig {
  /** The configuration as a value (what `text` serialises). */
  readonly config: { readonly [key: string]: YamlValue }
  /** `config.yaml`. */
  readonly text: string
  readonly issues: ReadonlyArray<FeatureIssue>
  /** Backend actually rendered when caching is on. */
  readonly cache: "local" | "redis" | undefined
  /** The Redis password Secret the container must read into LANGOP_CACHE_REDIS_PASSWORD. */
  readonly redisPassword: { readonly secretName: string; readonly key: string } | undefined
  /** `prometheus` callback rendered (pod gets Prometheus annotations). */
  readonly metrics: boolean
  /** `otel` callback rendered: the container needs the OTEL env for this endpoint. */
  readonly otlpEndpoint: string | undefined
  /** openai-compatible / custom: `LITELLM_DROP_PARAMS=true`. */
  readonly dropParams: boolean
  /** `LITELLM_LOG`, when `observability.logging` is set. */
  readonly logLevel: LiteLLMLogLevel | undefined
}

// ---------------------------------------------------------------------------------------------------------
// Deployments

type Params = Record<string, YamlValue>

interface OwnDeployment {
  readonly id: string
  readonly params: Params
  readonly weight: number
}

const baseParams = (input: RenderInput): Params => {
  const { spec } = input
  const cfg = spec.configuration
  const params: Params = {}
  for (const [k, v] of sortedEntries(cfg?.additionalParameters))
    if (!RESERVED_PARAMETERS.has(k)) params[k] = parameterValue(v)
  params.model = litellmModel(spec.provider, spec.modelName)
  if (spec.endpoint !== undefined && spec.endpoint !== "")
    params.api_base = apiBase(spec.provider, spec.endpoint)
  const keyless = spec.provider === "openai-compatible" || spec.provider === "custom"
  if (spec.apiKeySecretRef !== undefined) {
    if (spec.provider === "vertex")
      params.vertex_credentials = `${SECRETS_MOUNT_PATH}/${spec.apiKeySecretRef.name}/${spec.apiKeySecretRef.key}`
    else if (spec.provider !== "bedrock") params.api_key = `os.environ/${API_KEY_ENV}`
  } else if (keyless) params.api_key = DUMMY_API_KEY
  params.timeout = durationSeconds(spec.timeout) ?? DEFAULT_TIMEOUT_SECONDS
  params.max_tokens = cfg?.maxTokens
  params.temperature = cfg?.temperature
  params.top_p = cfg?.topP
  params.frequency_penalty = cfg?.frequencyPenalty
  params.presence_penalty = cfg?.presencePenalty
  params.stop = cfg?.stopSequences === undefined ? undefined : [...cfg.stopSequences]
  return params
}

const regionOrder = (regions: ReadonlyArray<ModelRegion>) =>
  regions
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.enabled)
    .sort(
      (a, b) =>
        (a.r.priority ?? Number.MAX_SAFE_INTEGER) - (b.r.priority ?? Number.MAX_SAFE_INTEGER) || a.i - b.i,
    )
    .map(({ r }) => r)

const ownDeployments = (input: RenderInput, issues: Array<FeatureIssue>): ReadonlyArray<OwnDeployment> => {
  const { spec, name } = input
  const base = baseParams(input)
  const endpoints = spec.loadBalancing?.endpoints ?? []
  const regions = regionOrder(spec.regions ?? [])
  const usesOrder =
    endpoints.some((e) => e.priority !== undefined) || regions.some((r) => r.priority !== undefined)
  const out: Array<OwnDeployment> = []
  if (endpoints.length > 0)
    endpoints.forEach((e, i) => {
      out.push({
        id: `${name}-ep-${i}`,
        weight: e.weight,
        params: {
          ...base,
          api_base: apiBase(spec.provider, e.url),
          ...(usesOrder && e.priority !== undefined ? { order: e.priority } : {}),
          ...(e.region !== undefined && e.region !== "" ? { region_name: e.region } : {}),
        },
      })
    })
  else if (primaryDeployment(spec)._tag === "Primary")
    out.push({ id: `${name}-primary`, weight: 100, params: base })
  for (const r of regions) {
    const hasEndpoint = r.endpoint !== undefined && r.endpoint !== ""
    const regional: Params = {}
    if (hasEndpoint) regional.api_base = apiBase(spec.provider, r.endpoint ?? "")
    else if (spec.provider === "bedrock") regional.aws_region_name = r.name
    else if (spec.provider === "vertex") regional.vertex_location = r.name
    else {
      issues.push({
        reason: "RegionNotRepresentable",
        message: `region ${r.name} has no endpoint and provider ${spec.provider} has no region parameter; not rendered`,
      })
      continue
    }
    out.push({
      id: `${name}-region-${r.name}`,
      weight: 100,
      params: {
        ...base,
        ...regional,
        ...(usesOrder && r.priority !== undefined ? { order: r.priority } : {}),
        region_name: r.name,
      },
    })
  }
  return out
}

/** LiteLLM's router that enforces per-deployment `rpm`/`tpm` (the others only weigh picks by them). */
const ENFORCING_ROUTER = "usage-based-routing-v2"
/** Strategies that may be replaced by {@link ENFORCING_ROUTER}: they ask for no particular pick order. */
const REPLACEABLE_STRATEGIES: ReadonlySet<string> = new Set(["round-robin", "random"])

/** Whether `rateLimits` asks for per-minute limits and whether LiteLLM can enforce them beside the strategy. */
export const perMinuteLimits = (spec: LanguageModelSpec): "none" | "enforced" | "unenforceable" => {
  const limits = spec.rateLimits
  if (limits?.requestsPerMinute === undefined && limits?.tokensPerMinute === undefined) return "none"
  return REPLACEABLE_STRATEGIES.has(spec.loadBalancing?.strategy ?? "round-robin")
    ? "enforced"
    : "unenforceable"
}

/** Rate limits split by weight, weights for the weighted strategy, `model_info`. */
const finishDeployments = (
  input: RenderInput,
  own: ReadonlyArray<OwnDeployment>,
  issues: Array<FeatureIssue>,
): ReadonlyArray<YamlValue> => {
  const { spec } = input
  const limits = spec.rateLimits
  const weights = own.map((d) => d.weight)
  const share = (limit: number | undefined) =>
    limit === undefined ? own.map(() => undefined) : splitLimit(limit, weights)
  const perMinute = perMinuteLimits(spec)
  if (perMinute === "unenforceable")
    issues.push({
      reason: "PartiallySupported",
      message: `rateLimits.requestsPerMinute and tokensPerMinute are not enforced with loadBalancing.strategy ${spec.loadBalancing?.strategy}: LiteLLM enforces them only with its usage-based routing, which would replace that strategy; use round-robin or random to enforce them`,
    })
  const enforced = perMinute === "enforced"
  const rpm = enforced ? share(limits?.requestsPerMinute).map((n) => (n === undefined ? n : n + 1)) : []
  const tpm = enforced ? share(limits?.tokensPerMinute) : []
  const parallel = share(limits?.concurrentRequests)
  const weighted = (spec.loadBalancing?.strategy ?? "round-robin") === "weighted"
  const allZero = weights.every((w) => w === 0)
  if (weighted && allZero)
    issues.push({
      reason: "PartiallySupported",
      message: "loadBalancing: every endpoint has weight 0; weights ignored (requests are shuffled evenly)",
    })
  const cost = spec.costTracking?.enabled === true ? spec.costTracking : undefined
  const modelInfo = (id: string): Params => ({
    id,
    input_cost_per_token: cost?.inputTokenCost === undefined ? undefined : cost.inputTokenCost / 1000,
    output_cost_per_token: cost?.outputTokenCost === undefined ? undefined : cost.outputTokenCost / 1000,
  })
  return own.map((d, i) => ({
    model_name: spec.modelName,
    litellm_params: {
      ...d.params,
      rpm: rpm[i],
      tpm: tpm[i],
      max_parallel_requests: parallel[i],
      ...(weighted && !allZero ? { weight: d.weight } : {}),
    },
    model_info: modelInfo(d.id),
  }))
}

export const fallbackGroup = (modelRef: string): string => `fallback/${modelRef}`

const fallbackDeployment = (input: RenderInput, f: ResolvedFallback): YamlValue => ({
  model_name: fallbackGroup(f.modelRef),
  litellm_params: {
    model: `openai/${f.modelName}`,
    api_base: `http://${f.modelRef}.${input.namespace}.svc.${input.clusterDomain}:${PROXY_SERVICE_PORT}/v1`,
    api_key: DUMMY_API_KEY,
  },
  model_info: { id: `${input.name}-fallback-${f.modelRef}` },
})

// ---------------------------------------------------------------------------------------------------------
// Settings sections

const hasCondition = (conditions: ReadonlyArray<string>, ...words: ReadonlyArray<string>) =>
  conditions.some((c) => words.includes(c.trim().toLowerCase()))

const fallbackChains = (input: RenderInput): Params => {
  const chain = (pick: (f: ResolvedFallback) => boolean) => {
    const groups = input.fallbacks.filter(pick).map((f) => fallbackGroup(f.modelRef))
    return groups.length === 0 ? undefined : [{ [input.spec.modelName]: groups }]
  }
  const contextWindow = (f: ResolvedFallback) =>
    hasCondition(f.conditions, "context_window", "context-window")
  const contentPolicy = (f: ResolvedFallback) =>
    hasCondition(f.conditions, "content_policy", "content-policy")
  return {
    fallbacks: chain(
      (f) =>
        f.conditions.length === 0 ||
        f.conditions.some(
          (c) => !hasCondition([c], "context_window", "context-window", "content_policy", "content-policy"),
        ),
    ),
    context_window_fallbacks: chain(contextWindow),
    content_policy_fallbacks: chain(contentPolicy),
  }
}

const routerSettings = (input: RenderInput, issues: Array<FeatureIssue>): Params => {
  const { spec } = input
  const lb = spec.loadBalancing
  const health = lb?.healthCheck?.enabled === true ? lb.healthCheck : undefined
  const retry = spec.retryPolicy
  const enforced = perMinuteLimits(spec) === "enforced"
  const out: Params = {
    routing_strategy: enforced
      ? ENFORCING_ROUTER
      : (ROUTING[lb?.strategy ?? "round-robin"] ?? "simple-shuffle"),
  }
  // A request over the limit fails with a RateLimitError, which LiteLLM would otherwise retry after the
  // error's retry-after (60 s): the caller would hang instead of getting the 429. Listed codes render a
  // whole policy below (429 retried only when listed); otherwise only this class is set, so every other
  // error keeps `num_retries`.
  if (enforced && retry?.retryableStatusCodes === undefined) out.retry_policy = { RateLimitErrorRetries: 0 }
  if (retry !== undefined) {
    out.num_retries = retry.maxAttempts
    const backoff = durationSeconds(retry.initialBackoff)
    if (backoff !== undefined) out.retry_after = Math.ceil(backoff)
    if (retry.retryableStatusCodes !== undefined) {
      const { policy, unmapped } = retryPolicy(retry.retryableStatusCodes, retry.maxAttempts)
      out.retry_policy = policy
      if (unmapped.length > 0)
        issues.push({
          reason: "PartiallySupported",
          message: `retryPolicy.retryableStatusCodes ${unmapped.join(", ")} map to no LiteLLM error class; ignored`,
        })
    }
    if (retry.maxBackoff !== "30s")
      issues.push({
        reason: "PartiallySupported",
        message: "retryPolicy.maxBackoff is not representable in LiteLLM; ignored",
      })
    if (retry.backoffMultiplier !== 2)
      issues.push({
        reason: "PartiallySupported",
        message: "retryPolicy.backoffMultiplier is not representable in LiteLLM; ignored",
      })
  }
  if (health !== undefined) {
    out.allowed_fails = health.unhealthyThreshold
    out.cooldown_time = durationSeconds(health.interval)
    if (health.healthyThreshold !== 2)
      issues.push({
        reason: "PartiallySupported",
        message: "loadBalancing.healthCheck.healthyThreshold is not representable in LiteLLM; ignored",
      })
  }
  return { ...out, ...fallbackChains(input) }
}

interface CacheRendering {
  readonly params: Params | undefined
  readonly backend: "local" | "redis" | undefined
  readonly redisPassword: { readonly secretName: string; readonly key: string } | undefined
}

const cacheSettings = (input: RenderInput, issues: Array<FeatureIssue>): CacheRendering => {
  const caching = input.spec.caching
  if (caching?.enabled !== true) return { params: undefined, backend: undefined, redisPassword: undefined }
  const ttlSeconds = durationSeconds(caching.ttl)
  const ttl = ttlSeconds === undefined ? undefined : Math.max(1, Math.ceil(ttlSeconds))
  if (caching.maxSize !== undefined)
    issues.push({
      reason: "PartiallySupported",
      message: "caching.maxSize has no LiteLLM equivalent; ignored",
    })
  const local = { params: { type: "local", ttl }, backend: "local" as const, redisPassword: undefined }
  if (caching.backend === "memcached") {
    issues.push({
      reason: "CacheBackendUnsupported",
      message: "caching.backend memcached is not supported by LiteLLM; using the in-memory cache",
    })
    return local
  }
  if (caching.backend !== "redis") return local
  const redis = input.sharedRedis
  if (redis === undefined) {
    issues.push({
      reason: "CacheBackendUnavailable",
      message:
        "caching.backend redis: the operator has no shared Redis configured; using the in-memory cache",
    })
    return local
  }
  if (redis.password !== undefined && !redis.password.present) {
    issues.push({
      reason: "CacheBackendUnavailable",
      message: `caching.backend redis: Secret ${redis.password.secretName} with key ${redis.password.key} for the Redis password is missing in namespace ${input.namespace}; using the in-memory cache`,
    })
    return local
  }
  const password = redis.password
  return {
    params: {
      type: "redis",
      host: redis.host,
      port: redis.port,
      password: password === undefined ? undefined : `os.environ/${REDIS_PASSWORD_ENV}`,
      ttl,
    },
    backend: "redis",
    redisPassword:
      password === undefined ? undefined : { secretName: password.secretName, key: password.key },
  }
}

// ---------------------------------------------------------------------------------------------------------
// The whole file

/** Renders `config.yaml` and reports what the spec asks for but LiteLLM cannot do. */
export const renderLiteLLMConfig = (input: RenderInput): RenderedConfig => {
  const { spec } = input
  const issues: Array<FeatureIssue> = []
  const own = finishDeployments(input, ownDeployments(input, issues), issues)
  const modelList = [...own, ...input.fallbacks.map((f) => fallbackDeployment(input, f))]
  const router = routerSettings(input, issues)
  const cache = cacheSettings(input, issues)

  const obs = spec.observability
  const metrics = obs?.metrics === true
  const wantsTracing = obs?.tracing === true
  const otlpEndpoint = wantsTracing ? input.otlpEndpoint : undefined
  if (wantsTracing && input.otlpEndpoint === undefined)
    issues.push({
      reason: "TracingUnavailable",
      message: "observability.tracing: the operator has no OTLP collector configured; no traces are exported",
    })
  // Usage attribution needs the Prometheus counters too, labelled by end user.
  const endUser = input.endUserMetrics === true
  const prometheus = metrics || endUser
  const callbacks = [...(prometheus ? ["prometheus"] : []), ...(otlpEndpoint !== undefined ? ["otel"] : [])]
  const logging = obs?.logging
  if (logging !== undefined && logging.logRequests !== logging.logResponses)
    issues.push({
      reason: "PartiallySupported",
      message:
        "observability.logging: LiteLLM logs request and response messages together; both are logged unless both logRequests and logResponses are false",
    })
  const dropParams = spec.provider === "openai-compatible" || spec.provider === "custom"

  const health =
    spec.loadBalancing?.healthCheck?.enabled === true ? spec.loadBalancing.healthCheck : undefined
  const config = {
    model_list: modelList,
    router_settings: router,
    litellm_settings: {
      drop_params: dropParams ? true : undefined,
      callbacks: callbacks.length === 0 ? undefined : callbacks,
      enable_end_user_cost_tracking_prometheus_only: endUser ? true : undefined,
      turn_off_message_logging:
        logging !== undefined && !logging.logRequests && !logging.logResponses ? true : undefined,
      cache: cache.params === undefined ? undefined : true,
      cache_params: cache.params,
    },
    general_settings: {
      background_health_checks: health !== undefined,
      health_check_interval: health === undefined ? undefined : durationSeconds(health.interval),
    },
  }
  return {
    config,
    text: toYaml(config),
    issues,
    cache: cache.backend,
    redisPassword: cache.redisPassword,
    metrics: prometheus,
    otlpEndpoint,
    dropParams,
    logLevel: logging === undefined ? undefined : LOG_LEVELS[logging.level],
  }
}
