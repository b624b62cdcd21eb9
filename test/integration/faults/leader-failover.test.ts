// Leader failover under load: two operator processes under Lease leader election; the leader is SIGKILLed
// while N agents converge. The standby takes over within lease duration + 2 retry periods of the dead
// leader's last renewal (judged from the Lease's own timestamps, written on this machine's clock) and
// finishes the work: every agent Ready at its generation, no duplicate, no orphan.
import { Effect } from "effect"
import { expect, onTestFinished, test } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin } from "../../../src/kube/resources.ts"
import type { LeaseSpec } from "../../../src/runtime/leaderelection.ts"
import { spawnOperator } from "../../bench/lib/operator.ts"
import {
  applyAgents,
  awaitProgress,
  expectConverged,
  FAULT_N,
  type FaultRun,
  startFaultRun,
  TEST_TIMEOUT_MS,
  waitUntil,
} from "./support.ts"

const LEASE_S = 15
const RETRY_S = 2
const election = (identity: string) => ({
  LANGOP_LEADER_ELECT: "true",
  POD_NAME: identity,
  LANGOP_LEASE_DURATION: `${LEASE_S}s`,
  LANGOP_RENEW_DEADLINE: "10s",
  LANGOP_RETRY_PERIOD: `${RETRY_S}s`,
})

const lease = (run: FaultRun): Promise<LeaseSpec | undefined> =>
  run.cluster.run(
    Effect.gen(function* () {
      const o = yield* Effect.option(
        (yield* KubeClient).get(Builtin.Lease, { namespace: "langop-system", name: "langop.io" }),
      )
      return o._tag === "Some" ? ((o.value as { spec?: LeaseSpec }).spec ?? {}) : undefined
    }),
  )

test(
  `the standby takes over a SIGKILLed leader during the convergence of ${FAULT_N} agents and finishes`,
  async () => {
    // The first process leads: startFaultRun waits for the dependencies to be Ready, which only a leader does.
    const run = await startFaultRun({ env: election("op-a") })
    onTestFinished(() => run.stop())
    const standby = await spawnOperator({
      kubeconfig: run.kubeconfig,
      certDir: run.certDir,
      env: election("op-b"),
    })
    onTestFinished(() => standby.kill("SIGTERM"))
    await standby.awaitReady(180_000)
    expect((await lease(run))?.holderIdentity).toMatch(/^op-a/u)

    await applyAgents(run)
    await awaitProgress(run, 0.1)
    await run.operator.kill("SIGKILL")
    const killedAt = Date.now()
    // Read after the kill: the dead leader's last renewal is final (a read before could miss one).
    const lastRenewal = Date.parse((await lease(run))?.renewTime ?? "")

    await waitUntil("the standby to hold the Lease", 120_000, async () =>
      /^op-b/u.test((await lease(run))?.holderIdentity ?? ""),
    )
    const acquired = Date.parse((await lease(run))?.acquireTime ?? "")
    const takeoverS = (acquired - lastRenewal) / 1000
    console.log(`[faults] takeover ${takeoverS.toFixed(1)} s after the leader's last renewal`)
    expect(takeoverS).toBeGreaterThanOrEqual(LEASE_S)
    // Judged from the Lease's own timestamps; the retry period carries up to 10 % jitter.
    expect(takeoverS).toBeLessThanOrEqual(LEASE_S + 2 * RETRY_S * 1.1)

    await expectConverged(run, "leader SIGKILLed, standby took over", 1, FAULT_N, killedAt)
  },
  TEST_TIMEOUT_MS,
)
