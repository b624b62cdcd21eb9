// Shared scaffolding of the fault tests: each test gets its OWN control plane (a fault must not disturb
// other tests) and runs the operator as a child process (`node src/main.ts --install`), applies the
// scale workload through the webhooks, injects its fault, and then checks what a user would: every
// object Ready at its generation, exactly one child of each kind per owner, no orphan, nothing stuck
// deleting, and every edit made during the fault reflected in the children.
//
// Size: LANGOP_FAULTS_N agents (default 40, so each test stays within about two minutes on a loaded
// 2-core machine); `npm run faults` runs the same tests at 1,000.
import { Effect } from "effect"
import { expect } from "vitest"
import { KubeClient } from "../../../src/kube/client.ts"
import { Builtin, Langop } from "../../../src/kube/resources.ts"
import { type BenchCluster, sleep, startBenchCluster } from "../../bench/lib/cluster.ts"
import { countChildren } from "../../bench/lib/floor.ts"
import { newCertDir, type OperatorProcess, spawnOperator } from "../../bench/lib/operator.ts"
import {
  agentDependencies,
  agentName,
  agents,
  asList,
  type Census,
  census,
  converged,
  readyCount,
} from "../../bench/lib/workload.ts"

export const FAULT_N = Number(process.env.LANGOP_FAULTS_N ?? "40")
/** Generous: the operator's convergence at N plus the machine's load. */
export const CONVERGE_TIMEOUT_MS = Math.max(180_000, FAULT_N * 600)
/** Per test: start-up of its own control plane and operator, the fault, and the convergence. */
export const TEST_TIMEOUT_MS = Math.max(240_000, 2 * CONVERGE_TIMEOUT_MS + 120_000)
export const NAMESPACE = "faults"
/** The dependencies' two tools are owners too (the sidecar one owns nothing). */
export const expectedOwners = (agentsLeft: number): number => agentsLeft + 2

export interface FaultRun {
  readonly cluster: BenchCluster
  readonly certDir: string
  operator: OperatorProcess
  readonly kubeconfig: string
  readonly stop: () => Promise<void>
}

export const startFaultRun = async (
  options: {
    /** The operator's kubeconfig (default: the admin one); may start something in front of the apiserver. */
    readonly kubeconfig?: (c: BenchCluster) => Promise<string>
    readonly env?: Record<string, string>
  } = {},
): Promise<FaultRun> => {
  const cluster = await startBenchCluster()
  try {
    const certDir = newCertDir()
    const kubeconfig = (await options.kubeconfig?.(cluster)) ?? cluster.info.kubeconfigPath
    const operator = await spawnOperator({
      kubeconfig,
      certDir,
      ...(options.env ? { env: options.env } : {}),
    })
    await operator.awaitReady(180_000)
    await mustKubectl(cluster, ["create", "namespace", NAMESPACE])
    await mustKubectl(cluster, ["apply", "--server-side", "-f", "-"], asList(agentDependencies(NAMESPACE)))
    await waitUntil("the dependencies to be Ready", CONVERGE_TIMEOUT_MS, async () => {
      const r = await cluster.run(readyCount(NAMESPACE, [Langop.LanguageTool, Langop.LanguageModel]))
      return r.ready === 3
    })
    const run: FaultRun = {
      cluster,
      certDir,
      operator,
      kubeconfig,
      stop: async () => {
        await run.operator.kill("SIGTERM")
        await cluster.stop()
      },
    }
    return run
  } catch (e) {
    await cluster.stop()
    throw e
  }
}

export const mustKubectl = async (c: BenchCluster, args: ReadonlyArray<string>, input?: string) => {
  const r = await c.kubectl(args, input)
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.slice(0, 2000)}`)
  return r.stdout
}

export const waitUntil = async (what: string, timeoutMs: number, check: () => Promise<boolean>) => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      if (await check()) return
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`)
    await sleep(500)
  }
}

/** The one apply of all agents (through the API server and our webhooks). */
export const applyAgents = (run: FaultRun, instructions?: string) =>
  mustKubectl(
    run.cluster,
    ["apply", "--server-side", "-f", "-"],
    asList(agents(NAMESPACE, FAULT_N, instructions)),
  )

/** Waits until at least `fraction` of the agents' children exist: the fault then lands mid-convergence. */
export const awaitProgress = (run: FaultRun, fraction: number) =>
  waitUntil(`${fraction * 100}% of the children`, CONVERGE_TIMEOUT_MS, async () => {
    const n = await run.cluster.run(countChildren(NAMESPACE, "LanguageAgent"))
    return n >= Math.ceil(3 * FAULT_N * fraction)
  })

/**
 * Changes the instructions of agents `from`…`to-1` (a spec change: generation + 1). Retried: right after
 * an operator restart the webhook configurations may still name the previous process's port until the new
 * one has re-registered them, and a request through them is refused meanwhile.
 */
export const editAgents = (run: FaultRun, from: number, to: number, instructions: string) =>
  waitUntil(`the edit of agents ${from}…${to - 1}`, 120_000, async () => {
    await run.cluster.run(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* Effect.forEach(
          Array.from({ length: to - from }, (_, i) => agentName(from + i)),
          (name) =>
            k.patch(
              Langop.LanguageAgent,
              { namespace: NAMESPACE, name },
              { type: "merge", body: { spec: { instructions } } },
            ),
          { concurrency: 10, discard: true },
        )
      }),
    )
    return true
  })

/** Deletes agents (retried like `editAgents`; an agent already gone counts as deleted). */
export const deleteAgents = (run: FaultRun, names: ReadonlyArray<string>) =>
  waitUntil(`the deletion of ${names.join(", ")}`, 120_000, async () => {
    await run.cluster.run(
      Effect.gen(function* () {
        const k = yield* KubeClient
        yield* Effect.forEach(
          names,
          (name) =>
            k
              .delete(Langop.LanguageAgent, { namespace: NAMESPACE, name })
              .pipe(Effect.catchTag("NotFound", () => Effect.void)),
          { discard: true },
        )
      }),
    )
    return true
  })

/** The `instructions` of each ConfigMap an agent owns (its own instructions merged with its persona). */
export const agentInstructions = (run: FaultRun, name: string) =>
  run.cluster.run(
    Effect.map(
      Effect.flatMap(Effect.service(KubeClient), (k) =>
        k.listAll(Builtin.ConfigMap, { namespace: NAMESPACE }),
      ),
      (l) =>
        l.items
          .filter((cm) =>
            (
              (cm.metadata as { ownerReferences?: ReadonlyArray<{ name: string; kind: string }> })
                .ownerReferences ?? []
            ).some((o) => o.kind === "LanguageAgent" && o.name === name),
          )
          .map((cm) => (cm.data as Record<string, string> | undefined)?.instructions),
    ),
  )

export interface FaultReport {
  readonly fault: string
  readonly faultsInjected: number
  readonly objectsChecked: number
  readonly lost: number
  readonly duplicated: number
  readonly orphans: number
  readonly stuckDeleting: number
  readonly convergeMs: number
}

/**
 * Waits (from `since`, the end of the last fault) until the namespace has converged with `agentsLeft`
 * agents; then asserts it and prints the report line. "Lost" = owners not Ready at their generation or
 * missing a child once the deadline passed.
 */
export const expectConverged = async (
  run: FaultRun,
  fault: string,
  /** A count, or a function for faults that go on while waiting (read when the report is made). */
  faultsInjected: number | (() => number),
  agentsLeft: number,
  since: number,
): Promise<Census> => {
  let last: Census | undefined
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS
  while (Date.now() < deadline) {
    last = await run.cluster.run(census(NAMESPACE)).catch(() => undefined)
    if (last !== undefined && converged(last, expectedOwners(agentsLeft))) break
    await sleep(1_000)
  }
  const c = last ?? (await run.cluster.run(census(NAMESPACE)))
  const report: FaultReport = {
    fault,
    faultsInjected: typeof faultsInjected === "number" ? faultsInjected : faultsInjected(),
    objectsChecked: c.objects + c.children,
    lost: c.notReady.length + c.missing.length + Math.max(0, expectedOwners(agentsLeft) - c.objects),
    duplicated: c.duplicated.length,
    orphans: c.orphans.length,
    stuckDeleting: c.deleting.length,
    convergeMs: Date.now() - since,
  }
  console.log(`[faults] ${JSON.stringify(report)}`)
  expect({
    objects: c.objects,
    notReady: c.notReady.slice(0, 10),
    missing: c.missing.slice(0, 10),
    duplicated: c.duplicated.slice(0, 10),
    orphans: c.orphans.slice(0, 10),
    deleting: c.deleting.slice(0, 10),
  }).toEqual({
    objects: expectedOwners(agentsLeft),
    notReady: [],
    missing: [],
    duplicated: [],
    orphans: [],
    deleting: [],
  })
  return c
}
