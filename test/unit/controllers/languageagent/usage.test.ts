import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { expect } from "vitest"
import {
  AgentUsage,
  nextPeriod,
  proxyMetricsUsage,
  userCounters,
} from "../../../../src/controllers/languageagent/usage.ts"

const exposition = (user: string, requests: number, input: number, output: number) =>
  [
    "# HELP litellm_requests_metric_total Total number of LLM calls to litellm",
    "# TYPE litellm_requests_metric_total counter",
    `litellm_requests_metric_total{api_key_alias="None",end_user="${user}",model="gpt",team="None"} ${requests}.0`,
    `litellm_requests_metric_total{api_key_alias="None",end_user="other/agent",model="gpt"} 99.0`,
    `litellm_input_tokens_metric_total{end_user="${user}",model_id="a"} ${input - 10}.0`,
    `litellm_input_tokens_metric_total{end_user="${user}",model_id="b"} 10.0`,
    `litellm_output_tokens_metric_total{end_user="${user}",hashed_api_key="x"} ${output}.0`,
    `litellm_total_tokens_metric_total{end_user="${user}"} ${input + output}.0`,
    `litellm_spend_metric_total{end_user="${user}"} 0.5`,
  ].join("\n")

describe("userCounters", () => {
  it("sums the three counters over every series of the user", () => {
    expect(userCounters(exposition("ns/bot", 3, 100, 40), "ns/bot")).toEqual({
      requests: 3,
      inputTokens: 100,
      outputTokens: 40,
    })
  })
  it("no series for the user (or no end_user label at all) → undefined", () => {
    expect(userCounters(exposition("ns/bot", 3, 100, 40), "ns/other")).toBeUndefined()
    expect(userCounters('litellm_requests_metric_total{model="gpt"} 4.0', "ns/bot")).toBeUndefined()
    expect(userCounters("", "ns/bot")).toBeUndefined()
  })
  it("reads escaped label values", () => {
    expect(userCounters('litellm_requests_metric_total{end_user="ns/\\"odd\\""} 2', 'ns/"odd"')).toEqual({
      requests: 2,
      inputTokens: 0,
      outputTokens: 0,
    })
  })
})

describe("nextPeriod", () => {
  const r = (requests: number, inputTokens: number, outputTokens: number) => ({
    requests,
    inputTokens,
    outputTokens,
  })
  it("first reading starts a period; growth keeps it; a decrease (proxy restart) starts a new one", () => {
    const p1 = nextPeriod(undefined, r(1, 10, 5), "T1")
    expect(p1.since).toBe("T1")
    expect(nextPeriod(p1, r(2, 20, 5), "T2").since).toBe("T1")
    expect(nextPeriod(p1, r(1, 3, 5), "T3").since).toBe("T3")
  })
})

describe("proxyMetricsUsage", () => {
  it.effect("scrapes each model proxy at its Service URL; unreachable proxies give no sample", () =>
    Effect.gen(function* () {
      const urls: Array<string> = []
      let requests = 3
      const usage = yield* proxyMetricsUsage({
        clusterDomain: "cluster.local",
        fetchText: (url) => {
          urls.push(url)
          return url.includes("//down.")
            ? Effect.fail(new Error("refused"))
            : Effect.succeed(exposition("ns/bot", requests, 100, 40))
        },
      })
      yield* TestClock.setTime(Date.parse("2025-01-01T00:00:00Z"))
      const first = yield* usage.samples({ namespace: "ns", name: "bot" }, [
        { namespace: "ns", name: "gpt" },
        { namespace: "models", name: "down" },
      ])
      assert.deepStrictEqual(urls, [
        "http://gpt.ns.svc.cluster.local:8000/metrics/",
        "http://down.models.svc.cluster.local:8000/metrics/",
      ])
      assert.deepStrictEqual(first, [
        {
          modelNamespace: "ns",
          modelName: "gpt",
          requestCount: 3,
          inputTokens: 100,
          outputTokens: 40,
          since: "2025-01-01T00:00:00Z",
        },
      ])
      // Counters went down: the proxy restarted, a new period begins now.
      requests = 1
      yield* TestClock.setTime(Date.parse("2025-01-02T00:00:00Z"))
      const second = yield* usage.samples({ namespace: "ns", name: "bot" }, [
        { namespace: "ns", name: "gpt" },
      ])
      assert.strictEqual(second[0]?.since, "2025-01-02T00:00:00Z")
    }),
  )

  it.effect("the default AgentUsage yields nothing (attribution off)", () =>
    Effect.gen(function* () {
      const usage = yield* AgentUsage
      assert.deepStrictEqual(
        yield* usage.samples({ namespace: "ns", name: "bot" }, [{ namespace: "ns", name: "gpt" }]),
        [],
      )
    }),
  )
})
