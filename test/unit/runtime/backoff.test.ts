import { describe, expect, it } from "vitest"
import {
  fullBucket,
  itemFailureDelayMs,
  jitteredMs,
  type TokenBucket,
  takeToken,
  watchRetryDelayMs,
  watchTimeoutSeconds,
} from "../../../src/runtime/backoff.ts"

describe("backoff values", () => {
  it("overall retry bucket: a burst of 100 at once, then one every 100 ms at 10/s, refilled over time", () => {
    const take = (bucket: TokenBucket, at: number, n: number) => {
      const delays: Array<number> = []
      let b = bucket
      for (let i = 0; i < n; i++) {
        const t = takeToken(b, at, 10, 100)
        b = t.bucket
        delays.push(t.delayMs)
      }
      return { bucket: b, delays }
    }
    const burst = take(fullBucket(100, 0), 0, 103)
    expect(burst.delays.slice(0, 100).every((d) => d === 0)).toBe(true)
    expect(burst.delays.slice(100)).toEqual([100, 200, 300])
    // 1.3 s later the three borrowed tokens are paid back and 10 more exist: 10 free, then waits again.
    const later = take(burst.bucket, 1_300, 11)
    expect(later.delays).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100])
    // Never more than the burst, however long it was idle.
    expect(take(fullBucket(100, 0), 3_600_000, 101).delays.at(-1)).toBe(100)
  })

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
