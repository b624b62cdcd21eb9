import { describe, expect, it } from "vitest"
import {
  itemFailureDelayMs,
  jitteredMs,
  watchRetryDelayMs,
  watchTimeoutSeconds,
} from "../../../src/runtime/backoff.ts"

describe("backoff values", () => {
  it("per-key reconcile backoff: 5 ms doubling, capped at 1000 s", () => {
    expect([0, 1, 2, 3, 10].map((n) => itemFailureDelayMs(n))).toEqual([5, 10, 20, 40, 5120])
    expect(itemFailureDelayMs(17)).toBe(655_360)
    expect(itemFailureDelayMs(18)).toBe(1_000_000)
    expect(itemFailureDelayMs(5000)).toBe(1_000_000)
  })

  it("watch reconnect backoff: 0.8 s doubling to 30 s, jitter ×0.8–1.2 never above 30 s", () => {
    const mid = [0, 1, 2, 3, 4, 5, 6, 7].map((n) => watchRetryDelayMs(n, 0.5))
    expect(mid).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000])
    expect(watchRetryDelayMs(0, 0)).toBe(640)
    expect(watchRetryDelayMs(0, 0.9999)).toBe(960)
    expect(watchRetryDelayMs(6, 0.9999)).toBe(30000)
    expect(watchRetryDelayMs(5, 0)).toBe(20480)
  })

  it("server-side watch timeout is spread over 5–10 minutes", () => {
    expect(watchTimeoutSeconds(0)).toBe(300)
    expect(watchTimeoutSeconds(0.5)).toBe(450)
    expect(watchTimeoutSeconds(0.99999)).toBe(599)
  })

  it("periodic work is jittered by ±10 %", () => {
    expect(jitteredMs(600_000, 0)).toBe(540_000)
    expect(jitteredMs(600_000, 0.5)).toBe(600_000)
    expect(jitteredMs(600_000, 1)).toBe(660_000)
  })
})
