// LocalCluster: a real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler) plus kwok simulating one Node, as a scoped Effect resource.
//
// Guarantees once the effect succeeds:
// - the apiserver answers /readyz; KCM and scheduler answer /healthz; `serviceaccount/default`
//   exists in `default`; the fake Node (`kwok-node-0`) is Ready, so Pods get scheduled and reach
//   Running (kwok), Job pods complete, and deleted Pods go away; the default StorageClass `standard`
//   exists and a provisioner in this process binds its claims (provisioner.ts);
// - every process listens on 127.0.0.1 only; the admin kubeconfig is self-contained;
// - closing the scope stops every process by PID in reverse start order (SIGTERM, ≤10 s, SIGKILL)
//   and then deletes the run dir. A crashed owner's leftovers are reaped by the next start.
// On a startup failure the tails of all component logs are printed (and carried by the error).
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { KubeConfig } from "@kubernetes/client-node"
import { Context, Effect, Layer, type Scope } from "effect"
import { makeKubeClient } from "../kube/client.ts"
import { makeTransport } from "../kube/transport.ts"
import { ensureBinaries } from "./binaries.ts"
import {
  apiserverArgs,
  apiserverUrl,
  controllerManagerArgs,
  etcdArgs,
  etcdUrl,
  fakeNodeManifest,
  kwokArgs,
  type Layout,
  type Ports,
  schedulerArgs,
  schedulerConfigYaml,
} from "./components.ts"
import { ClusterStartError, type LocalClusterError } from "./errors.ts"
import { kubectl } from "./kubectl.ts"
import { freePorts, ProbeError, probe } from "./net.ts"
import { type RealNodeInfo, startRealNode } from "./node/node.ts"
import { makePki, writeKubeconfig } from "./pki.ts"
import { awaitReady, type ManagedProcess, spawnManaged } from "./process.ts"
import { runProvisioner } from "./provisioner.ts"
import { acquireRunDir, reapStaleRuns } from "./rundir.ts"

export interface LocalClusterInfo {
  /** Admin (system:masters) kubeconfig, certificates embedded. */
  readonly kubeconfigPath: string
  readonly kubectlPath: string
  /** https://127.0.0.1:<port> */
  readonly server: string
  /** PEM of the cluster CA (signs the apiserver's serving cert and all client certs). */
  readonly caPem: string
  readonly binDir: string
  readonly runDir: string
  /** Directory of cert-manager's CRD YAML files (apply with `kubectl apply -f <dir>`). */
  readonly certManagerCrdsDir: string
  readonly nodeName: string
  /** Component PIDs in start order. */
  readonly processes: ReadonlyArray<{ readonly name: string; readonly pid: number }>
  /** Present when started with `realNode: true`. */
  readonly realNode?: RealNodeInfo
}

export interface StartOptions {
  /** Receives build and startup progress lines; default: stderr. */
  readonly onProgress?: (line: string) => void
  /** Called as each component process starts (the CLI records PIDs with it). */
  readonly onProcess?: (name: string, pid: number) => void
  readonly nodeName?: string
  /** Also start a real node (kubelet, containerd, CoreDNS) beside the kwok node. */
  readonly realNode?: boolean
}

const stderrLine = (line: string) => {
  process.stderr.write(`${line}\n`)
}

const startTimeouts = {
  etcd: 30_000,
  apiserver: 120_000,
  component: 60_000,
  node: 90_000,
} as const

/** Starts the control plane; everything started is released with the enclosing scope. */
export const startLocalCluster = (
  options: StartOptions = {},
): Effect.Effect<LocalClusterInfo, LocalClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const say = options.onProgress ?? stderrLine
    const nodeName = options.nodeName ?? "kwok-node-0"
    const bins = yield* ensureBinaries(say)
    const started = Date.now()
    for (const dir of reapStaleRuns()) say(`[cluster] removed leftovers of a crashed run: ${dir}`)

    const run = yield* acquireRunDir(bins.binDir)
    const pkiDir = join(run.path, "pki")
    const logDir = join(run.path, "logs")
    mkdirSync(pkiDir, { recursive: true })
    mkdirSync(logDir, { recursive: true })
    const pki = yield* makePki(pkiDir)
    const [etcdClient = 0, etcdPeer = 0, apiPort = 0, kcmPort = 0, schedPort = 0, kwokPort = 0] =
      yield* freePorts(6)
    const ports: Ports = {
      etcdClient,
      etcdPeer,
      apiserver: apiPort,
      controllerManager: kcmPort,
      scheduler: schedPort,
      kwok: kwokPort,
    }
    const server = apiserverUrl(ports)
    const layout: Layout = {
      runDir: run.path,
      etcdDataDir: join(run.path, "etcd"),
      kubeconfigs: {
        admin: writeKubeconfig(join(run.path, "admin.kubeconfig"), server, pki, pki.admin),
        controllerManager: writeKubeconfig(
          join(run.path, "kcm.kubeconfig"),
          server,
          pki,
          pki.controllerManager,
        ),
        scheduler: writeKubeconfig(join(run.path, "scheduler.kubeconfig"), server, pki, pki.scheduler),
      },
      schedulerConfig: join(run.path, "scheduler.yaml"),
    }
    writeFileSync(layout.schedulerConfig, schedulerConfigYaml(layout))

    const procs: Array<ManagedProcess> = []
    const start = (name: string, command: string, args: ReadonlyArray<string>) =>
      spawnManaged({
        name,
        command,
        args,
        logDir,
        onStarted: (p) => {
          procs.push(p)
          run.record(p.name, p.pid)
          options.onProcess?.(p.name, p.pid)
        },
      }).pipe(Effect.tap(() => Effect.sync(() => say(`[cluster] started ${name}`))))
    const admin = (args: ReadonlyArray<string>, input?: string) =>
      kubectl(bins.kubectl, layout.kubeconfigs.admin, args, input !== undefined ? { input } : {})
    const succeeded = (args: ReadonlyArray<string>, expect?: string) =>
      admin(args).pipe(
        Effect.flatMap((r) =>
          r.exitCode === 0 && (expect === undefined || r.stdout.trim() === expect)
            ? Effect.void
            : Effect.fail(
                new ProbeError({ message: `kubectl ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}` }),
              ),
        ),
      )

    const etcd = yield* start("etcd", bins.etcd, etcdArgs(ports, layout))
    yield* awaitReady("etcd", probe(`${etcdUrl(ports)}/health`), [etcd], startTimeouts.etcd)

    yield* start("kube-apiserver", bins.kubeApiserver, apiserverArgs(ports, pki))
    yield* awaitReady(
      "kube-apiserver",
      probe(`${server}/readyz`, { ca: pki.caPem }),
      procs,
      startTimeouts.apiserver,
    )

    yield* start(
      "kube-controller-manager",
      bins.kubeControllerManager,
      controllerManagerArgs(ports, pki, layout),
    )
    yield* start("kube-scheduler", bins.kubeScheduler, schedulerArgs(ports, layout))
    yield* start("kwok", bins.kwok, kwokArgs(ports, layout, bins.kwokStages))
    yield* awaitReady(
      "kube-controller-manager",
      probe(`https://127.0.0.1:${ports.controllerManager}/healthz`),
      procs,
      startTimeouts.component,
    )
    yield* awaitReady(
      "kube-scheduler",
      probe(`https://127.0.0.1:${ports.scheduler}/healthz`),
      procs,
      startTimeouts.component,
    )
    yield* awaitReady("kwok", probe(`http://127.0.0.1:${ports.kwok}/healthz`), procs, startTimeouts.component)
    yield* awaitReady(
      "serviceaccount default/default",
      succeeded(["get", "serviceaccount", "default", "-n", "default", "-o", "name"]),
      procs,
      startTimeouts.component,
    )

    const created = yield* admin(["apply", "-f", "-"], fakeNodeManifest(nodeName))
    if (created.exitCode !== 0) {
      return yield* new ClusterStartError({
        component: "kwok node",
        message: `cannot create Node ${nodeName}: ${created.stderr}`,
        logs: "",
      })
    }
    yield* awaitReady(
      `node ${nodeName} Ready`,
      succeeded(
        ["get", "node", nodeName, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'],
        "True",
      ),
      procs,
      startTimeouts.node,
    )
    // Claims of the default StorageClass bind by themselves, as on any real cluster.
    const kc = new KubeConfig()
    kc.loadFromFile(layout.kubeconfigs.admin)
    yield* runProvisioner(makeKubeClient(yield* makeTransport(kc)), join(run.path, "volumes"))
    say(`[cluster] control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${server})`)
    const realNode = options.realNode
      ? yield* startRealNode(
          { server, pki, kubectlPath: bins.kubectl, adminKubeconfig: layout.kubeconfigs.admin },
          { onProgress: say, ...(options.onProcess !== undefined ? { onProcess: options.onProcess } : {}) },
        )
      : undefined
    return {
      kubeconfigPath: layout.kubeconfigs.admin,
      kubectlPath: bins.kubectl,
      server,
      caPem: pki.caPem,
      binDir: bins.binDir,
      runDir: run.path,
      certManagerCrdsDir: bins.certManagerCrdsDir,
      nodeName,
      processes: procs.map((p) => ({ name: p.name, pid: p.pid })),
      ...(realNode !== undefined ? { realNode } : {}),
    } satisfies LocalClusterInfo
  }).pipe(
    Effect.tapError((e) =>
      Effect.sync(() => {
        const say = options.onProgress ?? stderrLine
        say(`[cluster] startup failed: ${e.message}`)
        if (e._tag === "ClusterStartError" && e.logs !== "") say(e.logs)
      }),
    ),
  )

/** The running local control plane, as an Effect service. */
export class LocalCluster extends Context.Service<LocalCluster, LocalClusterInfo>()("langop/LocalCluster") {
  /** Starts a cluster when the layer is built; stops it when the layer's scope closes. */
  static readonly layer = (options: StartOptions = {}): Layer.Layer<LocalCluster, LocalClusterError> =>
    Layer.effect(LocalCluster, startLocalCluster(options))
}
