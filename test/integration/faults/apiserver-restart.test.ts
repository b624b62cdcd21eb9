// kube-apiserver restarted twice while the operator converges N agents; between the restarts some agents
// are edited and some deleted. Everything converges: each agent Ready at its (new) generation with the
// edit in its ConfigMap, one Deployment/ConfigMap/NetworkPolicy each, deleted agents' children gone.
import { expect, onTestFinished, test } from "vitest"
import { agentName } from "../../bench/lib/workload.ts"
import {
  agentInstructions,
  applyAgents,
  awaitProgress,
  deleteAgents,
  editAgents,
  expectConverged,
  FAULT_N,
  startFaultRun,
  TEST_TIMEOUT_MS,
} from "./support.ts"

test(
  `the apiserver restarted twice during the convergence of ${FAULT_N} agents loses nothing`,
  async () => {
    const run = await startFaultRun()
    onTestFinished(() => run.stop())
    const operatorPid = run.operator.pid
    await applyAgents(run)
    await awaitProgress(run, 0.1)
    await run.cluster.restartApiserver()
    const edited = Math.max(2, Math.floor(FAULT_N / 10))
    await editAgents(run, 0, edited, "Edited between the restarts.")
    const deleted = [agentName(FAULT_N - 1), agentName(FAULT_N - 2)]
    await deleteAgents(run, deleted)
    await run.cluster.restartApiserver()
    const restartedAt = Date.now()

    await expectConverged(run, "apiserver restarted twice", 2, FAULT_N - deleted.length, restartedAt)
    for (let i = 0; i < edited; i++)
      expect(await agentInstructions(run, agentName(i))).toEqual([
        expect.stringContaining("Edited between the restarts."),
      ])
    // Recovered by itself: the same process throughout.
    expect(run.operator.pid).toBe(operatorPid)
    expect(run.operator.child.exitCode).toBeNull()
  },
  TEST_TIMEOUT_MS,
)
