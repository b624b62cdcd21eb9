/**
 * One destination (a DNS entry, a Service, a host) → NetworkPolicy peers, against an already gathered
 * world. Internal to the builder (policy.ts).
 *
 * Guarantees: pure apart from the per-build accumulator it is handed (issues, lookups still missing,
 * whether any peer is time-varying); never emits a Service ClusterIP; an ExternalName chain is followed at
 * most 3 levels; a destination that cannot be resolved contributes no peer and exactly one issue.
 */
import { ANYWHERE, hostCidr, parseIp } from "./ip.ts"
import { classifyName, type DnsAnswer, describeFailure, type ServiceKey, serviceKeyText } from "./names.ts"
import type { ServiceInfo } from "./services.ts"
import type { NetworkPolicyPeer } from "./types.ts"

/** Everything gathered for one build. Absent keys mean "not looked up yet" (see `lookups` in the result). */
export interface EgressWorld {
  /** A + AAAA answers keyed by `dnsKey(name)`, already merged with the grace memory. */
  readonly dns: ReadonlyMap<string, DnsAnswer>
  /** Services keyed by `namespace/name`; `"NotFound"` when the gatherer looked and there is none. */
  readonly services: ReadonlyMap<string, ServiceInfo | "NotFound">
}

export const emptyWorld: EgressWorld = { dns: new Map(), services: new Map() }

/**
 * `Unresolved`, `InvalidCIDR`, `InvalidPort`, `NoDestination` make `EgressResolved` False; `Ignored`
 * (a `from` on an egress rule), `Omitted` (a rule dropped because nothing in it resolved) and `Note`
 * (e.g. a provider without a known region) only add to the message.
 */
export type EgressIssueKind =
  | "Unresolved"
  | "InvalidCIDR"
  | "InvalidPort"
  | "NoDestination"
  | "Ignored"
  | "Omitted"
  | "Note"

export interface EgressIssue {
  readonly kind: EgressIssueKind
  /** Field path or source, e.g. `spec.egress[1].to.dns[0]`, `LanguageTool git spec.egress[0]`. */
  readonly where: string
  readonly detail: string
}

export interface BuildContext {
  /** Namespace the destination is resolved in (the resource's; a sidecar tool's equals its agent's). */
  readonly namespace: string
  readonly clusterDomain: string
  readonly world: EgressWorld
  readonly issues: Array<EgressIssue>
  readonly missingServices: Map<string, ServiceKey>
  readonly missingNames: Set<string>
  /** `dynamic`: a peer comes from DNS answers or EndpointSlices (they change without a watch event);
   * `retry`: a name failed to resolve or had no addresses (worth resolving again later). A shared box, so
   * contexts derived with another namespace report into the same build. */
  readonly state: { dynamic: boolean; retry: boolean }
}

export interface Destination {
  readonly peers: ReadonlyArray<NetworkPolicyPeer>
  /** The Service whose pods are the destination (selector or endpoints), for port translation. */
  readonly service?: ServiceInfo
}

const NONE: Destination = { peers: [] }

export const ipPeer = (cidr: string): NetworkPolicyPeer => ({ ipBlock: { cidr } })

export const namespacePeer = (namespace: string, podLabels: Readonly<Record<string, string>>) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  podSelector: { matchLabels: podLabels },
})

const addressPeers = (addresses: ReadonlyArray<string>): Array<NetworkPolicyPeer> =>
  addresses.flatMap((a) => {
    const ip = parseIp(a)
    return ip === undefined ? [] : [ipPeer(hostCidr(ip).text)]
  })

const externalPeers = (ctx: BuildContext, key: string, where: string): Destination => {
  const answer = ctx.world.dns.get(key)
  if (answer === undefined) {
    ctx.missingNames.add(key)
    ctx.issues.push({ kind: "Unresolved", where, detail: `${key}: not resolved yet` })
    return NONE
  }
  if (answer._tag === "Failed") {
    ctx.state.retry = true
    ctx.issues.push({ kind: "Unresolved", where, detail: `${key}: ${describeFailure(answer)}` })
    return NONE
  }
  const peers = addressPeers(answer.addresses)
  if (peers.length === 0) {
    ctx.state.retry = true
    ctx.issues.push({ kind: "Unresolved", where, detail: `${key}: no A or AAAA records` })
    return NONE
  }
  ctx.state.dynamic = true
  return { peers }
}

/** A `to.dns` entry, an ExternalName target or an automatic host. */
export const namePeers = (ctx: BuildContext, raw: string, where: string, depth = 0): Destination => {
  const cls = classifyName(raw, ctx.namespace, ctx.clusterDomain)
  switch (cls._tag) {
    case "Anywhere":
      return { peers: ANYWHERE.map(ipPeer) }
    case "Address":
      return { peers: [ipPeer(cls.cidr.text)] }
    case "InCluster":
      return servicePeers(ctx, cls.service, where, depth)
    case "External":
      return externalPeers(ctx, cls.key, where)
    case "Invalid":
      ctx.issues.push({ kind: "Unresolved", where, detail: `${JSON.stringify(raw)} is ${cls.reason}` })
      return NONE
  }
}

/** A Service: its pods by selector, else its EndpointSlice addresses, else (ExternalName) its target name. */
export const servicePeers = (ctx: BuildContext, key: ServiceKey, where: string, depth = 0): Destination => {
  const text = serviceKeyText(key)
  const entry = ctx.world.services.get(text)
  if (entry === undefined) {
    ctx.missingServices.set(text, key)
    ctx.issues.push({ kind: "Unresolved", where, detail: `Service ${text} not read yet` })
    return NONE
  }
  if (entry === "NotFound") {
    ctx.issues.push({ kind: "Unresolved", where, detail: `Service ${text} not found` })
    return NONE
  }
  if (entry.selector !== undefined && Object.keys(entry.selector).length > 0)
    return { peers: [namespacePeer(key.namespace, entry.selector)], service: entry }
  if (entry.type === "ExternalName" || (entry.externalName !== undefined && entry.externalName !== "")) {
    const target = entry.externalName ?? ""
    if (depth >= 3 || target === "") {
      ctx.issues.push({
        kind: "Unresolved",
        where,
        detail: `Service ${text}: ExternalName ${target === "" ? "is empty" : "chain is longer than 3"}`,
      })
      return NONE
    }
    return namePeers({ ...ctx, namespace: key.namespace }, target, where, depth + 1)
  }
  const peers = addressPeers(entry.endpoints?.addresses ?? [])
  if (peers.length === 0) {
    ctx.issues.push({
      kind: "Unresolved",
      where,
      detail: `Service ${text} has no selector and no ready endpoint addresses`,
    })
    return NONE
  }
  ctx.state.dynamic = true
  return { peers, service: entry }
}
