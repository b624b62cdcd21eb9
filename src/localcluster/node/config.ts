// Configuration of the real node (pure: no I/O, so every file it writes can be unit tested).
//
// Topology, per node index i (0..63, one per concurrently running real node on the machine):
// - network namespace `langop-node-<i>`; a veth pair links it to the host: host end `lgn<i>` with
//   198.18.0.<4i+1>/30, node end `eth0` with 198.18.0.<4i+2>/30 (the node IP). 198.18.0.0/15 is
//   reserved for benchmarking (RFC 2544), so it collides with no real network;
// - pods get 198.19.<i>.0/24 on the bridge `cni0` inside the namespace; the host has one route to
//   that range via the node IP (so the API server reaches webhooks and the kubelet), and the
//   namespace has no default route: pods reach nothing but the node, each other and the host end
//   of the veth for replies;
// - cgroups under `/langop-node-<i>` in every v1 hierarchy: `node` for the daemons, `kubepods`
//   (the kubelet's) for the pods, so a stop can find and kill every process the node ever started.
import { stringify } from "yaml"

export const maxNodes = 64

export interface NodePlan {
  readonly index: number
  /** The Kubernetes Node name. */
  readonly nodeName: string
  readonly netns: string
  readonly hostVeth: string
  readonly nodeVeth: string
  readonly hostIp: string
  readonly nodeIp: string
  /** prefix length of the veth link */
  readonly linkPrefix: number
  readonly podCidr: string
  readonly podGateway: string
  readonly bridge: string
  /** Cgroup path (relative to each hierarchy's root) that holds everything of this node. */
  readonly cgroup: string
}

export const planNode = (index: number, nodeName: string): NodePlan => {
  if (!Number.isInteger(index) || index < 0 || index >= maxNodes)
    throw new RangeError(`node index must be an integer in [0, ${maxNodes}), got ${index}`)
  return {
    index,
    nodeName,
    netns: `langop-node-${index}`,
    hostVeth: `lgn${index}`,
    nodeVeth: "eth0",
    hostIp: `198.18.0.${4 * index + 1}`,
    nodeIp: `198.18.0.${4 * index + 2}`,
    linkPrefix: 30,
    podCidr: `198.19.${index}.0/24`,
    podGateway: `198.19.${index}.1`,
    bridge: "cni0",
    cgroup: `/langop-node-${index}`,
  }
}

/** Cluster DNS Service address: inside the control plane's service range (10.0.0.0/24). */
export const clusterDnsIp = "10.0.0.10"
export const clusterDomain = "cluster.local"
/** Taint of the real node: only Pods that tolerate it run there, the kwok node keeps the rest. */
export const realNodeTaint = { key: "langop.io/real-node", value: "true", effect: "NoSchedule" } as const
export const realNodeLabel = "langop.io/real-node"

/** Files and directories of one node below its private dir. */
export interface NodeDirs {
  readonly root: string
  readonly containerdRoot: string
  readonly containerdState: string
  readonly containerdSocket: string
  readonly containerdConfig: string
  readonly runcRoot: string
  readonly cniConfDir: string
  readonly cniBinDir: string
  readonly cniDataDir: string
  readonly kubeletRoot: string
  readonly kubeletConfig: string
  readonly kubeletCertDir: string
  readonly podLogs: string
  readonly kubeProxyConfig: string
  readonly sysctlDir: string
  readonly mountNs: string
  readonly logs: string
}

export const nodeDirs = (root: string, cniBinDir: string): NodeDirs => ({
  root,
  containerdRoot: `${root}/containerd/root`,
  containerdState: `${root}/containerd/state`,
  containerdSocket: `${root}/containerd/containerd.sock`,
  containerdConfig: `${root}/containerd/config.toml`,
  runcRoot: `${root}/containerd/runc`,
  cniConfDir: `${root}/cni/net.d`,
  cniBinDir,
  cniDataDir: `${root}/cni/data`,
  kubeletRoot: `${root}/kubelet`,
  kubeletConfig: `${root}/kubelet-config.yaml`,
  kubeletCertDir: `${root}/kubelet-pki`,
  podLogs: `${root}/pod-logs`,
  kubeProxyConfig: `${root}/kube-proxy-config.yaml`,
  sysctlDir: `${root}/sysctl`,
  mountNs: `${root}/ns/mnt`,
  logs: `${root}/logs`,
})

/**
 * The kernel settings the kubelet checks at start and writes when they differ (its "kernel
 * tunables"), with the values it wants. Inside the node's mount namespace each of these /proc/sys
 * files is covered by a regular file holding exactly this value, so the kubelet finds nothing to
 * change and the machine's real settings are never written.
 */
export const kubeletSysctls: ReadonlyArray<{ readonly path: string; readonly value: string }> = [
  { path: "vm/overcommit_memory", value: "1" },
  { path: "vm/panic_on_oom", value: "0" },
  { path: "kernel/panic", value: "10" },
  { path: "kernel/panic_on_oops", value: "1" },
  { path: "kernel/keys/root_maxkeys", value: "1000000" },
  { path: "kernel/keys/root_maxbytes", value: "25000000" },
]

const toml = (v: string) => JSON.stringify(v)

/** containerd 2.4 config (version 4): every path below the node's dir, CRI on runc with cgroupfs. */
export const containerdConfigToml = (
  dirs: NodeDirs,
  opts: { readonly runc: string; readonly sandboxImage: string },
): string =>
  `version = 4
root = ${toml(dirs.containerdRoot)}
state = ${toml(dirs.containerdState)}
temp = ${toml(`${dirs.root}/containerd/tmp`)}
# The default imports /etc/containerd/conf.d/*.toml: nothing of the machine's containerd may apply here.
imports = []
# Plugins that would open sockets or directories outside the node's dir, or need kernel features
# this node does not use.
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.erofs",
]

[plugins.'io.containerd.server.v1.grpc']
  address = ${toml(dirs.containerdSocket)}

[plugins.'io.containerd.server.v1.ttrpc']
  address = ${toml(`${dirs.containerdSocket}.ttrpc`)}

[plugins.'io.containerd.server.v1.grpc-tcp']
  address = ""

[plugins.'io.containerd.server.v1.debug']
  address = ""

[plugins.'io.containerd.server.v1.metrics']
  address = ""

# The shims' sockets stay at their default, /run/containerd/s/<hash>: a path below the node's dir
# would exceed the 108-byte limit of a socket path, and /run is the node's own (a tmpfs in its
# mount namespace).

[plugins.'io.containerd.image-verifier.v1.bindir']
  bin_dir = ${toml(`${dirs.root}/containerd/image-verifier`)}

[plugins.'io.containerd.internal.v1.opt']
  path = ${toml(`${dirs.root}/containerd/opt`)}

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"

[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = ${toml(opts.sandboxImage)}

[plugins.'io.containerd.cri.v1.runtime']
  # runc cannot lower its own oom_score_adj without CAP_SYS_RESOURCE, which this machine's
  # bounding set lacks: keep containers at or above containerd's own score.
  restrict_oom_score_adj = true
  # Pod network namespaces are bind-mounted under the state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  cdi_spec_dirs = []

[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = "runc"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = ${toml(opts.runc)}
  Root = ${toml(dirs.runcRoot)}
  SystemdCgroup = false

[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = [${toml(dirs.cniBinDir)}]
  conf_dir = ${toml(dirs.cniConfDir)}
  max_conf_num = 1

[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  # Inside the node's network namespace: only the kubelet (same namespace) reaches it.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`

/** CNI network: a bridge with host-local IPAM, port mappings, and loopback in each pod. */
export const cniConflist = (plan: NodePlan, dirs: NodeDirs): string =>
  JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "langop-node",
      plugins: [
        {
          type: "bridge",
          bridge: plan.bridge,
          isGateway: true,
          // Pods' traffic never leaves the namespace (no default route there), so nothing to masquerade.
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            ranges: [[{ subnet: plan.podCidr, gateway: plan.podGateway }]],
            routes: [{ dst: "0.0.0.0/0" }],
            dataDir: dirs.cniDataDir,
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  )

export interface KubeletPaths {
  readonly caFile: string
  readonly tlsCert: string
  readonly tlsKey: string
}

/** KubeletConfiguration (kubelet.config.k8s.io/v1beta1). */
export const kubeletConfigYaml = (plan: NodePlan, dirs: NodeDirs, paths: KubeletPaths): string =>
  stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // This machine kind has cgroup v1 (hybrid) only; kubelet 1.35+ refuses v1 unless told.
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    cgroupRoot: plan.cgroup,
    cgroupsPerQOS: true,
    containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
    address: plan.nodeIp,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: paths.caFile },
    },
    authorization: { mode: "Webhook" },
    tlsCertFile: paths.tlsCert,
    tlsPrivateKeyFile: paths.tlsKey,
    clusterDNS: [clusterDnsIp],
    clusterDomain,
    // No resolv.conf from the host: pods resolve cluster names only, nothing outside.
    resolvConf: "",
    podLogsDirectory: dirs.podLogs,
    staticPodPath: "",
    registerNode: true,
    registerWithTaints: [realNodeTaint],
    protectKernelDefaults: false,
    // The kubelet must not delete images: they were imported locally and cannot be pulled again.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    imageMinimumGCAge: "87600h",
    // A development machine's disk and memory are shared; evict only when really short.
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
    failSwapOn: false,
    maxPods: 50,
    serializeImagePulls: false,
    enforceNodeAllocatable: ["pods"],
    nodeStatusReportFrequency: "10s",
    nodeStatusUpdateFrequency: "10s",
    shutdownGracePeriod: "0s",
    localStorageCapacityIsolation: true,
  })

/** kube-proxy in iptables mode (no IPVS or nft queue on this kernel kind). */
export const kubeProxyConfigYaml = (plan: NodePlan, kubeconfig: string): string =>
  stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    clientConnection: { kubeconfig },
    hostnameOverride: plan.nodeName,
    bindAddress: plan.nodeIp,
    healthzBindAddress: "127.0.0.1:10256",
    metricsBindAddress: "127.0.0.1:10249",
    clusterCIDR: plan.podCidr,
    // Conntrack table sizes and timeouts are machine-wide settings: leave them alone.
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: "0s",
      tcpCloseWaitTimeout: "0s",
    },
    nodePortAddresses: [`${plan.nodeIp}/32`],
  })

export const kubeletArgs = (plan: NodePlan, dirs: NodeDirs, kubeconfig: string): ReadonlyArray<string> => [
  `--config=${dirs.kubeletConfig}`,
  `--kubeconfig=${kubeconfig}`,
  `--root-dir=${dirs.kubeletRoot}`,
  `--cert-dir=${dirs.kubeletCertDir}`,
  `--hostname-override=${plan.nodeName}`,
  `--node-ip=${plan.nodeIp}`,
  `--node-labels=${realNodeLabel}=true`,
  "--v=1",
]

export const kubeProxyArgs = (dirs: NodeDirs): ReadonlyArray<string> => [
  `--config=${dirs.kubeProxyConfig}`,
  "--v=1",
]
