import { describe, expect, it } from "vitest"
import {
  apiBase,
  durationSeconds,
  litellmModel,
  parameterValue,
  retryClassOf,
  retryPolicy,
  splitLimit,
} from "../../../../src/controllers/languagemodel/litellm-mapping.ts"
import { cfg, render } from "./fixtures.ts"

const params = (fields: Record<string, unknown>, i = 0) => cfg(render(fields)).model_list[i].litellm_params
const reasons = (fields: Record<string, unknown>, extra = {}) =>
  render(fields, extra).issues.map((x) => x.reason)

describe("value mappings", () => {
  it.each([
    ["openai", "gpt-4", "openai/gpt-4"],
    ["anthropic", "claude-3", "anthropic/claude-3"],
    ["azure", "gpt-4o", "azure/gpt-4o"],
    ["bedrock", "anthropic.claude", "bedrock/anthropic.claude"],
    ["vertex", "gemini-pro", "vertex_ai/gemini-pro"],
    ["openai-compatible", "llama3", "openai/llama3"],
    ["custom", "groq/llama3", "groq/llama3"],
  ])("provider %s model %s → %s", (provider, m, expected) => {
    expect(litellmModel(provider, m)).toBe(expected)
  })

  it.each([
    ["openai-compatible", "http://ollama:11434", "http://ollama:11434/v1"],
    ["openai-compatible", "http://ollama:11434/", "http://ollama:11434/v1"],
    ["custom", "https://h/?x=1", "https://h/v1?x=1"],
    ["openai-compatible", "http://h/api", "http://h/api"],
    ["openai-compatible", "http://h/v1", "http://h/v1"],
    ["azure", "https://x.openai.azure.com", "https://x.openai.azure.com"],
    ["openai", "https://proxy.example", "https://proxy.example"],
  ])("api_base for %s %s → %s", (provider, url, expected) => {
    expect(apiBase(provider, url)).toBe(expected)
  })

  it.each([
    ["500ms", 0.5],
    ["5m", 300],
    ["2h", 7200],
    ["1500us", 0.0015],
    ["30s", 30],
    ["1h30m", undefined],
  ])("duration %s → %s seconds", (d, s) => {
    expect(durationSeconds(d)).toBe(s)
  })

  it.each([
    ["42", 42],
    ["true", true],
    ["null", null],
    ['["a",1]', ["a", 1]],
    ['{"k":"v"}', { k: "v" }],
    ["2025-01-01-preview", "2025-01-01-preview"],
    ['"quoted"', '"quoted"'],
    ["plain", "plain"],
  ])("additional parameter %s → %j", (raw, value) => {
    expect(parameterValue(raw)).toEqual(value)
  })

  it.each([
    [100, [100], [100]],
    [100, [100, 100], [50, 50]],
    [10, [75, 25, 0], [7, 2, 1]],
    [3, [1, 1, 1, 1], [1, 1, 1, 1]],
    [100, [0, 0], [50, 50]],
  ])("limit %d split over weights %j → %j", (limit, weights, shares) => {
    expect(splitLimit(limit, weights)).toEqual(shares)
  })

  it.each([
    [429, "RateLimitErrorRetries"],
    [408, "TimeoutErrorRetries"],
    [504, "TimeoutErrorRetries"],
    [500, "InternalServerErrorRetries"],
    [529, "InternalServerErrorRetries"],
    [400, "BadRequestErrorRetries"],
    [401, "AuthenticationErrorRetries"],
    [403, "AuthenticationErrorRetries"],
    [404, undefined],
  ])("status %d → %s", (code, cls) => {
    expect(retryClassOf(code)).toBe(cls)
  })

  it("retry policy: maxAttempts for listed classes, 0 otherwise, content policy always 0", () => {
    expect(retryPolicy([429, 503, 418, 418], 4)).toEqual({
      policy: {
        BadRequestErrorRetries: 0,
        AuthenticationErrorRetries: 0,
        TimeoutErrorRetries: 0,
        RateLimitErrorRetries: 4,
        ContentPolicyViolationErrorRetries: 0,
        InternalServerErrorRetries: 4,
      },
      unmapped: [418],
    })
  })
})

describe("model_list", () => {
  it("primary deployment: base params, default timeout 300 s, no api_key without a Secret for openai", () => {
    const c = cfg(render({}))
    expect(c.model_list).toEqual([
      {
        model_name: "gpt-4o-mini",
        litellm_params: { model: "openai/gpt-4o-mini", timeout: 300 },
        model_info: { id: "m-primary" },
      },
    ])
  })

  it("generation parameters, stop, timeout in seconds (500ms works)", () => {
    expect(
      params({
        timeout: "500ms",
        configuration: {
          maxTokens: 10,
          temperature: 0.2,
          topP: 0.9,
          frequencyPenalty: 1,
          presencePenalty: -1,
          stopSequences: ["END"],
        },
      }),
    ).toEqual({
      model: "openai/gpt-4o-mini",
      timeout: 0.5,
      max_tokens: 10,
      temperature: 0.2,
      top_p: 0.9,
      frequency_penalty: 1,
      presence_penalty: -1,
      stop: ["END"],
    })
  })

  it("additionalParameters merge sorted, typed, reserved keys skipped, spec fields win", () => {
    const p = params({
      configuration: {
        temperature: 0.1,
        additionalParameters: {
          temperature: "0.9",
          seed: "42",
          api_base: "http://evil",
          z: "x",
          api_version: "2025-01-01-preview",
        },
      },
    })
    expect(p.seed).toBe(42)
    expect(p.temperature).toBe(0.1)
    expect(p.api_base).toBeUndefined()
    expect(p.api_version).toBe("2025-01-01-preview")
    expect(Object.keys(p).slice(0, 4)).toEqual(["api_version", "seed", "temperature", "z"])
  })

  it.each([
    ["openai", { apiKeySecretRef: { name: "s" } }, { api_key: "os.environ/LANGOP_MODEL_API_KEY" }],
    [
      "openai-compatible",
      { endpoint: "http://h:1" },
      { api_key: "sk-local-dummy-key", api_base: "http://h:1/v1" },
    ],
    ["custom", {}, { api_key: "sk-local-dummy-key" }],
    ["bedrock", { apiKeySecretRef: { name: "aws" } }, { api_key: undefined }],
    [
      "vertex",
      { apiKeySecretRef: { name: "gcp", key: "sa.json" } },
      { api_key: undefined, vertex_credentials: "/etc/secrets/gcp/sa.json" },
    ],
    ["anthropic", {}, { api_key: undefined }],
  ])("credentials for %s", (provider, fields, expected) => {
    const p = params({ provider, ...fields })
    for (const [k, v] of Object.entries(expected)) expect(p[k]).toEqual(v)
  })

  it("never renders a secret value", () => {
    expect(render({ apiKeySecretRef: { name: "openai-credentials" } }).text).not.toMatch(
      /sk-(?!local-dummy)/u,
    )
  })

  it("load-balanced endpoints replace the primary; ids, region_name, order only when a priority is set", () => {
    const c = cfg(
      render({
        endpoint: "https://ignored",
        loadBalancing: {
          endpoints: [{ url: "https://a", priority: 2, region: "eu" }, { url: "https://b" }],
        },
      }),
    )
    expect(c.model_list.map((d: { model_info: { id: string } }) => d.model_info.id)).toEqual([
      "m-ep-0",
      "m-ep-1",
    ])
    expect(c.model_list[0].litellm_params).toMatchObject({
      api_base: "https://a",
      order: 2,
      region_name: "eu",
    })
    expect(c.model_list[1].litellm_params.order).toBeUndefined()
    expect(c.model_list[0].litellm_params.weight).toBeUndefined()
    const noPriority = cfg(
      render({ loadBalancing: { endpoints: [{ url: "https://a" }, { url: "https://b" }] } }),
    )
    expect(
      noPriority.model_list.some((d: { litellm_params: { order?: number } }) => "order" in d.litellm_params),
    ).toBe(false)
  })

  it("weighted: weight on every own deployment (regions weigh 100); other strategies render no weight", () => {
    const c = cfg(
      render({
        provider: "openai-compatible",
        endpoint: "http://p",
        loadBalancing: {
          strategy: "weighted",
          endpoints: [
            { url: "http://a", weight: 30 },
            { url: "http://b", weight: 0 },
          ],
        },
        regions: [{ name: "west", endpoint: "http://w" }],
      }),
    )
    expect(c.model_list.map((d: { litellm_params: { weight: number } }) => d.litellm_params.weight)).toEqual([
      30, 0, 100,
    ])
    expect(
      params({ loadBalancing: { strategy: "random", endpoints: [{ url: "http://a", weight: 30 }] } }).weight,
    ).toBeUndefined()
  })

  it("weighted with every weight 0: weights left out and reported", () => {
    const r = render({ loadBalancing: { strategy: "weighted", endpoints: [{ url: "http://a", weight: 0 }] } })
    expect(cfg(r).model_list[0].litellm_params.weight).toBeUndefined()
    expect(r.issues.map((i) => i.reason)).toEqual(["PartiallySupported"])
  })

  it("rate limits split by weight across endpoints and regions (docs/languagemodel.md LM-8), whole with one deployment", () => {
    const c = cfg(
      render({
        rateLimits: { requestsPerMinute: 100, tokensPerMinute: 1000, concurrentRequests: 4 },
        loadBalancing: {
          endpoints: [
            { url: "http://a", weight: 300 },
            { url: "http://b", weight: 100 },
          ],
        },
        regions: [{ name: "r", endpoint: "http://r" }],
      }),
    )
    const shares = c.model_list.map((d: { litellm_params: Record<string, number> }) => [
      d.litellm_params.rpm,
      d.litellm_params.tpm,
      d.litellm_params.max_parallel_requests,
    ])
    // rpm is the share + 1: LiteLLM's usage-based router admits a deployment only while used + 1 < rpm.
    expect(shares).toEqual([
      [61, 600, 2],
      [21, 200, 1],
      [21, 200, 1],
    ])
    expect(params({ rateLimits: { requestsPerMinute: 60 } }).rpm).toBe(61)
  })

  it.each([
    ["round-robin", "usage-based-routing-v2", true],
    ["random", "usage-based-routing-v2", true],
    ["weighted", "simple-shuffle", false],
    ["least-connections", "least-busy", false],
    ["latency-based", "latency-based-routing", false],
  ])("per-minute limits with strategy %s: router %s, enforced %s", (strategy, router, enforced) => {
    const fields = {
      rateLimits: { requestsPerMinute: 10, tokensPerMinute: 500, concurrentRequests: 2 },
      loadBalancing: { strategy },
    }
    const r = render(fields)
    const c = cfg(r)
    expect(c.router_settings.routing_strategy).toBe(router)
    const p = c.model_list[0].litellm_params
    expect([p.rpm, p.tpm, p.max_parallel_requests]).toEqual(
      enforced ? [11, 500, 2] : [undefined, undefined, 2],
    )
    // Over the limit the caller gets the 429 at once instead of a retry after LiteLLM's 60 s retry-after.
    expect(c.router_settings.retry_policy).toEqual(enforced ? { RateLimitErrorRetries: 0 } : undefined)
    expect(r.issues).toEqual(
      enforced
        ? []
        : [
            {
              reason: "PartiallySupported",
              message: `rateLimits.requestsPerMinute and tokensPerMinute are not enforced with loadBalancing.strategy ${strategy}: LiteLLM enforces them only with its usage-based routing, which would replace that strategy; use round-robin or random to enforce them`,
            },
          ],
    )
  })

  it("per-minute limits keep a retry policy that lists 429 (requests over the limit then wait for the next minute)", () => {
    const retryPolicy = { maxAttempts: 2, retryableStatusCodes: [429, 503] }
    const c = cfg(render({ rateLimits: { requestsPerMinute: 10 }, retryPolicy }))
    expect(c.router_settings.retry_policy.RateLimitErrorRetries).toBe(2)
    const without = cfg(render({ rateLimits: { requestsPerMinute: 10 }, retryPolicy: { maxAttempts: 2 } }))
    expect(without.router_settings).toMatchObject({
      num_retries: 2,
      retry_policy: { RateLimitErrorRetries: 0 },
    })
    expect(cfg(render({ rateLimits: { concurrentRequests: 3 } })).router_settings.routing_strategy).toBe(
      "simple-shuffle",
    )
  })

  it("regions: enabled only, by priority then list order, endpoint or provider parameter, else reported", () => {
    const bedrock = cfg(
      render({
        provider: "bedrock",
        regions: [
          { name: "eu-west-1", priority: 2 },
          { name: "us-east-1", priority: 1 },
          { name: "off", enabled: false },
          { name: "ap", endpoint: "https://ap.example" },
        ],
      }),
    )
    expect(bedrock.model_list.map((d: { model_info: { id: string } }) => d.model_info.id)).toEqual([
      "m-primary",
      "m-region-us-east-1",
      "m-region-eu-west-1",
      "m-region-ap",
    ])
    expect(bedrock.model_list[1].litellm_params).toMatchObject({
      aws_region_name: "us-east-1",
      order: 1,
      region_name: "us-east-1",
    })
    expect(bedrock.model_list[3].litellm_params).toMatchObject({
      api_base: "https://ap.example",
      region_name: "ap",
    })
    expect(bedrock.model_list[3].litellm_params.order).toBeUndefined()
    expect(params({ provider: "vertex", regions: [{ name: "europe-west4" }] }, 1).vertex_location).toBe(
      "europe-west4",
    )
    const openai = render({ regions: [{ name: "us" }] })
    expect(cfg(openai).model_list).toHaveLength(1)
    expect(openai.issues.map((i) => i.reason)).toEqual(["RegionNotRepresentable"])
  })

  it("cost tracking: model_info cost per token = spec cost per 1000 / 1000; off when disabled", () => {
    const on = cfg(render({ costTracking: { enabled: true, inputTokenCost: 0.15, outputTokenCost: 0.6 } }))
    expect(on.model_list[0].model_info).toEqual({
      id: "m-primary",
      input_cost_per_token: 0.00015,
      output_cost_per_token: 0.0006,
    })
    const off = cfg(render({ costTracking: { enabled: false, inputTokenCost: 0.15 } }))
    expect(off.model_list[0].model_info).toEqual({ id: "m-primary" })
  })

  it("fallbacks chain to the fallback's own proxy under their own group", () => {
    const c = cfg(
      render(
        { fallbacks: [{ modelRef: "big" }] },
        { fallbacks: [{ modelRef: "big", modelName: "gpt-4o", conditions: [] }] },
      ),
    )
    expect(c.model_list[1]).toEqual({
      model_name: "fallback/big",
      litellm_params: {
        model: "openai/gpt-4o",
        api_base: "http://big.ns.svc.cluster.local:8000/v1",
        api_key: "sk-local-dummy-key",
      },
      model_info: { id: "m-fallback-big" },
    })
  })
})

describe("router_settings", () => {
  it.each([
    [undefined, "simple-shuffle"],
    ["round-robin", "simple-shuffle"],
    ["random", "simple-shuffle"],
    ["weighted", "simple-shuffle"],
    ["least-connections", "least-busy"],
    ["latency-based", "latency-based-routing"],
  ])("strategy %s → %s", (strategy, expected) => {
    const fields = strategy === undefined ? {} : { loadBalancing: { strategy } }
    expect(cfg(render(fields)).router_settings.routing_strategy).toBe(expected)
  })

  it("retries only with retryPolicy; num_retries 0 kept (docs/languagemodel.md LM-13); retry_after rounded up", () => {
    expect(cfg(render({})).router_settings.num_retries).toBeUndefined()
    const r = cfg(render({ retryPolicy: { maxAttempts: 0, initialBackoff: "1500ms" } })).router_settings
    expect(r).toMatchObject({ num_retries: 0, retry_after: 2 })
    expect(r.retry_policy).toBeUndefined()
  })

  it("retryable codes → retry_policy; unmapped codes and non-default backoff settings reported", () => {
    const r = render({
      retryPolicy: {
        maxAttempts: 3,
        retryableStatusCodes: [429, 418],
        maxBackoff: "1m",
        backoffMultiplier: 3,
      },
    })
    expect(cfg(r).router_settings.retry_policy.RateLimitErrorRetries).toBe(3)
    expect(r.issues.map((i) => i.message)).toEqual([
      "retryPolicy.retryableStatusCodes 418 map to no LiteLLM error class; ignored",
      "retryPolicy.maxBackoff is not representable in LiteLLM; ignored",
      "retryPolicy.backoffMultiplier is not representable in LiteLLM; ignored",
    ])
    expect(reasons({ retryPolicy: { maxAttempts: 3 } })).toEqual([])
  })

  it("health checks: background checks, allowed_fails, cooldown; none when absent or disabled", () => {
    const on = cfg(render({ loadBalancing: { healthCheck: { interval: "45s", unhealthyThreshold: 5 } } }))
    expect(on.general_settings).toEqual({ background_health_checks: true, health_check_interval: 45 })
    expect(on.router_settings).toMatchObject({ allowed_fails: 5, cooldown_time: 45 })
    for (const fields of [{}, { loadBalancing: { healthCheck: { enabled: false } } }]) {
      const off = cfg(render(fields))
      expect(off.general_settings).toEqual({ background_health_checks: false })
      expect(off.router_settings.allowed_fails).toBeUndefined()
    }
    expect(reasons({ loadBalancing: { healthCheck: { healthyThreshold: 3 } } })).toEqual([
      "PartiallySupported",
    ])
  })

  it("fallback chains by condition, in spec order; an entry may be in several lists", () => {
    const f = (modelRef: string, conditions: ReadonlyArray<string>) => ({
      modelRef,
      modelName: modelRef,
      conditions,
    })
    const r = cfg(
      render(
        {},
        {
          fallbacks: [
            f("a", []),
            f("b", ["context_window"]),
            f("c", ["Content-Policy", "rate_limit"]),
            f("d", ["context-window", "timeout"]),
            f("e", ["something else"]),
          ],
        },
      ),
    ).router_settings
    expect(r.fallbacks).toEqual([{ "gpt-4o-mini": ["fallback/a", "fallback/c", "fallback/d", "fallback/e"] }])
    expect(r.context_window_fallbacks).toEqual([{ "gpt-4o-mini": ["fallback/b", "fallback/d"] }])
    expect(r.content_policy_fallbacks).toEqual([{ "gpt-4o-mini": ["fallback/c"] }])
    expect(cfg(render({})).router_settings.fallbacks).toBeUndefined()
  })
})

describe("litellm_settings", () => {
  it.each([
    [{ enabled: true }, { type: "local" }, []],
    [{ enabled: true, ttl: "10m", backend: "memory" }, { type: "local", ttl: 600 }, []],
    [{ enabled: true, ttl: "500ms" }, { type: "local", ttl: 1 }, []],
    [{ enabled: true, backend: "memcached" }, { type: "local" }, ["CacheBackendUnsupported"]],
    [{ enabled: true, backend: "redis" }, { type: "local" }, ["CacheBackendUnavailable"]],
    [{ enabled: true, maxSize: 100 }, { type: "local" }, ["PartiallySupported"]],
  ])("caching %j → %j", (caching, params, issues) => {
    const r = render({ caching })
    expect(cfg(r).litellm_settings).toEqual({ cache: true, cache_params: params })
    expect(r.issues.map((i) => i.reason)).toEqual(issues)
  })

  it("caching off renders no cache", () => {
    expect(cfg(render({ caching: { enabled: false } })).litellm_settings).toEqual({})
  })

  it("redis from the shared setting, password by env indirection; missing password Secret → local", () => {
    const shared = {
      host: "redis.infra",
      port: 6380,
      password: { secretName: "redis", key: "pw", present: true },
    }
    const r = render({ caching: { enabled: true, backend: "redis", ttl: "1m" } }, { sharedRedis: shared })
    expect(cfg(r).litellm_settings.cache_params).toEqual({
      type: "redis",
      host: "redis.infra",
      port: 6380,
      password: "os.environ/LANGOP_CACHE_REDIS_PASSWORD",
      ttl: 60,
    })
    expect(r.cache).toBe("redis")
    expect(r.redisPassword).toEqual({ secretName: "redis", key: "pw" })
    const noPw = render(
      { caching: { enabled: true, backend: "redis" } },
      { sharedRedis: { host: "h", port: 1 } },
    )
    expect(cfg(noPw).litellm_settings.cache_params).toEqual({ type: "redis", host: "h", port: 1 })
    expect(noPw.redisPassword).toBeUndefined()
    const missing = render(
      { caching: { enabled: true, backend: "redis" } },
      { sharedRedis: { ...shared, password: { ...shared.password, present: false } } },
    )
    expect(missing.cache).toBe("local")
    expect(missing.issues.map((i) => i.reason)).toEqual(["CacheBackendUnavailable"])
  })

  it.each([
    [undefined, undefined, []],
    [{}, ["prometheus"], []],
    [{ metrics: false }, undefined, []],
    [{ metrics: false, tracing: true }, undefined, ["TracingUnavailable"]],
  ])("observability %j → callbacks %j", (observability, callbacks, issues) => {
    const r = render(observability === undefined ? {} : { observability })
    expect(cfg(r).litellm_settings.callbacks).toEqual(callbacks)
    expect(r.issues.map((i) => i.reason)).toEqual(issues)
  })

  it("usage attribution: Prometheus counters per end user, even when the spec turns metrics off", () => {
    const r = render({ observability: { metrics: false } }, { endUserMetrics: true })
    expect(cfg(r).litellm_settings.callbacks).toEqual(["prometheus"])
    expect(cfg(r).litellm_settings.enable_end_user_cost_tracking_prometheus_only).toBe(true)
    expect(r.metrics).toBe(true)
    const off = render({}, { endUserMetrics: false })
    expect(cfg(off).litellm_settings.enable_end_user_cost_tracking_prometheus_only).toBeUndefined()
  })

  it("tracing with a collector renders otel and hands the endpoint to the workload", () => {
    const r = render({ observability: { tracing: true } }, { otlpEndpoint: "collector:4318" })
    expect(cfg(r).litellm_settings.callbacks).toEqual(["prometheus", "otel"])
    expect(r.otlpEndpoint).toBe("collector:4318")
    expect(r.metrics).toBe(true)
  })

  it.each([
    [{ level: "debug", logRequests: false, logResponses: false }, "DEBUG", true, []],
    [{ level: "warn", logRequests: true, logResponses: true }, "WARNING", undefined, []],
    [{ level: "error" }, "ERROR", undefined, ["PartiallySupported"]],
    [{}, "INFO", undefined, ["PartiallySupported"]],
  ])("logging %j → LITELLM_LOG %s, turn_off_message_logging %s", (logging, level, off, issues) => {
    const r = render({ observability: { metrics: false, logging } })
    expect(r.logLevel).toBe(level)
    expect(cfg(r).litellm_settings.turn_off_message_logging).toBe(off)
    expect(r.issues.map((i) => i.reason)).toEqual(issues)
  })

  it.each([
    ["openai-compatible", true],
    ["custom", true],
    ["openai", undefined],
  ])("drop_params for %s: %s", (provider, drop) => {
    const r = render({ provider, endpoint: "http://h" })
    expect(cfg(r).litellm_settings.drop_params).toBe(drop)
    expect(r.dropParams).toBe(drop === true)
  })
})

describe("the file", () => {
  it("has the four sections in a fixed order, no master_key, and is byte-stable", () => {
    const fields = { provider: "openai-compatible", endpoint: "http://h", caching: { enabled: true } }
    const a = render(fields)
    expect(Object.keys(a.config)).toEqual([
      "model_list",
      "router_settings",
      "litellm_settings",
      "general_settings",
    ])
    expect(a.text).not.toContain("master_key")
    expect(render(fields).text).toBe(a.text)
  })
})
