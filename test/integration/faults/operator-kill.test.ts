// The operator process SIGKILLed at random moments while it converges N agents, and started again each
// time (as a Deployment's kubelet would). Between kills, while a process is up, some agents are edited and
// one is deleted. The end state is the same as without the kills: every agent Ready at its generation,
// no duplicate or orphaned child, nothing stuck deleting.
import { expect, onTestFinished, test } from "vitest"
import { sleep } from "../../bench/lib/cluster.ts"
import { spawnOperator } from "../../bench/lib/operator.ts"
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

const KILLS = Number(process.env.LANGOP_FAULTS_KILLS ?? (FAULT_N >= 1000 ? "10" : "5"))

test(
  `the operator SIGKILLed ${KILLS} times during the convergence of ${FAULT_N} agents loses nothing`,
  async () => {
    const run = await startFaultRun()
    onTestFinished(() => run.stop())
    await applyAgents(run)
    await awaitProgress(run, 0.05)
    const deleted: Array<string> = []
    const moments: Array<number> = []
    for (let k = 0; k < KILLS; k++) {
      // A random moment within the first 3 s after the process became ready: mid-list, mid-reconcile.
      const delay = Math.floor(Math.random() * 3_000)
      moments.push(delay)
      await sleep(delay)
      await run.operator.kill("SIGKILL")
      run.operator = await spawnOperator({ kubeconfig: run.kubeconfig, certDir: run.certDir })
      await run.operator.awaitReady(180_000)
      // Changes while a (new) process is up; the admission webhook needs one to be serving.
      await editAgents(run, k, k + 1, `Edited after kill ${k + 1}.`)
      if (k % 2 === 1) {
        const name = agentName(FAULT_N - 1 - deleted.length)
        await deleteAgents(run, [name])
        deleted.push(name)
      }
    }
    console.log(`[faults] SIGKILL moments (ms after ready): ${moments.join(", ")}`)
    const lastKill = Date.now()

    await expectConverged(run, `operator SIGKILLed ${KILLS} times`, KILLS, FAULT_N - deleted.length, lastKill)
    for (let k = 0; k < KILLS; k++)
      expect(await agentInstructions(run, agentName(k))).toEqual([
        expect.stringContaining(`Edited after kill ${k + 1}.`),
      ])
  },
  TEST_TIMEOUT_MS,
)
