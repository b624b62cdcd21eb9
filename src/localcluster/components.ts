// Command lines of the control-plane components (pure: no I/O, so they can be unit tested).
// Invariant: every listener is bound explicitly to 127.0.0.1 (etcd client+peer+metrics,
// apiserver, KCM and scheduler secure ports, kwok's server); nothing binds a wildcard address.
// Flags follow kubernetes' hack/local-up-cluster.sh and controller-runtime's envtest.
import { join } from "node:path"
import type { Pki } from "./pki.ts"

export interface Ports {
  readonly etcdClient: number
  readonly etcdPeer: number
  readonly apiserver: number
  readonly controllerManager: number
  readonly scheduler: number
  readonly kwok: number
}

export interface Layout {
  readonly runDir: string
  /** etcd data dir (on /dev/shm when available: fsync-free and fast). */
  readonly etcdDataDir: string
  readonly kubeconfigs: {
    readonly admin: string
    readonly controllerManager: string
    readonly scheduler: string
  }
  readonly schedulerConfig: string
}

/** Service IP range; the first address (10.0.0.1) is the `kubernetes` Service. */
export const serviceCidr = "10.0.0.0/16"
/** Pod IPs that kwok hands out; disjoint from the service range. */
export const podCidr = "10.244.0.0/16"
export const loopback = "127.0.0.1"

export const etcdUrl = (ports: Ports): string => `http://${loopback}:${ports.etcdClient}`
export const apiserverUrl = (ports: Ports): string => `https://${loopback}:${ports.apiserver}`

export const etcdArgs = (ports: Ports, layout: Layout): ReadonlyArray<string> => {
  const client = etcdUrl(ports)
  const peer = `http://${loopback}:${ports.etcdPeer}`
  return [
    "--name=langop",
    `--data-dir=${layout.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=langop=${peer}`,
    "--initial-cluster-state=new",
    // Metrics are served on the client URL; no extra listener.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ]
}

export const apiserverArgs = (ports: Ports, pki: Pki): ReadonlyArray<string> => [
  `--etcd-servers=${etcdUrl(ports)}`,
  `--bind-address=${loopback}`,
  `--secure-port=${ports.apiserver}`,
  `--advertise-address=${loopback}`,
  // No kube-proxy here: the `kubernetes` Service needs no endpoints, and a loopback endpoint
  // would be invalid anyway.
  "--endpoint-reconciler-type=none",
  `--cert-dir=${pki.dir}`,
  `--tls-cert-file=${pki.apiserver.cert}`,
  `--tls-private-key-file=${pki.apiserver.key}`,
  `--client-ca-file=${pki.ca.cert}`,
  "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
  `--service-account-key-file=${pki.serviceAccountPub}`,
  `--service-account-signing-key-file=${pki.serviceAccountKey}`,
  `--service-cluster-ip-range=${serviceCidr}`,
  "--authorization-mode=Node,RBAC",
  // For a real node: the API server authenticates to kubelets (logs, exec) with the admin client
  // certificate, and calls webhooks and aggregated APIs at their endpoints' Pod IPs (routed to the
  // node), not at ClusterIPs that only the node's kube-proxy serves. No effect with kwok nodes only.
  `--kubelet-client-certificate=${pki.admin.cert}`,
  `--kubelet-client-key=${pki.admin.key}`,
  "--enable-aggregator-routing=true",
  // A real node's name resolves nowhere: reach kubelets at the InternalIP they report.
  "--kubelet-preferred-address-types=InternalIP",
  "--allow-privileged=true",
  // Default admission plugins (incl. ServiceAccount, Mutating/ValidatingAdmissionWebhook): the
  // operator's webhooks are called at https://127.0.0.1:<port>/… through `clientConfig.url`.
  "--profiling=false",
  "--v=1",
]

export const controllerManagerArgs = (ports: Ports, pki: Pki, layout: Layout): ReadonlyArray<string> => {
  const kc = layout.kubeconfigs.controllerManager
  return [
    `--kubeconfig=${kc}`,
    `--authentication-kubeconfig=${kc}`,
    `--authorization-kubeconfig=${kc}`,
    `--bind-address=${loopback}`,
    `--secure-port=${ports.controllerManager}`,
    `--cert-dir=${join(layout.runDir, "kcm-serving")}`,
    "--leader-elect=false",
    // Each controller acts as its own ServiceAccount (bootstrap RBAC), as in a real cluster.
    "--use-service-account-credentials=true",
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.ca.cert}`,
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    "--profiling=false",
    "--v=1",
  ]
}

/** KubeSchedulerConfiguration; `--kubeconfig` would be ignored next to `--config`. */
export const schedulerConfigYaml = (layout: Layout): string =>
  [
    "apiVersion: kubescheduler.config.k8s.io/v1",
    "kind: KubeSchedulerConfiguration",
    "clientConnection:",
    `  kubeconfig: ${JSON.stringify(layout.kubeconfigs.scheduler)}`,
    "leaderElection:",
    "  leaderElect: false",
    "",
  ].join("\n")

export const schedulerArgs = (ports: Ports, layout: Layout): ReadonlyArray<string> => [
  `--config=${layout.schedulerConfig}`,
  `--authentication-kubeconfig=${layout.kubeconfigs.scheduler}`,
  `--authorization-kubeconfig=${layout.kubeconfigs.scheduler}`,
  `--bind-address=${loopback}`,
  `--secure-port=${ports.scheduler}`,
  `--cert-dir=${join(layout.runDir, "scheduler-serving")}`,
  "--profiling=false",
  "--v=1",
]

/** Annotation that marks the Nodes kwok simulates (so tests may still add nodes it ignores). */
export const kwokNodeAnnotation = "kwok.x-k8s.io/node"

export const kwokArgs = (ports: Ports, layout: Layout, stagesDir: string): ReadonlyArray<string> => [
  `--kubeconfig=${layout.kubeconfigs.admin}`,
  `--config=${stagesDir}`,
  "--manage-all-nodes=false",
  `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
  `--cidr=${podCidr}`,
  "--node-ip=10.244.0.1",
  "--node-lease-duration-seconds=40",
  // Only for /healthz. Never --node-port alone: kwok would then bind 0.0.0.0.
  `--server-address=${loopback}:${ports.kwok}`,
]

/** The one fake Node: no taints, so workloads schedule without tolerations. */
export const fakeNodeManifest = (name: string): string =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "node.alpha.kubernetes.io/ttl": "0", [kwokNodeAnnotation]: "fake" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/agent": "",
        type: "kwok",
      },
    },
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "110" },
      capacity: { cpu: "32", memory: "256Gi", pods: "110" },
    },
  })
