/** Builders for egress builder tests: a world from short literals, requests for each kind. */
import type { DnsAnswer } from "../../../src/network/names.ts"
import type { EgressWorld } from "../../../src/network/peers.ts"
import type { EgressRequest, EgressRuleInput } from "../../../src/network/policy.ts"
import type { ServiceInfo } from "../../../src/network/services.ts"
import type { NetworkPolicyEgressRule } from "../../../src/network/types.ts"

/** `addresses` array → Resolved; a failure reason string → Failed. */
export type AnswerSpec = ReadonlyArray<string> | "NotFound" | "NoData" | "Timeout"

export const answer = (spec: AnswerSpec): DnsAnswer =>
  typeof spec === "string"
    ? { _tag: "Failed", reason: spec, message: "" }
    : { _tag: "Resolved", addresses: spec }

export const world = (
  dns: Readonly<Record<string, AnswerSpec>> = {},
  services: ReadonlyArray<ServiceInfo> = [],
  notFound: ReadonlyArray<string> = [],
): EgressWorld => ({
  dns: new Map(Object.entries(dns).map(([k, v]) => [k, answer(v)])),
  services: new Map<string, ServiceInfo | "NotFound">([
    ...services.map((s) => [`${s.namespace}/${s.name}`, s] as const),
    ...notFound.map((k) => [k, "NotFound"] as const),
  ]),
})

export const agent = (
  egress: ReadonlyArray<EgressRuleInput>,
  extra: Partial<EgressRequest> = {},
): EgressRequest => ({
  kind: "LanguageAgent",
  name: "helper",
  namespace: "team-a",
  egress,
  ...extra,
})

export const BASE_RULES: ReadonlyArray<NetworkPolicyEgressRule> = [
  { to: [{ podSelector: {} }] },
  {
    to: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ],
    ports: [
      { protocol: "TCP", port: 53 },
      { protocol: "UDP", port: 53 },
    ],
  },
]

export const ip = (cidr: string) => ({ ipBlock: { cidr } })

export const nsPeer = (namespace: string, labels: Readonly<Record<string, string>>) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  podSelector: { matchLabels: labels },
})

export const tcp = (...ports: ReadonlyArray<number>) => ports.map((port) => ({ protocol: "TCP", port }))
