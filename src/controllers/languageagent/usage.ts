/**
 * `AgentUsage`: where per-agent usage attribution samples come from (docs/languageagent.md §Cost and usage,
 * docs/languageagent.md AG-12). With attribution on, the runtime sends the OpenAI `user` field as `<namespace>/<agent>` and the
 * model proxies count per end user; the controller sums and prices those counters (observe.ts
 * `usageStatus`).
 *
 * - Default (no layer provided, or the setting off): no samples, so `modelUsage`, `metrics.totalTokens` and
 *   `costMetrics` stay unset, as the spec requires without attribution.
 * - {@link proxyMetricsUsage}: reads each model proxy's Prometheus `/metrics`
 *   (`http://<model>.<ns>.svc.<domain>:8000/metrics/`) and sums the series labelled
 *   `end_user="<namespace>/<agent>"` of `litellm_requests_metric_total`,
 *   `litellm_input_tokens_metric_total` and `litellm_output_tokens_metric_total` (names of the pinned
 *   LiteLLM; the proxy must render `litellm_settings.enable_end_user_cost_tracking_prometheus_only: true`,
 *   otherwise it emits no `end_user` label and no sample results). Counters restart with the proxy: a
 *   decrease starts a new period, whose start is the sample's `since` (→ `costMetrics.lastReset`).
 *
 * Guarantees: never fails — an unreachable proxy or unreadable text yields no sample for that model; the
 * memory of periods is per (model, user) and only grows with the agents and models that exist.
 */
import { Clock, Context, Duration, Effect, Layer, Ref } from "effect"
import { rfc3339 } from "../common/io.ts"
import { modelUrl } from "./dependencies.ts"
import type { ModelUsageSample } from "./observe.ts"

export interface ModelKey {
  readonly namespace: string
  readonly name: string
}

export interface AgentUsageShape {
  /** Counters of user `<namespace>/<agent>` on each of `models` (unreachable models: no sample). */
  readonly samples: (
    agent: ModelKey,
    models: ReadonlyArray<ModelKey>,
  ) => Effect.Effect<ReadonlyArray<ModelUsageSample>>
}

export const noUsage: AgentUsageShape = { samples: () => Effect.succeed([]) }

export const AgentUsage = Context.Reference<AgentUsageShape>("langop/languageagent/AgentUsage", {
  defaultValue: () => noUsage,
})

/** The OpenAI `user` value an agent's requests carry under attribution. */
export const attributionUser = (agent: ModelKey): string => `${agent.namespace}/${agent.name}`

// ---------------------------------------------------------------------------------------------------------
// Prometheus text

export const METRIC_REQUESTS = "litellm_requests_metric_total"
export const METRIC_INPUT_TOKENS = "litellm_input_tokens_metric_total"
export const METRIC_OUTPUT_TOKENS = "litellm_output_tokens_metric_total"

export interface UserCounters {
  readonly requests: number
  readonly inputTokens: number
  readonly outputTokens: number
}

const unescapeLabel = (v: string): string =>
  v.replace(/\\(["\\n])/gu, (_, c: string) => (c === "n" ? "\n" : c))

/** `{a="x",b="y"}` → labels. */
const parseLabels = (text: string): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/gu))
    out.set(m[1] ?? "", unescapeLabel(m[2] ?? ""))
  return out
}

/**
 * The sums of the three per-user counters for `user` in a Prometheus text exposition, or undefined when
 * no series carries that end user. PURE.
 */
export const userCounters = (text: string, user: string): UserCounters | undefined => {
  const sums = { [METRIC_REQUESTS]: 0, [METRIC_INPUT_TOKENS]: 0, [METRIC_OUTPUT_TOKENS]: 0 }
  let seen = false
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s+(\S+)/u.exec(line.trim())
    const name = m?.[1]
    if (m === null || name === undefined || !(name in sums)) continue
    if (parseLabels(m[2] ?? "").get("end_user") !== user) continue
    const value = Number(m[3])
    if (!Number.isFinite(value)) continue
    sums[name as keyof typeof sums] += value
    seen = true
  }
  return seen
    ? {
        requests: sums[METRIC_REQUESTS],
        inputTokens: sums[METRIC_INPUT_TOKENS],
        outputTokens: sums[METRIC_OUTPUT_TOKENS],
      }
    : undefined
}

interface Period {
  readonly since: string
  readonly last: UserCounters
}

/** The period a new reading belongs to: the same one, or a new one from `now` when a counter went down. */
export const nextPeriod = (previous: Period | undefined, reading: UserCounters, now: string): Period =>
  previous === undefined ||
  reading.requests < previous.last.requests ||
  reading.inputTokens < previous.last.inputTokens ||
  reading.outputTokens < previous.last.outputTokens
    ? { since: now, last: reading }
    : { since: previous.since, last: reading }

export interface ProxyMetricsOptions {
  readonly clusterDomain: string
  /** GETs a URL's body; failures and timeouts mean "no sample". Default: global fetch with a 5 s timeout. */
  readonly fetchText?: (url: string) => Effect.Effect<string, unknown>
}

const defaultFetch = (url: string): Effect.Effect<string, unknown> =>
  Effect.tryPromise({
    try: (signal) =>
      fetch(url, { signal }).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`HTTP ${r.status}`)))),
    catch: (e) => e,
  }).pipe(Effect.timeout(Duration.seconds(5)))

/** An `AgentUsage` that scrapes the model proxies (see the module header). */
export const proxyMetricsUsage = (options: ProxyMetricsOptions): Effect.Effect<AgentUsageShape> =>
  Effect.map(Ref.make(new Map<string, Period>()), (periods) => {
    const fetchText = options.fetchText ?? defaultFetch
    const sample = (user: string, model: ModelKey) =>
      Effect.gen(function* () {
        const text = yield* Effect.option(
          fetchText(`${modelUrl(model.name, model.namespace, options.clusterDomain)}/metrics/`),
        )
        if (text._tag === "None") return []
        const reading = userCounters(text.value, user)
        if (reading === undefined) return []
        const now = rfc3339(yield* Clock.currentTimeMillis)
        const key = `${model.namespace}/${model.name}|${user}`
        const period = yield* Ref.modify(periods, (m) => {
          const next = nextPeriod(m.get(key), reading, now)
          return [next, new Map(m).set(key, next)] as const
        })
        return [
          {
            modelNamespace: model.namespace,
            modelName: model.name,
            requestCount: reading.requests,
            inputTokens: reading.inputTokens,
            outputTokens: reading.outputTokens,
            since: period.since,
          } satisfies ModelUsageSample,
        ]
      })
    return {
      samples: (agent, models) =>
        Effect.map(
          Effect.forEach(models, (m) => sample(attributionUser(agent), m), { concurrency: 4 }),
          (lists) => lists.flat(),
        ),
    }
  })

/** Layer providing {@link proxyMetricsUsage} (wire it when LANGOP_USAGE_ATTRIBUTION is on). */
export const proxyMetricsUsageLayer = (options: ProxyMetricsOptions): Layer.Layer<never> =>
  Layer.effect(AgentUsage, proxyMetricsUsage(options))
