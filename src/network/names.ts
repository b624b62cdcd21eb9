/**
 * Host names in egress rules and automatic targets: how each one becomes policy peers (docs/concepts.md §9 step 3).
 *
 * Guarantees (pure):
 * - `*` alone means anywhere; an IP literal is an address; `<svc>.<ns>.svc` and `<svc>.<ns>.svc.<domain>`
 *   are in-cluster Services (peer = namespace + the Service's selector, never a resolved ClusterIP — README
 *   §9 defect 4); a single label (`ollama`) is a Service in the resource's own namespace, which is what the
 *   pod's DNS search path makes of it; everything else is an external name resolved by the operator.
 * - Other names under the cluster domain (`x.y.pod.cluster.local`, `ns.svc.cluster.local`) are rejected
 *   rather than resolved: their answers would be pod or Service addresses that an `ipBlock` cannot match
 *   reliably.
 * - A two-label name such as `example.com` is never in-cluster.
 * - `dnsKey` is THE key of a name in the resolver results: lower case, no trailing dot, no `*.` prefix
 *   (documented limitation: `*.example.com` allows only the apex's addresses).
 */
import { type Cidr, parseCidr, parseIp } from "./ip.ts"

export interface ServiceKey {
  readonly namespace: string
  readonly name: string
}

export const serviceKeyText = (key: ServiceKey): string => `${key.namespace}/${key.name}`

export type NameClass =
  | { readonly _tag: "Anywhere" }
  | { readonly _tag: "Address"; readonly cidr: Cidr }
  | { readonly _tag: "InCluster"; readonly service: ServiceKey }
  | { readonly _tag: "External"; readonly key: string }
  | { readonly _tag: "Invalid"; readonly reason: string }

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/u

/** Resolver key: lower case, trailing dot and a leading `*.` removed. */
export const dnsKey = (name: string): string => {
  const lower = name.trim().toLowerCase().replace(/\.$/u, "")
  return lower.startsWith("*.") ? lower.slice(2) : lower
}

const isHostName = (name: string): boolean =>
  name.length > 0 && name.length <= 253 && name.split(".").every((label) => LABEL.test(label))

/**
 * Classifies one DNS entry (or a URL host) for a resource in `namespace`.
 * `clusterDomain` is the operator setting (default `cluster.local`).
 */
export const classifyName = (raw: string, namespace: string, clusterDomain: string): NameClass => {
  const trimmed = raw.trim()
  if (trimmed === "*") return { _tag: "Anywhere" }
  const unbracketed = trimmed.replace(/^\[(.*)\]$/u, "$1")
  if (parseIp(unbracketed) !== undefined) {
    const cidr = parseCidr(unbracketed)
    if (cidr !== undefined) return { _tag: "Address", cidr }
  }
  const wildcard = trimmed.startsWith("*.")
  const key = dnsKey(trimmed)
  if (!isHostName(key))
    return { _tag: "Invalid", reason: "not an RFC 1123 host name with at most one leading '*.' label" }
  const labels = key.split(".")
  const domain = clusterDomain.toLowerCase().replace(/\.$/u, "")
  const serviceForm =
    (labels.length === 3 && labels[2] === "svc") ||
    (labels.length > 3 && labels[2] === "svc" && labels.slice(3).join(".") === domain)
  if (serviceForm && !wildcard)
    return { _tag: "InCluster", service: { name: labels[0] ?? "", namespace: labels[1] ?? "" } }
  if (labels.length === 1 && !wildcard) return { _tag: "InCluster", service: { name: key, namespace } }
  if (serviceForm || key === domain || key.endsWith(`.${domain}`) || key.endsWith(".svc"))
    return {
      _tag: "Invalid",
      reason: "an in-cluster name other than <service>.<namespace>.svc[.<cluster-domain>]",
    }
  return { _tag: "External", key }
}

// ---------------------------------------------------------------------------------------------------------
// Automatic host targets (model endpoints, message queues, OTLP collector)

/** A host and port the workload must reach; `source` says why (shown in condition messages). */
export interface HostTarget {
  readonly host: string
  readonly port: number
  readonly protocol?: "TCP" | "UDP" | "SCTP"
  readonly source: string
}

export const HTTP_DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 }

/** docs/languageagent.md §Triggers: default broker ports per URL scheme. */
export const MESSAGE_QUEUE_DEFAULT_PORTS: Readonly<Record<string, number>> = {
  nats: 4222,
  amqp: 5672,
  amqps: 5671,
  kafka: 9092,
  redis: 6379,
  rediss: 6379,
}

export type HostTargetResult =
  | { readonly _tag: "Target"; readonly target: HostTarget }
  | { readonly _tag: "Note"; readonly note: string }

/**
 * `scheme://host[:port]/…` → host and port (explicit port, else the scheme's default from `defaultPorts`).
 * A URL without a usable host, or with an unknown scheme and no port, gives a note instead (reported in
 * the `EgressResolved` message; no rule).
 */
export const hostTargetFromUrl = (
  url: string,
  defaultPorts: Readonly<Record<string, number>>,
  source: string,
): HostTargetResult => {
  if (!URL.canParse(url)) return { _tag: "Note", note: `${source}: ${JSON.stringify(url)} is not a URL` }
  const parsed = new URL(url)
  const scheme = parsed.protocol.replace(/:$/u, "").toLowerCase()
  const host = parsed.hostname.replace(/^\[(.*)\]$/u, "$1")
  if (host === "") return { _tag: "Note", note: `${source}: ${JSON.stringify(url)} has no host` }
  const port = parsed.port !== "" ? Number(parsed.port) : defaultPorts[scheme]
  if (port === undefined)
    return {
      _tag: "Note",
      note: `${source}: no port in ${JSON.stringify(url)} and no default port for scheme ${scheme}`,
    }
  return { _tag: "Target", target: { host, port, source } }
}

/** The OTLP collector setting: `http://` is assumed when it has no scheme (docs/languageagent.md §Observability). */
export const otlpHostTarget = (endpoint: string, source = "OTLP collector"): HostTargetResult =>
  hostTargetFromUrl(
    /^[a-z][a-z0-9+.-]*:\/\//iu.test(endpoint) ? endpoint : `http://${endpoint}`,
    HTTP_DEFAULT_PORTS,
    source,
  )

// ---------------------------------------------------------------------------------------------------------
// Resolver answers (produced by dns.ts, merged with the grace memory by grace.ts, consumed by policy.ts)

export type DnsFailureReason = "NotFound" | "NoData" | "Timeout" | "Refused" | "ServerFailure" | "Error"

/** The A + AAAA answer for one name: addresses (either family), or why there are none. */
export type DnsAnswer =
  | { readonly _tag: "Resolved"; readonly addresses: ReadonlyArray<string> }
  | { readonly _tag: "Failed"; readonly reason: DnsFailureReason; readonly message: string }

const FAILURE_TEXT: Readonly<Record<DnsFailureReason, string>> = {
  NotFound: "NXDOMAIN",
  NoData: "no A or AAAA records",
  Timeout: "lookup timed out",
  Refused: "lookup refused",
  ServerFailure: "server failure",
  Error: "lookup failed",
}

/** Short human text of a failed answer, for condition messages. */
export const describeFailure = (answer: DnsAnswer & { readonly _tag: "Failed" }): string =>
  answer.reason === "Error" && answer.message !== ""
    ? `${FAILURE_TEXT.Error}: ${answer.message}`
    : FAILURE_TEXT[answer.reason]
