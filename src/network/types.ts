/**
 * Wire shapes of `networking.k8s.io/v1` NetworkPolicy as far as egress policies use them, and their
 * canonical forms.
 *
 * Guarantees (pure): the canonical form of a selector, peer, port or rule is independent of key order,
 * list order and duplicates wherever NetworkPolicy semantics are (matchExpressions are ANDed, peers and
 * ports are ORed, `In`/`NotIn` values are sets), and fills the server default `protocol: TCP`. Both the
 * builder (sorted output) and the comparison (desired vs live) use these, so they can never disagree.
 */
import { type Cidr, canonicalCidrText, compareCidr, parseCidr } from "./ip.ts"

export type Protocol = "TCP" | "UDP" | "SCTP"

export interface LabelSelectorRequirement {
  readonly key: string
  readonly operator: string
  readonly values?: ReadonlyArray<string>
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>
  readonly matchExpressions?: ReadonlyArray<LabelSelectorRequirement>
}

export interface IPBlock {
  readonly cidr: string
  readonly except?: ReadonlyArray<string>
}

export interface NetworkPolicyPeer {
  readonly ipBlock?: IPBlock
  readonly namespaceSelector?: LabelSelector
  readonly podSelector?: LabelSelector
}

/** `port` may be a named port (used for in-cluster targets whose Service names its targetPort). */
export interface NetworkPolicyPort {
  readonly protocol?: string
  readonly port?: number | string
  readonly endPort?: number
}

export interface NetworkPolicyEgressRule {
  readonly to?: ReadonlyArray<NetworkPolicyPeer>
  readonly ports?: ReadonlyArray<NetworkPolicyPort>
}

export interface NetworkPolicySpec {
  readonly podSelector: LabelSelector
  readonly policyTypes?: ReadonlyArray<string>
  readonly egress?: ReadonlyArray<NetworkPolicyEgressRule>
  readonly ingress?: ReadonlyArray<unknown>
}

export interface NetworkPolicy {
  readonly apiVersion: "networking.k8s.io/v1"
  readonly kind: "NetworkPolicy"
  readonly metadata: {
    readonly name: string
    readonly namespace: string
    readonly labels: Readonly<Record<string, string>>
  }
  readonly spec: NetworkPolicySpec
}

// ---------------------------------------------------------------------------------------------------------
// Canonical forms

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const uniqueSorted = (values: ReadonlyArray<string>): Array<string> => [...new Set(values)].sort(byString)

export const canonicalSelector = (selector: LabelSelector): LabelSelector => {
  const labels = Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) => byString(a, b))
  const expressions = (selector.matchExpressions ?? [])
    .map((e) => {
      const values = uniqueSorted(e.values ?? [])
      return { key: e.key, operator: e.operator, ...(values.length > 0 ? { values } : {}) }
    })
    .map((e) => ({ e, text: JSON.stringify(e) }))
    .sort((a, b) => byString(a.text, b.text))
    .filter((x, i, all) => i === 0 || all[i - 1]?.text !== x.text)
    .map((x) => x.e)
  return {
    ...(labels.length > 0 ? { matchLabels: Object.fromEntries(labels) } : {}),
    ...(expressions.length > 0 ? { matchExpressions: expressions } : {}),
  }
}

export const canonicalPeer = (peer: NetworkPolicyPeer): NetworkPolicyPeer => {
  const except = uniqueSorted((peer.ipBlock?.except ?? []).map(canonicalCidrText))
  return {
    ...(peer.ipBlock !== undefined
      ? {
          ipBlock: {
            cidr: canonicalCidrText(peer.ipBlock.cidr),
            ...(except.length > 0 ? { except } : {}),
          },
        }
      : {}),
    ...(peer.namespaceSelector !== undefined
      ? { namespaceSelector: canonicalSelector(peer.namespaceSelector) }
      : {}),
    ...(peer.podSelector !== undefined ? { podSelector: canonicalSelector(peer.podSelector) } : {}),
  }
}

/** ipBlock-only peers first, by address family, address and prefix; then the others by their JSON. */
const comparePeers = (a: NetworkPolicyPeer, b: NetworkPolicyPeer): number => {
  const cidrOf = (p: NetworkPolicyPeer): Cidr | undefined =>
    p.ipBlock !== undefined && p.namespaceSelector === undefined && p.podSelector === undefined
      ? parseCidr(p.ipBlock.cidr)
      : undefined
  const ca = cidrOf(a)
  const cb = cidrOf(b)
  if (ca !== undefined && cb !== undefined) {
    const d = compareCidr(ca, cb)
    if (d !== 0) return d
  } else if (ca !== undefined) return -1
  else if (cb !== undefined) return 1
  return byString(JSON.stringify(a), JSON.stringify(b))
}

/** Canonical, sorted, deduplicated peers. */
export const canonicalPeers = (peers: ReadonlyArray<NetworkPolicyPeer>): Array<NetworkPolicyPeer> => {
  const seen = new Set<string>()
  const out: Array<NetworkPolicyPeer> = []
  for (const peer of peers.map(canonicalPeer)) {
    const text = JSON.stringify(peer)
    if (seen.has(text)) continue
    seen.add(text)
    out.push(peer)
  }
  return out.sort(comparePeers)
}

export const canonicalPort = (port: NetworkPolicyPort): NetworkPolicyPort => ({
  protocol: port.protocol ?? "TCP",
  ...(port.port !== undefined ? { port: port.port } : {}),
  ...(port.endPort !== undefined ? { endPort: port.endPort } : {}),
})

const comparePorts = (a: NetworkPolicyPort, b: NetworkPolicyPort): number => {
  const pa = a.port
  const pb = b.port
  if (typeof pa === "number" && typeof pb === "number" && pa !== pb) return pa - pb
  if (typeof pa !== typeof pb) return typeof pa === "number" ? -1 : 1
  return byString(JSON.stringify(a), JSON.stringify(b))
}

/** Canonical, sorted (numerically by port, then protocol), deduplicated ports. */
export const canonicalPorts = (ports: ReadonlyArray<NetworkPolicyPort>): Array<NetworkPolicyPort> => {
  const unique = new Map(ports.map(canonicalPort).map((p) => [JSON.stringify(p), p] as const))
  return [...unique.values()].sort(comparePorts)
}

/** `to`/`ports` omitted when empty (NetworkPolicy treats absent and empty alike). */
export const canonicalRule = (rule: NetworkPolicyEgressRule): NetworkPolicyEgressRule => {
  const to = canonicalPeers(rule.to ?? [])
  const ports = canonicalPorts(rule.ports ?? [])
  return { ...(to.length > 0 ? { to } : {}), ...(ports.length > 0 ? { ports } : {}) }
}
