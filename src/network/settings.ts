/**
 * The operator settings the egress builder uses (docs/concepts.md §9 steps 1 and 6, §11), parsed from their string
 * forms in src/settings.ts (`LANGOP_CLUSTER_DOMAIN`, `LANGOP_DNS_NAMESPACE`, `LANGOP_DNS_POD_LABELS`,
 * `LANGOP_DNS_CIDRS`, `LANGOP_DNS_PORTS`, `LANGOP_CILIUM_FQDN_POLICIES`).
 *
 * Guarantee: a malformed value is an error naming the variable (callers fail at startup), never a silently
 * different DNS rule.
 */
import { Result } from "effect"
import { parseCidr } from "./ip.ts"
import type { Protocol } from "./types.ts"

export interface DnsPeerSettings {
  /** Namespace of the cluster DNS pods (matched by `kubernetes.io/metadata.name`). */
  readonly namespace: string
  /** Labels of the cluster DNS pods; undefined = no pod peer (DNS answers only at `cidrs`). */
  readonly podLabels: Readonly<Record<string, string>> | undefined
  /**
   * Canonical CIDRs where DNS answers outside any pod (NodeLocal DNSCache's link-local 169.254.20.10,
   * DNS on the nodes' host network): a pod selector cannot match those, an ipBlock can.
   */
  readonly cidrs: ReadonlyArray<string>
  readonly ports: ReadonlyArray<{ readonly protocol: Protocol; readonly port: number }>
}

export interface EgressSettings {
  /** Cluster DNS suffix, default `cluster.local`. */
  readonly clusterDomain: string
  readonly dnsPeer: DnsPeerSettings
  /** Also build a Cilium FQDN policy (src/network/cilium.ts) for DNS-named destinations. */
  readonly ciliumFqdn: boolean
}

export const DEFAULT_EGRESS_SETTINGS: EgressSettings = {
  clusterDomain: "cluster.local",
  dnsPeer: {
    namespace: "kube-system",
    podLabels: { "k8s-app": "kube-dns" },
    cidrs: [],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  },
  ciliumFqdn: false,
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/u
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/u

/** `k=v,k2=v2` → labels. */
export const parseLabels = (text: string): Result.Result<Record<string, string>, string> => {
  const out: Record<string, string> = {}
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const key = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    if (eq < 0 || !LABEL_KEY.test(key) || !LABEL_VALUE.test(value) || value.length > 63)
      return Result.fail(`${JSON.stringify(part)} is not key=value`)
    out[key] = value
  }
  return Object.keys(out).length > 0 ? Result.succeed(out) : Result.fail("no labels given")
}

/** `UDP/53,TCP/53` → ports. */
export const parsePorts = (
  text: string,
): Result.Result<Array<{ readonly protocol: Protocol; readonly port: number }>, string> => {
  const out: Array<{ readonly protocol: Protocol; readonly port: number }> = []
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue
    const match = /^(TCP|UDP|SCTP)\/([0-9]{1,5})$/iu.exec(part)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535)
      return Result.fail(`${JSON.stringify(part)} is not PROTOCOL/port (e.g. UDP/53)`)
    out.push({ protocol: (match[1] ?? "TCP").toUpperCase() as Protocol, port })
  }
  return out.length > 0 ? Result.succeed(out) : Result.fail("no ports given")
}

/** `169.254.20.10/32,fd00::10` → canonical CIDRs (a bare address is one host); "" → none. */
export const parseCidrs = (text: string): Result.Result<Array<string>, string> => {
  const out: Array<string> = []
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue
    const cidr = parseCidr(part)
    if (cidr === undefined)
      return Result.fail(`${JSON.stringify(part)} is not a CIDR or an IP address (e.g. 169.254.20.10/32)`)
    if (!out.includes(cidr.text)) out.push(cidr.text)
  }
  return Result.succeed(out)
}

/** Builds the egress settings from the raw operator settings; the error names the offending variable. */
export const egressSettingsFrom = (raw: {
  readonly clusterDomain: string
  readonly dnsNamespace: string
  readonly dnsPodLabels: string
  /** Absent = none (callers that predate the setting). */
  readonly dnsCidrs?: string | undefined
  readonly dnsPorts: string
  readonly ciliumFqdnPolicies: boolean
}): Result.Result<EgressSettings, string> => {
  const cidrs = parseCidrs(raw.dnsCidrs ?? "")
  if (Result.isFailure(cidrs)) return Result.fail(`LANGOP_DNS_CIDRS: ${cidrs.failure}`)
  // Empty labels drop the pod peer, which is only sound when DNS answers at the CIDRs instead.
  const noPods = raw.dnsPodLabels.trim() === ""
  if (noPods && cidrs.success.length === 0)
    return Result.fail(
      "LANGOP_DNS_POD_LABELS: empty, and LANGOP_DNS_CIDRS names no DNS server either: pods could not resolve any name",
    )
  const labels = noPods ? Result.succeed(undefined) : parseLabels(raw.dnsPodLabels)
  if (Result.isFailure(labels)) return Result.fail(`LANGOP_DNS_POD_LABELS: ${labels.failure}`)
  const ports = parsePorts(raw.dnsPorts)
  if (Result.isFailure(ports)) return Result.fail(`LANGOP_DNS_PORTS: ${ports.failure}`)
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u.test(raw.dnsNamespace))
    return Result.fail(`LANGOP_DNS_NAMESPACE: ${JSON.stringify(raw.dnsNamespace)} is not a namespace name`)
  const domain = raw.clusterDomain.trim().replace(/\.$/u, "")
  if (domain === "") return Result.fail("LANGOP_CLUSTER_DOMAIN: empty")
  return Result.succeed({
    clusterDomain: domain,
    dnsPeer: {
      namespace: raw.dnsNamespace,
      podLabels: labels.success,
      cidrs: cidrs.success,
      ports: ports.success,
    },
    ciliumFqdn: raw.ciliumFqdnPolicies,
  })
}
