/**
 * The operator's RBAC as data: every permission it holds, who needs it and why. The YAML under
 * `deploy/` is rendered from here (`npm run manifests`, checked for freshness by `npm test`), the
 * startup check asks the API server for exactly these permissions (preflight.ts), and the tests check
 * the table against the code (unit: every informer of every registered controller is covered; on the
 * local control plane: the operator running as the ServiceAccount is never Forbidden, and removing
 * any single rule or verb makes one of its real requests fail).
 *
 * Guarantees: no wildcards; a grant is rendered only when one of the components that need it runs
 * (a registered controller, the webhook, the event recorder, leader election, the self-managed
 * certificates), so registering a controller is what grants its permissions; the rendering is
 * deterministic (sorted), so the generated files only change when the table does.
 */
import type { V1PolicyRule } from "@kubernetes/client-node"
import { registeredControllerNames } from "./controllers.ts"

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete"
const VERB_ORDER: ReadonlyArray<Verb> = ["get", "list", "watch", "create", "update", "patch", "delete"]

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
}

const L = "langop.io"

/** Cluster-wide grants (ClusterRole `langop-operator`). */
export const clusterGrants: ReadonlyArray<Grant> = [
  // --- LanguageCluster
  {
    group: L,
    resources: ["languageclusters"],
    verbs: ["get", "list", "watch", "patch"],
    neededBy: ["languagecluster"],
    why: "reconcile; finalizer added/removed by JSON patch",
  },
  {
    group: L,
    resources: ["languageclusters/status"],
    verbs: ["patch"],
    neededBy: ["languagecluster"],
    why: "status by server-side apply",
  },
  {
    group: L,
    resources: ["languageclusters/finalizers"],
    verbs: ["update"],
    neededBy: ["languagecluster"],
    why: "owner references with blockOwnerDeletion on the Namespaces it creates",
    notExercisedLocally:
      "only checked by the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift), off in the local control plane",
  },
  {
    group: "",
    resources: ["namespaces"],
    verbs: ["get", "list", "watch", "create", "patch", "delete"],
    neededBy: ["languagecluster"],
    why: "creates, adopts (label patch) and deletes the namespaces of LanguageClusters",
  },
  // --- LanguagePersona
  {
    group: L,
    resources: ["languagepersonas"],
    verbs: ["get", "list", "watch", "patch"],
    neededBy: ["languagepersona"],
    why: "reconcile; finalizer added/removed by JSON patch",
  },
  {
    group: L,
    resources: ["languagepersonas/status"],
    verbs: ["patch"],
    neededBy: ["languagepersona"],
    why: "status by server-side apply",
  },
  {
    group: L,
    resources: ["languagepersonas/finalizers"],
    verbs: ["update"],
    neededBy: ["languagepersona"],
    why: "owner references with blockOwnerDeletion on the persona ConfigMaps",
    notExercisedLocally:
      "only checked by the OwnerReferencesPermissionEnforcement admission plugin (on in OpenShift), off in the local control plane",
  },
  {
    group: L,
    resources: ["languageagents"],
    verbs: ["list", "watch"],
    neededBy: ["languagepersona"],
    why: "usage tracking (agents whose personaRef points at a persona)",
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
    neededBy: ["languagepersona"],
    why: "existence of knowledge-source Secrets (never their data in a write)",
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

/** Components always running in the operator process (besides the controllers). */
export const baseComponents: ReadonlyArray<string> = [Components.webhook, Components.events]

/** Components of the default deployment: the registered controllers, webhook, events. */
export const deployedComponents = (): ReadonlySet<string> =>
  new Set([...registeredControllerNames, ...baseComponents])

/** The grants whose components run. */
export const activeGrants = (grants: ReadonlyArray<Grant>, components: ReadonlySet<string>) =>
  grants.filter((g) => g.neededBy.some((c) => components.has(c)))

const sortVerbs = (verbs: Iterable<Verb>): Array<Verb> =>
  [...new Set(verbs)].sort((a, b) => VERB_ORDER.indexOf(a) - VERB_ORDER.indexOf(b))

/**
 * Merges grants into PolicyRules: per (group, resourceNames) the union of verbs of each resource, then
 * resources with equal verb sets in one rule. Sorted by group, then first resource.
 */
export const policyRules = (grants: ReadonlyArray<Grant>): Array<V1PolicyRule> => {
  const byResource = new Map<string, { group: string; resource: string; names: string; verbs: Set<Verb> }>()
  for (const g of grants) {
    const names = (g.resourceNames ?? []).join(",")
    for (const resource of g.resources) {
      const key = `${g.group}|${names}|${resource}`
      const entry = byResource.get(key) ?? { group: g.group, resource, names, verbs: new Set<Verb>() }
      for (const v of g.verbs) entry.verbs.add(v)
      byResource.set(key, entry)
    }
  }
  const rules = new Map<string, V1PolicyRule>()
  for (const e of byResource.values()) {
    const verbs = sortVerbs(e.verbs)
    const key = `${e.group}|${e.names}|${verbs.join(",")}`
    const rule = rules.get(key) ?? {
      apiGroups: [e.group],
      resources: [],
      ...(e.names === "" ? {} : { resourceNames: e.names.split(",") }),
      verbs,
    }
    rule.resources = [...(rule.resources ?? []), e.resource].sort()
    rules.set(key, rule)
  }
  return [...rules.values()].sort((a, b) =>
    `${a.apiGroups?.[0] ?? ""}|${a.resources?.[0] ?? ""}|${a.verbs.join(",")}`.localeCompare(
      `${b.apiGroups?.[0] ?? ""}|${b.resources?.[0] ?? ""}|${b.verbs.join(",")}`,
    ),
  )
}

/** One permission to check with a SelfSubjectAccessReview (preflight) or a SubjectAccessReview (tests). */
export interface Permission {
  readonly group: string
  readonly resource: string
  readonly subresource?: string | undefined
  readonly verb: Verb
  /** Empty = cluster-wide. */
  readonly namespace: string
  readonly name?: string | undefined
}

/** Every (resource, verb[, name]) a set of rules allows, `namespace` "" for a ClusterRole. */
export const permissionsOf = (rules: ReadonlyArray<V1PolicyRule>, namespace: string): Array<Permission> =>
  rules.flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((full) => {
        const [resource = "", subresource] = full.split("/")
        const names = rule.resourceNames ?? [undefined]
        return rule.verbs.flatMap((verb) =>
          names.map((name) => ({ group, resource, subresource, verb: verb as Verb, namespace, name })),
        )
      }),
    ),
  )

/** `list secrets`, `patch languagepersonas.langop.io/status`, `update secrets/x in ns`. */
export const describePermission = (p: Permission): string => {
  const res = `${p.resource}${p.group === "" ? "" : `.${p.group}`}${p.subresource === undefined ? "" : `/${p.subresource}`}`
  return `${p.verb} ${res}${p.name === undefined ? "" : ` "${p.name}"`}${p.namespace === "" ? "" : ` in ${p.namespace}`}`
}
