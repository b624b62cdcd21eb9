// A fresh local control plane for the scale benches and the fault tests, with what they need on top of
// src/localcluster: an apiserver restarted with an audit log (so writes are counted by the API server
// itself, per user agent and namespace), apiserver restarts on demand, the etcd PID (to pause it), and
// a KubeClient runtime for polling.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit, ManagedRuntime, Scope } from "effect"
import { KubeClient, type KubeClientShape, layerFromFile } from "../../../src/kube/client.ts"
import { type LocalClusterInfo, startLocalCluster } from "../../../src/localcluster/cluster.ts"
import { fakeNodeManifest } from "../../../src/localcluster/components.ts"
import { kubectlPromise } from "../../../src/localcluster/kubectl.ts"
import { probe } from "../../../src/localcluster/net.ts"
import { awaitReady, signalPid, spawnManaged } from "../../../src/localcluster/process.ts"

export interface BenchCluster {
  readonly info: LocalClusterInfo
  /** The audit log (JSON lines) when started with `audit: true`. */
  readonly auditLog: string | undefined
  readonly etcdPid: number
  /** PID of the apiserver now serving (changes with each restart). */
  readonly apiserverPid: () => number
  /** SIGTERM the apiserver (SIGKILL after 10 s), start it again with the same command line, await /readyz. */
  readonly restartApiserver: () => Promise<void>
  /** `kubectl` against this cluster; never throws on a non-zero exit. */
  readonly kubectl: (
    args: ReadonlyArray<string>,
    input?: string,
  ) => Promise<{ exitCode: number | null; stdout: string; stderr: string }>
  readonly run: <A, E>(eff: Effect.Effect<A, E, KubeClient>) => Promise<A>
  readonly stop: () => Promise<void>
}

/** Running (a zombie, exited but not yet reaped, counts as gone). */
export const isAlive = (pid: number): boolean => {
  try {
    return !/^State:\s+Z/mu.test(readFileSync(`/proc/${pid}/status`, "utf8"))
  } catch {
    return false
  }
}

// What is running now, stopped on SIGINT/SIGTERM too: an interrupted bench leaves no control plane or
// operator behind.
const running = new Set<() => Promise<void>>()
let handlersInstalled = false
export const stopOnSignal = (stop: () => Promise<void>): (() => void) => {
  if (!handlersInstalled) {
    handlersInstalled = true
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        void Promise.allSettled([...running].map((f) => f())).then(() => process.exit(130))
      })
  }
  running.add(stop)
  return () => running.delete(stop)
}

/** Pods a kwok node can hold: room for every Pod of a 10,000-object run on one extra node. */
const SCALE_NODE_PODS = "25000"

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(200)
  }
}

// Only writes are logged (reads would dwarf them), at Metadata level: verb, user agent, objectRef.
const auditPolicy = [
  "apiVersion: audit.k8s.io/v1",
  "kind: Policy",
  "omitStages: [RequestReceived]",
  "rules:",
  "  - level: None",
  "    verbs: [get, list, watch]",
  "  - level: Metadata",
  "",
].join("\n")

export const startBenchCluster = async (
  options: { readonly audit?: boolean } = {},
): Promise<BenchCluster> => {
  const scope = Effect.runSync(Scope.make())
  const inScope = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>) =>
    Effect.runPromise(Scope.provide(eff, scope))
  try {
    const info = await inScope(startLocalCluster({ onProgress: () => {} }))
    const pidOf = (name: string) => {
      const p = info.processes.find((x) => x.name === name)
      if (p === undefined) throw new Error(`no ${name} process`)
      return p.pid
    }
    let apiPid = pidOf("kube-apiserver")
    const [binary = "", ...baseArgs] = readFileSync(`/proc/${apiPid}/cmdline`, "utf8")
      .split("\0")
      .filter((s) => s !== "")
    const logDir = join(info.runDir, "logs")
    const auditLog = options.audit === true ? join(info.runDir, "audit.log") : undefined
    const args =
      auditLog === undefined
        ? baseArgs
        : (() => {
            const policy = join(info.runDir, "audit-policy.yaml")
            writeFileSync(policy, auditPolicy)
            return [
              ...baseArgs,
              `--audit-policy-file=${policy}`,
              `--audit-log-path=${auditLog}`,
              "--audit-log-format=json",
              "--audit-log-maxsize=0",
            ]
          })()
    let generation = 0
    const restartApiserver = async () => {
      const old = apiPid
      signalPid(old, "SIGTERM")
      await waitFor("the apiserver to exit", () => !isAlive(old), 10_000).catch(async () => {
        signalPid(old, "SIGKILL")
        await waitFor("the apiserver to exit after SIGKILL", () => !isAlive(old), 10_000)
      })
      generation += 1
      const p = await inScope(
        spawnManaged({ name: `kube-apiserver-${generation}`, command: binary, args, logDir }),
      )
      apiPid = p.pid
      await Effect.runPromise(
        awaitReady(
          "kube-apiserver (restarted)",
          probe(`${info.server}/readyz`, { ca: info.caPem }),
          [],
          120_000,
        ),
      )
    }
    if (auditLog !== undefined) await restartApiserver()
    const kubectl = async (a: ReadonlyArray<string>, input?: string) => {
      const r = await kubectlPromise(info.kubectlPath, info.kubeconfigPath, a, {
        timeoutMs: 900_000,
        ...(input === undefined ? {} : { input }),
      })
      return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }
    }
    // The harness's one fake Node holds 110 Pods; the workload needs one per tool, agent and model.
    const node = JSON.parse(fakeNodeManifest("kwok-scale")) as {
      status: Record<string, Record<string, string>>
    }
    for (const field of ["allocatable", "capacity"])
      node.status[field] = { ...node.status[field], pods: SCALE_NODE_PODS }
    const created = await kubectl(["apply", "-f", "-"], JSON.stringify(node))
    if (created.exitCode !== 0) throw new Error(`cannot create the scale Node: ${created.stderr}`)
    await waitFor(
      "Node kwok-scale to be Ready",
      async () => {
        const r = await kubectl([
          "get",
          "node",
          "kwok-scale",
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ])
        return r.stdout.trim() === "True"
      },
      120_000,
    )
    const runtime = ManagedRuntime.make(layerFromFile(info.kubeconfigPath))
    const stop = async () => {
      await runtime.dispose()
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    const forget = stopOnSignal(stop)
    return {
      info,
      auditLog,
      etcdPid: pidOf("etcd"),
      apiserverPid: () => apiPid,
      restartApiserver,
      kubectl,
      run: (eff) => runtime.runPromise(eff),
      stop: async () => {
        forget()
        await stop()
      },
    }
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
}

/** The KubeClient of `run`, for one-off calls. */
export const client: Effect.Effect<KubeClientShape, never, KubeClient> = Effect.service(KubeClient)
