/**
 * The egress NetworkPolicy of one agent, service-mode tool or model proxy (spec docs/concepts.md §9).
 *
 * Pure: `buildEgressPolicy(request, world, settings)` decides everything from gathered inputs; gathering
 * (reading Services/EndpointSlices, resolving names) is the reconciler's job. `result.lookups` lists what
 * the world still lacks: gather those and build again until it is empty (an ExternalName Service can add a
 * name or another Service, so one round may not be enough; every round only adds keys, so it ends).
 *
 * Guarantees:
 * - Fail closed: a rule whose destinations all fail to resolve is omitted, never emitted ports-only
 *   (docs/concepts.md §9 defect 1); so is a rule with an invalid CIDR or port, or without `to`.
 * - Deterministic: peers sorted (IPv4 before IPv6, numerically) and deduplicated, ports sorted, identical
 *   rules emitted once; base rules first, then automatic rules sorted, then `spec.egress` in spec order,
 *   then each sidecar tool's rules in `toolRefs` order. Same inputs in any answer order → same object.
 * - In-cluster names and Services become namespace + pod-selector peers, never ClusterIP `ipBlock`s.
 * - Agents reach models/tools in other namespaces through automatic rules (defect 6); sidecar tools'
 *   rules are applied to the agent's pods (defect 5); models get rules for their provider (defect 7).
 */
import { commonLabels, LABEL_GROUP } from "../domain/labels.ts"
import { buildFqdnPolicy, type CiliumNetworkPolicy } from "./cilium.ts"
import { parseCidr } from "./ip.ts"
import type { HostTarget, ServiceKey } from "./names.ts"
import {
  type BuildContext,
  type EgressIssue,
  type EgressWorld,
  ipPeer,
  namePeers,
  namespacePeer,
  servicePeers,
} from "./peers.ts"
import type { ServiceInfo } from "./services.ts"
import type { EgressSettings } from "./settings.ts"
import {
  canonicalRule,
  type LabelSelector,
  type NetworkPolicy,
  type NetworkPolicyEgressRule,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type Protocol,
} from "./types.ts"

export type PolicyOwnerKind = "LanguageAgent" | "LanguageTool" | "LanguageModel"

/** Structurally a `NetworkPeer` of src/api/shared.ts (decoded or not). */
export interface EgressPeerInput {
  readonly group?: string
  readonly cidr?: string
  readonly dns?: ReadonlyArray<string>
  readonly service?: { readonly name: string; readonly namespace?: string }
  readonly namespaceSelector?: LabelSelector
  readonly podSelector?: LabelSelector
}

/** Structurally a `NetworkRule` of src/api/shared.ts. */
export interface EgressRuleInput {
  readonly description?: string
  readonly from?: unknown
  readonly to?: EgressPeerInput
  readonly ports?: ReadonlyArray<{ readonly protocol?: Protocol; readonly port: number }>
}

/** A sidecar-mode tool embedded in the agent: its rules apply to the agent's pods. */
export interface SidecarEgress {
  readonly tool: string
  /** The tool's namespace (always the agent's: cross-namespace sidecars are refused, docs/concepts.md X-5). */
  readonly namespace: string
  readonly egress: ReadonlyArray<EgressRuleInput>
}

/** A referenced model or service-mode tool; a rule is added when it is in another namespace. */
export interface InClusterTarget {
  readonly kind: "LanguageModel" | "LanguageTool"
  readonly name: string
  readonly namespace: string
  /** Container port: {@link MODEL_PROXY_PORT} for models, `spec.port` for tools. */
  readonly port: number
}

/** The model proxy container port (its Service maps 8000 → 4000; policies see the pod port). */
export const MODEL_PROXY_PORT = 4000

export interface EgressRequest {
  readonly kind: PolicyOwnerKind
  readonly name: string
  readonly namespace: string
  /** `spec.egress` of the resource. */
  readonly egress: ReadonlyArray<EgressRuleInput>
  /** Agents: the embedded sidecar tools, in `toolRefs` order. */
  readonly sidecars?: ReadonlyArray<SidecarEgress>
  /** Agents: referenced models and service-mode tools. */
  readonly targets?: ReadonlyArray<InClusterTarget>
  /** Automatic host:port destinations (model provider/endpoints, message queues, OTLP collector, Redis). */
  readonly hosts?: ReadonlyArray<HostTarget>
  /** Allow the API server (`default/kubernetes` EndpointSlice addresses; kubernetes-event triggers). */
  readonly apiServer?: boolean
  /** Extra text for the `EgressResolved` message (e.g. a trigger URL without a port). */
  readonly notes?: ReadonlyArray<string>
}

export type EgressReason =
  | "Resolved"
  | "DNSResolutionFailed"
  | "InvalidCIDR"
  | "InvalidPort"
  | "RuleWithoutDestination"

/** Ready to pass to `setCondition` (src/controllers/common/conditions.ts). */
export interface EgressCondition {
  readonly type: "EgressResolved"
  readonly status: "True" | "False"
  readonly reason: EgressReason
  readonly message: string
}

export interface EgressLookups {
  /** Services (and, when selector-less, their EndpointSlices) to read. */
  readonly services: ReadonlyArray<ServiceKey>
  /** Names to resolve (A + AAAA), already `dnsKey`-normalised. */
  readonly names: ReadonlyArray<string>
}

export interface EgressPolicyResult {
  readonly policy: NetworkPolicy
  readonly condition: EgressCondition
  readonly issues: ReadonlyArray<EgressIssue>
  /** Some peer comes from DNS answers or EndpointSlices → requeue after the DNS refresh interval. */
  readonly hasDnsPeers: boolean
  /**
   * Requeue after the DNS refresh interval: `hasDnsPeers`, or some name failed to resolve (so a name that
   * starts resolving is picked up without waiting for another event).
   */
  readonly requeueForDns: boolean
  /** What the world lacks; empty once gathering is complete. */
  readonly lookups: EgressLookups
  /**
   * The Cilium FQDN policy (src/network/cilium.ts) when the setting is on and some destination is a DNS
   * name; undefined otherwise.
   */
  readonly fqdnPolicy: CiliumNetworkPolicy | undefined
}

// ---------------------------------------------------------------------------------------------------------

const ruleOf = (peers: ReadonlyArray<NetworkPolicyPeer>, ports: ReadonlyArray<NetworkPolicyPort>) =>
  canonicalRule({ to: peers, ports })

/** DNS: the cluster DNS pods and/or the addresses where DNS answers outside pods (LANGOP_DNS_CIDRS). */
const dnsRule = (dns: EgressSettings["dnsPeer"]): NetworkPolicyEgressRule =>
  ruleOf(
    [
      ...(dns.podLabels !== undefined ? [namespacePeer(dns.namespace, dns.podLabels)] : []),
      ...dns.cidrs.map(ipPeer),
    ],
    dns.ports,
  )

const baseRules = (settings: EgressSettings): Array<NetworkPolicyEgressRule> => [
  canonicalRule({ to: [{ podSelector: {} }] }),
  dnsRule(settings.dnsPeer),
]

const targetRule = (target: InClusterTarget): NetworkPolicyEgressRule =>
  ruleOf(
    [namespacePeer(target.namespace, commonLabels(target.kind, target.name))],
    [{ protocol: "TCP", port: target.port }],
  )

/** URL port → the port the pods listen on (Service targetPort; named ports stay named). */
const podPorts = (
  service: ServiceInfo | undefined,
  port: number,
  protocol: Protocol,
): NetworkPolicyPort[] => {
  const servicePort = service?.ports?.find((p) => p.port === port && (p.protocol ?? "TCP") === protocol)
  if (service === undefined || servicePort === undefined) return [{ protocol, port }]
  const target = servicePort.targetPort ?? port
  if (service.selector !== undefined || typeof target === "number") return [{ protocol, port: target }]
  const endpointPorts = service.endpoints?.ports ?? []
  return endpointPorts.length === 1
    ? [{ protocol, port: endpointPorts[0]?.port ?? port }]
    : [{ protocol, port }]
}

const hostRule = (ctx: BuildContext, host: HostTarget): NetworkPolicyEgressRule | undefined => {
  const protocol = host.protocol ?? "TCP"
  const where = `${host.source} (${host.host}:${host.port})`
  const destination = namePeers(ctx, host.host, where)
  if (destination.peers.length === 0) return undefined
  return ruleOf(destination.peers, podPorts(destination.service, host.port, protocol))
}

const apiServerRule = (ctx: BuildContext): NetworkPolicyEgressRule | undefined => {
  const destination = servicePeers(ctx, { namespace: "default", name: "kubernetes" }, "API server")
  if (destination.peers.length === 0) return undefined
  const ports = (destination.service?.endpoints?.ports ?? []).map((p) => ({
    protocol: p.protocol ?? "TCP",
    port: p.port,
  }))
  return ruleOf(destination.peers, ports)
}

const hasDestination = (to: EgressPeerInput): boolean =>
  to.cidr !== undefined ||
  (to.dns ?? []).length > 0 ||
  (to.service !== undefined && to.service.name !== "") ||
  (to.group !== undefined && to.group !== "") ||
  to.namespaceSelector !== undefined ||
  to.podSelector !== undefined

/** One `spec.egress[]` entry → a rule, or `undefined` when it is skipped or ends with no peer. */
const userRule = (
  ctx: BuildContext,
  rule: EgressRuleInput,
  where: string,
): NetworkPolicyEgressRule | undefined => {
  if (rule.from !== undefined)
    ctx.issues.push({
      kind: "Ignored",
      where: `${where}.from`,
      detail: "meaningless on an egress rule; ignored",
    })
  const to = rule.to
  if (to === undefined) {
    ctx.issues.push({ kind: "NoDestination", where, detail: "no `to`; rule skipped" })
    return undefined
  }
  if (!hasDestination(to)) {
    ctx.issues.push({
      kind: "NoDestination",
      where: `${where}.to`,
      detail: "names no destination; rule skipped",
    })
    return undefined
  }
  const badPorts = (rule.ports ?? []).filter((p) => !Number.isInteger(p.port) || p.port < 1 || p.port > 65535)
  if (badPorts.length > 0) {
    const list = badPorts.map((p) => String(p.port)).join(", ")
    ctx.issues.push({
      kind: "InvalidPort",
      where: `${where}.ports`,
      detail: `invalid port ${list}; rule skipped`,
    })
    return undefined
  }
  const peers: Array<NetworkPolicyPeer> = []
  if (to.cidr !== undefined) {
    const cidr = parseCidr(to.cidr)
    if (cidr === undefined) {
      // The whole rule is invalid: skip it before resolving anything else in it.
      const detail = `${JSON.stringify(to.cidr)} is not a CIDR or IP address; rule skipped`
      ctx.issues.push({ kind: "InvalidCIDR", where: `${where}.to.cidr`, detail })
      return undefined
    }
    peers.push(ipPeer(cidr.text))
  }
  for (const [j, name] of (to.dns ?? []).entries())
    peers.push(...namePeers(ctx, name, `${where}.to.dns[${j}]`).peers)
  if (to.service !== undefined && to.service.name !== "") {
    const namespace =
      to.service.namespace !== undefined && to.service.namespace !== "" ? to.service.namespace : ctx.namespace
    peers.push(...servicePeers(ctx, { namespace, name: to.service.name }, `${where}.to.service`).peers)
  }
  if (to.group !== undefined && to.group !== "")
    peers.push({ podSelector: { matchLabels: { [LABEL_GROUP]: to.group } } })
  if (to.namespaceSelector !== undefined || to.podSelector !== undefined)
    peers.push({
      ...(to.namespaceSelector !== undefined ? { namespaceSelector: to.namespaceSelector } : {}),
      ...(to.podSelector !== undefined ? { podSelector: to.podSelector } : {}),
    })
  if (peers.length === 0) {
    ctx.issues.push({ kind: "Omitted", where, detail: "no destination resolved; rule omitted (fail closed)" })
    return undefined
  }
  return ruleOf(
    peers,
    (rule.ports ?? []).map((p) => ({ protocol: p.protocol ?? "TCP", port: p.port })),
  )
}

const REASON_BY_PRIORITY: ReadonlyArray<readonly [EgressIssue["kind"], EgressReason]> = [
  ["InvalidCIDR", "InvalidCIDR"],
  ["InvalidPort", "InvalidPort"],
  ["Unresolved", "DNSResolutionFailed"],
  ["NoDestination", "RuleWithoutDestination"],
]

const conditionOf = (issues: ReadonlyArray<EgressIssue>): EgressCondition => {
  const text = issues.map((i) => `${i.where}: ${i.detail}`).join("; ")
  const failing = REASON_BY_PRIORITY.find(([kind]) => issues.some((i) => i.kind === kind))
  if (failing === undefined)
    return {
      type: "EgressResolved",
      status: "True",
      reason: "Resolved",
      message: text === "" ? "All egress destinations resolved" : `All egress destinations resolved; ${text}`,
    }
  return { type: "EgressResolved", status: "False", reason: failing[1], message: text }
}

const dedupe = (rules: ReadonlyArray<NetworkPolicyEgressRule>): Array<NetworkPolicyEgressRule> => {
  const seen = new Set<string>()
  return rules.filter((rule) => {
    const text = JSON.stringify(rule)
    if (seen.has(text)) return false
    seen.add(text)
    return true
  })
}

const defined = <A>(a: A | undefined): a is A => a !== undefined

export const buildEgressPolicy = (
  request: EgressRequest,
  world: EgressWorld,
  settings: EgressSettings,
): EgressPolicyResult => {
  const ctx: BuildContext = {
    namespace: request.namespace,
    clusterDomain: settings.clusterDomain,
    world,
    issues: [],
    missingServices: new Map(),
    missingNames: new Set(),
    state: { dynamic: false, retry: false },
  }
  const automatic = [
    ...(request.targets ?? []).filter((t) => t.namespace !== request.namespace).map(targetRule),
    ...(request.hosts ?? []).map((h) => hostRule(ctx, h)).filter(defined),
    ...(request.apiServer === true ? [apiServerRule(ctx)].filter(defined) : []),
  ].sort((a, b) =>
    JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0,
  )
  const own = request.egress.map((rule, i) => userRule(ctx, rule, `spec.egress[${i}]`)).filter(defined)
  const sidecars = (request.sidecars ?? []).flatMap((sidecar) =>
    sidecar.egress
      .map((rule, i) =>
        userRule(
          { ...ctx, namespace: sidecar.namespace },
          rule,
          `LanguageTool ${sidecar.tool} spec.egress[${i}]`,
        ),
      )
      .filter(defined),
  )
  for (const note of request.notes ?? [])
    ctx.issues.push({ kind: "Note", where: "automatic rules", detail: note })
  const labels = commonLabels(request.kind, request.name)
  const policy: NetworkPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: request.name, namespace: request.namespace, labels },
    spec: {
      podSelector: { matchLabels: labels },
      policyTypes: ["Egress"],
      egress: dedupe([...baseRules(settings), ...automatic, ...own, ...sidecars]),
    },
  }
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return {
    policy,
    condition: conditionOf(ctx.issues),
    issues: ctx.issues,
    hasDnsPeers: ctx.state.dynamic,
    requeueForDns: ctx.state.dynamic || ctx.state.retry,
    lookups: {
      services: [...ctx.missingServices.entries()].sort(([a], [b]) => byText(a, b)).map(([, key]) => key),
      names: [...ctx.missingNames].sort(byText),
    },
    fqdnPolicy: settings.ciliumFqdn ? buildFqdnPolicy(request, settings) : undefined,
  }
}

/** What to gather before (re)building: `buildEgressPolicy(...).lookups`. */
export const egressLookups = (
  request: EgressRequest,
  world: EgressWorld,
  settings: EgressSettings,
): EgressLookups => buildEgressPolicy(request, world, settings).lookups
