import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Conflict, type KubeError, NotFound, TooManyRequests, Transient } from "../../../src/kube/errors.ts"
import {
  cappedExponentialMs,
  defaultRetryPolicy,
  retryOnConflict,
  retryTransient,
} from "../../../src/kube/retry.ts"

/** Runs `f` under a retry where attempt n fails with `errors[n]` (success after the list). */
const attempts = (
  errors: ReadonlyArray<KubeError>,
  wrap: (e: Effect.Effect<string, KubeError>) => Effect.Effect<string, KubeError>,
) =>
  Effect.gen(function* () {
    const times: Array<number> = []
    const attempt = Effect.gen(function* () {
      times.push(yield* Clock.currentTimeMillis)
      const e = errors[times.length - 1]
      if (e !== undefined) return yield* Effect.fail(e)
      return "ok"
    })
    const fiber = yield* Effect.forkChild(Effect.result(wrap(attempt)))
    yield* TestClock.adjust("1 minute")
    const result = yield* Fiber.join(fiber)
    return { times, gaps: times.slice(1).map((t, i) => t - (times[i] ?? 0)), result }
  })

const transient = new Transient({ code: 503, request: "GET x", message: "unavailable" })

describe("client retry", () => {
  it("computes capped exponential delays", () => {
    assert.deepStrictEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => cappedExponentialMs(n, 200, 5000)),
      [200, 400, 800, 1600, 3200, 5000, 5000],
    )
  })

  it.effect("retries transient errors with jittered exponential delays, then gives up", () =>
    Effect.gen(function* () {
      const { times, gaps, result } = yield* attempts(
        Array.from({ length: 10 }, () => transient),
        retryTransient(),
      )
      assert.strictEqual(times.length, 1 + defaultRetryPolicy.maxRetries)
      ;[200, 400, 800, 1600, 3200].forEach((base, i) => {
        assert.isAtLeast(gaps[i] ?? 0, base * 0.8, `retry ${i + 1}`)
        assert.isAtMost(gaps[i] ?? 0, base * 1.2, `retry ${i + 1}`)
      })
      assert.strictEqual(result._tag, "Failure")
    }),
  )

  it.effect("caps the delay at 5 s", () =>
    Effect.gen(function* () {
      const { gaps } = yield* attempts(
        Array.from({ length: 10 }, () => transient),
        retryTransient({ baseMs: 2000, capMs: 5000, maxRetries: 4 }),
      )
      assert.isAtMost(Math.max(...gaps), 5000 * 1.2)
      assert.isAtLeast(gaps[3] ?? 0, 5000 * 0.8)
    }),
  )

  it.effect("never retries sooner than a 429's Retry-After", () =>
    Effect.gen(function* () {
      const throttled = new TooManyRequests({
        code: 429,
        request: "GET x",
        message: "slow down",
        retryAfterMs: 7000,
      })
      const { gaps, result } = yield* attempts([throttled, throttled], retryTransient())
      assert.isAtLeast(gaps[0] ?? 0, 7000)
      assert.isAtLeast(gaps[1] ?? 0, 7000)
      assert.strictEqual(result._tag, "Success")
    }),
  )

  it.effect("does not retry a 404", () =>
    Effect.gen(function* () {
      const { times, result } = yield* attempts(
        [new NotFound({ code: 404, request: "GET x", message: "not found" })],
        retryTransient(),
      )
      assert.strictEqual(times.length, 1)
      assert.strictEqual(result._tag, "Failure")
    }),
  )

  it.effect("retryOnConflict re-runs the closure on 409 only", () =>
    Effect.gen(function* () {
      const conflict = new Conflict({ code: 409, request: "PUT x", message: "stale", causes: [] })
      const ok = yield* attempts([conflict, conflict], retryOnConflict)
      assert.strictEqual(ok.times.length, 3)
      assert.strictEqual(ok.result._tag, "Success")
      const other = yield* attempts([transient], retryOnConflict)
      assert.strictEqual(other.times.length, 1)
    }),
  )
})
