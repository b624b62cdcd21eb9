/**
 * The optional Cilium FQDN policy of one agent, service-mode tool or model proxy (spec docs/concepts.md §9 item 6).
 *
 * A plain NetworkPolicy can only allow the addresses a name resolved to when the operator looked, and
 * `*.example.com` only as the apex's addresses. With Cilium, a `cilium.io/v2` CiliumNetworkPolicy
 * `<name>-fqdn` with `toFQDNs` lets the CNI follow the workload's own DNS answers, and `matchPattern`
 * honours wildcards. It is written *in addition to* the NetworkPolicy (allow rules of both apply), only
 * when the `LANGOP_CILIUM_FQDN_POLICIES` setting is on and Cilium's CRD is served.
 *
 * PURE. Guarantees:
 * - built from the same {@link EgressRequest} as the NetworkPolicy: every external DNS name of
 *   `spec.egress[].to.dns` (and of embedded sidecar tools' rules) and every automatic host that is a DNS
 *   name; `*`, IP literals and in-cluster names are left to the NetworkPolicy (they need no FQDN rule);
 *   a rule the NetworkPolicy skips (invalid CIDR or port, no `to`) is skipped here too;
 * - a wildcard `*.example.com` becomes `matchPattern` (Cilium: one label deep), any other name
 *   `matchName`; names are lower-cased without a trailing dot;
 * - the DNS rule lets the pods query the cluster DNS peer of the settings through Cilium's DNS proxy
 *   (`rules.dns: matchPattern "*"`), without which `toFQDNs` never learns an address;
 * - deterministic: selectors deduplicated and sorted; one rule per distinct port set, sorted;
 * - no FQDN name at all → `undefined` (no policy; an existing one is removed by the reconciler).
 */
import { commonLabels, type OwnerKind } from "../domain/labels.ts"
import { resource } from "../kube/resources.ts"
import { parseCidr } from "./ip.ts"
import { classifyName } from "./names.ts"
import type { EgressRequest, EgressRuleInput } from "./policy.ts"
import type { EgressSettings } from "./settings.ts"

export const CiliumNetworkPolicyResource = resource(
  "cilium.io",
  "v2",
  "CiliumNetworkPolicy",
  "ciliumnetworkpolicies",
  true,
)

export interface FqdnSelector {
  readonly matchName?: string
  readonly matchPattern?: string
}

export interface CiliumPortProtocol {
  readonly port: string
  readonly protocol: "TCP" | "UDP" | "SCTP" | "ANY"
}

export interface CiliumPortRule {
  readonly ports: ReadonlyArray<CiliumPortProtocol>
  readonly rules?: { readonly dns: ReadonlyArray<FqdnSelector> }
}

export interface CiliumEgressRule {
  readonly toEndpoints?: ReadonlyArray<{ readonly matchLabels: Readonly<Record<string, string>> }>
  readonly toCIDR?: ReadonlyArray<string>
  readonly toFQDNs?: ReadonlyArray<FqdnSelector>
  readonly toPorts?: ReadonlyArray<CiliumPortRule>
}

export interface CiliumNetworkPolicy {
  readonly apiVersion: "cilium.io/v2"
  readonly kind: "CiliumNetworkPolicy"
  readonly metadata: {
    readonly name: string
    readonly namespace: string
    readonly labels: Readonly<Record<string, string>>
  }
  readonly spec: {
    readonly endpointSelector: { readonly matchLabels: Readonly<Record<string, string>> }
    readonly egress: ReadonlyArray<CiliumEgressRule>
  }
}

/** `<name>-fqdn`: next to the NetworkPolicy `<name>`. */
export const fqdnPolicyName = (name: string): string => `${name}-fqdn`

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const selectorOf = (raw: string, namespace: string, clusterDomain: string): FqdnSelector | undefined => {
  const cls = classifyName(raw, namespace, clusterDomain)
  if (cls._tag !== "External") return undefined
  return raw.trim().startsWith("*.") ? { matchPattern: `*.${cls.key}` } : { matchName: cls.key }
}

const selectorText = (s: FqdnSelector) =>
  s.matchName !== undefined ? `name:${s.matchName}` : `pattern:${s.matchPattern ?? ""}`

/** The port set of a rule as Cilium writes it; `[]` = every port. */
const portsOf = (ports: ReadonlyArray<{ readonly protocol?: string; readonly port: number }>) =>
  ports
    .map((p) => ({ port: String(p.port), protocol: (p.protocol ?? "TCP") as CiliumPortProtocol["protocol"] }))
    .sort((a, b) => Number(a.port) - Number(b.port) || byText(a.protocol, b.protocol))
    .filter((p, i, all) => i === 0 || p.port !== all[i - 1]?.port || p.protocol !== all[i - 1]?.protocol)

/** Whether the NetworkPolicy builder keeps this rule (same checks, so the two policies agree). */
const ruleKept = (rule: EgressRuleInput): boolean =>
  rule.to !== undefined &&
  (rule.to.cidr === undefined || parseCidr(rule.to.cidr) !== undefined) &&
  (rule.ports ?? []).every((p) => Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535)

/** The FQDN policy for `request`, or undefined when it names no external DNS name. */
export const buildFqdnPolicy = (
  request: EgressRequest,
  settings: EgressSettings,
): CiliumNetworkPolicy | undefined => {
  // Port-set key → selectors (by text, for dedup).
  const groups = new Map<
    string,
    { ports: ReadonlyArray<CiliumPortProtocol>; selectors: Map<string, FqdnSelector> }
  >()
  const add = (
    selector: FqdnSelector | undefined,
    ports: ReadonlyArray<{ readonly protocol?: string; readonly port: number }>,
  ) => {
    if (selector === undefined) return
    const set = portsOf(ports)
    const key = JSON.stringify(set)
    const group = groups.get(key) ?? { ports: set, selectors: new Map() }
    group.selectors.set(selectorText(selector), selector)
    groups.set(key, group)
  }
  const fromRules = (rules: ReadonlyArray<EgressRuleInput>, namespace: string) => {
    for (const rule of rules.filter(ruleKept))
      for (const name of rule.to?.dns ?? [])
        add(selectorOf(name, namespace, settings.clusterDomain), rule.ports ?? [])
  }
  fromRules(request.egress, request.namespace)
  for (const sidecar of request.sidecars ?? []) fromRules(sidecar.egress, sidecar.namespace)
  for (const host of request.hosts ?? [])
    add(selectorOf(host.host, request.namespace, settings.clusterDomain), [
      { protocol: host.protocol ?? "TCP", port: host.port },
    ])
  if (groups.size === 0) return undefined

  const fqdnRules: Array<CiliumEgressRule> = [...groups.entries()]
    .sort(([a], [b]) => byText(a, b))
    .map(([, group]) => ({
      toFQDNs: [...group.selectors.entries()].sort(([a], [b]) => byText(a, b)).map(([, s]) => s),
      ...(group.ports.length > 0 ? { toPorts: [{ ports: group.ports }] } : {}),
    }))
  const dns = settings.dnsPeer
  const dnsPorts = [{ ports: portsOf(dns.ports), rules: { dns: [{ matchPattern: "*" }] } }]
  // The DNS peers of the NetworkPolicy, each in a rule of its own: the DNS pods, and the addresses where
  // DNS answers outside pods (LANGOP_DNS_CIDRS).
  const dnsRules: Array<CiliumEgressRule> = [
    ...(dns.podLabels !== undefined
      ? [
          {
            toEndpoints: [
              {
                matchLabels: Object.fromEntries(
                  [
                    ["k8s:io.kubernetes.pod.namespace", dns.namespace] as const,
                    ...Object.entries(dns.podLabels).map(([k, v]) => [`k8s:${k}`, v] as const),
                  ].sort(([a], [b]) => byText(a, b)),
                ),
              },
            ],
            toPorts: dnsPorts,
          },
        ]
      : []),
    ...(dns.cidrs.length > 0 ? [{ toCIDR: dns.cidrs, toPorts: dnsPorts }] : []),
  ]
  const labels = commonLabels(request.kind as OwnerKind, request.name)
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: { name: fqdnPolicyName(request.name), namespace: request.namespace, labels },
    spec: { endpointSelector: { matchLabels: labels }, egress: [...dnsRules, ...fqdnRules] },
  }
}
