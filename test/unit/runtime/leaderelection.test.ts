import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import type { KubeClientShape } from "../../../src/kube/client.ts"
import { type KubeError, Transient } from "../../../src/kube/errors.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import {
  type LeaderElectionConfig,
  type LeaseSpec,
  makeLeaderElector,
} from "../../../src/runtime/leaderelection.ts"
import { FakeApi } from "./fake-api.ts"

const config = (identity: string, releaseOnCancel = true): LeaderElectionConfig => ({
  namespace: "system",
  name: "langop.io",
  identity,
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
  releaseOnCancel,
})

const holder = (api: FakeApi): LeaseSpec | undefined =>
  (api.objects.get("leases")?.get("system/langop.io") as { spec?: LeaseSpec } | undefined)?.spec

/** A client whose requests fail while `cut.on` (a partitioned replica). */
const partitionable = (client: KubeClientShape, cut: { on: boolean }): KubeClientShape => {
  const down = new Transient({ code: 0, request: "x", message: "network unreachable" })
  const guarded = <A>(eff: () => Effect.Effect<A, KubeError>) =>
    Effect.suspend(() => (cut.on ? Effect.fail(down) : eff()))
  return {
    ...client,
    get: (r, at) => guarded(() => client.get(r, at)),
    create: (r, obj, o) => guarded(() => client.create(r, obj, o)),
    replace: (r, obj, o) => guarded(() => client.replace(r, obj, o)),
  }
}

/** Records which identities run their work; asserts they never overlap. */
const tracker = () => {
  const active = new Set<string>()
  const log: Array<string> = []
  let overlap = false
  const work = (id: string) => () =>
    Effect.acquireRelease(
      Effect.sync(() => {
        if (active.size > 0) overlap = true
        active.add(id)
        log.push(`+${id}`)
      }),
      () =>
        Effect.sync(() => {
          active.delete(id)
          log.push(`-${id}`)
        }),
    ).pipe(Effect.andThen(Effect.never), Effect.scoped)
  return { active, log, work, overlapped: () => overlap }
}

describe("leader election", () => {
  it.effect("one leader at a time; a crashed leader is replaced after the lease duration", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const t = tracker()
      const a = yield* makeLeaderElector(api.client, config("a", false))
      const b = yield* makeLeaderElector(api.client, config("b"))
      const fa = yield* Effect.forkChild(a.run(t.work("a")))
      yield* TestClock.adjust("1 millis")
      const fb = yield* Effect.forkChild(b.run(t.work("b")))
      yield* TestClock.adjust("30 seconds")
      assert.deepStrictEqual([...t.active], ["a"])
      assert.strictEqual(holder(api)?.holderIdentity, "a")
      // "Crash" a: it stops renewing and does not release.
      yield* Fiber.interrupt(fa)
      const crashedAt = 30_001
      let takeover = -1
      for (let s = 0; s < 50 && takeover < 0; s++) {
        yield* TestClock.adjust("500 millis")
        if (t.active.has("b")) takeover = crashedAt + (s + 1) * 500
      }
      const delay = takeover - crashedAt
      // The standby may see the last renewal up to one retry (2.2 s) late, and then retries every ≤ 2.2 s.
      assert.isAtLeast(delay, 15_000 - 2_000)
      assert.isAtMost(delay, 15_000 + 2 * 2_200 + 500)
      assert.strictEqual(holder(api)?.holderIdentity, "b")
      assert.strictEqual(holder(api)?.leaseTransitions, 1)
      assert.isFalse(t.overlapped())
      yield* Fiber.interrupt(fb)
    }),
  )

  it.effect("a partitioned leader stops its work before anyone else can start", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const t = tracker()
      const cut = { on: false }
      const a = yield* makeLeaderElector(partitionable(api.client, cut), config("a"))
      const b = yield* makeLeaderElector(api.client, config("b"))
      yield* Effect.forkChild(a.run(t.work("a")))
      yield* TestClock.adjust("1 millis")
      yield* Effect.forkChild(b.run(t.work("b")))
      yield* TestClock.adjust("10 seconds")
      cut.on = true
      for (let s = 0; s < 80; s++) yield* TestClock.adjust("500 millis")
      assert.isFalse(t.overlapped(), "the two never worked at the same time")
      assert.deepStrictEqual(t.log, ["+a", "-a", "+b"])
      assert.isFalse(a.isLeader())
      assert.isTrue(b.isLeader())
    }),
  )

  it.effect("graceful shutdown stops the work, then releases the lease for an immediate takeover", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const t = tracker()
      const a = yield* makeLeaderElector(api.client, config("a"))
      const b = yield* makeLeaderElector(api.client, config("b"))
      const fa = yield* Effect.forkChild(a.run(t.work("a")))
      yield* TestClock.adjust("1 millis")
      yield* Effect.forkChild(b.run(t.work("b")))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.interrupt(fa)
      assert.strictEqual(holder(api)?.holderIdentity, "")
      assert.strictEqual(holder(api)?.leaseDurationSeconds, 1)
      yield* TestClock.adjust("2500 millis")
      assert.isTrue(b.isLeader(), "taken over at the next retry, not after 15 s")
      assert.deepStrictEqual(t.log, ["+a", "-a", "+b"])
    }),
  )

  it.effect("creates the Lease when it does not exist", () =>
    Effect.gen(function* () {
      const api = new FakeApi()
      const a = yield* makeLeaderElector(api.client, config("a"))
      yield* Effect.forkChild(a.run(() => Effect.never))
      yield* TestClock.adjust("1 millis")
      const spec = holder(api)
      assert.strictEqual(spec?.holderIdentity, "a")
      assert.strictEqual(spec?.leaseDurationSeconds, 15)
      assert.strictEqual(spec?.leaseTransitions, 0)
      assert.match(spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/u)
      assert.isDefined(api.objects.get(Builtin.Lease.plural))
    }),
  )
})
