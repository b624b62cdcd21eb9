/**
 * Contract: `spec.rateLimits` as rendered are enforced by the real, pinned LiteLLM proxy — requests over
 * the per-minute request or token limit are refused with HTTP 429 (and never reach the provider), and
 * the answer comes at once rather than after LiteLLM's 60 s retry-after; requests beyond
 * `concurrentRequests` wait in the proxy, so the provider never sees more at once.
 *
 * LiteLLM counts per UTC calendar minute, so each burst starts early in a minute (waiting for the clock,
 * not sleeping a fixed time) and is checked to have stayed inside it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ensureLiteLLM, LITELLM_VERSION, type LiteLLMInstall } from "../setup/litellm.ts"
import {
  type ChatResult,
  chat,
  type FakeUpstream,
  type RunningProxy,
  startFakeUpstream,
  startLiteLLM,
} from "./harness.ts"
import { render } from "./specs.ts"

let install: LiteLLMInstall
let upstream: FakeUpstream
const running: Array<RunningProxy> = []

beforeAll(async () => {
  install = await ensureLiteLLM()
  upstream = await startFakeUpstream()
})
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()))
  await upstream?.close()
})

const minuteOf = (ms: number) => Math.floor(ms / 60_000)

/** Waits until at most 30 s of the current minute have passed, so a short burst fits in one minute. */
const earlyInAMinute = async () => {
  while (Date.now() % 60_000 > 30_000) await new Promise((r) => setTimeout(r, 500))
}

/** Sends up to `max` requests one after the other, stopping after the first that is not 200. */
const burst = async (proxy: RunningProxy, model: string, max: number) => {
  await earlyInAMinute()
  const started = Date.now()
  const answers: Array<ChatResult> = []
  for (let i = 0; i < max; i++) {
    const answer = await chat(proxy, model, `question ${i}`)
    answers.push(answer)
    if (answer.status !== 200) break
  }
  expect(minuteOf(Date.now()), "the burst stayed within one minute").toBe(minuteOf(started))
  return answers
}

describe(`LiteLLM ${LITELLM_VERSION} enforces rendered rate limits`, () => {
  it("requestsPerMinute: the request after the limit is refused with 429 and never reaches the provider", async () => {
    const proxy = await startLiteLLM(
      install.litellm,
      render("rpm", {
        provider: "openai-compatible",
        modelName: "m-rpm",
        endpoint: upstream.url("rpm"),
        rateLimits: { requestsPerMinute: 3 },
      }).text,
    )
    running.push(proxy)
    const answers = await burst(proxy, "m-rpm", 6)
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
    expect(upstream.count("rpm")).toBe(3)
    // The refusal says why (LiteLLM names the rpm limit).
    const last = answers[3]
    expect(JSON.stringify(last?.body)).toMatch(/rate|limit/iu)
  })

  it("requestsPerMinute split over two endpoints by weight: the model's total is what passes", async () => {
    const proxy = await startLiteLLM(
      install.litellm,
      render("rpm-split", {
        provider: "openai-compatible",
        modelName: "m-split",
        loadBalancing: {
          endpoints: [
            { url: upstream.url("split-a"), weight: 100 },
            { url: upstream.url("split-b"), weight: 100 },
          ],
        },
        rateLimits: { requestsPerMinute: 4 },
      }).text,
    )
    running.push(proxy)
    const answers = await burst(proxy, "m-split", 8)
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 429])
    expect([upstream.count("split-a"), upstream.count("split-b")]).toEqual([2, 2])
  })

  it("tokensPerMinute: once the minute's tokens are used up, requests are refused with 429", async () => {
    // The fake provider reports 12 tokens per answer.
    const proxy = await startLiteLLM(
      install.litellm,
      render("tpm", {
        provider: "openai-compatible",
        modelName: "m-tpm",
        endpoint: upstream.url("tpm"),
        rateLimits: { tokensPerMinute: 30 },
      }).text,
    )
    running.push(proxy)
    const answers = await burst(proxy, "m-tpm", 6)
    const passed = answers.filter((a) => a.status === 200).length
    expect(answers.at(-1)?.status).toBe(429)
    expect(passed).toBeGreaterThanOrEqual(1)
    expect(passed * 12).toBeLessThanOrEqual(30)
    expect(upstream.count("tpm")).toBe(passed)
  })

  it("concurrentRequests: the provider never sees more requests at once; the others wait and are answered", async () => {
    const proxy = await startLiteLLM(
      install.litellm,
      render("parallel", {
        provider: "openai-compatible",
        modelName: "m-parallel",
        endpoint: upstream.url("parallel"),
        rateLimits: { concurrentRequests: 2 },
      }).text,
    )
    running.push(proxy)
    upstream.delay("parallel", 1500)
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => chat(proxy, "m-parallel", `parallel ${i}`)),
    )
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200])
    expect(upstream.count("parallel")).toBe(6)
    expect(upstream.maxInFlight("parallel")).toBe(2)
  })
})
