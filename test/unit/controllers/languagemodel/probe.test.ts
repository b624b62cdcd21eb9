/**
 * The proxy probes against a real HTTP server on 127.0.0.1 playing a LiteLLM proxy: `/metrics/` in the
 * pinned version's series (PROXY_METRICS, labels as LiteLLM 1.83 writes them) and `/health` JSON, plus a
 * hanging, a failing and a garbage-answering proxy.
 */
import { createServer, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { decide } from "../../../../src/controllers/languagemodel/decide.ts"
import {
  histogramQuantile,
  metricsSampleOf,
  type ProbeMemory,
  parsePrometheusText,
  pollHealth,
  probeModel,
  scrapeMetrics,
} from "../../../../src/controllers/languagemodel/probe.ts"
import { PROXY_METRICS } from "../../../../src/controllers/languagemodel/status.ts"
import { input, model, settings } from "./fixtures.ts"

const M = PROXY_METRICS
const L = (id: string) =>
  `api_key_alias="None",hashed_api_key="3473",model="m1",model_id="${id}",requested_model="m1",team="None"`
const STARTED = 1748779200 // 2025-06-01T12:00:00Z

/** What LiteLLM 1.83 exposes after 10 requests over two deployments (2 failed). */
const METRICS_TEXT = `# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds ${STARTED}.0
# HELP ${M.totalRequests.replace(/_total$/u, "")} Total number of requests made to the proxy server
# TYPE ${M.totalRequests.replace(/_total$/u, "")} counter
${M.totalRequests}{${L("a")},route="/v1/chat/completions",status_code="200",user_agent="node \\"x\\", {y}"} 7.0
${M.totalRequests.replace(/_total$/u, "_created")}{${L("a")},status_code="200"} 1.7487792e+09
${M.totalRequests}{${L("b")},route="/v1/chat/completions",status_code="500"} 3.0
${M.failedRequests}{${L("b")},exception_status="500"} 2.0
${M.inputTokens}{${L("a")}} 700.0
${M.inputTokens}{${L("b")}} 300.0
${M.outputTokens}{${L("a")}} 250.0
${M.totalTokens}{${L("a")}} 1250.0
${M.latencyHistogram}_bucket{${L("a")},le="0.1"} 2.0
${M.latencyHistogram}_bucket{${L("a")},le="0.5"} 4.0
${M.latencyHistogram}_bucket{${L("a")},le="1.0"} 5.0
${M.latencyHistogram}_bucket{${L("a")},le="+Inf"} 5.0
${M.latencyHistogram}_count{${L("a")}} 5.0
${M.latencyHistogram}_sum{${L("a")}} 1.5
${M.latencyHistogram}_bucket{${L("b")},le="0.1"} 0.0
${M.latencyHistogram}_bucket{${L("b")},le="0.5"} 3.0
${M.latencyHistogram}_bucket{${L("b")},le="1.0"} 5.0
${M.latencyHistogram}_bucket{${L("b")},le="+Inf"} 5.0
${M.latencyHistogram}_count{${L("b")}} 5.0
${M.latencyHistogram}_sum{${L("b")}} 2.5
litellm_deployment_total_requests_total{api_base="http://a/v1",model_id="a"} 7.0
`

const HEALTH_JSON = {
  healthy_endpoints: [
    { model: "openai/gpt-4o-mini", api_base: "http://a/v1", region_name: "west", model_id: "m-ep-0" },
  ],
  unhealthy_endpoints: [
    { model: "openai/gpt-4o-mini", api_base: "http://b/v1", model_id: "m-ep-1", exception_status: 500 },
  ],
  healthy_count: 1,
  unhealthy_count: 1,
}

// ---------------------------------------------------------------------------------------------------------
// A fake proxy: every base path `/<behaviour>` answers its routes in that behaviour.

type Behaviour = "ok" | "empty" | "hang" | "error" | "garbage"
let server: Server
let base: string
const hits: Array<string> = []
const hanging: Array<ServerResponse> = []
const url = (b: Behaviour) => `${base}/${b}`

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? ""
    hits.push(path)
    const [, behaviour, route] = path.split("/")
    const send = (status: number, type: string, body: string) =>
      res.writeHead(status, { "content-type": type }).end(body)
    if (behaviour === "hang") return void hanging.push(res)
    if (behaviour === "error") return send(500, "text/plain", "Internal Server Error")
    if (behaviour === "garbage") return send(200, "text/html", "<html><body>login</body></html>")
    if (route === "metrics")
      return send(200, "text/plain; version=0.0.4", behaviour === "ok" ? METRICS_TEXT : "")
    if (route === "health")
      return send(200, "application/json", JSON.stringify(behaviour === "ok" ? HEALTH_JSON : {}))
    return send(404, "text/plain", "not found")
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const res of hanging) res.destroy()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})
beforeEach(() => {
  hits.length = 0
})

const NOW_MS = Date.parse("2025-06-01T12:30:00Z")
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(Effect.exit(effect))
const failure = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) ? exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error : r)) : []

// ---------------------------------------------------------------------------------------------------------

describe("metrics scrape", () => {
  it("derives the sample from LiteLLM's series: sums over label sets, latency from the histogram", async () => {
    const exit = await run(scrapeMetrics(url("ok"), { timeoutMs: 2000, previous: {}, nowMillis: NOW_MS }))
    expect(exit).toEqual(
      Exit.succeed({
        metrics: {
          totalRequests: 10,
          failedRequests: 2,
          successfulRequests: 8,
          inputTokens: 1000,
          outputTokens: 250,
          totalTokens: 1250,
          averageLatency: 400,
          // Buckets summed: ≤0.1 s: 2, ≤0.5 s: 7, ≤1 s: 10. Rank 9.5 and 9.9 fall in (0.5, 1].
          p95Latency: 917,
          p99Latency: 983,
        },
        lastReset: "2025-06-01T12:00:00Z",
      }),
    )
    expect(hits).toEqual(["/ok/metrics/"])
  })

  it("an idle proxy (no LiteLLM series yet) is a zero sample, not a failure", async () => {
    const exit = await run(scrapeMetrics(url("empty"), { timeoutMs: 2000, previous: {}, nowMillis: NOW_MS }))
    expect(exit).toEqual(
      Exit.succeed({
        metrics: {
          totalRequests: 0,
          failedRequests: 0,
          successfulRequests: 0,
          inputTokens: 0,
          outputTokens: 0,
          totalTokens: 0,
        },
        lastReset: "2025-06-01T12:30:00Z",
      }),
    )
  })

  it("without the start time, a counter decrease is a fresh start; otherwise lastReset is kept", () => {
    const parsed = parsePrometheusText(
      METRICS_TEXT.split("\n")
        .filter((l) => !l.startsWith("process_"))
        .join("\n"),
    )
    if (parsed._tag !== "Success") throw new Error(parsed.failure)
    const before = "2025-06-01T11:00:00Z"
    const grew = metricsSampleOf(parsed.success, { metrics: { totalRequests: 9 }, lastReset: before }, NOW_MS)
    expect(grew.lastReset).toBe(before)
    const shrank = metricsSampleOf(
      parsed.success,
      { metrics: { inputTokens: 5000 }, lastReset: before },
      NOW_MS,
    )
    expect(shrank.lastReset).toBe("2025-06-01T12:30:00Z")
  })

  it("histogram quantiles interpolate within the bucket; the +Inf bucket answers the highest bound", () => {
    const buckets = [
      { le: 1, count: 50 },
      { le: 2, count: 100 },
      { le: Number.POSITIVE_INFINITY, count: 100 },
    ]
    expect(histogramQuantile(0.5, buckets)).toBe(1)
    expect(histogramQuantile(0.75, buckets)).toBe(1.5)
    expect(histogramQuantile(0.25, buckets)).toBe(0.5)
    expect(
      histogramQuantile(0.99, [
        { le: 1, count: 1 },
        { le: Number.POSITIVE_INFINITY, count: 10 },
      ]),
    ).toBe(1)
    expect(histogramQuantile(0.5, [{ le: Number.POSITIVE_INFINITY, count: 0 }])).toBeUndefined()
  })

  it("timeout, HTTP 500, garbage and a closed port are typed failures naming the URL", async () => {
    const options = { timeoutMs: 300, previous: {}, nowMillis: NOW_MS }
    const kinds = await Promise.all(
      (["hang", "error", "garbage"] as const).map(async (b) =>
        failure(await run(scrapeMetrics(url(b), options))).map((e) => [
          (e as { kind?: string }).kind,
          (e as { url?: string }).url,
        ]),
      ),
    )
    expect(kinds).toEqual([
      [["Timeout", `${url("hang")}/metrics/`]],
      [["HttpStatus", `${url("error")}/metrics/`]],
      [["Malformed", `${url("garbage")}/metrics/`]],
    ])
    const refused = failure(await run(scrapeMetrics("http://127.0.0.1:1", options)))
    expect(refused.map((e) => (e as { kind?: string }).kind)).toEqual(["Unreachable"])
  })

  it("parses label values with escaped quotes, commas and braces; rejects a broken line", () => {
    const ok = parsePrometheusText('x{a="q\\"u,o}te",b="2"} 3 1700000000000\ny 4e2')
    expect(ok).toMatchObject({
      success: [
        { name: "x", labels: { a: 'q"u,o}te', b: "2" }, value: 3 },
        { name: "y", labels: {}, value: 400 },
      ],
    })
    expect(parsePrometheusText('x{a="1" 3')._tag).toBe("Failure")
    expect(parsePrometheusText("x abc")._tag).toBe("Failure")
  })
})

describe("health poll", () => {
  it("maps healthy and unhealthy deployments by api_base and region_name", async () => {
    const exit = await run(pollHealth(url("ok"), { timeoutMs: 2000, time: "2025-06-01T12:30:00Z" }))
    expect(exit).toEqual(
      Exit.succeed({
        time: "2025-06-01T12:30:00Z",
        healthy: [{ apiBase: "http://a/v1", regionName: "west", latencyMs: undefined }],
        unhealthy: [{ apiBase: "http://b/v1", regionName: undefined, latencyMs: undefined }],
      }),
    )
  })

  it("`{}` (no background check finished yet) is no poll", async () => {
    expect(await run(pollHealth(url("empty"), { timeoutMs: 2000, time: "t" }))).toEqual(
      Exit.succeed(undefined),
    )
  })

  it("timeout, HTTP 500 and garbage are typed failures", async () => {
    const kinds = await Promise.all(
      (["hang", "error", "garbage"] as const).map(async (b) =>
        failure(await run(pollHealth(url(b), { timeoutMs: 300, time: "t" }))).map(
          (e) => (e as { kind?: string }).kind,
        ),
      ),
    )
    expect(kinds).toEqual([["Timeout"], ["HttpStatus"], ["Malformed"]])
  })
})

describe("probeModel (what gather passes to decide)", () => {
  const costed = {
    costTracking: { enabled: true, inputTokenCost: 0.5, outputTokenCost: 2, currency: "EUR" },
    loadBalancing: {
      endpoints: [{ url: "http://a/v1" }, { url: "http://b/v1" }],
      healthCheck: { enabled: true, interval: "30s", timeout: "300ms" },
    },
  }
  const on = settings({ metricsScrape: { enabled: true, intervalMs: 60_000 }, healthPolling: true })
  const probe = (
    behaviour: Behaviour,
    memory: ProbeMemory,
    nowMillis: number,
    available = true,
    m = model(costed),
  ) => Effect.runPromise(probeModel(m, on, available, { proxyUrl: () => url(behaviour), memory }, nowMillis))

  it("scrapes and polls once per interval; the result becomes status metrics, costs and endpoint health", async () => {
    const memory: ProbeMemory = new Map()
    const first = await probe("ok", memory, NOW_MS)
    expect(hits).toEqual(["/ok/metrics/", "/ok/health"])
    const d = decide(input({ model: model(costed), settings: on, ...first, now: "2025-06-01T12:30:00Z" }))
    expect(d.status?.metrics?.totalTokens).toBe(1250)
    expect(d.status?.costMetrics).toEqual({
      totalCost: 1,
      inputTokenCost: 0.5,
      outputTokenCost: 0.5,
      currency: "EUR",
      lastReset: "2025-06-01T12:00:00Z",
    })
    expect(d.status?.endpointStatus?.map((e) => [e.url, e.healthy, e.failureCount])).toEqual([
      ["http://a/v1", true, 0],
      ["http://b/v1", false, 1],
    ])
    expect(d.status?.lastHealthCheck).toBe("2025-06-01T12:30:00Z")

    // Reconciles in between (pod events…) ask nothing; the model's written status also counts for health.
    const m = model(costed, {}, d.status)
    hits.length = 0
    expect(await probe("ok", memory, NOW_MS + 20_000, true, m)).toEqual({
      metrics: undefined,
      health: undefined,
    })
    expect(hits).toEqual([])
    // A requeue firing just before the interval (within the slack) does not skip a whole period.
    const again = await probe("ok", memory, NOW_MS + 59_500, true, m)
    expect(hits).toEqual(["/ok/metrics/", "/ok/health"])
    // Same counters again: nothing changes, so nothing is written.
    const d2 = decide(input({ model: m, settings: on, ...again, now: "2025-06-01T12:31:00Z" }))
    expect(d2.status?.metrics).toEqual(d.status?.metrics)
    expect(d2.status?.costMetrics).toEqual(d.status?.costMetrics)
  })

  it("nothing is asked while the proxy has no available replica or the settings are off", async () => {
    await probe("ok", new Map(), NOW_MS, false)
    await Effect.runPromise(
      probeModel(model(costed), settings(), true, { proxyUrl: () => url("ok"), memory: new Map() }, NOW_MS),
    )
    expect(hits).toEqual([])
  })

  it("a failing proxy: the scrape keeps the previous values, the poll counts a failure per endpoint", async () => {
    const memory: ProbeMemory = new Map()
    const r = await probe("error", memory, NOW_MS)
    expect(r).toEqual({
      metrics: undefined,
      health: { time: "2025-06-01T12:30:00Z", healthy: [], unhealthy: [] },
    })
    const d = decide(input({ model: model(costed), settings: on, ...r }))
    expect(d.status?.phase).toBe("NotReady")
    expect(d.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "ProxyNotAvailable",
    })
    // Failed attempts are remembered too: no retry on every reconcile.
    hits.length = 0
    await probe("error", memory, NOW_MS + 5_000)
    expect(hits).toEqual([])
  })
})
