// A real node (kubelet + containerd + runc + CNI + kube-proxy, CoreDNS on it) joined to a running
// local control plane, as a scoped Effect resource.
//
// Guarantees once the effect succeeds:
// - Node `<nodeName>` is Ready with the containerd runtime, labelled `langop.io/real-node=true` and
//   tainted `langop.io/real-node=true:NoSchedule` (only Pods that tolerate it run there; the kwok
//   node keeps every other workload);
// - the images in `images` are in its containerd (`imagePullPolicy: Never` or `IfNotPresent`);
// - Service `kube-dns` (10.0.0.10) in `kube-system` answers for cluster names; the `kubernetes`
//   Service reaches the API server from Pods; kube-proxy (iptables) serves ClusterIPs;
// - closing the scope stops the daemons (SIGTERM, ≤10 s, SIGKILL) and then removes every process,
//   mount, network namespace, cgroup and iptables rule of the node (see host.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, type Scope } from "effect"
import { runCommand } from "../command.ts"
import { ClusterStartError, type LocalClusterError } from "../errors.ts"
import { kubectl } from "../kubectl.ts"
import { ProbeError } from "../net.ts"
import { clientExt, leaf, type Pki, writeKubeconfig } from "../pki.ts"
import { awaitReady, type ManagedProcess, spawnManaged } from "../process.ts"
import { ensureNodeBuild, nodesRoot } from "./build.ts"
import {
  cniConflist,
  containerdConfigToml,
  kubeletArgs,
  kubeletConfigYaml,
  kubeProxyArgs,
  kubeProxyConfigYaml,
  nodeDirs,
} from "./config.ts"
import { apiserverEndpointSlice, corednsManifests } from "./dns.ts"
import {
  claimNode,
  createCgroups,
  createMountNamespace,
  createNetwork,
  reapStaleNodes,
  sh,
  teardownNode,
} from "./host.ts"
import { corednsImage, ensureImageArchive, nodeBin, nodeImages, pauseImage } from "./images.ts"
import type { ImageBuildError } from "./oci.ts"
import { ensureOperatorImage, operatorImageReference } from "./operator-image.ts"

export interface ControlPlaneAccess {
  /** https://127.0.0.1:<port> */
  readonly server: string
  readonly pki: Pki
  readonly kubectlPath: string
  readonly adminKubeconfig: string
}

export interface RealNodeOptions {
  readonly nodeName?: string
  readonly onProgress?: (line: string) => void
  readonly onProcess?: (name: string, pid: number) => void
}

export interface RealNodeInfo {
  readonly nodeName: string
  readonly nodeIp: string
  /** Host end of the node's veth link. */
  readonly hostIp: string
  readonly podCidr: string
  readonly netns: string
  readonly dir: string
  readonly buildDir: string
  /** Fully qualified references of the images imported into the node's containerd. */
  readonly images: ReadonlyArray<string>
  readonly processes: ReadonlyArray<{ readonly name: string; readonly pid: number }>
}

const timeouts = { daemon: 60_000, node: 180_000, dns: 180_000 } as const

const serverExt = (ip: string, name: string) =>
  [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
    `subjectAltName=IP:${ip},DNS:${name}`,
    "",
  ].join("\n")

export const startRealNode = (
  cp: ControlPlaneAccess,
  options: RealNodeOptions = {},
): Effect.Effect<RealNodeInfo, LocalClusterError, Scope.Scope> =>
  Effect.gen(function* () {
    const say = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`))
    const nodeName = options.nodeName ?? "real-node-0"
    const apiPort = Number(new URL(cp.server).port)
    const build = yield* ensureNodeBuild(say)
    const root = nodesRoot()
    for (const r of yield* reapStaleNodes(root)) say(`[node] removed leftovers of a killed run: ${r}`)

    const { plan, dir } = yield* Effect.acquireRelease(claimNode(root, nodeName), (n) =>
      teardownNode(n.plan, n.dir).pipe(
        Effect.tap(() => Effect.sync(() => say(`[node] removed ${n.plan.netns}`))),
      ),
    )
    // Runs after the daemons stopped (finalizers run in reverse): the Node object goes too.
    yield* Effect.addFinalizer(() =>
      kubectl(cp.kubectlPath, cp.adminKubeconfig, [
        "delete",
        "node",
        nodeName,
        "--wait=false",
        "--ignore-not-found",
      ]).pipe(Effect.asVoid),
    )
    const dirs = nodeDirs(dir, join(build.dir, "cni"))
    for (const d of [
      dirs.logs,
      dirs.cniConfDir,
      dirs.cniDataDir,
      dirs.kubeletRoot,
      dirs.kubeletCertDir,
      dirs.podLogs,
    ])
      mkdirSync(d, { recursive: true })
    mkdirSync(join(dirs.containerdState, ".."), { recursive: true })
    yield* createNetwork(plan)
    const cgroupProcs = yield* createCgroups(plan)
    yield* createMountNamespace(dirs)
    say(`[node] ${plan.netns}: node IP ${plan.nodeIp}, pods ${plan.podCidr}`)

    // Certificates and kubeconfigs: the kubelet as system:node:<name>, kube-proxy as
    // system:kube-proxy (both bound by bootstrap RBAC), through nsproxy's 127.0.0.1 in the node.
    const pkiDir = cp.pki.dir
    const [kubeletClient, kubeletServing, proxyClient] = yield* Effect.all(
      [
        leaf(pkiDir, `${plan.netns}-kubelet`, `/O=system:nodes/CN=system:node:${nodeName}`, clientExt),
        leaf(
          pkiDir,
          `${plan.netns}-kubelet-serving`,
          `/CN=system:node:${nodeName}`,
          serverExt(plan.nodeIp, nodeName),
        ),
        leaf(pkiDir, `${plan.netns}-kube-proxy`, "/CN=system:kube-proxy", clientExt),
      ],
      { concurrency: 1 },
    )
    const inNodeServer = `https://127.0.0.1:${apiPort}`
    const kubeletKubeconfig = writeKubeconfig(
      join(dir, "kubelet.kubeconfig"),
      inNodeServer,
      cp.pki,
      kubeletClient,
    )
    const proxyKubeconfig = writeKubeconfig(
      join(dir, "kube-proxy.kubeconfig"),
      inNodeServer,
      cp.pki,
      proxyClient,
    )
    const sandboxImage = `docker.io/${pauseImage.reference}`
    writeFileSync(
      dirs.containerdConfig,
      containerdConfigToml(dirs, { runc: nodeBin(build, "runc"), sandboxImage }),
    )
    writeFileSync(join(dirs.cniConfDir, "10-langop.conflist"), cniConflist(plan, dirs))
    writeFileSync(
      dirs.kubeletConfig,
      kubeletConfigYaml(plan, dirs, {
        caFile: cp.pki.ca.cert,
        tlsCert: kubeletServing.cert,
        tlsKey: kubeletServing.key,
      }),
    )
    writeFileSync(dirs.kubeProxyConfig, kubeProxyConfigYaml(plan, proxyKubeconfig))

    const procs: Array<ManagedProcess> = []
    // Every daemon joins the node's cgroups before it execs (or does not start), so a stop finds it
    // and everything it forks.
    const joinCgroups = `set -e; ${cgroupProcs.map((f) => `echo $$ > '${f}'`).join("; ")}; exec "$@"`
    const start = (name: string, command: ReadonlyArray<string>) =>
      spawnManaged({
        name: `${plan.netns}-${name}`,
        command: "sh",
        args: ["-c", joinCgroups, "sh", ...command],
        logDir: dirs.logs,
        onStarted: (p) => {
          procs.push(p)
          options.onProcess?.(p.name, p.pid)
        },
      }).pipe(Effect.tap(() => Effect.sync(() => say(`[node] started ${name}`))))
    const inNode = (bin: string, args: ReadonlyArray<string>) => [
      "nsenter",
      `--net=/run/netns/${plan.netns}`,
      `--mount=${dirs.mountNs}`,
      "--",
      bin,
      ...args,
    ]
    const admin = (args: ReadonlyArray<string>, input?: string) =>
      kubectl(cp.kubectlPath, cp.adminKubeconfig, args, input !== undefined ? { input } : {})
    const check = (what: string, effect: Effect.Effect<boolean, unknown>) =>
      effect.pipe(
        Effect.orElseSucceed(() => false),
        Effect.flatMap((ok) =>
          ok ? Effect.void : Effect.fail(new ProbeError({ message: `${what}: not yet` })),
        ),
      )
    const kubectlOut = (args: ReadonlyArray<string>) =>
      admin(args).pipe(Effect.map((r) => (r.exitCode === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`)))

    // The API server, reachable inside the node at 127.0.0.1 (kubelet, kube-proxy) and the node IP
    // (Pods, through the `kubernetes` Service).
    const nsproxy = yield* start("nsproxy", [
      nodeBin(build, "nsproxy"),
      `-netns=/run/netns/${plan.netns}`,
      `-to=127.0.0.1:${apiPort}`,
      `-listen=127.0.0.1:${apiPort}`,
      `-listen=${plan.nodeIp}:${apiPort}`,
    ])
    yield* awaitReady(
      "nsproxy",
      check(
        "nsproxy",
        Effect.sync(() => readFileSync(nsproxy.logPath, "utf8").includes("ready")),
      ),
      procs,
      timeouts.daemon,
    )

    yield* start("containerd", inNode(nodeBin(build, "containerd"), ["--config", dirs.containerdConfig]))
    const ctr = (args: ReadonlyArray<string>) =>
      runCommand(
        nodeBin(build, "ctr"),
        ["--address", dirs.containerdSocket, "--namespace", "k8s.io", ...args],
        {
          timeoutMs: 300_000,
        },
      )
    yield* awaitReady(
      "containerd",
      check("containerd", ctr(["version"]).pipe(Effect.map((r) => r.exitCode === 0))),
      procs,
      timeouts.daemon,
    )
    // The node's own images (built from its build dir) and the operator's (built from this checkout).
    const archives: ReadonlyArray<readonly [string, Effect.Effect<string, ImageBuildError>]> = [
      ...nodeImages.map((image) => [image.reference, ensureImageArchive(build, image)] as const),
      [operatorImageReference, ensureOperatorImage()],
    ]
    const images: Array<string> = []
    for (const [reference, ensure] of archives) {
      const archive = yield* ensure.pipe(
        Effect.mapError(
          (e) => new ClusterStartError({ component: `image ${e.image}`, message: e.message, logs: "" }),
        ),
      )
      const r = yield* ctr(["images", "import", archive])
      if (r.exitCode !== 0)
        return yield* new ClusterStartError({
          component: "containerd",
          message: `ctr images import ${archive}: ${r.stderr.trim()}`,
          logs: "",
        })
      images.push(`docker.io/${reference}`)
    }
    say(`[node] images: ${images.join(", ")}`)

    yield* start("kubelet", inNode(nodeBin(build, "kubelet"), kubeletArgs(plan, dirs, kubeletKubeconfig)))
    yield* awaitReady(
      `node ${nodeName} Ready`,
      check(
        "node Ready",
        kubectlOut([
          "get",
          "node",
          nodeName,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]).pipe(Effect.map((s) => s === "True")),
      ),
      procs,
      timeouts.node,
    )
    const apply = (what: string, manifest: string) =>
      admin(
        ["apply", "--server-side", "--force-conflicts", "--field-manager=langop-localcluster", "-f", "-"],
        manifest,
      ).pipe(
        Effect.flatMap((r) =>
          r.exitCode === 0
            ? Effect.void
            : Effect.fail(new ClusterStartError({ component: what, message: r.stderr.trim(), logs: "" })),
        ),
      )
    yield* apply("kubernetes EndpointSlice", apiserverEndpointSlice(plan.nodeIp, apiPort))
    yield* start("kube-proxy", inNode(nodeBin(build, "kube-proxy"), kubeProxyArgs(dirs)))
    yield* awaitReady(
      "kube-proxy",
      check(
        "kube-proxy rules",
        runCommand("ip", [
          "netns",
          "exec",
          plan.netns,
          "iptables",
          "-w",
          "-t",
          "nat",
          "-S",
          "KUBE-SERVICES",
        ]).pipe(Effect.map((r) => r.exitCode === 0 && r.stdout.includes("KUBE-SVC-"))),
      ),
      procs,
      timeouts.daemon,
    )

    yield* apply("CoreDNS", corednsManifests(`docker.io/${corednsImage.reference}`))
    yield* awaitReady(
      "CoreDNS",
      check(
        "coredns available",
        kubectlOut([
          "get",
          "deployment",
          "coredns",
          "-n",
          "kube-system",
          "-o",
          "jsonpath={.status.availableReplicas}",
        ]).pipe(Effect.map((s) => s === "1")),
      ),
      procs,
      timeouts.dns,
    )
    say(`[node] ${nodeName} ready`)
    return {
      nodeName,
      nodeIp: plan.nodeIp,
      hostIp: plan.hostIp,
      podCidr: plan.podCidr,
      netns: plan.netns,
      dir,
      buildDir: build.dir,
      images,
      processes: procs.map((p) => ({ name: p.name, pid: p.pid })),
    } satisfies RealNodeInfo
  })

/** Runs `args` inside the node's network namespace (for diagnostics and tests). */
export const inNodeNetwork = (netns: string, file: string, args: ReadonlyArray<string>) =>
  sh("ip", ["netns", "exec", netns, file, ...args])
