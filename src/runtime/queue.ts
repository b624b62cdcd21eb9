// Keyed work queue with client-go semantics, plus two priorities.
//
// Guarantees:
// - a key is handed to at most one worker at a time: between `get` returning it and `done(key)`,
//   further adds only mark it dirty;
// - an add while the key is being processed re-queues it exactly once, when `done` is called, so a
//   change made during a reconcile is never lost and never processed twice concurrently;
// - a key waits in the queue at most once (adds of a queued key are no-ops), so the queue's size is
//   bounded by the number of distinct keys;
// - `low` priority (initial-list and resync events) is taken only when no `high` key is ready; a
//   `high` add of a key waiting at `low` promotes it;
// - `addAfter` keeps only the earliest pending time per key (client-go's delaying queue);
// - `addRateLimited` waits `5 ms·2^failures` (capped at 1000 s) per key until `forget(key)`, and at
//   least as long as an overall token bucket shared by all keys says (10 retries/s, burst 100), as
//   controller-runtime's default rate limiter;
// - after `shutdown`, `get` returns None at once (queued keys are dropped) and adds are ignored.
// Assumptions: callers pair every `get` that returned a key with exactly one `done(key)` (the
// controller does this in `Effect.ensuring`). Time is read from Effect's Clock (TestClock-friendly).
import { Clock, Deferred, Effect, Option, Queue, type Scope } from "effect"
import { fullBucket, itemFailureDelayMs, type TokenBucket, takeToken } from "./backoff.ts"

export type Priority = "high" | "low"

/** Hooks for metrics; all optional so unit tests can leave them out. */
export interface QueueMetrics {
  readonly depth?: (n: number) => void
  readonly adds?: () => void
  readonly queueLatencySeconds?: (s: number) => void
  readonly workDurationSeconds?: (s: number) => void
  readonly retries?: () => void
  /** Registers a probe of the work in progress: summed and longest time since `get` handed keys out. */
  readonly inFlight?: (
    probe: () => { readonly totalSeconds: number; readonly longestSeconds: number },
  ) => void
}

export interface WorkQueueOptions {
  readonly baseDelayMs?: number
  readonly maxDelayMs?: number
  /** Overall retry rate of `addRateLimited` across keys (default 10/s) and its burst (default 100). */
  readonly retryQps?: number
  readonly retryBurst?: number
  readonly metrics?: QueueMetrics
}

export interface WorkQueue {
  readonly add: (key: string, priority?: Priority) => Effect.Effect<void>
  /** Synchronous `add` for event handlers that run inside another effect's sync section. */
  readonly addUnsafe: (key: string, priority?: Priority) => void
  readonly addAfter: (key: string, delayMs: number) => Effect.Effect<void>
  /** Requeues after the key's failure backoff and counts the failure. */
  readonly addRateLimited: (key: string) => Effect.Effect<void>
  /** Clears the key's failure count (call after a successful reconcile). */
  readonly forget: (key: string) => Effect.Effect<void>
  readonly numRequeues: (key: string) => number
  /** Waits for the next key; None once the queue is shut down. */
  readonly get: Effect.Effect<Option.Option<string>>
  readonly done: (key: string) => Effect.Effect<void>
  readonly shutdown: Effect.Effect<void>
  readonly isShutdown: () => boolean
  /** Keys ready to be taken. */
  readonly len: () => number
  /** Keys being processed. */
  readonly processing: () => number
}

/** FIFO with O(1) amortised push/shift. */
class Fifo {
  private items: Array<string> = []
  private head = 0
  push(k: string): void {
    this.items.push(k)
  }
  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined
    const k = this.items[this.head]
    this.head++
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return k
  }
}

/** Binary min-heap of (time, key) for delayed adds. */
class TimerHeap {
  private readonly h: Array<{ readonly at: number; readonly key: string }> = []
  get size(): number {
    return this.h.length
  }
  peek(): { readonly at: number; readonly key: string } | undefined {
    return this.h[0]
  }
  push(e: { readonly at: number; readonly key: string }): void {
    const h = this.h
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      const hp = h[p]
      const hi = h[i]
      if (hp === undefined || hi === undefined || hp.at <= hi.at) break
      h[p] = hi
      h[i] = hp
      i = p
    }
  }
  pop(): { readonly at: number; readonly key: string } | undefined {
    const h = this.h
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last !== undefined) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        const hm = () => h[m]?.at ?? Number.POSITIVE_INFINITY
        if ((h[l]?.at ?? Number.POSITIVE_INFINITY) < hm()) m = l
        if ((h[r]?.at ?? Number.POSITIVE_INFINITY) < hm()) m = r
        if (m === i) break
        const a = h[i]
        const b = h[m]
        if (a === undefined || b === undefined) break
        h[i] = b
        h[m] = a
        i = m
      }
    }
    return top
  }
}

/** Creates a queue whose delayed-add timer runs in the enclosing scope. */
export const makeWorkQueue = (options: WorkQueueOptions = {}): Effect.Effect<WorkQueue, never, Scope.Scope> =>
  Effect.gen(function* () {
    const baseDelayMs = options.baseDelayMs ?? 5
    const maxDelayMs = options.maxDelayMs ?? 1_000_000
    const retryQps = options.retryQps ?? 10
    const retryBurst = options.retryBurst ?? 100
    let bucket: TokenBucket | undefined
    const m = options.metrics ?? {}
    const clock = yield* Clock.Clock
    const now = () => clock.currentTimeMillisUnsafe()

    const high = new Fifo()
    const low = new Fifo()
    /** Keys waiting in a ready FIFO, with the FIFO that holds their live entry. */
    const ready = new Map<string, Priority>()
    /** Keys added while being processed, with the best priority seen. */
    const dirtyWhileProcessing = new Map<string, Priority>()
    const processing = new Set<string>()
    const addedAt = new Map<string, number>()
    const startedAt = new Map<string, number>()
    const failures = new Map<string, number>()
    const waiting = new Map<string, number>()
    const timers = new TimerHeap()
    let waiters: Array<Deferred.Deferred<void>> = []
    let closed = false

    const wakeTimer = yield* Queue.dropping<void>(1)

    const wakeAll = () => {
      const ws = waiters
      waiters = []
      for (const w of ws) Deferred.doneUnsafe(w, Effect.void)
    }

    const enqueueReady = (key: string, priority: Priority) => {
      ready.set(key, priority)
      ;(priority === "high" ? high : low).push(key)
      if (!addedAt.has(key)) addedAt.set(key, now())
      m.depth?.(ready.size)
      wakeAll()
    }

    const addUnsafe = (key: string, priority: Priority = "high"): void => {
      if (closed) return
      m.adds?.()
      if (processing.has(key)) {
        const prev = dirtyWhileProcessing.get(key)
        dirtyWhileProcessing.set(key, prev === "high" || priority === "high" ? "high" : "low")
        return
      }
      const queued = ready.get(key)
      if (queued === undefined) {
        enqueueReady(key, priority)
      } else if (queued === "low" && priority === "high") {
        // Promotion: the entry left in `low` becomes stale and is skipped when reached.
        ready.set(key, "high")
        high.push(key)
        wakeAll()
      }
    }

    /** Pops the next live key, high before low, skipping stale entries. */
    const popReady = (): string | undefined => {
      for (const [fifo, prio] of [
        [high, "high"],
        [low, "low"],
      ] as const) {
        for (let k = fifo.shift(); k !== undefined; k = fifo.shift()) {
          if (ready.get(k) === prio) {
            ready.delete(k)
            return k
          }
        }
      }
      return undefined
    }

    const take = (): string | undefined => {
      const key = popReady()
      if (key === undefined) return undefined
      processing.add(key)
      const t = now()
      const at = addedAt.get(key)
      addedAt.delete(key)
      if (at !== undefined) m.queueLatencySeconds?.((t - at) / 1000)
      startedAt.set(key, t)
      m.depth?.(ready.size)
      return key
    }

    const get: WorkQueue["get"] = Effect.gen(function* () {
      for (;;) {
        if (closed) return Option.none()
        const key = take()
        if (key !== undefined) return Option.some(key)
        const w = Deferred.makeUnsafe<void>()
        waiters.push(w)
        yield* Deferred.await(w)
      }
    })

    const done = (key: string) =>
      Effect.sync(() => {
        if (!processing.delete(key)) return
        const t = startedAt.get(key)
        startedAt.delete(key)
        if (t !== undefined) m.workDurationSeconds?.((now() - t) / 1000)
        const again = dirtyWhileProcessing.get(key)
        dirtyWhileProcessing.delete(key)
        if (again !== undefined && !closed) enqueueReady(key, again)
      })

    const addAfterUnsafe = (key: string, delayMs: number) => {
      if (closed) return
      if (delayMs <= 0) {
        addUnsafe(key)
        return
      }
      const at = now() + delayMs
      const existing = waiting.get(key)
      if (existing !== undefined && existing <= at) return
      waiting.set(key, at)
      timers.push({ at, key })
      Queue.offerUnsafe(wakeTimer, undefined)
    }

    // Moves due delayed keys to the ready queue; sleeps until the earliest or until woken.
    const timerLoop = Effect.gen(function* () {
      for (;;) {
        const t = now()
        for (let top = timers.peek(); top !== undefined && top.at <= t; top = timers.peek()) {
          timers.pop()
          if (waiting.get(top.key) === top.at) {
            waiting.delete(top.key)
            addUnsafe(top.key)
          }
        }
        const next = timers.peek()
        if (next === undefined) yield* Queue.take(wakeTimer)
        else yield* Effect.raceFirst(Effect.sleep(next.at - t), Queue.take(wakeTimer))
      }
    })
    yield* Effect.forkScoped(timerLoop)

    m.inFlight?.(() => {
      const t = now()
      let totalSeconds = 0
      let longestSeconds = 0
      for (const at of startedAt.values()) {
        const s = (t - at) / 1000
        totalSeconds += s
        if (s > longestSeconds) longestSeconds = s
      }
      return { totalSeconds, longestSeconds }
    })

    const shutdownUnsafe = () => {
      closed = true
      wakeAll()
    }
    yield* Effect.addFinalizer(() => Effect.sync(shutdownUnsafe))

    return {
      add: (key, priority) => Effect.sync(() => addUnsafe(key, priority)),
      addUnsafe,
      addAfter: (key, delayMs) => Effect.sync(() => addAfterUnsafe(key, delayMs)),
      addRateLimited: (key) =>
        Effect.sync(() => {
          const n = failures.get(key) ?? 0
          failures.set(key, n + 1)
          m.retries?.()
          const at = now()
          const taken = takeToken(bucket ?? fullBucket(retryBurst, at), at, retryQps, retryBurst)
          bucket = taken.bucket
          addAfterUnsafe(key, Math.max(itemFailureDelayMs(n, baseDelayMs, maxDelayMs), taken.delayMs))
        }),
      forget: (key) => Effect.sync(() => void failures.delete(key)),
      numRequeues: (key) => failures.get(key) ?? 0,
      get,
      done,
      shutdown: Effect.sync(shutdownUnsafe),
      isShutdown: () => closed,
      len: () => ready.size,
      processing: () => processing.size,
    } satisfies WorkQueue
  })
