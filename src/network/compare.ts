/**
 * Semantic equality of a desired egress NetworkPolicy and the live one (docs/concepts.md §9: "write only on semantic
 * difference"), so reconcilers do not rewrite a policy because DNS answers came back in another order or
 * because the API server filled in defaults.
 *
 * Guarantees (pure):
 * - Order-insensitive where NetworkPolicy is: egress rules (ORed), peers (ORed), ports (ORed),
 *   matchExpressions (ANDed), `In`/`NotIn` values, `policyTypes`, `except`. Duplicates do not count.
 * - Server defaults and empty forms are equal to their absence: `protocol: TCP`, `to: []`, `ports: []`,
 *   `matchLabels: {}`, `matchExpressions: []`, and a missing `policyTypes` (the server derives
 *   `[Ingress, Egress]` when there are egress rules — which is NOT equal to `[Egress]`, so it compares
 *   as `[Ingress, Egress]`).
 * - CIDRs compare by network (`10.0.0.1/8` = `10.0.0.0/8`, IPv6 spelling-insensitive).
 * - Labels: every desired label must be on the live object with the same value; extra live labels (added
 *   by other field managers) are not a difference. Owner references are the applier's business.
 * - Anything else in the live spec that the operator does not write (ingress rules) is a difference.
 */
import {
  canonicalRule,
  canonicalSelector,
  type LabelSelector,
  type NetworkPolicyEgressRule,
  type NetworkPolicySpec,
} from "./types.ts"

/** The live object as read (loose: whatever the server returned). */
export interface LiveNetworkPolicy {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> }
  readonly spec?: {
    readonly podSelector?: LabelSelector
    readonly policyTypes?: ReadonlyArray<string>
    readonly egress?: ReadonlyArray<NetworkPolicyEgressRule>
    readonly ingress?: ReadonlyArray<unknown>
  }
}

export interface DesiredNetworkPolicy {
  readonly metadata: { readonly labels: Readonly<Record<string, string>> }
  readonly spec: NetworkPolicySpec
}

const ruleSet = (rules: ReadonlyArray<NetworkPolicyEgressRule> | undefined): Array<string> =>
  [...new Set((rules ?? []).map((r) => JSON.stringify(canonicalRule(r))))].sort()

const effectivePolicyTypes = (spec: LiveNetworkPolicy["spec"]): Array<string> => {
  if (spec?.policyTypes !== undefined && spec.policyTypes.length > 0)
    return [...new Set(spec.policyTypes)].sort()
  return (spec?.egress ?? []).length > 0 ? ["Egress", "Ingress"] : ["Ingress"]
}

/** Canonical JSON of the spec fields the operator owns; equal strings ⇔ semantically equal specs. */
export const canonicalPolicySpec = (spec: LiveNetworkPolicy["spec"]): string =>
  JSON.stringify({
    podSelector: canonicalSelector(spec?.podSelector ?? {}),
    policyTypes: effectivePolicyTypes(spec),
    egress: ruleSet(spec?.egress),
    ingress: (spec?.ingress ?? []).map((r) => JSON.stringify(r)).sort(),
  })

/** `true` when writing `desired` would not change what the live policy allows or how it is labelled. */
export const policiesEquivalent = (desired: DesiredNetworkPolicy, live: LiveNetworkPolicy): boolean => {
  const liveLabels = live.metadata?.labels ?? {}
  const labelsOk = Object.entries(desired.metadata.labels).every(([k, v]) => liveLabels[k] === v)
  return labelsOk && canonicalPolicySpec(desired.spec) === canonicalPolicySpec(live.spec)
}
