// Backoff arithmetic shared by the work queue and the informers, as pure functions so the exact
// values are testable and documented in one place.

/**
 * Per-key reconcile failure backoff (client-go's ItemExponentialFailureRateLimiter): the n-th
 * consecutive failure (0-based) waits `base·2^n`, capped. Defaults 5 ms → 1000 s, as controller-runtime.
 */
export const itemFailureDelayMs = (failures: number, baseMs = 5, maxMs = 1_000_000): number => {
  // 2^n overflows to Infinity for large n; min() keeps the cap.
  const d = baseMs * 2 ** Math.max(0, failures)
  return Number.isFinite(d) ? Math.min(d, maxMs) : maxMs
}

/**
 * Overall retry limit shared by every key of a queue (client-go's BucketRateLimiter, a token bucket as
 * golang.org/x/time/rate): `qps` tokens per second up to `burst`; each retry takes one token, and when none
 * is left it is scheduled at the time its token will exist (tokens go negative: later retries queue behind
 * earlier ones). controller-runtime's default is 10 qps with a burst of 100, combined with the per-key
 * backoff by taking the larger delay, so a mass failure (API server down, every object failing) retries at
 * most 10 times per second after the first 100 instead of hammering the server.
 */
export interface TokenBucket {
  readonly tokens: number
  readonly atMs: number
}

export const fullBucket = (burst: number, nowMs: number): TokenBucket => ({ tokens: burst, atMs: nowMs })

/** Takes one token at `nowMs`: the new bucket and how long the taker must wait for it. */
export const takeToken = (
  bucket: TokenBucket,
  nowMs: number,
  qps: number,
  burst: number,
): { readonly bucket: TokenBucket; readonly delayMs: number } => {
  const elapsed = Math.max(0, nowMs - bucket.atMs)
  const tokens = Math.min(burst, bucket.tokens + (elapsed * qps) / 1000) - 1
  return {
    bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) },
    delayMs: tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / qps),
  }
}

export interface WatchBackoff {
  readonly initialMs: number
  readonly maxMs: number
  /** A watch that stayed up this long resets the backoff (client-go: 2 min). */
  readonly resetAfterMs: number
}

/** client-go reflector values: 800 ms doubling to 30 s, reset after 2 minutes of health. */
export const defaultWatchBackoff: WatchBackoff = { initialMs: 800, maxMs: 30_000, resetAfterMs: 120_000 }

/**
 * Delay before reconnect attempt `attempt` (0-based) of a list/watch loop, given `r` in [0, 1):
 * `initial·2^attempt` capped at max, scaled by a jitter factor in [0.8, 1.2) and capped again,
 * so replicas that lost their watches together do not reconnect together and no delay exceeds max.
 */
export const watchRetryDelayMs = (
  attempt: number,
  r: number,
  b: WatchBackoff = defaultWatchBackoff,
): number => {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.max(0, attempt))
  return Math.min(b.maxMs, Math.round(base * (0.8 + 0.4 * r)))
}

/** Server-side watch timeout in seconds, uniformly in [5 min, 10 min) as client-go's reflector. */
export const watchTimeoutSeconds = (r: number, minSeconds = 300): number => Math.floor(minSeconds * (1 + r))

/** A period jittered by ±`fraction` (sync period, retry period). */
export const jitteredMs = (ms: number, r: number, fraction = 0.1): number =>
  Math.round(ms * (1 - fraction + 2 * fraction * r))
