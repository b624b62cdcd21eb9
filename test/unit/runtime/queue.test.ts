import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { TestClock } from "effect/testing"
import { makeWorkQueue, type WorkQueue } from "../../../src/runtime/queue.ts"

const takeNow = (q: WorkQueue) => Effect.map(q.get, Option.getOrThrow)

/** Drains whatever is ready now, completing each key at once. */
const drain = (q: WorkQueue) =>
  Effect.gen(function* () {
    const out: Array<string> = []
    while (q.len() > 0) {
      const k = yield* takeNow(q)
      out.push(k)
      yield* q.done(k)
    }
    return out
  })

describe("WorkQueue", () => {
  it.effect("holds a key once however often it is added", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      for (const k of ["a", "b", "a", "a", "c", "b"]) yield* q.add(k)
      assert.deepStrictEqual(yield* drain(q), ["a", "b", "c"])
    }),
  )

  it.effect("an add during processing re-queues the key once, after done", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.add("a")
      const k = yield* takeNow(q)
      yield* q.add("a")
      yield* q.add("a")
      assert.strictEqual(q.len(), 0, "not handed out again while in flight")
      yield* q.done(k)
      assert.deepStrictEqual(yield* drain(q), ["a"])
    }),
  )

  it.effect("never hands one key to two workers; changes during a reconcile are not lost", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      const inFlight = new Set<string>()
      const processed: Array<string> = []
      let maxParallel = 0
      let overlap = false
      const worker = Effect.gen(function* () {
        for (;;) {
          const next = yield* q.get
          if (Option.isNone(next)) return
          const k = next.value
          if (inFlight.has(k)) overlap = true
          inFlight.add(k)
          maxParallel = Math.max(maxParallel, inFlight.size)
          yield* Effect.sleep("1 second")
          processed.push(k)
          inFlight.delete(k)
          yield* q.done(k)
        }
      })
      const workers = yield* Effect.forkChild(Effect.all([worker, worker], { concurrency: "unbounded" }))
      for (const k of ["a", "b", "c", "c", "c", "d"]) yield* q.add(k)
      yield* Effect.yieldNow
      yield* q.add("a") // a is in flight on a worker
      yield* q.add("a")
      yield* TestClock.adjust("10 seconds")
      assert.isFalse(overlap)
      assert.strictEqual(maxParallel, 2)
      assert.deepStrictEqual([...processed].sort(), ["a", "a", "b", "c", "d"])
      yield* q.shutdown
      yield* Fiber.join(workers)
    }),
  )

  it.effect("per-key failure backoff doubles from 5 ms and resets on forget", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      const readyAfter = Effect.fnUntraced(function* (ms: number) {
        yield* TestClock.adjust(ms - 1)
        const early = q.len()
        yield* TestClock.adjust(1)
        const late = q.len()
        yield* drain(q)
        return [early, late]
      })
      yield* q.addRateLimited("a")
      assert.deepStrictEqual(yield* readyAfter(5), [0, 1])
      yield* q.addRateLimited("a")
      assert.deepStrictEqual(yield* readyAfter(10), [0, 1])
      yield* q.addRateLimited("a")
      assert.deepStrictEqual(yield* readyAfter(20), [0, 1])
      assert.strictEqual(q.numRequeues("a"), 3)
      yield* q.forget("a")
      yield* q.addRateLimited("a")
      assert.deepStrictEqual(yield* readyAfter(5), [0, 1])
    }),
  )

  it.effect("the failure backoff is capped at 1000 s", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      for (let i = 0; i < 40; i++) yield* q.addRateLimited("b") // only the earliest timer counts
      yield* q.forget("b")
      for (let i = 0; i < 30; i++) {
        yield* q.addRateLimited("x")
        yield* TestClock.adjust("1000 seconds")
        yield* drain(q)
      }
      yield* q.addRateLimited("x")
      yield* TestClock.adjust("999 seconds")
      assert.strictEqual(q.len(), 0)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* drain(q), ["x"])
    }),
  )

  it.effect("retries of many keys share an overall limit: 100 at once, then 10 per second", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      for (let i = 0; i < 120; i++) yield* q.addRateLimited(`k${i}`)
      yield* TestClock.adjust(5)
      assert.strictEqual((yield* drain(q)).length, 100)
      yield* TestClock.adjust(994) // 999 ms: keys 101–109 (due at 100 … 900 ms)
      assert.deepStrictEqual(yield* drain(q), [
        "k100",
        "k101",
        "k102",
        "k103",
        "k104",
        "k105",
        "k106",
        "k107",
        "k108",
      ])
      yield* TestClock.adjust(1_001) // 2 s: the remaining 11
      assert.strictEqual((yield* drain(q)).length, 11)
    }),
  )

  it.effect("addAfter delivers when due and keeps only the earliest time per key", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.addAfter("a", 10_000)
      yield* q.addAfter("a", 5_000)
      yield* q.addAfter("a", 20_000)
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(q.len(), 0)
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* drain(q), ["a"])
      yield* TestClock.adjust("60 seconds")
      assert.strictEqual(q.len(), 0, "the superseded 10 s and 20 s timers do not fire")
    }),
  )

  it.effect("takes high-priority keys before initial-list keys and promotes on a real change", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      yield* q.add("init-1", "low")
      yield* q.add("init-2", "low")
      yield* q.add("init-3", "low")
      yield* q.add("changed", "high")
      yield* q.add("init-3", "high")
      yield* q.add("init-1", "low")
      assert.strictEqual(q.len(), 4)
      assert.deepStrictEqual(yield* drain(q), ["changed", "init-3", "init-1", "init-2"])
    }),
  )

  it.effect("shutdown wakes a waiting worker with None and ignores later adds", () =>
    Effect.gen(function* () {
      const q = yield* makeWorkQueue()
      const waiting = yield* Effect.forkChild(q.get)
      yield* Effect.yieldNow
      yield* q.shutdown
      assert.isTrue(Option.isNone(yield* Fiber.join(waiting)))
      yield* q.add("late")
      assert.strictEqual(q.len(), 0)
      assert.isTrue(Option.isNone(yield* q.get))
    }),
  )

  it.effect("reports depth, latency and work duration through the metric hooks", () =>
    Effect.gen(function* () {
      const seen = {
        adds: 0,
        depth: [] as Array<number>,
        latency: [] as Array<number>,
        work: [] as Array<number>,
      }
      const q = yield* makeWorkQueue({
        metrics: {
          adds: () => seen.adds++,
          depth: (n) => seen.depth.push(n),
          queueLatencySeconds: (s) => seen.latency.push(s),
          workDurationSeconds: (s) => seen.work.push(s),
        },
      })
      yield* q.add("a")
      yield* q.add("a")
      yield* TestClock.adjust("2 seconds")
      const k = yield* takeNow(q)
      yield* TestClock.adjust("3 seconds")
      yield* q.done(k)
      assert.strictEqual(seen.adds, 2)
      assert.deepStrictEqual(seen.depth, [1, 0])
      assert.deepStrictEqual(seen.latency, [2])
      assert.deepStrictEqual(seen.work, [3])
    }),
  )
})
