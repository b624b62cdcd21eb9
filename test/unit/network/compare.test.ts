import { describe, expect, it } from "vitest"
import {
  canonicalPolicySpec,
  type LiveNetworkPolicy,
  policiesEquivalent,
} from "../../../src/network/compare.ts"
import { buildEgressPolicy } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../src/network/settings.ts"
import { agent, world } from "./fixtures.ts"

const request = agent([
  {
    to: { dns: ["api.example.com", "cdn.example.com"] },
    ports: [{ port: 443 }, { protocol: "UDP", port: 443 }],
  },
  {
    to: {
      namespaceSelector: { matchLabels: { b: "2", a: "1" } },
      podSelector: {
        matchExpressions: [
          { key: "tier", operator: "In", values: ["x", "y"] },
          { key: "app", operator: "Exists" },
        ],
      },
    },
  },
])
const answers = {
  "api.example.com": ["203.0.113.10", "2001:db8::1", "198.51.100.1"],
  "cdn.example.com": ["192.0.2.7", "192.0.2.3"],
}
const desired = buildEgressPolicy(request, world(answers), DEFAULT_EGRESS_SETTINGS).policy

/** JSON round trip, as the object comes back from the API server. */
const live = (
  mutate: (p: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void = () => {},
) => {
  const copy = JSON.parse(JSON.stringify(desired)) as {
    metadata: Record<string, unknown>
    spec: Record<string, unknown>
  }
  mutate(copy)
  return copy as LiveNetworkPolicy
}
const reversed = <A>(xs: ReadonlyArray<A>): Array<A> => [...xs].reverse()

describe("semantic comparison of egress policies", () => {
  it("re-resolving the same addresses in another order builds an equal policy", () => {
    const shuffled = {
      "cdn.example.com": reversed(answers["cdn.example.com"]),
      "api.example.com": ["2001:db8::1", "198.51.100.1", "203.0.113.10", "198.51.100.1"],
    }
    const again = buildEgressPolicy(request, world(shuffled), DEFAULT_EGRESS_SETTINGS).policy
    expect(again).toEqual(desired)
    expect(policiesEquivalent(again, live())).toBe(true)
  })

  it("the object read back unchanged is equal", () => {
    expect(policiesEquivalent(desired, live())).toBe(true)
  })

  it("order of rules, peers, ports, expressions and values does not matter", () => {
    const shuffledLive = live((p) => {
      const egress = reversed(p.spec.egress as Array<{ to?: Array<unknown>; ports?: Array<unknown> }>).map(
        (r) => ({
          ...(r.ports !== undefined ? { ports: reversed(r.ports) } : {}),
          ...(r.to !== undefined ? { to: reversed(r.to) } : {}),
        }),
      )
      p.spec = { policyTypes: ["Egress"], egress, podSelector: p.spec.podSelector }
    })
    expect(policiesEquivalent(desired, shuffledLive)).toBe(true)
  })

  it("server-filled defaults and empty forms count as absent", () => {
    const defaulted: LiveNetworkPolicy = {
      spec: {
        podSelector: { matchLabels: { a: "1" }, matchExpressions: [] },
        egress: [
          { to: [{ ipBlock: { cidr: "10.1.2.3/8", except: [] } }], ports: [{ port: 443 }] },
          { to: [], ports: [] },
        ],
        policyTypes: ["Egress"],
      },
    }
    const plain: LiveNetworkPolicy = {
      spec: {
        podSelector: { matchLabels: { a: "1" } },
        egress: [{}, { to: [{ ipBlock: { cidr: "10.0.0.0/8" } }], ports: [{ protocol: "TCP", port: 443 }] }],
        policyTypes: ["Egress"],
      },
    }
    expect(canonicalPolicySpec(defaulted.spec)).toBe(canonicalPolicySpec(plain.spec))
  })

  it.each<[string, (p: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void]>([
    [
      "a peer removed",
      (p) => {
        const egress = p.spec.egress as Array<{ to?: Array<unknown> }>
        egress[2] = { ...egress[2], to: (egress[2]?.to ?? []).slice(1) }
      },
    ],
    [
      "a port changed",
      (p) => {
        const egress = p.spec.egress as Array<{ ports?: Array<{ port: number }> }>
        egress[2] = { ...egress[2], ports: [{ port: 8443 }] }
      },
    ],
    [
      "a rule added (e.g. by hand)",
      (p) => {
        p.spec.egress = [...(p.spec.egress as Array<unknown>), { ports: [{ port: 25 }] }]
      },
    ],
    [
      "an ingress rule added",
      (p) => {
        p.spec.ingress = [{}]
        p.spec.policyTypes = ["Egress", "Ingress"]
      },
    ],
    [
      "policyTypes missing (server derives Ingress+Egress)",
      (p) => {
        delete p.spec.policyTypes
      },
    ],
    [
      "a selector label changed",
      (p) => {
        p.spec.podSelector = { matchLabels: { "app.kubernetes.io/name": "other" } }
      },
    ],
    [
      "a common label missing",
      (p) => {
        p.metadata.labels = {}
      },
    ],
  ])("differs when %s", (_, mutate) => {
    expect(policiesEquivalent(desired, live(mutate))).toBe(false)
  })

  it("extra live labels (other managers) are not a difference", () => {
    expect(
      policiesEquivalent(
        desired,
        live((p) => {
          p.metadata.labels = { ...(p.metadata.labels as Record<string, string>), team: "x" }
        }),
      ),
    ).toBe(true)
  })
})
