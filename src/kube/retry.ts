// Retry policy of the client: capped exponential backoff with jitter, honouring Retry-After.
//
// Guarantees: only `Transient` and `TooManyRequests` are retried; a delay is never shorter than the
// server's Retry-After; after `maxRetries` retries the last error is returned. A 409 Conflict is not
// retried here: `retryOnConflict` re-runs a whole read-modify-write closure instead (client-go's
// RetryOnConflict), because retrying the same stale write can never succeed.
import { Duration, Effect, Random, Schedule } from "effect"
import { type Conflict, isRetryable, retryAfterMsOf } from "./errors.ts"

export interface RetryPolicy {
  /** First delay. */
  readonly baseMs: number
  /** Upper bound of the delay before jitter. */
  readonly capMs: number
  /** Retries after the first attempt. */
  readonly maxRetries: number
}

/** 200 ms, 400 ms, … capped at 5 s; 5 retries (≈ 6 s worst case plus jitter) — enough to ride out an apiserver blip. */
export const defaultRetryPolicy: RetryPolicy = { baseMs: 200, capMs: 5_000, maxRetries: 5 }

/** Delay for retry number `attempt` (1-based) before jitter: `base·2^(attempt-1)`, capped. */
export const cappedExponentialMs = (attempt: number, baseMs: number, capMs: number): number =>
  Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1))

/** Scales a delay by a factor in [0.8, 1.2) given `r` in [0, 1). */
export const jitter = (ms: number, r: number): number => ms * (0.8 + 0.4 * r)

/**
 * The client's retry schedule. Its input is the error of the failed attempt, so a 429's
 * Retry-After (or a 5xx's) raises the delay to what the server asked for.
 */
export const transientSchedule = (
  policy: RetryPolicy = defaultRetryPolicy,
): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(Duration.millis(policy.baseMs)).pipe(
    Schedule.modifyDelay((meta) =>
      Effect.map(Random.next, (r) => {
        const capped = Math.min(Duration.toMillis(meta.duration), policy.capMs)
        const wanted = retryAfterMsOf(meta.input) ?? 0
        return Duration.millis(Math.max(jitter(capped, r), wanted))
      }),
    ),
    Schedule.upTo({ times: policy.maxRetries }),
  )

/** Retries `self` while it fails with a retryable API error. */
export const retryTransient =
  (policy: RetryPolicy = defaultRetryPolicy) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.retry(self, { schedule: transientSchedule(policy), while: (e: E) => isRetryable(e) })

const isConflict = (e: unknown): e is Conflict =>
  typeof e === "object" && e !== null && "_tag" in e && e._tag === "Conflict"

/**
 * Re-runs a read-modify-write closure when it fails with 409 Conflict (stale resourceVersion),
 * up to `times` extra attempts with a short jittered delay (10 ms·2^n, as client-go's DefaultRetry).
 */
export const retryOnConflict = <A, E, R>(self: Effect.Effect<A, E, R>, times = 5): Effect.Effect<A, E, R> =>
  Effect.retry(self, {
    schedule: Schedule.exponential("10 millis").pipe(Schedule.jittered, Schedule.upTo({ times })),
    while: (e: E) => isConflict(e),
  })
