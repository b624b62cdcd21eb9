// The minimality half of the RBAC test: with the operator's recorded requests, find every rule, and every
// verb of every resource, that could be removed without the API server's authorizer (SubjectAccessReview)
// denying one of those requests. Each candidate removal is installed for real and checked; the original
// rules are restored at the end. Verbs no request used are reported unless their grant says why
// (`notExercisedLocally`, `rarelyExercised`, `grantedToAgents`).
import type { V1PolicyRule } from "@kubernetes/client-node"
import { vi } from "vitest"
import type { Grant } from "../../../src/operator/rbac.ts"
import type { RecordedRequest } from "./recording.ts"

export interface MinimalityInput {
  /** Distinct requests the operator made. */
  readonly requests: ReadonlyArray<RecordedRequest>
  readonly clusterRules: ReadonlyArray<V1PolicyRule>
  /** The leader-election Role's rules (in `operatorNs`). */
  readonly roleRules: ReadonlyArray<V1PolicyRule>
  readonly operatorNs: string
  /** The active grants (for the stated reasons). */
  readonly grants: ReadonlyArray<Grant>
  /** Installs these rules as the ServiceAccount's ClusterRole and Role. */
  readonly install: (cluster: ReadonlyArray<V1PolicyRule>, role: ReadonlyArray<V1PolicyRule>) => Promise<void>
  /** Would the ServiceAccount be allowed this request now? */
  readonly allowed: (r: RecordedRequest) => Promise<boolean>
}

export const requestKey = (r: RecordedRequest): string =>
  `${r.resource}${r.subresource === undefined ? "" : `/${r.subresource}`}`

/** `rules` with rule `i` losing `verbs`, for resource `only` alone when given (the rule is split). */
export const without = (
  rules: ReadonlyArray<V1PolicyRule>,
  i: number,
  verbs: ReadonlyArray<string>,
  only?: string,
): Array<V1PolicyRule> =>
  rules
    .flatMap((r, j) => {
      if (j !== i) return [r]
      const reduced = { ...r, verbs: r.verbs.filter((v) => !verbs.includes(v)) }
      if (only === undefined) return [reduced]
      const rest = (r.resources ?? []).filter((x) => x !== only)
      return [...(rest.length > 0 ? [{ ...r, resources: rest }] : []), { ...reduced, resources: [only] }]
    })
    .filter((r) => r.verbs.length > 0)

/** Returns what is not needed (must be empty) and what was skipped, with its stated reason. */
export const findUnneeded = async (
  o: MinimalityInput,
): Promise<{ unneeded: Array<string>; skipped: Array<string> }> => {
  const { requests, clusterRules, roleRules, operatorNs, allowed } = o
  /** Verbs no local scenario can exercise, or that only the agents' Roles need, each with its reason. */
  const excused = new Map<string, string>()
  for (const g of o.grants)
    for (const res of g.resources)
      for (const v of g.verbs) {
        const reason =
          g.notExercisedLocally ??
          g.rarelyExercised?.[v] ??
          (g.grantedToAgents === true ? "granted to agents" : undefined)
        if (reason !== undefined) excused.set(`${g.group}|${res}|${v}`, reason)
      }
  const matches = (rule: V1PolicyRule, verb: string, namespaced: boolean) => (r: RecordedRequest) =>
    (r.verb === verb || (verb === "create" && r.serverSideApply === true)) &&
    (!namespaced || r.namespace === operatorNs) &&
    (rule.apiGroups ?? []).includes(r.group) &&
    (rule.resources ?? []).includes(requestKey(r))
  const denies = async (candidates: ReadonlyArray<RecordedRequest>, asVerb: string) =>
    vi
      .waitFor(
        async () => {
          for (const c of candidates)
            if (!(await allowed({ ...c, verb: asVerb as RecordedRequest["verb"] }))) return true
          throw new Error("all still allowed")
        },
        { timeout: 10_000, interval: 200 },
      )
      .catch(() => false)
  const cases = [
    ...clusterRules.map((rule, i) => ({ rule, i, namespaced: false })),
    ...roleRules.map((rule, i) => ({ rule, i, namespaced: true })),
  ]
  const unneeded: Array<string> = []
  const skipped: Array<string> = []
  try {
    for (const { rule, i, namespaced } of cases) {
      const group = rule.apiGroups?.[0] ?? ""
      const reduce = (verbs: ReadonlyArray<string>, only?: string) =>
        namespaced
          ? o.install(clusterRules, without(roleRules, i, verbs, only))
          : o.install(without(clusterRules, i, verbs, only), roleRules)
      const what = (verbs: string, resources: string) =>
        `${verbs} ${resources} (${group || "core"}${namespaced ? ", Role" : ""})`
      // The whole rule: without it, some request the operator made is denied.
      const used = rule.verbs.flatMap((v) =>
        requests.filter(matches(rule, v, namespaced)).map((c) => ({ c, v })),
      )
      const ruleExcused = rule.verbs.every((v) =>
        (rule.resources ?? []).every((res) => excused.has(`${group}|${res}|${v}`)),
      )
      if (used.length === 0 && !ruleExcused)
        unneeded.push(
          `${what("all of", (rule.resources ?? []).join(","))}: the operator never used this rule`,
        )
      else if (used.length > 0) {
        await reduce(rule.verbs)
        const denied = await vi
          .waitFor(
            async () => {
              for (const u of used)
                if (!(await allowed({ ...u.c, verb: u.v as RecordedRequest["verb"] }))) return true
              throw new Error("all still allowed")
            },
            { timeout: 10_000, interval: 200 },
          )
          .catch(() => false)
        if (!denied)
          unneeded.push(`${what("all of", (rule.resources ?? []).join(","))}: nothing is denied without it`)
      }
      // Each verb of each resource.
      for (const res of rule.resources ?? [])
        for (const verb of rule.verbs) {
          const one = { ...rule, resources: [res] }
          const candidates = requests.filter(matches(one, verb, namespaced))
          if (candidates.length === 0) {
            const reason = excused.get(`${group}|${res}|${verb}`)
            if (reason !== undefined) skipped.push(`${what(verb, res)}: ${reason}`)
            else unneeded.push(`${what(verb, res)}: the operator never made such a request`)
            continue
          }
          await reduce([verb], res)
          if (!(await denies(candidates, verb)))
            unneeded.push(`${what(verb, res)}: every request the operator made is still allowed without it`)
        }
    }
  } finally {
    await o.install(clusterRules, roleRules)
  }
  return { unneeded, skipped }
}
