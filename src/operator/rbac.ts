/**
 * The operator's RBAC: the grants (grants.ts: every permission, who needs it and why) turned into
 * PolicyRules and permissions. The YAML under `deploy/` is rendered from here (`npm run manifests`, checked for freshness by `npm test`), the
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
import { Components, type Grant, VERB_ORDER, type Verb } from "./grants.ts"

export {
  Components,
  clusterGrants,
  type Grant,
  LeaderElectionRole,
  leaderElectionGrants,
  OperatorClusterRole,
  OperatorServiceAccount,
  SelfCertsRole,
  selfCertGrants,
  type Verb,
} from "./grants.ts"

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
