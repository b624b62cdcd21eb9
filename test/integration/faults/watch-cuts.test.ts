// The operator reaches the apiserver only through a proxy that drops every connection every few seconds,
// during the whole convergence of N agents. Edits and deletes are made (directly, not through the proxy)
// while the streams are being cut. No change may be missed: every edit reaches its agent's ConfigMap and
// every agent is Ready at its new generation; deleted agents leave nothing behind.
import { expect, onTestFinished, test } from "vitest"
import { agentName } from "../../bench/lib/workload.ts"
import { type CuttingProxy, kubeconfigVia, startCuttingProxy } from "./proxy.ts"
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

const CUT_EVERY_MS = 4_000

test(
  `watch streams cut every ${CUT_EVERY_MS / 1000} s during the convergence of ${FAULT_N} agents miss no change`,
  async () => {
    let proxy: CuttingProxy | undefined
    const run = await startFaultRun({
      kubeconfig: async (c) => {
        proxy = await startCuttingProxy(Number(new URL(c.info.server).port))
        return kubeconfigVia(c.info.kubeconfigPath, c.info.server, proxy.port)
      },
    })
    onTestFinished(async () => {
      await run.stop()
      await proxy?.close()
    })
    if (proxy === undefined) throw new Error("the proxy did not start")
    const through = proxy
    let cuts = 0
    let connectionsCut = 0
    const cutter = setInterval(() => {
      cuts += 1
      connectionsCut += through.cut()
    }, CUT_EVERY_MS)
    onTestFinished(() => clearInterval(cutter))

    await applyAgents(run)
    await awaitProgress(run, 0.1)
    const edited = Math.max(4, Math.floor(FAULT_N / 5))
    // Edits in several rounds, so some land while streams are down and some while they reconnect.
    for (let from = 0; from < edited; from += 2) {
      await editAgents(run, from, Math.min(edited, from + 2), "Edited during the cuts.")
      await new Promise((r) => setTimeout(r, CUT_EVERY_MS / 3))
    }
    const deleted = [agentName(FAULT_N - 1), agentName(FAULT_N - 2)]
    await deleteAgents(run, deleted)
    const lastEdit = Date.now()

    // The streams keep being cut until the end: convergence must not depend on a quiet network.
    await expectConverged(run, "watch streams cut repeatedly", () => cuts, FAULT_N - deleted.length, lastEdit)
    clearInterval(cutter)
    console.log(`[faults] ${cuts} cuts, ${connectionsCut} connections dropped`)
    expect(connectionsCut).toBeGreaterThan(0)
    for (let i = 0; i < edited; i++)
      expect(await agentInstructions(run, agentName(i))).toEqual([
        expect.stringContaining("Edited during the cuts."),
      ])
  },
  TEST_TIMEOUT_MS,
)
