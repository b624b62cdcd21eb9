/**
 * Contract: the operator's probes (src/controllers/languagemodel/probe.ts) read a real, pinned LiteLLM
 * proxy — `/metrics/` yields the counters of the requests just made, and `/health` (background checks,
 * as rendered for `healthCheck.enabled`) reports deployments whose `api_base` matches the spec's endpoint
 * URLs, so decide fills `endpointStatus` correctly.
 */
import { Effect, Exit } from "effect"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import { attributionUser, proxyMetricsUsage } from "../../../src/controllers/languageagent/usage.ts"
import { pollHealth, scrapeMetrics } from "../../../src/controllers/languagemodel/probe.ts"
import { endpointStatusOf, type HealthPoll } from "../../../src/controllers/languagemodel/status.ts"
import { ensureLiteLLM, LITELLM_VERSION, type LiteLLMInstall } from "../setup/litellm.ts"
import { chat, type FakeUpstream, type RunningProxy, startFakeUpstream, startLiteLLM } from "./harness.ts"
import { CLUSTER_DOMAIN, decodeSpec, NAMESPACE, render } from "./specs.ts"

let install: LiteLLMInstall
let upstream: FakeUpstream
const proxies: RunningProxy[] = []

beforeAll(async () => {
  install = await ensureLiteLLM()
  upstream = await startFakeUpstream()
})
afterAll(async () => {
  for (const proxy of proxies) await proxy.stop()
  await upstream?.close()
})

describe(`LiteLLM ${LITELLM_VERSION} as the operator's probes see it`, () => {
  it("a scrape counts the requests just made", async () => {
    const proxy = await startLiteLLM(
      install.litellm,
      render("probe-metrics", {
        provider: "openai-compatible",
        modelName: "m-metrics",
        endpoint: upstream.url("up"),
        observability: { metrics: true },
      }).text,
    )
    proxies.push(proxy)
    for (let i = 0; i < 4; i++) expect((await chat(proxy, "m-metrics", `q${i}`)).status).toBe(200)

    // LiteLLM counts a request in a callback after the response is sent: scrape until the last one shows.
    const scrape = async () => {
      const scraped = await Effect.runPromise(
        Effect.exit(scrapeMetrics(proxy.url, { timeoutMs: 5000, previous: {}, nowMillis: Date.now() })),
      )
      if (!Exit.isSuccess(scraped)) throw new Error(`scrape failed: ${String(scraped.cause)}`)
      return scraped.value
    }
    const { metrics, lastReset } = await vi.waitFor(
      async () => {
        const value = await scrape()
        expect(value.metrics.totalRequests).toBeGreaterThanOrEqual(4)
        return value
      },
      { timeout: 30_000, interval: 250 },
    )
    expect(metrics.totalRequests).toBe(4)
    expect(metrics.successfulRequests).toBe(4)
    expect(metrics.inputTokens).toBeGreaterThan(0)
    expect(metrics.totalTokens).toBe((metrics.inputTokens ?? 0) + (metrics.outputTokens ?? 0))
    expect(metrics.averageLatency).toBeGreaterThanOrEqual(0)
    expect(metrics.p99Latency).toBeGreaterThanOrEqual(metrics.p95Latency ?? 0)
    // The proxy's process start time, i.e. within the last minutes.
    expect(Math.abs(Date.parse(lastReset) - Date.now())).toBeLessThan(10 * 60_000)
  })

  it("usage attribution: the agent controller reads each agent's own counters (end_user label)", async () => {
    const proxy = await startLiteLLM(
      install.litellm,
      render(
        "probe-usage",
        { provider: "openai-compatible", modelName: "m-usage", endpoint: upstream.url("up") },
        { endUserMetrics: true },
      ).text,
    )
    proxies.push(proxy)
    const support = { namespace: NAMESPACE, name: "support" }
    for (let i = 0; i < 3; i++)
      expect((await chat(proxy, "m-usage", `q${i}`, attributionUser(support))).status).toBe(200)
    expect(
      (await chat(proxy, "m-usage", "other", attributionUser({ namespace: NAMESPACE, name: "other" })))
        .status,
    ).toBe(200)

    // The real source, with its fetch pointed from the in-cluster Service URL to this proxy.
    const seen: Array<string> = []
    const usage = await Effect.runPromise(
      proxyMetricsUsage({
        clusterDomain: CLUSTER_DOMAIN,
        fetchText: (url) => {
          seen.push(url)
          return Effect.promise(() => fetch(`${proxy.url}/metrics/`).then((r) => r.text()))
        },
      }),
    )
    const model = { namespace: NAMESPACE, name: "probe-usage" }
    // Counted in a callback after each response: read until the third request shows.
    const [sample, ...rest] = await vi.waitFor(
      async () => {
        const samples = await Effect.runPromise(usage.samples(support, [model]))
        expect(samples[0]?.requestCount).toBeGreaterThanOrEqual(3)
        return samples
      },
      { timeout: 30_000, interval: 250 },
    )
    expect(rest).toEqual([])
    expect(new Set(seen)).toEqual(
      new Set([`http://probe-usage.${NAMESPACE}.svc.${CLUSTER_DOMAIN}:8000/metrics/`]),
    )
    expect(sample).toMatchObject({ modelName: "probe-usage", requestCount: 3 })
    expect(sample?.inputTokens).toBeGreaterThan(0)
    expect(sample?.outputTokens).toBeGreaterThan(0)
    expect(await Effect.runPromise(usage.samples({ namespace: NAMESPACE, name: "nobody" }, [model]))).toEqual(
      [],
    )
  })

  it("a health poll matches endpoints by api_base", async () => {
    const spec = {
      provider: "openai-compatible",
      modelName: "m-probe",
      loadBalancing: {
        endpoints: [{ url: upstream.url("up") }, { url: "http://127.0.0.1:1/down" }],
        healthCheck: { enabled: true, interval: "30s", timeout: "5s" },
      },
    }
    const proxy = await startLiteLLM(install.litellm, render("probe-health", spec).text)
    proxies.push(proxy)
    // The first background check finishes some seconds after start; until then /health is `{}` (no poll).
    let poll: HealthPoll | undefined
    for (let i = 0; i < 60 && poll === undefined; i++) {
      const exit = await Effect.runPromise(
        Effect.exit(pollHealth(proxy.url, { timeoutMs: 5000, time: "2025-06-01T12:00:00Z" })),
      )
      if (!Exit.isSuccess(exit)) throw new Error(`poll failed: ${String(exit.cause)}`)
      poll = exit.value
      if (poll === undefined) await new Promise((r) => setTimeout(r, 1000))
    }
    if (poll === undefined) throw new Error(`no health results within 60 s:\n${proxy.log().slice(-3000)}`)
    const decoded = decodeSpec(spec)
    expect(endpointStatusOf(decoded, poll, undefined)?.map((e) => [e.url, e.healthy])).toEqual([
      [upstream.url("up"), true],
      ["http://127.0.0.1:1/down", false],
    ])
  })
})
