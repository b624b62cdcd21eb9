/**
 * Contract: what the pinned LiteLLM does with a master key (`LITELLM_MASTER_KEY` in its environment, the
 * way a per-model proxy key would reach it from a Secret) — the facts a proxy key relies on. A caller
 * without a key gets 401, with another key (no database to look it up in) 400, with the master key the
 * answer. The kubelet's probes (`/health/liveliness`, `/health/readiness`) and the operator's metrics
 * scrape (`/metrics/`) need no key; the operator's health poll (`/health`) does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureLiteLLM, LITELLM_VERSION, type LiteLLMInstall } from "../setup/litellm.ts"
import { chat, type FakeUpstream, type RunningProxy, startFakeUpstream, startLiteLLM } from "./harness.ts"
import { render } from "./specs.ts"

const MASTER_KEY = "sk-langop-contract-master-key"

let install: LiteLLMInstall
let upstream: FakeUpstream
let proxy: RunningProxy | undefined

beforeAll(async () => {
  install = await ensureLiteLLM()
  upstream = await startFakeUpstream()
  proxy = await startLiteLLM(
    install.litellm,
    render("auth", {
      provider: "openai-compatible",
      modelName: "m-auth",
      endpoint: upstream.url("auth"),
      observability: { metrics: true },
    }).text,
    { env: { LITELLM_MASTER_KEY: MASTER_KEY } },
  )
})
afterAll(async () => {
  await proxy?.stop()
  await upstream?.close()
})

const running = (): RunningProxy => {
  if (proxy === undefined) throw new Error("proxy not started")
  return proxy
}

describe(`LiteLLM ${LITELLM_VERSION} with a master key`, () => {
  it("refuses callers without the key (401) or with another key (400), answers with it", async () => {
    const none = await chat(running(), "m-auth", "no key", undefined, null)
    expect(none.status).toBe(401)
    const other = await chat(running(), "m-auth", "other key", undefined, "sk-dummy-key-for-local-proxy")
    expect(other.status).toBe(400)
    expect(upstream.count("auth")).toBe(0)
    const keyed = await chat(running(), "m-auth", "master key", undefined, MASTER_KEY)
    expect(keyed.status).toBe(200)
    expect(keyed.content).toMatch(/^answer from auth #/u)
    expect(upstream.count("auth")).toBe(1)
  })

  it("the probes need no key, the metrics scrape neither; the /health poll does", async () => {
    const status = async (path: string, key?: string) =>
      (
        await fetch(`${running().url}${path}`, {
          headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
          signal: AbortSignal.timeout(30_000),
        })
      ).status
    expect(await status("/health/liveliness")).toBe(200)
    expect(await status("/health/readiness")).toBe(200)
    expect(await status("/metrics/")).toBe(200)
    expect(await status("/health")).toBe(401)
    expect(await status("/health", MASTER_KEY)).toBe(200)
  })
})
