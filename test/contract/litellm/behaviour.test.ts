/**
 * Contract: a real LiteLLM proxy started with configs rendered from LanguageModel specs behaves as the
 * spec promises — requests are answered with the Secret's key, load is spread by weight, a failing
 * model falls back to the fallback model's own proxy (by condition), and repeated requests are served
 * from the cache (in memory; in Redis when Debian's redis-server is installed).
 */
import { spawn, spawnSync } from "node:child_process"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { Schema } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LanguageModel } from "../../../src/api/languagemodel.ts"
import { decide } from "../../../src/controllers/languagemodel/decide.ts"
import { PROXY_METRICS } from "../../../src/controllers/languagemodel/status.ts"
import {
  cacheRoot,
  ensureLiteLLM,
  LITELLM_IMAGE,
  LITELLM_VERSION,
  type LiteLLMInstall,
} from "../setup/litellm.ts"
import {
  canUseReadOnlyRoot,
  chat,
  type FakeUpstream,
  freePort,
  type RunningProxy,
  startFakeUpstream,
  startLiteLLM,
} from "./harness.ts"
import { CLUSTER_DOMAIN, NAMESPACE, pointFallbacks, render } from "./specs.ts"

let install: LiteLLMInstall
let upstream: FakeUpstream
const running: Array<RunningProxy> = []

const start = async (text: string, env: Record<string, string> = {}) => {
  const proxy = await startLiteLLM(install.litellm, text, { env })
  running.push(proxy)
  return proxy
}

beforeAll(async () => {
  install = await ensureLiteLLM()
  upstream = await startFakeUpstream()
})
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()))
  await upstream?.close()
})

describe(`LiteLLM ${LITELLM_VERSION} behaviour with rendered configs`, () => {
  it("answers requests for spec.modelName with the API key from the environment, costs and metrics on", async () => {
    const proxy = await start(
      render("basic", {
        provider: "openai-compatible",
        modelName: "llama3.2:3b",
        endpoint: upstream.url("basic"),
        apiKeySecretRef: { name: "llm-key" },
        configuration: { temperature: 0.3, maxTokens: 64 },
        timeout: "30s",
        observability: { metrics: true },
        costTracking: { enabled: true, inputTokenCost: 1, outputTokenCost: 2 },
      }).text,
      { LANGOP_MODEL_API_KEY: "sk-from-secret" },
    )
    const r = await chat(proxy, "llama3.2:3b", "hello")
    expect(r.status).toBe(200)
    expect(r.content).toMatch(/^answer from basic #/u)
    const seen = upstream.requests.at(-1)
    expect(seen?.model).toBe("llama3.2:3b")
    expect(seen?.authorization).toBe("Bearer sk-from-secret")
    expect(seen?.body.temperature).toBe(0.3)
    expect(seen?.body.max_tokens).toBe(64)
    expect(r.headers.get("x-litellm-model-id")).toBe("basic-primary")
    // 7 prompt and 5 completion tokens at 1 and 2 per 1000 tokens.
    expect(Number(r.headers.get("x-litellm-response-cost"))).toBeCloseTo(0.017, 6)
    upstream.fail("basic", 500)
    expect((await chat(proxy, "llama3.2:3b", "fail once")).status).toBeGreaterThanOrEqual(500)
    upstream.fail("basic", undefined)
    // The series the operator's scrape reads exist in the pinned version.
    const metrics = await (await fetch(`${proxy.url}/metrics/`)).text()
    for (const name of Object.values(PROXY_METRICS)) expect(metrics).toMatch(new RegExp(`^${name}`, "mu"))
  })

  // The fresh tmpfs over /tmp would hide a LiteLLM installed below /tmp (e.g. XDG_CACHE_HOME=/tmp/...).
  it.skipIf(!canUseReadOnlyRoot() || cacheRoot().startsWith(`${tmpdir()}/`))(
    "runs with a read-only root filesystem and only /tmp writable, as in the Deployment",
    async () => {
      const proxy = await startLiteLLM(
        install.litellm,
        render("readonly", {
          provider: "openai-compatible",
          modelName: "m-ro",
          endpoint: upstream.url("ro"),
          caching: { enabled: true },
          observability: { metrics: true },
        }).text,
        { readOnlyRoot: true },
      )
      running.push(proxy)
      const r = await chat(proxy, "m-ro", "hello")
      expect(r.status).toBe(200)
      expect(r.content).toMatch(/^answer from ro #/u)
      expect(await (await fetch(`${proxy.url}/metrics/`)).text()).toMatch(/^litellm_/mu)
    },
  )

  it("spreads requests by weight; an endpoint of weight 0 is never picked", async () => {
    const proxy = await start(
      render("weighted", {
        provider: "openai-compatible",
        modelName: "m-weighted",
        loadBalancing: {
          strategy: "weighted",
          endpoints: [
            { url: upstream.url("w-heavy"), weight: 75 },
            { url: upstream.url("w-light"), weight: 25 },
            { url: upstream.url("w-never"), weight: 0 },
          ],
        },
      }).text,
    )
    const n = 200
    for (let i = 0; i < n; i++) expect((await chat(proxy, "m-weighted", `q${i}`)).status).toBe(200)
    const heavy = upstream.count("w-heavy")
    const light = upstream.count("w-light")
    expect(heavy + light).toBe(n)
    expect(upstream.count("w-never")).toBe(0)
    // Binomial(200, 0.75): mean 150, sd ≈ 6.1; the bounds are ±5 sd.
    expect(heavy).toBeGreaterThan(119)
    expect(heavy).toBeLessThan(181)
  })

  it("falls back to the fallback model's own proxy, by condition", async () => {
    const backup = await start(
      render("backup", {
        provider: "openai-compatible",
        modelName: "backup-model",
        endpoint: upstream.url("backup"),
      }).text,
    )
    const primary = render(
      "primary",
      {
        provider: "openai-compatible",
        modelName: "primary-model",
        endpoint: upstream.url("down"),
        retryPolicy: { maxAttempts: 0 },
        fallbacks: [
          { modelRef: "backup", conditions: ["error", "timeout"] },
          { modelRef: "big", conditions: ["context_window"] },
        ],
      },
      {
        fallbacks: [
          { modelRef: "backup", modelName: "backup-model", conditions: ["error", "timeout"] },
          // Same local proxy, reached through its own fallback group and deployment id.
          { modelRef: "big", modelName: "backup-model", conditions: ["context_window"] },
        ],
      },
    )
    const proxy = await start(pointFallbacks(primary.text, { backup: backup.url, big: backup.url }))

    upstream.fail("down", 500)
    const onError = await chat(proxy, "primary-model", "server error please")
    expect(onError.status).toBe(200)
    expect(onError.content).toMatch(/^answer from backup #/u)
    expect(onError.headers.get("x-litellm-model-id")).toBe("primary-fallback-backup")
    expect(upstream.count("down")).toBeGreaterThanOrEqual(1)

    upstream.fail("down", 400, {
      error: {
        message:
          "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
        type: "invalid_request_error",
        code: "context_length_exceeded",
      },
    })
    const onContext = await chat(proxy, "primary-model", "a very long prompt")
    expect(onContext.status).toBe(200)
    expect(onContext.headers.get("x-litellm-model-id")).toBe("primary-fallback-big")
    upstream.fail("down", undefined)
  })

  it("serves a repeated request from the in-memory cache", async () => {
    const proxy = await start(
      render("cached", {
        provider: "openai-compatible",
        modelName: "m-cached",
        endpoint: upstream.url("cached"),
        caching: { enabled: true, backend: "memory", ttl: "10m" },
      }).text,
    )
    const first = await chat(proxy, "m-cached", "same question")
    const second = await chat(proxy, "m-cached", "same question")
    expect(second.content).toBe(first.content)
    expect(upstream.count("cached")).toBe(1)
    await chat(proxy, "m-cached", "another question")
    expect(upstream.count("cached")).toBe(2)
  })

  const redisServer = spawnSync("sh", ["-c", "command -v redis-server"]).stdout.toString().trim()
  if (redisServer === "")
    console.warn(
      "[contract] skipping the Redis cache case: no redis-server on this machine (Debian: apt-get install redis-server)",
    )
  it.skipIf(redisServer === "")(
    "serves a repeated request from Redis (password from the environment)",
    async () => {
      const port = await freePort()
      const password = "contract-redis-pw"
      const redis = spawn(
        redisServer,
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--requirepass",
          password,
        ],
        { stdio: "ignore" },
      )
      try {
        await waitForRedis(port, password)
        const rendered = render(
          "redis-cached",
          {
            provider: "openai-compatible",
            modelName: "m-redis",
            endpoint: upstream.url("redis"),
            caching: { enabled: true, backend: "redis", ttl: "10m" },
          },
          {
            sharedRedis: {
              host: "127.0.0.1",
              port,
              password: { secretName: "redis", key: "password", present: true },
            },
          },
        )
        expect(rendered.cache).toBe("redis")
        const proxy = await start(rendered.text, { LANGOP_CACHE_REDIS_PASSWORD: password })
        const first = await chat(proxy, "m-redis", "cache me in redis")
        const second = await chat(proxy, "m-redis", "cache me in redis")
        expect(second.content).toBe(first.content)
        expect(upstream.count("redis")).toBe(1)
        expect(await redisCommand(port, password, "DBSIZE")).toMatch(/^:[1-9]/u)
      } finally {
        redis.kill("SIGTERM")
      }
    },
  )
})

/** One RESP command after AUTH; resolves with the raw reply of the command. */
const redisCommand = (port: number, password: string, command: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    let data = ""
    socket.on("data", (c) => {
      data += c.toString()
      const lines = data.split("\r\n").filter((l) => l !== "")
      if (lines.length >= 2) {
        socket.end()
        resolve(lines[1] ?? "")
      }
    })
    socket.on("error", reject)
    socket.write(`AUTH ${password}\r\n${command}\r\n`)
  })

const waitForRedis = async (port: number, password: string) => {
  for (let i = 0; i < 50; i++) {
    const reply = await redisCommand(port, password, "PING").catch(() => "")
    if (reply === "+PONG") return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error("redis-server did not start")
}

describe("decide() output runs as is", () => {
  it("the ConfigMap's config.yaml with the container's env (Secrets resolved) answers with the Secret's key", async () => {
    const secrets: Record<string, Record<string, string>> = {
      "llm-key": { token: "sk-resolved-from-secret" },
      redis: { pw: "unused" },
    }
    const decision = decide({
      model: Schema.decodeUnknownSync(LanguageModel)({
        apiVersion: "langop.io/v1alpha1",
        kind: "LanguageModel",
        metadata: {
          name: "end-to-end",
          namespace: NAMESPACE,
          uid: "u1",
          generation: 1,
          finalizers: ["langop.io/finalizer"],
        },
        spec: {
          provider: "openai-compatible",
          modelName: "m-e2e",
          endpoint: upstream.url("e2e"),
          apiKeySecretRef: { name: "llm-key", key: "token" },
          observability: {
            metrics: true,
            logging: { level: "info", logRequests: false, logResponses: false },
          },
        },
      }),
      settings: {
        proxyImage: LITELLM_IMAGE,
        proxyMode: "rendered",
        clusterDomain: CLUSTER_DOMAIN,
        sharedRedis: undefined,
        otlpEndpoint: undefined,
        usageAttribution: false,
        metricsScrape: { enabled: false, intervalMs: 60_000 },
        healthPolling: false,
        dependencyWaitMs: 10_000,
      },
      apiKeySecret: { resourceVersion: "1", keys: ["token"] },
      redisPasswordSecret: undefined,
      models: new Map(),
      live: {},
      deployment: undefined,
      podProblems: [],
      now: "2025-01-01T00:00:00Z",
    })
    const objects = decision.children.flatMap((c) => (c._tag === "Apply" ? [c.object] : []))
    const configMap = objects.find((o) => o.kind === "ConfigMap")
    const deployment = objects.find((o) => o.kind === "Deployment")
    if (configMap?.kind !== "ConfigMap" || deployment?.kind !== "Deployment")
      throw new Error("missing children")
    const [container] = deployment.spec.template.spec.containers
    expect(container?.args).toEqual(["--config", "/etc/langop/config.yaml", "--port", "4000"])
    const env = Object.fromEntries(
      (container?.env ?? []).map((e) => {
        const ref = e.valueFrom?.secretKeyRef
        return [e.name, ref === undefined ? (e.value ?? "") : (secrets[ref.name ?? ""]?.[ref.key] ?? "")]
      }),
    )
    const proxy = await start(configMap.data["config.yaml"] ?? "", env)
    const r = await chat(proxy, "m-e2e", "end to end")
    expect(r.status).toBe(200)
    expect(upstream.requests.at(-1)?.authorization).toBe("Bearer sk-resolved-from-secret")
  })
})
