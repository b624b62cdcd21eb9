/**
 * The model proxy's optional polling (docs/languagemodel.md §Metrics, §Health, §Cost): GET `/metrics/`
 * (Prometheus text) and `/health` (JSON) of a LiteLLM proxy and turn them into the `MetricsSample` and
 * `HealthPoll` that decide.ts consumes; plus when each is due.
 *
 * Guarantees: every request has a timeout and is aborted when it expires; every failure (timeout,
 * connection refused, non-2xx, unparsable body) is a typed `ProbeError`, never a defect. Parsing is bound
 * to the pinned LiteLLM's series names (status.ts `PROXY_METRICS`); series missing from a scrape count as
 * 0 (LiteLLM creates labelled series on first use, so an idle proxy has none). A `/health` answer without
 * results (`{}` before LiteLLM's first background check) is "no poll", not a failure.
 * Assumptions: the operator can reach `http://<name>.<ns>.svc.<domain>:8000` (docs/languagemodel.md LM-11); the proxy runs
 * background health checks when `healthCheck.enabled`, so `/health` serves cached results and a poll makes
 * no model call of its own.
 */
import { Effect, Result, Schema } from "effect"
import type { LanguageModel, LanguageModelStatus, ModelMetrics } from "../../api/languagemodel.ts"
import { keyOf } from "../../kube/objects.ts"
import { rfc3339 } from "../common/io.ts"
import { healthPollIntervalMs, healthPollTimeoutMs } from "./decide.ts"
import type { ModelSettings } from "./input.ts"
import type { HealthEntry, HealthPoll, MetricsSample } from "./status.ts"
import { PROXY_METRICS } from "./status.ts"

// ---------------------------------------------------------------------------------------------------------
// Where the proxy is

/** Base URL of a model's proxy (no trailing slash); tests replace it to point at 127.0.0.1. */
export type ProxyUrl = (model: { readonly namespace: string; readonly name: string }) => string

/** The proxy's Service (port 8000, workload.ts) by its cluster DNS name. */
export const serviceProxyUrl =
  (clusterDomain: string): ProxyUrl =>
  ({ namespace, name }) =>
    `http://${name}.${namespace}.svc.${clusterDomain}:8000`

// ---------------------------------------------------------------------------------------------------------
// HTTP

export class ProbeError extends Schema.TaggedError<ProbeError>()("ProbeError", {
  /** `Timeout`, `Unreachable` (connection failed), `HttpStatus` (non-2xx) or `Malformed` (body). */
  kind: Schema.Literals(["Timeout", "Unreachable", "HttpStatus", "Malformed"]),
  url: Schema.String,
  message: Schema.String,
}) {}

const getText = (url: string, timeoutMs: number) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { signal, headers: { accept: "text/plain, application/json" } })
      return { status: response.status, body: await response.text() }
    },
    catch: (e) => new ProbeError({ kind: "Unreachable", url, message: String(e) }),
  }).pipe(
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () =>
        Effect.fail(new ProbeError({ kind: "Timeout", url, message: `no answer within ${timeoutMs} ms` })),
    }),
    Effect.flatMap(({ status, body }) =>
      status >= 200 && status < 300
        ? Effect.succeed(body)
        : Effect.fail(
            new ProbeError({ kind: "HttpStatus", url, message: `HTTP ${status}: ${body.slice(0, 200)}` }),
          ),
    ),
  )

// ---------------------------------------------------------------------------------------------------------
// Prometheus text

export interface PromSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/u
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,?)/u
const unescapeLabel = (s: string) => s.replace(/\\(.)/gu, (_, c: string) => (c === "n" ? "\n" : c))

const parseValue = (text: string): number | undefined => {
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY
  if (text === "-Inf") return Number.NEGATIVE_INFINITY
  if (text === "NaN") return Number.NaN
  const n = Number(text)
  return text !== "" && !Number.isNaN(n) ? n : undefined
}

/** Samples of the Prometheus text exposition format (comments skipped); fails on the first bad line. */
export const parsePrometheusText = (text: string): Result.Result<ReadonlyArray<PromSample>, string> => {
  const out: Array<PromSample> = []
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const bad = Result.fail(`line ${i + 1}: not a Prometheus sample: ${line.slice(0, 120)}`)
    const name = NAME.exec(line)?.[0]
    if (name === undefined) return bad
    let rest = line.slice(name.length)
    const labels: Record<string, string> = {}
    if (rest.startsWith("{")) {
      rest = rest.slice(1)
      for (;;) {
        const close = /^\s*\}/u.exec(rest)
        if (close !== null) {
          rest = rest.slice(close[0].length)
          break
        }
        const m = LABEL.exec(rest)
        if (m === null || m[1] === undefined || m[2] === undefined) return bad
        labels[m[1]] = unescapeLabel(m[2])
        rest = rest.slice(m[0].length)
        if (m[3] !== "," && !/^\s*\}/u.test(rest)) return bad
      }
    }
    const [valueText, timestamp, ...extra] = rest.trim().split(/\s+/u)
    const value = parseValue(valueText ?? "")
    if (
      value === undefined ||
      extra.length > 0 ||
      (timestamp !== undefined && parseValue(timestamp) === undefined)
    )
      return bad
    out.push({ name, labels, value })
  }
  return Result.succeed(out)
}

// ---------------------------------------------------------------------------------------------------------
// Metrics sample

const sumOf = (samples: ReadonlyArray<PromSample>, name: string) =>
  samples.reduce((acc, s) => (s.name === name ? acc + s.value : acc), 0)

/**
 * The `q` quantile (seconds) of a cumulative histogram by linear interpolation within its bucket (as
 * Prometheus' `histogram_quantile`); in the `+Inf` bucket the highest finite bound is the answer.
 */
export const histogramQuantile = (
  q: number,
  buckets: ReadonlyArray<{ readonly le: number; readonly count: number }>,
): number | undefined => {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const total = sorted.at(-1)?.count ?? 0
  if (total <= 0) return undefined
  const rank = q * total
  let lower = 0
  let below = 0
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lower
      return b.count === below ? b.le : lower + ((b.le - lower) * (rank - below)) / (b.count - below)
    }
    lower = b.le
    below = b.count
  }
  return lower
}

const COUNTERS = ["totalRequests", "failedRequests", "inputTokens", "outputTokens", "totalTokens"] as const

/** Counters that went down since the previous scrape: the proxy restarted (§Metrics). */
const decreased = (now: ModelMetrics, before: ModelMetrics | undefined) =>
  before !== undefined && COUNTERS.some((k) => (now[k] ?? 0) < (before[k] ?? 0))

/**
 * The sample decide.ts expects. `lastReset` is the proxy's `process_start_time_seconds` when exposed;
 * otherwise the previous one, or `now` when there is none or a counter decreased (a fresh start).
 */
export const metricsSampleOf = (
  samples: ReadonlyArray<PromSample>,
  previous: { readonly metrics?: ModelMetrics | undefined; readonly lastReset?: string | undefined },
  nowMillis: number,
): MetricsSample => {
  const total = Math.round(sumOf(samples, PROXY_METRICS.totalRequests))
  const failed = Math.round(sumOf(samples, PROXY_METRICS.failedRequests))
  const h = PROXY_METRICS.latencyHistogram
  const count = sumOf(samples, `${h}_count`)
  const byLe = new Map<number, number>()
  for (const s of samples) {
    const le = s.name === `${h}_bucket` && s.labels.le !== undefined ? parseValue(s.labels.le) : undefined
    if (le !== undefined) byLe.set(le, (byLe.get(le) ?? 0) + s.value)
  }
  const buckets = [...byLe].map(([le, n]) => ({ le, count: n }))
  const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : Math.round(seconds * 1000))
  const latency = {
    averageLatency: count > 0 ? ms(sumOf(samples, `${h}_sum`) / count) : undefined,
    p95Latency: ms(histogramQuantile(0.95, buckets)),
    p99Latency: ms(histogramQuantile(0.99, buckets)),
  }
  const metrics: ModelMetrics = {
    totalRequests: total,
    successfulRequests: Math.max(total - failed, 0),
    failedRequests: failed,
    totalTokens: Math.round(sumOf(samples, PROXY_METRICS.totalTokens)),
    inputTokens: Math.round(sumOf(samples, PROXY_METRICS.inputTokens)),
    outputTokens: Math.round(sumOf(samples, PROXY_METRICS.outputTokens)),
    ...Object.fromEntries(Object.entries(latency).filter(([, v]) => v !== undefined)),
  }
  const started = samples.find((s) => s.name === "process_start_time_seconds")?.value
  const lastReset =
    started !== undefined && Number.isFinite(started) && started > 0
      ? rfc3339(started * 1000)
      : previous.lastReset !== undefined && !decreased(metrics, previous.metrics)
        ? previous.lastReset
        : rfc3339(nowMillis)
  return { metrics, lastReset }
}

/** GET `<base>/metrics/` and derive a sample. */
export const scrapeMetrics = (
  baseUrl: string,
  options: {
    readonly timeoutMs: number
    readonly previous: {
      readonly metrics?: ModelMetrics | undefined
      readonly lastReset?: string | undefined
    }
    readonly nowMillis: number
  },
) => {
  const url = `${baseUrl}/metrics/`
  return getText(url, options.timeoutMs).pipe(
    Effect.flatMap((text) => {
      const parsed = parsePrometheusText(text)
      return Result.isFailure(parsed)
        ? Effect.fail(new ProbeError({ kind: "Malformed", url, message: parsed.failure }))
        : Effect.succeed(metricsSampleOf(parsed.success, options.previous, options.nowMillis))
    }),
  )
}

// ---------------------------------------------------------------------------------------------------------
// Health

const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

const entryOf = (e: unknown): HealthEntry | undefined => {
  if (!isRecord(e)) return undefined
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined)
  const latency = e.latency_ms ?? e.latency
  return {
    apiBase: str(e.api_base),
    regionName: str(e.region_name),
    latencyMs: typeof latency === "number" && Number.isFinite(latency) ? latency : undefined,
  }
}

/**
 * A poll from LiteLLM's `/health` JSON (`healthy_endpoints`/`unhealthy_endpoints`: the deployments'
 * litellm params, so `api_base` and `region_name`); undefined when it holds no results yet.
 */
export const healthPollOf = (json: unknown, time: string): Result.Result<HealthPoll | undefined, string> => {
  if (!isRecord(json)) return Result.fail("not a JSON object")
  const { healthy_endpoints: healthy, unhealthy_endpoints: unhealthy } = json
  if (healthy === undefined && unhealthy === undefined) return Result.succeed(undefined)
  const list = (v: unknown) =>
    v === undefined ? [] : Array.isArray(v) ? v.map(entryOf) : [undefined as HealthEntry | undefined]
  const h = list(healthy)
  const u = list(unhealthy)
  if ([...h, ...u].some((e) => e === undefined))
    return Result.fail("healthy_endpoints/unhealthy_endpoints malformed")
  const defined = (es: ReadonlyArray<HealthEntry | undefined>) =>
    es.filter((e): e is HealthEntry => e !== undefined)
  return Result.succeed({ time, healthy: defined(h), unhealthy: defined(u) })
}

/** GET `<base>/health`; undefined when the proxy has no results yet. */
export const pollHealth = (
  baseUrl: string,
  options: { readonly timeoutMs: number; readonly time: string },
) => {
  const url = `${baseUrl}/health`
  return getText(url, options.timeoutMs).pipe(
    Effect.flatMap((text) => {
      const json = Result.try(() => JSON.parse(text) as unknown)
      const poll = Result.isFailure(json) ? Result.fail("not JSON") : healthPollOf(json.success, options.time)
      return Result.isFailure(poll)
        ? Effect.fail(new ProbeError({ kind: "Malformed", url, message: poll.failure }))
        : Effect.succeed(poll.success)
    }),
  )
}

/**
 * A failed poll: no endpoint could be confirmed healthy within `healthCheck.timeout`, so every endpoint
 * counts one more consecutive failure (and all unhealthy → `Ready=False ProxyNotAvailable`).
 */
export const failedPoll = (time: string): HealthPoll => ({ time, healthy: [], unhealthy: [] })

// ---------------------------------------------------------------------------------------------------------
// When

/** A requeue may fire a little early (timer and RFC 3339 seconds rounding); do not skip a whole period. */
export const DUE_SLACK_MS = 1000
/** Upper bound of one metrics scrape (the spec names none; never longer than the interval). */
export const METRICS_TIMEOUT_MS = 10_000

/** Last attempts per model key (`ns/name`), in milliseconds; one per controller, forgotten on deletion. */
export type ProbeMemory = Map<string, { metrics?: number; health?: number }>

export const isDue = (last: number | undefined, intervalMs: number, nowMillis: number) =>
  last === undefined || nowMillis - last >= intervalMs - DUE_SLACK_MS

/** Health is due per `max(interval, 30s)` since the later of the last attempt and `status.lastHealthCheck`. */
export const healthDue = (
  model: LanguageModel,
  status: LanguageModelStatus | undefined,
  lastAttempt: number | undefined,
  nowMillis: number,
): boolean => {
  const interval = healthPollIntervalMs(model.spec)
  if (interval === undefined) return false
  const checked = status?.lastHealthCheck === undefined ? Number.NaN : Date.parse(status.lastHealthCheck)
  const last = Math.max(
    lastAttempt ?? Number.NEGATIVE_INFINITY,
    Number.isNaN(checked) ? Number.NEGATIVE_INFINITY : checked,
  )
  return isDue(Number.isFinite(last) ? last : undefined, interval, nowMillis)
}

// ---------------------------------------------------------------------------------------------------------
// One reconcile's probes

export interface ProbeOptions {
  readonly proxyUrl: ProxyUrl
  readonly memory: ProbeMemory
}

export interface Probed {
  readonly metrics?: MetricsSample | undefined
  readonly health?: HealthPoll | undefined
}

/**
 * The scrape and poll due for this reconcile, only while the proxy has an available replica (a proxy
 * without one cannot answer, and its state is already reported from the Deployment). An attempt is
 * remembered whether it succeeds or not, so a failing proxy is asked once per interval, not per reconcile.
 * A failed scrape keeps the previous values (logged); a failed health poll is {@link failedPoll}.
 */
export const probeModel = Effect.fn("languagemodel.probe")(function* (
  model: LanguageModel,
  settings: ModelSettings,
  available: boolean,
  options: ProbeOptions,
  nowMillis: number,
) {
  const namespace = model.metadata.namespace ?? ""
  const name = model.metadata.name ?? ""
  const key = keyOf({ namespace, name })
  const wantMetrics = settings.metricsScrape.enabled
  const wantHealth = settings.healthPolling && model.spec.loadBalancing?.healthCheck?.enabled === true
  if (!available || (!wantMetrics && !wantHealth)) return {} satisfies Probed
  const base = options.proxyUrl({ namespace, name })
  const memory = options.memory.get(key) ?? {}
  options.memory.set(key, memory)
  const status = model.status
  const warn = (what: string) => (e: ProbeError) =>
    Effect.logWarning(`LanguageModel ${key}: ${what} failed`, {
      kind: e.kind,
      url: e.url,
      message: e.message,
    })

  let metrics: MetricsSample | undefined
  if (wantMetrics && isDue(memory.metrics, settings.metricsScrape.intervalMs, nowMillis)) {
    memory.metrics = nowMillis
    metrics = yield* scrapeMetrics(base, {
      timeoutMs: Math.min(METRICS_TIMEOUT_MS, settings.metricsScrape.intervalMs),
      previous: { metrics: status?.metrics, lastReset: status?.costMetrics?.lastReset },
      nowMillis,
    }).pipe(Effect.catchTag("ProbeError", (e) => warn("metrics scrape")(e).pipe(Effect.as(undefined))))
  }
  let health: HealthPoll | undefined
  if (wantHealth && healthDue(model, status, memory.health, nowMillis)) {
    memory.health = nowMillis
    const time = rfc3339(nowMillis)
    health = yield* pollHealth(base, { timeoutMs: healthPollTimeoutMs(model.spec), time }).pipe(
      Effect.catchTag("ProbeError", (e) => warn("health poll")(e).pipe(Effect.as(failedPoll(time)))),
    )
  }
  return { metrics, health } satisfies Probed
})
