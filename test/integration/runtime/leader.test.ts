// Leader election against a real API server: only the leader reconciles; a SIGKILLed leader is
// replaced within the lease duration (plus one retry period); a SIGTERMed leader releases the
// Lease so its successor starts at once.
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
    // The standby's informers are warm (it is ready) but it reconciles nothing.
    await new Promise((r) => setTimeout(r, 3000))
    expect(seen).toEqual([])
    const m = mgr
    expect(sample(await m.metrics(), 'leader_election_master_status{name="langop-test"}')).toBe(0)

    leader.proc.kill("SIGKILL")
    const killedAt = Date.now()
    await leader.exited
    await eventually("the standby to take over", () => seen.length > 0, 30_000, 50)
    const handoverMs = Date.now() - killedAt
    console.log(`handover after SIGKILL: ${handoverMs} ms`)
    // Expiry counts from the standby's own observation of the last renewal (made ≤ 2 s before the
    // kill, observed up to one retry period later), and it retries every 2 s (+10 % jitter).
    expect(handoverMs).toBeLessThan(15_000 + 2 * 2_200 + 1_000)
    expect(handoverMs).toBeGreaterThan(15_000 - 2_000 - 1_000)
    const spec = await lease(namespace)
    expect(spec?.holderIdentity).toBe("in-process")
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

    first.proc.kill("SIGTERM")
    const stoppedAt = Date.now()
    // It exits by itself (NodeRuntime.runMain reports an interrupted main with 130), not by a signal.
    expect(await first.exited).not.toBeNull()
    const released = await lease(namespace)
    // Released (holder emptied) unless child-2 already took it over.
    expect(["", "child-2"]).toContain(released?.holderIdentity)
    await eventually("child-2 to take over", () => standby.reconciled.includes(`${namespace}/x`), 15_000, 50)
    const handoverMs = Date.now() - stoppedAt
    console.log(`handover after SIGTERM: ${handoverMs} ms`)
    expect(handoverMs).toBeLessThan(6_000)
    expect(first.logs.some((l) => l.includes("lease released"))).toBe(true)
  } finally {
    first.proc.kill("SIGKILL")
    second?.proc.kill("SIGKILL")
  }
})
