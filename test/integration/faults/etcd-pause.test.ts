// etcd frozen (SIGSTOP) for 20 s while the operator converges N agents, then resumed (SIGCONT). The
// operator recovers by itself (same process, never restarted) and everything converges.
import { expect, onTestFinished, test } from "vitest"
import { signalPid } from "../../../src/localcluster/process.ts"
import { sleep } from "../../bench/lib/cluster.ts"
import {
  applyAgents,
  awaitProgress,
  expectConverged,
  FAULT_N,
  startFaultRun,
  TEST_TIMEOUT_MS,
} from "./support.ts"

const PAUSE_MS = 20_000

test(
  `etcd paused for ${PAUSE_MS / 1000} s during the convergence of ${FAULT_N} agents: recovers without a restart`,
  async () => {
    const run = await startFaultRun()
    let paused = false
    onTestFinished(async () => {
      if (paused) signalPid(run.cluster.etcdPid, "SIGCONT")
      await run.stop()
    })
    const operatorPid = run.operator.pid
    await applyAgents(run)
    await awaitProgress(run, 0.1)
    signalPid(run.cluster.etcdPid, "SIGSTOP")
    paused = true
    // The fault's duration, not a wait for a state.
    await sleep(PAUSE_MS)
    signalPid(run.cluster.etcdPid, "SIGCONT")
    paused = false
    const resumedAt = Date.now()

    await expectConverged(run, "etcd paused 20 s", 1, FAULT_N, resumedAt)
    expect(run.operator.pid).toBe(operatorPid)
    expect(run.operator.child.exitCode).toBeNull()
    expect(run.operator.child.signalCode).toBeNull()
  },
  TEST_TIMEOUT_MS,
)
