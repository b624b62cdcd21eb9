// Leader election against a real API server: only the leader reconciles; a SIGKILLed leader is
// replaced, never before its lease expired; a SIGTERMed leader releases the Lease so its successor
// takes over before the old lease would have expired. Timing is judged from the Lease's own
// timestamps (written by the candidates on this machine's clock), never from the test's wall clock,
// so a busy machine can only make the handover later, not the test flaky.
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { expect } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import { defineController } from "../../../src/runtime/controller.ts"
import type { LeaseSpec } from "../../../src/runtime/leaderelection.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { eventually, sample, startManager, withClient } from "./support.ts"

const CM = Builtin.ConfigMap
const fixture = fileURLToPath(new URL("./fixtures/manager-child.ts", import.meta.url))

interface Child {
  readonly proc: ChildProcess
  readonly reconciled: Array<string>
  readonly logs: Array<string>
  readonly exited: Promise<number | null>
}

const spawnManager = (namespace: string, identity: string): Child => {
  const proc = spawn(process.execPath, [fixture, kubeconfigPath(), namespace, identity], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  const child: Child = {
    proc,
    reconciled: [],
    logs: [],
    exited: new Promise((resolve) => proc.on("exit", (code) => resolve(code))),
  }
  let rest = ""
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n")
    rest = lines.pop() ?? ""
    for (const line of lines) {
      child.logs.push(line)
      if (line.includes('"msg":"reconciled"')) child.reconciled.push(String(JSON.parse(line).reconciled))
    }
  })
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => child.logs.push(chunk))
  return child
}

const lease = (namespace: string) =>
  withClient(kubeconfigPath())(
    Effect.gen(function* () {
      const o = yield* Effect.option(
        (yield* KubeClient).get(Builtin.Lease, { namespace, name: "langop-test" }),
      )
      return o._tag === "Some" ? ((o.value as { spec?: LeaseSpec }).spec ?? {}) : undefined
    }),
  )

/** Milliseconds of a Lease MicroTime (`2026-01-01T00:00:00.123456Z`). */
const millis = (time: string | undefined): number => {
  if (time === undefined) throw new Error("the Lease has no timestamp")
  return Date.parse(time)
}

/** Waits until the Lease's holder has renewed it `count` more times. */
const renewals = async (namespace: string, count: number) => {
  const seenTimes = new Set<string>()
  const first = (await lease(namespace))?.renewTime
  await eventually(
    `${count} lease renewals`,
    async () => {
      const renewTime = (await lease(namespace))?.renewTime
      if (renewTime !== undefined && renewTime !== first) seenTimes.add(renewTime)
      return seenTimes.size >= count
    },
    60_000,
    200,
  )
}

const createConfigMaps = (namespace: string, names: ReadonlyArray<string>) =>
  withClient(kubeconfigPath())(
    Effect.gen(function* () {
      const k = yield* KubeClient
      for (const name of names) yield* k.create(CM, { metadata: { name, namespace }, data: { v: "1" } })
    }),
  )

const standby = (namespace: string, identity: string, seen: Array<string>) =>
  startManager(
    kubeconfigPath(),
    [
      defineController({
        name: "cms",
        for: { resource: CM, namespace },
        reconcile: (req) => Effect.sync(() => void seen.push(req.key)),
      }),
    ],
    {
      leaderElection: {
        namespace,
        name: "langop-test",
        identity,
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        releaseOnCancel: true,
      },
      gracefulShutdownTimeoutMs: 5_000,
      concurrency: () => 2,
    },
  )

test("only the leader reconciles; a killed leader is replaced within the lease duration", async ({
  namespace,
}) => {
  const leader = spawnManager(namespace, "child-1")
  const seen: Array<string> = []
  let mgr: ReturnType<typeof startManager> | undefined
  try {
    await eventually(
      "child-1 to hold the lease",
      async () => (await lease(namespace))?.holderIdentity === "child-1",
    )
    mgr = standby(namespace, "in-process", seen)
    await createConfigMaps(namespace, ["a", "b", "c"])
    await eventually("the leader to reconcile a, b and c", () =>
      ["a", "b", "c"].every((n) => leader.reconciled.includes(`${namespace}/${n}`)),
    )
    // The standby's informers are warm but it reconciles nothing, while the leader renews twice (each
    // renewal is a retry period in which the standby tried, and failed, to acquire the lease).
    await renewals(namespace, 2)
    expect(seen).toEqual([])
    const m = mgr
    expect(sample(await m.metrics(), 'leader_election_master_status{name="langop-test"}')).toBe(0)

    leader.proc.kill("SIGKILL")
    await leader.exited
    const lastRenewal = millis((await lease(namespace))?.renewTime)
    await eventually("the standby to take over", () => seen.length > 0, 60_000, 50)
    const spec = await lease(namespace)
    expect(spec?.holderIdentity).toBe("in-process")
    // Safety: the standby counts expiry from its own observation of the last renewal, which is never
    // earlier than the renewal itself, so it cannot acquire before a whole lease duration has passed.
    const handoverMs = millis(spec?.acquireTime) - lastRenewal
    console.log(`takeover ${handoverMs} ms after the killed leader's last renewal`)
    expect(handoverMs).toBeGreaterThanOrEqual(15_000)
    expect(spec?.leaseTransitions).toBe(1)
    await eventually("the new leader to reconcile what exists", () =>
      ["a", "b", "c"].every((n) => seen.includes(`${namespace}/${n}`)),
    )
    expect(sample(await m.metrics(), 'leader_election_master_status{name="langop-test"}')).toBe(1)
  } finally {
    leader.proc.kill("SIGKILL")
    await mgr?.stop()
  }
})

test("a leader stopped with SIGTERM releases the lease and the standby takes over at once", async ({
  namespace,
}) => {
  const first = spawnManager(namespace, "child-1")
  let second: Child | undefined
  try {
    await eventually("child-1 to lead", async () => (await lease(namespace))?.holderIdentity === "child-1")
    second = spawnManager(namespace, "child-2")
    const standby = second
    await eventually("child-2 to be running", () =>
      standby.logs.some((l) => l.includes("waiting for leadership")),
    )
    await createConfigMaps(namespace, ["x"])
    await eventually("child-1 to reconcile x", () => first.reconciled.includes(`${namespace}/x`))
    expect(standby.reconciled).toEqual([])

    const lastRenewal = millis((await lease(namespace))?.renewTime)
    first.proc.kill("SIGTERM")
    // It exits by itself (NodeRuntime.runMain reports an interrupted main with 130), not by a signal.
    expect(await first.exited).not.toBeNull()
    const released = await lease(namespace)
    // Released (holder emptied) unless child-2 already took it over.
    expect(["", "child-2"]).toContain(released?.holderIdentity)
    await eventually("child-2 to take over", () => standby.reconciled.includes(`${namespace}/x`), 60_000, 50)
    expect(first.logs.some((l) => l.includes("lease released"))).toBe(true)
    // The release let child-2 in before the old lease would have expired (the leader renews every
    // retry period, so its last renewal before SIGTERM is at most one period old).
    const taken = await lease(namespace)
    expect(taken?.holderIdentity).toBe("child-2")
    const handoverMs = millis(taken?.acquireTime) - lastRenewal
    console.log(`takeover ${handoverMs} ms after the stopped leader's last renewal`)
    expect(handoverMs).toBeLessThan(15_000)
  } finally {
    first.proc.kill("SIGKILL")
    second?.proc.kill("SIGKILL")
  }
})
