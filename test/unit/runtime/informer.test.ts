import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Result, Stream } from "effect"
import { TestClock } from "effect/testing"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { type InformerEvent, makeInformer } from "../../../src/runtime/informer.ts"
import { cm, FakeApi } from "./fake-api.ts"

const CM = Builtin.ConfigMap

const setup = (api: FakeApi, opts: Parameters<typeof makeInformer>[2] = {}) =>
  Effect.gen(function* () {
    const inf = yield* makeInformer<KubeObject>(api.client, { resource: CM }, opts)
    const events: Array<string> = []
    inf.subscribe((e: InformerEvent<KubeObject>) =>
      events.push(
        `${e.type}${e.initial ? "*" : ""} ${e.key} ${String((e.obj as { data?: { v?: string } }).data?.v ?? "")}`.trim(),
      ),
    )
    yield* Effect.forkScoped(inf.run)
    yield* Effect.yieldNow
    return { inf, events }
  })

/** Lets forked fibers run after synchronous changes to the fake. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow
})

describe("Informer", () => {
  it.effect("lists, then streams adds, updates and deletes into the cache without managedFields", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(CM, cm("ns", "a", { v: "1" }))
      const { inf, events } = yield* setup(api)
      yield* inf.waitForSync
      assert.isTrue(inf.hasSynced())
      api.put(CM, cm("ns", "b", { v: "1" }))
      api.put(CM, cm("ns", "a", { v: "2" }))
      api.remove(CM, "ns/b")
      yield* settle
      assert.deepStrictEqual(events, ["add* ns/a 1", "add ns/b 1", "update ns/a 2", "delete ns/b 1"])
      assert.deepStrictEqual(inf.cache.keys(), ["ns/a"])
      assert.isUndefined(inf.cache.get("ns/a")?.metadata.managedFields)
    }),
  )

  it.effect("resumes a cleanly closed watch from the last resourceVersion without relisting", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const { events } = yield* setup(api)
      api.put(CM, cm("ns", "a", { v: "1" }))
      yield* settle
      api.bookmark(CM)
      yield* settle
      const rvAfterBookmark = api.rv
      api.closeWatches()
      yield* TestClock.adjust("2 seconds") // a watch closed within 1 s of opening backs off
      yield* settle
      api.put(CM, cm("ns", "a", { v: "2" }))
      yield* settle
      assert.deepStrictEqual(api.calls.filter((c) => c.startsWith("list")).length, 1)
      assert.include(api.calls, `watch configmaps rv=${rvAfterBookmark}`)
      assert.deepStrictEqual(events, ["add ns/a 1", "update ns/a 2"])
    }),
  )

  it.effect("misses nothing across an outage: relists after 410 and delivers the difference", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(CM, cm("ns", "keep", { v: "1" }))
      api.put(CM, cm("ns", "change", { v: "1" }))
      api.put(CM, cm("ns", "gone", { v: "1" }))
      const relists: Array<string> = []
      const { inf, events } = yield* setup(api, { metrics: { relist: () => relists.push("x") } })
      yield* inf.waitForSync
      events.length = 0
      // The apiserver goes away; meanwhile the objects change and history is compacted.
      api.down = true
      api.breakWatches()
      yield* settle
      api.put(CM, cm("ns", "new", { v: "1" }))
      api.put(CM, cm("ns", "change", { v: "2" }))
      api.remove(CM, "ns/gone")
      api.compact()
      yield* TestClock.adjust("5 seconds") // a few failed attempts while down
      assert.deepStrictEqual(events, [])
      api.down = false
      yield* TestClock.adjust("30 seconds")
      yield* settle
      assert.deepStrictEqual([...events].sort(), ["add ns/new 1", "delete ns/gone 1", "update ns/change 2"])
      assert.deepStrictEqual([...inf.cache.keys()].sort(), ["ns/change", "ns/keep", "ns/new"])
      assert.strictEqual(relists.length, 2)
    }),
  )

  it.effect("backs off when the server closes every watch at once (no hot loop)", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      let watches = 0
      const client = {
        ...api.client,
        watch: () =>
          Stream.suspend(() => {
            watches++
            return Stream.empty
          }),
      }
      const inf = yield* makeInformer<KubeObject>(client, { resource: CM })
      yield* Effect.forkScoped(inf.run)
      yield* TestClock.adjust("60 seconds")
      assert.isAtLeast(watches, 3)
      assert.isAtMost(watches, 10)
    }),
  )

  it.effect("reconnects a watch that went silent for 90 s", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const restarts: Array<string> = []
      const { inf } = yield* setup(api, { metrics: { watchRestart: (r) => restarts.push(r) } })
      yield* inf.waitForSync
      yield* TestClock.adjust("89 seconds")
      assert.deepStrictEqual(restarts, [])
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(restarts, ["inactive"])
      yield* TestClock.adjust("2 seconds") // first backoff is at most 0.96 s
      assert.strictEqual(api.calls.filter((c) => c.startsWith("watch")).length, 2)
    }),
  )

  it.effect(
    "backs off 0.8 s doubling to 30 s (±20 %) while the server is down, and resets after a healthy watch",
    () =>
      Effect.gen(function* () {
        const api = new FakeApi()
        api.down = true
        const times: Array<number> = []
        const stamp = Effect.map(Clock.currentTimeMillis, (t) => void times.push(t))
        const client = {
          ...api.client,
          listAll: (...args: Parameters<typeof api.client.listAll>) =>
            Effect.andThen(stamp, api.client.listAll(...args)),
          watch: (...args: Parameters<typeof api.client.watch>) =>
            Stream.unwrap(Effect.as(stamp, api.client.watch(...args))),
        }
        const inf = yield* makeInformer<KubeObject>(client, { resource: CM })
        yield* Effect.forkScoped(inf.run)
        yield* TestClock.adjust("200 seconds")
        const gaps = (ts: ReadonlyArray<number>) => ts.slice(1).map((t, i) => t - (ts[i] ?? 0))
        const expected = [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]
        const seen = gaps(times)
        expected.forEach((base, i) => {
          const gap = seen[i] ?? -1
          assert.isAtLeast(gap, Math.min(30000, base * 0.8), `gap ${i}`)
          assert.isAtMost(gap, Math.min(30000, base * 1.2), `gap ${i}`)
        })
        // Recover, stay healthy for 3 minutes, then fail again: the first delay is back to ~0.8 s.
        api.down = false
        yield* TestClock.adjust("30 seconds")
        assert.isTrue(inf.hasSynced())
        for (let i = 0; i < 3; i++) {
          yield* TestClock.adjust("60 seconds")
          api.bookmark(CM)
          yield* Effect.yieldNow
        }
        api.down = true
        api.breakWatches()
        const brokeAt = yield* Clock.currentTimeMillis
        times.length = 0
        yield* TestClock.adjust("3 seconds")
        const after = gaps([brokeAt, ...times])
        assert.isAtLeast(after[0] ?? -1, 640)
        assert.isAtMost(after[0] ?? -1, 960)
        assert.isAtLeast(after[1] ?? -1, 1280)
        assert.isAtMost(after[1] ?? -1, 1920)
      }),
  )

  it.effect(
    "reports an undecodable object once, keeps the last good version and still delivers its deletion",
    () =>
      Effect.gen(function* () {
        const api = new FakeApi()
        const reported: Array<string> = []
        const decode = (o: unknown) => {
          const v = (o as { data?: { v?: string } }).data?.v
          return v === "bad" ? Result.fail(["data.v: must not be bad"]) : Result.succeed(o as KubeObject)
        }
        const inf = yield* makeInformer<KubeObject>(
          api.client,
          { resource: CM, decode },
          {
            onDecodeError: (raw, lines) =>
              Effect.sync(() => reported.push(`${raw.metadata.name}: ${lines.join()}`)),
          },
        )
        const events: Array<string> = []
        inf.subscribe((e) => events.push(`${e.type} ${e.key}`))
        yield* Effect.forkScoped(inf.run)
        yield* inf.waitForSync
        api.put(CM, cm("ns", "a", { v: "good" }))
        api.put(CM, cm("ns", "a", { v: "bad" }))
        api.put(CM, cm("ns", "fresh", { v: "bad" }))
        yield* settle
        api.closeWatches() // a reconnect replays nothing new: still reported once
        yield* TestClock.adjust("2 seconds")
        yield* settle
        assert.deepStrictEqual(reported, ["a: data.v: must not be bad", "fresh: data.v: must not be bad"])
        assert.deepStrictEqual(inf.cache.get("ns/a")?.data, { v: "good" })
        assert.isUndefined(inf.cache.get("ns/fresh"))
        api.remove(CM, "ns/a")
        yield* settle
        assert.deepStrictEqual(events, ["add ns/a", "delete ns/a"])
      }),
  )

  it.effect("survives a throwing handler", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const { inf, events } = yield* setup(api)
      inf.subscribe(() => {
        throw new Error("boom")
      })
      api.put(CM, cm("ns", "a"))
      api.put(CM, cm("ns", "b"))
      yield* settle
      assert.deepStrictEqual(events, ["add ns/a", "add ns/b"])
    }),
  )

  it.effect("replays the cache to a late subscriber and re-delivers everything every sync period", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      api.put(CM, cm("ns", "a"))
      const inf = yield* makeInformer<KubeObject>(api.client, { resource: CM }, { resyncPeriodMs: 600_000 })
      yield* Effect.forkScoped(inf.run)
      yield* inf.waitForSync
      const events: Array<string> = []
      inf.subscribe((e) => events.push(`${e.type}${e.initial ? "*" : ""}${e.resync ? "r" : ""} ${e.key}`), {
        replay: true,
      })
      assert.deepStrictEqual(events, ["add* ns/a"])
      yield* TestClock.adjust("11 minutes")
      assert.deepStrictEqual(events, ["add* ns/a", "update*r ns/a"])
    }),
  )

  it.effect("indexes objects and keeps indices consistent on update and delete", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const inf = yield* makeInformer<KubeObject>(api.client, {
        resource: CM,
        indexers: {
          byTool: (o) => ((o.data as { tools?: string } | undefined)?.tools ?? "").split(",").filter(Boolean),
        },
      })
      yield* Effect.forkScoped(inf.run)
      yield* inf.waitForSync
      api.put(CM, cm("ns", "agent1", { tools: "web,db" }))
      api.put(CM, cm("ns", "agent2", { tools: "web" }))
      yield* settle
      assert.deepStrictEqual([...inf.cache.keysByIndex("byTool", "web")].sort(), ["ns/agent1", "ns/agent2"])
      api.put(CM, cm("ns", "agent1", { tools: "db" }))
      api.remove(CM, "ns/agent2")
      yield* settle
      assert.deepStrictEqual(inf.cache.keysByIndex("byTool", "web"), [])
      assert.deepStrictEqual(inf.cache.keysByIndex("byTool", "db"), ["ns/agent1"])
      assert.deepStrictEqual(
        inf.cache.list("ns").map((o) => o.metadata.name),
        ["agent1"],
      )
    }),
  )
})
