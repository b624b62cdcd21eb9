/**
 * The operator's permissions as data (see rbac.ts for how they are rendered, checked and tested): every
 * grant names the components that need it and why. Keep a grant next to the code that needs it in mind:
 * registering a controller (controllers.ts) activates exactly the grants that name it.
 */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete"
export const VERB_ORDER: ReadonlyArray<Verb> = ["get", "list", "watch", "create", "update", "patch", "delete"]

/** Components besides the controllers (which are named by their controller name). */
export const Components = {
  webhook: "webhook",
  events: "events",
  leaderElection: "leader-election",
  selfCerts: "self-certs",
} as const

export interface Grant {
  /** API group; "" = core. */
  readonly group: string
  /** Resources, with `/subresource` where meant. */
  readonly resources: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<Verb>
  /** Restricts the grant to these object names (never possible for list/watch/create). */
  readonly resourceNames?: ReadonlyArray<string>
  /** Components (controller names or {@link Components}) that make these requests. */
  readonly neededBy: ReadonlyArray<string>
  readonly why: string
  /**
   * Set only when the local control plane cannot exercise the grant; says why it is needed anyway.
   * The minimality test skips it (and only it).
   */
  readonly notExercisedLocally?: string
  /** Verbs the RBAC test's scenario does not trigger, each with the code path that needs it. */
  readonly rarelyExercised?: Partial<Record<Verb, string>>
  /** Held only so the agent controller may grant it in agents' Roles (RBAC escalation prevention). */
  readonly grantedToAgents?: boolean
}

const L = "langop.io"

/** Why a child kind's `get` is rarely made: children come from the informer cache (label-selected). */
const GET_ON_MISS =
  "read live only when a wanted child is missing from the cache, i.e. an object of that name that is not ours (NameConflict)"

/** The three grants every reconciled kind needs: the object, its status, its finalizers. */
const kindGrants = (controller: string, plural: string, blockingChildren: string): ReadonlyArray<Grant> => [
  {
    group: L,
    resources: [plural],
    verbs: ["get", "list", "watch", "patch"],
    neededBy: [controller],
    why: "reconcile; finalizer added/removed by JSON patch",
  },
  {
    group: L,
    resources: [`${plural}/status`],
    verbs: ["patch"],
    neededBy: [controller],
    why: "status by server-side apply",
  },
  {
    group: L,
    resources: [`${plural}/finalizers`],
    verbs: ["update"],
    neededBy: [controller],
    why: `owner references with blockOwnerDeletion on ${blockingChildren}`,
    notExercisedLocally:
      "only checked by the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift), off in the local control plane",
  },
]

/** Generated children: server-side apply (create + patch), deleted when no longer wanted. */
const childGrant = (
  group: string,
  resources: ReadonlyArray<string>,
  neededBy: ReadonlyArray<string>,
  why: string,
): Grant => ({
  group,
  resources,
  verbs: ["get", "list", "watch", "create", "patch", "delete"],
  neededBy,
  why: `${why} (server-side apply needs create for a new object)`,
  rarelyExercised: { get: GET_ON_MISS },
})

/** Controllers that generate workloads (Deployments, Services, ConfigMaps …). */
const workloads = ["languagetool", "languagemodel", "languageagent", "languageclient"]
/** Controllers that build egress NetworkPolicies. */
const egress = ["languagetool", "languagemodel", "languageagent"]

/** Cluster-wide grants (ClusterRole `langop-operator`). */
export const clusterGrants: ReadonlyArray<Grant> = [
  // --- LanguageCluster
  ...kindGrants("languagecluster", "languageclusters", "the Namespaces it creates"),
  {
    group: "",
    resources: ["namespaces"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
    neededBy: ["languagecluster"],
    why: "creates, adopts (label patch) and deletes the namespaces of LanguageClusters",
  },
  {
    group: L,
    resources: ["languageclusters"],
    verbs: ["list", "watch"],
    neededBy: workloads,
    why: "clusterRef membership (the cluster's phase and namespace)",
  },
  // --- LanguagePersona
  ...kindGrants("languagepersona", "languagepersonas", "the persona ConfigMaps"),
  {
    group: L,
    resources: ["languageagents"],
    verbs: ["list", "watch"],
    neededBy: ["languagepersona", "languagetool", "languageclient"],
    why: "usage tracking (personas), sidecar embedding count (tools), agent references (clients)",
  },
  {
    group: "",
    resources: ["configmaps"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
    neededBy: ["languagepersona"],
    why: "the rendered persona ConfigMaps (server-side apply, which needs create for a new object; deleted on cleanup)",
  },
  {
    group: "",
    resources: ["secrets"],
    verbs: ["list", "watch"],
    neededBy: ["languagepersona", ...workloads],
    why: "existence and resourceVersion of referenced Secrets (never their data in a write)",
  },
  // --- LanguageTool, LanguageAgent, LanguageClient
  ...kindGrants("languagetool", "languagetools", "their generated objects"),
  ...kindGrants("languagemodel", "languagemodels", "their generated objects"),
  ...kindGrants("languageagent", "languageagents", "their generated objects"),
  ...kindGrants("languageclient", "languageclients", "their generated objects"),
  {
    group: L,
    resources: ["languagetools", "languagemodels", "languagepersonas"],
    verbs: ["list", "watch"],
    neededBy: ["languageagent", "languageclient"],
    why: "referenced tools (sidecars), models and personas",
  },
  childGrant(
    "",
    ["configmaps", "services"],
    workloads,
    "config ConfigMaps and Services of tools, agents and clients",
  ),
  childGrant("apps", ["deployments"], workloads, "tool, model proxy, agent and client Deployments"),
  childGrant(
    "networking.k8s.io",
    ["networkpolicies"],
    ["languagetool", "languageagent"],
    "egress NetworkPolicies",
  ),
  childGrant(
    "policy",
    ["poddisruptionbudgets"],
    ["languagetool", "languageclient"],
    "PodDisruptionBudgets of tools and clients",
  ),
  childGrant(
    "autoscaling",
    ["horizontalpodautoscalers"],
    ["languagetool", "languageclient"],
    "HorizontalPodAutoscalers of tools and clients",
  ),
  childGrant("networking.k8s.io", ["ingresses"], ["languageclient"], "client Ingresses"),
  childGrant("", ["serviceaccounts"], ["languageagent"], "ServiceAccounts of kubernetes-event triggers"),
  {
    // Never deleted by the operator: a workspace outlives its disabling and goes with the agent (GC).
    ...childGrant("", ["persistentvolumeclaims"], ["languageagent"], "agent workspaces"),
    verbs: ["get", "list", "watch", "create", "patch"],
  },
  childGrant("batch", ["cronjobs"], ["languageagent"], "scheduled agents"),
  childGrant(
    "rbac.authorization.k8s.io",
    ["roles", "rolebindings"],
    ["languageagent"],
    "Role/RoleBinding of kubernetes-event triggers",
  ),
  {
    group: "batch",
    resources: ["jobs"],
    verbs: ["list", "watch"],
    neededBy: ["languageagent"],
    why: "runs of scheduled agents (execution counters)",
  },
  {
    group: "",
    resources: ["pods"],
    verbs: ["list", "watch"],
    neededBy: workloads,
    why: "failure detection of generated workloads",
  },
  {
    group: "",
    resources: ["events"],
    verbs: ["get", "list", "watch"],
    neededBy: ["languageagent"],
    why: "granted to agents with kubernetes-event triggers by their Role; RBAC lets the operator grant only what it holds",
    grantedToAgents: true,
  },
  {
    group: "events.k8s.io",
    resources: ["events"],
    verbs: ["get", "list", "watch"],
    neededBy: ["languageagent"],
    why: "granted to agents with kubernetes-event triggers by their Role; RBAC lets the operator grant only what it holds",
    grantedToAgents: true,
  },
  {
    group: "discovery.k8s.io",
    resources: ["endpointslices"],
    verbs: ["list"],
    neededBy: egress,
    why: "egress to a Service without selector: its endpoint addresses",
  },
  {
    group: "",
    resources: ["services"],
    verbs: ["get"],
    neededBy: egress,
    why: "egress `to.service` and in-cluster DNS names: the target Service's selector",
  },
  {
    group: "monitoring.coreos.com",
    resources: ["servicemonitors"],
    verbs: ["get", "list", "create", "patch", "delete"],
    neededBy: ["languageclient"],
    why: "client ServiceMonitors, only when the Prometheus Operator CRD exists (listing tells)",
    rarelyExercised: {
      get: "the local control plane has no Prometheus Operator CRDs",
      create: "the local control plane has no Prometheus Operator CRDs",
      patch: "the local control plane has no Prometheus Operator CRDs",
      delete: "the local control plane has no Prometheus Operator CRDs",
    },
  },
  {
    group: "cilium.io",
    resources: ["ciliumnetworkpolicies"],
    verbs: ["list", "create", "patch", "delete"],
    neededBy: egress,
    why: "FQDN egress policies beside the NetworkPolicies, only with LANGOP_CILIUM_FQDN_POLICIES and Cilium's CRD (listing by name tells)",
    rarelyExercised: {
      create:
        "the RBAC scenario's control plane has no Cilium CRD; test/integration/network/cilium.test.ts writes them",
      patch:
        "the RBAC scenario's control plane has no Cilium CRD; test/integration/network/cilium.test.ts writes them",
      delete:
        "the RBAC scenario's control plane has no Cilium CRD; test/integration/network/cilium.test.ts removes them",
    },
  },
  {
    group: "cert-manager.io",
    resources: ["issuers"],
    verbs: ["get"],
    neededBy: ["languageclient"],
    why: "whether a client's TLS issuer is an Issuer (else a ClusterIssuer is assumed)",
  },
  {
    group: "cert-manager.io",
    resources: ["certificates"],
    verbs: ["get", "create", "patch", "delete"],
    neededBy: ["languageclient"],
    why: "the Certificate issuing a client's TLS Secret when its pods terminate TLS (no Ingress)",
    rarelyExercised: {
      create: "the RBAC scenario's control plane has no cert-manager CRDs",
      patch: "the RBAC scenario's control plane has no cert-manager CRDs",
      delete: "the RBAC scenario's control plane has no cert-manager CRDs",
    },
  },
  // --- admission webhook lookups (informer caches, one live GET on a miss)
  {
    group: L,
    resources: ["languageagents", "languagemodels", "languagepersonas", "languagetools"],
    verbs: ["get", "list", "watch"],
    neededBy: [Components.webhook],
    why: "admission lookups: sidecar tools, references, persona inheritance and usage",
  },
  {
    group: "",
    resources: ["secrets"],
    verbs: ["get", "list", "watch"],
    neededBy: [Components.webhook],
    why: "admission lookups: existence of referenced Secrets (warnings)",
  },
  {
    group: "",
    resources: ["namespaces"],
    verbs: ["get", "list", "watch"],
    neededBy: [Components.webhook],
    why: "admission lookups: the namespace's Pod Security level (pod-security.kubernetes.io/enforce) for relaxed security contexts",
  },
  // --- events
  {
    group: "events.k8s.io",
    resources: ["events"],
    verbs: ["create", "patch"],
    neededBy: [Components.events],
    why: "the operator's own Events (repeats patch the series count)",
  },
]

export const OperatorServiceAccount = "langop-operator"
export const OperatorClusterRole = "langop-operator"
export const LeaderElectionRole = "langop-leader-election"
export const SelfCertsRole = "langop-self-certs"

/** Grants in the operator's namespace (Roles). */
export const leaderElectionGrants: ReadonlyArray<Grant> = [
  {
    group: "coordination.k8s.io",
    resources: ["leases"],
    verbs: ["get", "create", "update"],
    neededBy: [Components.leaderElection],
    why: "leader election Lease (read, created once, renewed and released by update)",
  },
]

/** The self-managed certificates' grants (overlay `self-managed-certs` only). */
export const selfCertGrants = (
  secretName: string,
): { readonly namespaced: ReadonlyArray<Grant>; readonly cluster: ReadonlyArray<Grant> } => ({
  namespaced: [
    {
      group: "",
      resources: ["secrets"],
      verbs: ["create"],
      neededBy: [Components.selfCerts],
      why: "creates the CA + serving certificate Secret (create cannot be limited by name)",
    },
    {
      group: "",
      resources: ["secrets"],
      verbs: ["get", "update"],
      resourceNames: [secretName],
      neededBy: [Components.selfCerts],
      why: "reads and rotates the CA + serving certificate Secret",
    },
  ],
  cluster: [
    {
      group: "admissionregistration.k8s.io",
      resources: ["mutatingwebhookconfigurations", "validatingwebhookconfigurations"],
      verbs: ["get", "patch"],
      resourceNames: ["langop-mutating", "langop-validating"],
      neededBy: [Components.selfCerts],
      why: "patches its CA into caBundle of its own webhook configurations",
    },
  ],
})
