// Convergence, startup and memory of the real operator process on a fresh local control plane, next to
// the write floor measured in the same run. `node test/bench/convergence.ts [--n 1000 | --large]
// [--idle 120] [--kinds tools,agents] [--profile <dir>]`; one JSON document on the last stdout line.
//
// Per kind (tools: N service-mode LanguageTools; agents: N LanguageAgents on one shared model, service
// tool, sidecar tool and child persona), in its own namespace of one audited control plane:
// - the one apply: `kubectl apply --server-side` of all N objects (a List), through our webhooks;
// - apply → every child exists; apply → every object Ready at its generation;
// - the operator's writes (user agent `langop…`, counted from the API server's audit log) during
//   convergence and during the following idle window (`--idle` seconds);
// - operator CPU seconds and RSS (from /proc of the child process).
// Then startup with everything present (process start → /readyz, i.e. caches synced and the admission
// server holding its certificate), and the write floor: the same children applied by a bare
// server-side-apply loop at the operator's concurrency, on a second fresh control plane, where the one
// apply is also repeated with the CRDs installed but no webhooks (what admission adds to the apply).
// The machine is shared: figures are noisy; baseline and langop run back to back in this one process.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { Langop } from "../../src/kube/resources.ts"
import { serviceCidr } from "../../src/localcluster/components.ts"
import { operatorWrites, readAuditedWrites } from "./lib/audit.ts"
import { type BenchCluster, sleep, startBenchCluster } from "./lib/cluster.ts"
import { type Child, captureChildren, countChildren, type FloorResult, runFloor } from "./lib/floor.ts"
import { newCertDir, type OperatorProcess, spawnOperator } from "./lib/operator.ts"
import { agentDependencies, agents, asList, census, readyCount, tools } from "./lib/workload.ts"

const { values: flags } = parseArgs({
  options: {
    n: { type: "string", default: "100" },
    large: { type: "boolean", default: false },
    idle: { type: "string", default: "120" },
    kinds: { type: "string", default: "tools,agents" },
    profile: { type: "string" },
  },
})
const N = flags.large ? 10_000 : Number(flags.n)
const IDLE_S = Number(flags.idle)
const CONCURRENCY = 5 // LANGOP_MAX_CONCURRENT_RECONCILES' default: the operator's concurrency per controller
/** What each owner gets: a tool a Deployment, Service, ConfigMap and NetworkPolicy; an agent no Service. */
const CHILDREN_PER = { LanguageTool: 4, LanguageAgent: 3 } as const
const kinds = (flags.kinds ?? "").split(",").filter((k) => k === "tools" || k === "agents")
const log = (line: string) => process.stderr.write(`[convergence] ${line}\n`)
const mib = (x: number) => Math.round(x * 10) / 10
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null)

interface Phase {
  readonly kind: "tools" | "agents"
  readonly namespace: string
  readonly applyMs: number
  readonly childrenExistMs: number
  readonly readyMs: number
  readonly children: number
  readonly cpuSeconds: number
  readonly rssBeforeMiB: number
  readonly rssAfterMiB: number
  readonly writes: ReturnType<typeof operatorWrites>
  readonly idleWrites: ReturnType<typeof operatorWrites>
  readonly census: { duplicated: number; missing: number; orphans: number; notReady: number }
}

const mustKubectl = async (c: BenchCluster, args: ReadonlyArray<string>, input?: string) => {
  const r = await c.kubectl(args, input)
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(" ")}: ${r.stderr.slice(0, 2000)}`)
  return r.stdout
}

/** Polls until every owner of `kind` is Ready at its generation; returns when (since `t0`, the apply's start) every child existed and every owner was Ready. */
const converge = async (
  c: BenchCluster,
  namespace: string,
  kind: "LanguageTool" | "LanguageAgent",
  n: number,
  t0: number,
) => {
  const resource = kind === "LanguageTool" ? Langop.LanguageTool : Langop.LanguageAgent
  let childrenExistMs: number | undefined
  const deadline = t0 + Math.max(600_000, n * 600)
  for (;;) {
    if (
      childrenExistMs === undefined &&
      (await c.run(countChildren(namespace, kind))) >= CHILDREN_PER[kind] * n
    )
      childrenExistMs = Date.now() - t0
    const { ready } = await c.run(readyCount(namespace, [resource]))
    if (ready >= n && childrenExistMs !== undefined) return { childrenExistMs, readyMs: Date.now() - t0 }
    if (Date.now() > deadline) {
      // Say why, e.g. "failed to allocate a serviceIP: range is full" when the Service range is exhausted.
      const why = await c.kubectl([
        "get",
        kind.toLowerCase(),
        "-n",
        namespace,
        "-o",
        'jsonpath={range .items[*]}{.metadata.name}: {.status.conditions[?(@.type=="Ready")].message}{"\\n"}{end}',
      ])
      const messages = why.stdout
        .split("\n")
        .filter((l) => l !== "" && !l.endsWith(": "))
        .slice(0, 5)
      throw new Error(
        `${kind}: ${ready}/${n} Ready after ${Date.now() - t0} ms; Ready messages: ${messages.join("; ")}`,
      )
    }
    await sleep(n >= 1000 ? 2_000 : 500)
  }
}

const runPhase = async (c: BenchCluster, op: OperatorProcess, kind: "tools" | "agents"): Promise<Phase> => {
  const namespace = `bench-${kind}`
  await mustKubectl(c, ["create", "namespace", namespace])
  const owner = kind === "tools" ? "LanguageTool" : "LanguageAgent"
  if (kind === "agents") {
    await mustKubectl(c, ["apply", "--server-side", "-f", "-"], asList(agentDependencies(namespace)))
    for (;;) {
      const r = await c.run(readyCount(namespace, [Langop.LanguageTool, Langop.LanguageModel]))
      if (r.ready === 3) break
      await sleep(500)
    }
  }
  const objects = kind === "tools" ? tools(namespace, N) : agents(namespace, N)
  const before = op.stats()
  const t0 = Date.now()
  await mustKubectl(c, ["apply", "--server-side", "-f", "-"], asList(objects))
  const applyMs = Date.now() - t0
  log(`${kind}: the apply of ${N} took ${applyMs} ms`)
  const { childrenExistMs, readyMs } = await converge(c, namespace, owner, N, t0)
  const tReady = t0 + readyMs
  const after = op.stats()
  log(`${kind}: children exist ${childrenExistMs} ms, Ready ${readyMs} ms; idle ${IDLE_S} s`)
  await sleep(IDLE_S * 1000)
  const audited = readAuditedWrites(c.auditLog ?? "").filter((w) => w.namespace === namespace)
  const s = await c.run(census(namespace))
  return {
    kind,
    namespace,
    applyMs,
    childrenExistMs,
    readyMs,
    children: await c.run(countChildren(namespace, owner)),
    cpuSeconds: Math.round((after.cpuSeconds - before.cpuSeconds) * 100) / 100,
    rssBeforeMiB: mib(before.rssMiB),
    rssAfterMiB: mib(after.rssMiB),
    writes: operatorWrites(audited, t0, tReady + 1),
    idleWrites: operatorWrites(audited, tReady + 1, tReady + IDLE_S * 1000),
    census: {
      duplicated: s.duplicated.length,
      missing: s.missing.length,
      orphans: s.orphans.length,
      notReady: s.notReady.length,
    },
  }
}

/** ClusterIPs the local control plane can hand out (network and broadcast addresses are never used). */
const serviceCapacity = (): number => 2 ** (32 - Number(serviceCidr.split("/")[1])) - 2

const main = async () => {
  // Every service-mode tool needs a ClusterIP; a full range would show up as tools that never get Ready.
  const services = (kinds.includes("tools") ? N : 0) + (kinds.includes("agents") ? 1 : 0) + 1
  if (services > serviceCapacity())
    throw new Error(
      `${services} Services need ClusterIPs but the local control plane's Service range ${serviceCidr} holds ${serviceCapacity()}: widen serviceCidr in src/localcluster/components.ts`,
    )
  log(`N=${N}, idle ${IDLE_S} s, kinds ${kinds.join(",")}; starting an audited control plane`)
  const c = await startBenchCluster({ audit: true })
  const phases: Array<Phase> = []
  const captured: Record<string, ReadonlyArray<Child>> = {}
  let startup: Record<string, unknown> = {}
  let rssEmptyMiB = 0
  let peakRssMiB = 0
  try {
    const certDir = newCertDir()
    if (flags.profile !== undefined) mkdirSync(flags.profile, { recursive: true })
    const nodeArgs = flags.profile !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${flags.profile}`] : []
    const op = await spawnOperator({ kubeconfig: c.info.kubeconfigPath, certDir, nodeArgs })
    const emptyStartMs = await op.awaitReady(180_000)
    await sleep(2_000)
    rssEmptyMiB = mib(op.stats().rssMiB)
    for (const kind of kinds) {
      phases.push(await runPhase(c, op, kind as "tools" | "agents"))
      captured[kind] = await c.run(
        captureChildren(`bench-${kind}`, kind === "tools" ? "LanguageTool" : "LanguageAgent"),
      )
    }
    peakRssMiB = mib(op.stats().peakRssMiB)
    await op.kill("SIGTERM")
    // Startup with everything present: caches must list and sync it all before /readyz.
    const present = await mustKubectl(c, [
      "get",
      "languagetools,languageagents,deployments,services,configmaps,networkpolicies",
      "-A",
      "--no-headers",
    ])
    const op2 = await spawnOperator({ kubeconfig: c.info.kubeconfigPath, certDir })
    const loadedStartMs = await op2.awaitReady(600_000)
    await op2.kill("SIGTERM")
    startup = {
      emptyClusterMs: emptyStartMs,
      objectsPresent: present.trim().split("\n").length,
      withObjectsMs: loadedStartMs,
      goalMs: N >= 1000 ? 2_000 : 500,
      meetsGoal: loadedStartMs <= (N >= 1000 ? 2_000 : 500),
    }
  } finally {
    await c.stop()
  }

  log("write floor on a fresh control plane")
  const f = await startBenchCluster()
  const floors: Record<string, FloorResult> = {}
  const applyWithoutWebhooks: Record<string, number> = {}
  try {
    for (const kind of kinds)
      floors[kind] = await runFloor(f, `floor-${kind}`, captured[kind] ?? [], CONCURRENCY)
    // The same one apply with the CRDs installed but no operator and no webhooks: what the webhooks add.
    await mustKubectl(f, ["apply", "--server-side", "-f", join(import.meta.dirname, "..", "..", "crds")])
    await mustKubectl(f, ["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"])
    for (const kind of kinds) {
      const namespace = `nowebhook-${kind}`
      await mustKubectl(f, ["create", "namespace", namespace])
      if (kind === "agents")
        await mustKubectl(f, ["apply", "--server-side", "-f", "-"], asList(agentDependencies(namespace)))
      const objects = kind === "tools" ? tools(namespace, N) : agents(namespace, N)
      const t0 = Date.now()
      await mustKubectl(f, ["apply", "--server-side", "-f", "-"], asList(objects))
      applyWithoutWebhooks[kind] = Date.now() - t0
    }
  } finally {
    await f.stop()
  }

  const perKind = Object.fromEntries(
    phases.map((p) => {
      const floor = floors[p.kind]
      const excess = p.writes.total - (p.children + N)
      return [
        p.kind,
        {
          n: N,
          apply: {
            throughWebhooksDuringConvergenceMs: p.applyMs,
            withoutWebhooksMs: applyWithoutWebhooks[p.kind],
            ratio: ratio(p.applyMs, applyWithoutWebhooks[p.kind] ?? 0),
            goal: "≤ 1.3× the same apply without webhooks",
            meetsGoal: (ratio(p.applyMs, applyWithoutWebhooks[p.kind] ?? 0) ?? Infinity) <= 1.3,
          },
          childrenExist: {
            langopMs: p.childrenExistMs,
            floorMs: floor?.childrenExistMs,
            ratio: ratio(p.childrenExistMs, floor?.childrenExistMs ?? 0),
            goal: "≤ 1.5× the floor",
            meetsGoal: (ratio(p.childrenExistMs, floor?.childrenExistMs ?? 0) ?? Infinity) <= 1.5,
          },
          ready: {
            langopMs: p.readyMs,
            floorDeploymentsAvailableMs: floor?.deploymentsAvailableMs,
            ratio: ratio(p.readyMs, floor?.deploymentsAvailableMs ?? 0),
            goal: "≤ 1.5× the floor",
            meetsGoal: (ratio(p.readyMs, floor?.deploymentsAvailableMs ?? 0) ?? Infinity) <= 1.5,
          },
          writesDuringConvergence: {
            langop: p.writes,
            floor: floor?.writes,
            children: p.children,
            budget: p.children + N,
            excess,
            ratioToFloor: ratio(p.writes.total, floor?.writes ?? 0),
            goal: "≤ children + 1 status write per object",
            meetsGoal: excess <= 0,
          },
          idleWrites: { seconds: IDLE_S, ...p.idleWrites, goal: 0, meetsGoal: p.idleWrites.total === 0 },
          cpuSeconds: p.cpuSeconds,
          rssMiB: { before: p.rssBeforeMiB, after: p.rssAfterMiB },
          memoryPerObjectMiB: {
            owners: N,
            childrenCached: p.children,
            perOwnerWithChildren: mib((p.rssAfterMiB - p.rssBeforeMiB) / N),
          },
          census: p.census,
        },
      ]
    }),
  )
  console.log(
    JSON.stringify({
      n: N,
      idleWindowSeconds: IDLE_S,
      operatorConcurrency: CONCURRENCY,
      note: "one audited control plane for langop (kinds in separate namespaces, one after the other), a second fresh one for the floor; writes counted from the API server's audit log (user agent langop…); shared 2-core machine: noisy",
      operator: {
        rssEmptyClusterMiB: rssEmptyMiB,
        peakRssMiB,
        rssGoal: "≤ 150 MiB at 10,000 agents",
        meetsRssGoal: N >= 10_000 ? peakRssMiB <= 150 : null,
      },
      startup,
      ...perKind,
    }),
  )
}

await main()
