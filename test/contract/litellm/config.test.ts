/**
 * Contract: the pinned LiteLLM understands every key the renderer writes, reads the YAML exactly as
 * rendered, starts healthy with the rendered files, and refuses to start on a broken one (so a config
 * LiteLLM rejects fails these tests).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureLiteLLM, LITELLM_VERSION, type LiteLLMInstall } from "../setup/litellm.ts"
import { type FakeUpstream, startFakeUpstream, startLiteLLM } from "./harness.ts"
import { introspect, plain, render } from "./specs.ts"

let install: LiteLLMInstall
let upstream: FakeUpstream

beforeAll(async () => {
  install = await ensureLiteLLM()
  upstream = await startFakeUpstream()
})
afterAll(async () => {
  await upstream?.close()
})

/** Specs that together touch every rendering branch of docs/languagemodel.md §LiteLLM. */
const kitchenSink = () => {
  const e = (label: string) => upstream.url(label)
  return [
    render(
      "everything",
      {
        provider: "openai-compatible",
        modelName: "llama3.2:3b",
        endpoint: e("primary"),
        apiKeySecretRef: { name: "llm-key" },
        configuration: {
          maxTokens: 256,
          temperature: 0.7,
          topP: 0.9,
          frequencyPenalty: 0.5,
          presencePenalty: -0.5,
          stopSequences: ["<|eot_id|>"],
          additionalParameters: { seed: "42", user: "langop" },
        },
        rateLimits: { requestsPerMinute: 600, tokensPerMinute: 100000, concurrentRequests: 8 },
        timeout: "500ms",
        retryPolicy: {
          maxAttempts: 2,
          initialBackoff: "1500ms",
          retryableStatusCodes: [408, 429, 500, 401, 400],
        },
        fallbacks: [
          { modelRef: "backup", conditions: ["error"] },
          { modelRef: "big", conditions: ["context_window", "content-policy"] },
        ],
        loadBalancing: {
          strategy: "weighted",
          endpoints: [
            { url: e("a"), weight: 70, priority: 1, region: "eu" },
            { url: e("b"), weight: 30 },
          ],
          healthCheck: { enabled: true, interval: "45s", unhealthyThreshold: 2 },
        },
        caching: { enabled: true, ttl: "90s", backend: "redis" },
        observability: {
          metrics: true,
          tracing: true,
          logging: { level: "debug", logRequests: false, logResponses: false },
        },
        costTracking: { enabled: true, inputTokenCost: 0.00015, outputTokenCost: 0.0006 },
        regions: [{ name: "west", endpoint: e("west"), priority: 2 }],
      },
      {
        fallbacks: [
          { modelRef: "backup", modelName: "backup-model", conditions: ["error"] },
          { modelRef: "big", modelName: "big-model", conditions: ["context_window", "content-policy"] },
        ],
        sharedRedis: {
          host: "127.0.0.1",
          port: 6379,
          password: { secretName: "redis", key: "pw", present: true },
        },
        otlpEndpoint: "http://127.0.0.1:4318",
        endUserMetrics: true,
      },
    ),
    render("bedrock", {
      provider: "bedrock",
      modelName: "anthropic.claude-3-haiku",
      apiKeySecretRef: { name: "aws" },
      regions: [{ name: "us-east-1", priority: 1 }, { name: "eu-west-1" }],
      loadBalancing: { strategy: "least-connections" },
    }),
    render("vertex", {
      provider: "vertex",
      modelName: "gemini-1.5-pro",
      apiKeySecretRef: { name: "gcp", key: "sa.json" },
      configuration: { additionalParameters: { vertex_project: "proj" } },
      regions: [{ name: "europe-west4" }],
      loadBalancing: { strategy: "latency-based" },
    }),
    render("azure", {
      provider: "azure",
      modelName: "gpt-4o",
      endpoint: "https://example.openai.azure.com",
      apiKeySecretRef: { name: "azure" },
      configuration: { additionalParameters: { api_version: "2025-01-01-preview" } },
      caching: { enabled: true, backend: "memcached" },
    }),
    render("plain-openai", {
      provider: "openai",
      modelName: "gpt-4o-mini",
      observability: { metrics: false },
    }),
  ]
}

describe(`LiteLLM ${LITELLM_VERSION} config contract`, () => {
  it("knows every rendered key and reads the YAML exactly as rendered", async () => {
    const rendered = kitchenSink()
    const result = await introspect(
      install.python,
      rendered.map((r) => r.text),
      ["seed", "user", "vertex_project", "api_version"],
    )
    expect(result.version).toBe(LITELLM_VERSION)
    expect(result.results.map((r) => r.unknown)).toEqual(rendered.map(() => []))
    expect(result.results.map((r) => r.config)).toEqual(rendered.map((r) => plain(r.config)))
  })

  it("the key check catches what LiteLLM would silently ignore (the original's mistakes)", async () => {
    const original = [
      "model_list: []",
      "success_callback: [prometheus]",
      "litellm_settings:",
      "  cache: true",
      "  cache_kwargs: {type: local}",
      "router_settings:",
      "  strategy: simple-shuffle",
      "",
    ].join("\n")
    const result = await introspect(install.python, [original])
    expect(result.results[0]?.unknown).toEqual([
      "success_callback",
      "router_settings.strategy",
      "litellm_settings.cache_kwargs",
    ])
  })

  it("starts healthy with rendered configs (every provider and feature)", async () => {
    // In parallel: startup is mostly Python imports, and the machine has two cores.
    const counts = await Promise.all(
      kitchenSink().map(async (rendered) => {
        const proxy = await startLiteLLM(install.litellm, rendered.text, {
          env: { LANGOP_MODEL_API_KEY: "sk-test", LANGOP_CACHE_REDIS_PASSWORD: "unused" },
        })
        try {
          const models = (await (await fetch(`${proxy.url}/v1/models`)).json()) as {
            data: ReadonlyArray<{ id: string }>
          }
          return models.data.length
        } finally {
          await proxy.stop()
        }
      }),
    )
    expect(counts.every((n) => n > 0)).toBe(true)
  })

  it("refuses to start with a broken config, and the harness reports it", async () => {
    const good = render("broken", {
      provider: "openai-compatible",
      modelName: "m",
      endpoint: upstream.url("x"),
    }).text
    // The spec's own strategy name is not a LiteLLM routing strategy: mapping it through verbatim would
    // be exactly the bug the renderer avoids.
    const badStrategy = good.replace('routing_strategy: "simple-shuffle"', 'routing_strategy: "round-robin"')
    expect(badStrategy).not.toBe(good)
    const badCache = good.replace(
      "litellm_settings:\n",
      'litellm_settings:\n  cache: true\n  cache_params:\n    type: "memcached"\n',
    )
    expect(badCache).not.toBe(good)
    await Promise.all([
      expect(startLiteLLM(install.litellm, badStrategy)).rejects.toThrow(/Invalid routing_strategy/),
      expect(startLiteLLM(install.litellm, badCache)).rejects.toThrow(/LiteLLM exited/),
    ])
  })
})
