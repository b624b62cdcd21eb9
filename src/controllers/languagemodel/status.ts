/**
 * LanguageModel status from observed state (docs/languagemodel.md §Status, §Conditions, §Health, §Cost,
 * docs/concepts.md §7). PURE.
 *
 * Guarantees: the phase is always in the kind's enum; `healthy` = phase ∈ {Ready, Degraded};
 * `message`/`reason` mirror `Ready`; timer-driven fields (`lastHealthCheck`, endpoint/region health,
 * metrics, costs) change only when a new poll or scrape is passed in, otherwise the previous values are
 * kept; `lastUpdateTime` changes only when another field changes.
 */
import type {
  LanguageModelSpec,
  LanguageModelStatus,
  ModelCostMetrics,
  ModelEndpointStatus,
  ModelMetrics,
  ModelPhase,
  ModelRegionStatus,
} from "../../api/languagemodel.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { type ConditionInput, setConditions } from "../common/conditions.ts"
import { apiBase } from "./litellm-mapping.ts"

// ---------------------------------------------------------------------------------------------------------
// Observed inputs (filled by gather)

/** The proxy Deployment as read (only the fields decisions use). */
export interface DeploymentView {
  readonly status?: {
    readonly availableReplicas?: number
    readonly conditions?: ReadonlyArray<{
      readonly type: string
      readonly status: string
      readonly reason?: string
      readonly message?: string
    }>
  }
}

/** A container of a proxy pod that is waiting or terminated, with the kubelet's reason. */
export interface PodProblem {
  readonly pod: string
  readonly container: string
  /** e.g. `CrashLoopBackOff`, `ImagePullBackOff`, `CreateContainerConfigError`, `Error`. */
  readonly reason: string
  readonly message?: string | undefined
}

/** One LiteLLM deployment as reported by the proxy's `/health` (healthy or not). */
export interface HealthEntry {
  readonly apiBase: string | undefined
  readonly regionName?: string | undefined
  readonly latencyMs?: number | undefined
}

/** Result of one operator health poll (§Health). */
export interface HealthPoll {
  /** RFC 3339 time of the poll. */
  readonly time: string
  readonly healthy: ReadonlyArray<HealthEntry>
  readonly unhealthy: ReadonlyArray<HealthEntry>
}

/**
 * Prometheus series of the pinned LiteLLM (contract-tested in test/contract/litellm) from which a
 * {@link MetricsSample} is derived; counters carry the `_total` suffix, the latency histogram (seconds)
 * `_bucket`/`_sum`/`_count`. The names differ between LiteLLM versions.
 */
export const PROXY_METRICS = {
  totalRequests: "litellm_proxy_total_requests_metric_total",
  failedRequests: "litellm_proxy_failed_requests_metric_total",
  inputTokens: "litellm_input_tokens_metric_total",
  outputTokens: "litellm_output_tokens_metric_total",
  totalTokens: "litellm_total_tokens_metric_total",
  latencyHistogram: "litellm_request_total_latency_metric",
} as const

/** Counters derived from one `/metrics` scrape (§Metrics; parsing is bound to the pinned LiteLLM). */
export interface MetricsSample {
  readonly metrics: ModelMetrics
  /** Proxy start time observed with the current counters (set anew when a counter decreased). */
  readonly lastReset: string
}

// ---------------------------------------------------------------------------------------------------------
// Workload availability

/** Waiting/terminated reasons that mean the proxy pods fail rather than start slowly. */
export const FAILING_REASONS: ReadonlySet<string> = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
])

export type Availability =
  | { readonly _tag: "Available" }
  | { readonly _tag: "Progressing"; readonly message: string }
  | { readonly _tag: "PodsFailing"; readonly message: string }

export const availabilityOf = (
  deployment: DeploymentView | undefined,
  pods: ReadonlyArray<PodProblem>,
): Availability => {
  if (deployment === undefined) return { _tag: "Progressing", message: "Deployment not created yet" }
  if ((deployment.status?.availableReplicas ?? 0) >= 1) return { _tag: "Available" }
  const failing = pods.filter((p) => FAILING_REASONS.has(p.reason))
  if (failing.length > 0)
    return {
      _tag: "PodsFailing",
      message: failing
        .map((p) => `pod ${p.pod} container ${p.container}: ${p.reason}${p.message ? `: ${p.message}` : ""}`)
        .join("; "),
    }
  const deadline = deployment.status?.conditions?.find(
    (c) => c.type === "Progressing" && c.status === "False" && c.reason === "ProgressDeadlineExceeded",
  )
  if (deadline !== undefined)
    return {
      _tag: "PodsFailing",
      message: `Deployment progress deadline exceeded: ${deadline.message ?? ""}`.trim(),
    }
  return { _tag: "Progressing", message: "Waiting for the proxy pod to become available" }
}

// ---------------------------------------------------------------------------------------------------------
// Health, metrics and cost

const sameBase = (a: string | undefined, b: string) =>
  a !== undefined && a.replace(/\/+$/u, "") === b.replace(/\/+$/u, "")

/** `endpointStatus`, one per load-balanced endpoint, matched by `api_base`; undefined without endpoints. */
export const endpointStatusOf = (
  spec: LanguageModelSpec,
  poll: HealthPoll,
  previous: ReadonlyArray<ModelEndpointStatus> | undefined,
): ReadonlyArray<ModelEndpointStatus> | undefined => {
  const endpoints = spec.loadBalancing?.endpoints ?? []
  if (endpoints.length === 0) return undefined
  return endpoints.map((e) => {
    const base = apiBase(spec.provider, e.url)
    const good = poll.healthy.find((h) => sameBase(h.apiBase, base))
    const before = previous?.find((p) => p.url === e.url)?.failureCount ?? 0
    const latency = good?.latencyMs
    return {
      url: e.url,
      healthy: good !== undefined,
      lastCheck: poll.time,
      failureCount: good !== undefined ? 0 : before + 1,
      ...(latency !== undefined ? { latency: Math.round(latency) } : {}),
    }
  })
}

/** `regionStatus`, one per enabled region, matched by `region_name`; undefined without regions. */
export const regionStatusOf = (
  spec: LanguageModelSpec,
  poll: HealthPoll,
): ReadonlyArray<ModelRegionStatus> | undefined => {
  const regions = (spec.regions ?? []).filter((r) => r.enabled)
  if (regions.length === 0) return undefined
  return regions.map((r) => {
    const good = poll.healthy.find((h) => h.regionName === r.name)
    const latency = good?.latencyMs
    return {
      name: r.name,
      available: good !== undefined,
      lastCheck: poll.time,
      ...(latency !== undefined ? { latency: Math.round(latency) } : {}),
    }
  })
}

const round = (n: number) => Math.round(n * 1e9) / 1e9

/** `costMetrics` from token counts and the spec's prices per 1000 tokens (§Cost). */
export const costMetricsOf = (
  spec: LanguageModelSpec,
  sample: MetricsSample,
): ModelCostMetrics | undefined => {
  const cost = spec.costTracking
  if (cost?.enabled !== true) return undefined
  const input = round(((sample.metrics.inputTokens ?? 0) / 1000) * (cost.inputTokenCost ?? 0))
  const output = round(((sample.metrics.outputTokens ?? 0) / 1000) * (cost.outputTokenCost ?? 0))
  return {
    totalCost: round(input + output),
    inputTokenCost: input,
    outputTokenCost: output,
    currency: cost.currency,
    lastReset: sample.lastReset,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Assembling the status

export const READY_MESSAGE = "Model proxy is ready"

export interface StatusParts {
  readonly phase: ModelPhase
  readonly conditions: ReadonlyArray<ConditionInput>
  /** Health fields (already merged with the previous ones when no new poll happened). */
  readonly health:
    | {
        readonly lastHealthCheck: string | undefined
        readonly endpointStatus: ReadonlyArray<ModelEndpointStatus> | undefined
        readonly regionStatus: ReadonlyArray<ModelRegionStatus> | undefined
      }
    | undefined
  readonly metrics: ModelMetrics | undefined
  readonly costMetrics: ModelCostMetrics | undefined
}

/**
 * The complete status: conditions applied with metav1 semantics, `Ready` mirrored into
 * `message`/`reason`, `lastUpdateTime` bumped only when something else changed.
 */
export const assembleStatus = (
  previous: LanguageModelStatus | undefined,
  parts: StatusParts,
  generation: number | undefined,
  now: string,
): LanguageModelStatus => {
  const conditions = setConditions(previous?.conditions, parts.conditions, generation, now)
  const ready = conditions.find((c) => c.type === "Ready")
  const h = parts.health
  const next: LanguageModelStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: parts.phase,
    conditions,
    healthy: parts.phase === "Ready" || parts.phase === "Degraded",
    ...(h?.lastHealthCheck !== undefined ? { lastHealthCheck: h.lastHealthCheck } : {}),
    ...(h?.endpointStatus !== undefined ? { endpointStatus: h.endpointStatus } : {}),
    ...(h?.regionStatus !== undefined ? { regionStatus: h.regionStatus } : {}),
    ...(parts.metrics !== undefined ? { metrics: parts.metrics } : {}),
    ...(parts.costMetrics !== undefined ? { costMetrics: parts.costMetrics } : {}),
    ...(ready !== undefined ? { message: ready.message, reason: ready.reason } : {}),
  }
  const { lastUpdateTime: previousUpdate, ...previousRest } = previous ?? {}
  const changed = previous === undefined || canonicalJson(previousRest) !== canonicalJson(next)
  const lastUpdateTime = changed ? now : previousUpdate
  return lastUpdateTime === undefined ? next : { ...next, lastUpdateTime }
}
