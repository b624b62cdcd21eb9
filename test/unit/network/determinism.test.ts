import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { policiesEquivalent } from "../../../src/network/compare.ts"
import { buildEgressPolicy } from "../../../src/network/policy.ts"
import { serviceInfoFrom } from "../../../src/network/services.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../src/network/settings.ts"
import { agent, world } from "./fixtures.ts"

const ipv4 = fc.ipV4()
const ipv6 = fc.ipV6()
const names = ["a.example.com", "b.example.com", "c.example.org"]

describe("determinism (property)", () => {
  it("any order and duplication of resolver answers yields the same policy", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(ipv4, ipv6), { minLength: 1, maxLength: 6 }), {
          minLength: 3,
          maxLength: 3,
        }),
        fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
        (answerLists, seeds) => {
          const request = agent([
            { to: { dns: names }, ports: [{ port: 443 }] },
            { to: { dns: [names[2] ?? "", names[0] ?? ""] } },
          ])
          const ordered = Object.fromEntries(names.map((n, i) => [n, answerLists[i] ?? []]))
          const scrambled = Object.fromEntries(
            [...names].reverse().map((n, i) => {
              const list = answerLists[names.indexOf(n)] ?? []
              const seed = seeds[i] ?? 0
              const rotated = [...list.slice(seed % list.length), ...list.slice(0, seed % list.length)]
              return [n, [...rotated, ...rotated.slice(0, 1)].reverse()]
            }),
          )
          const a = buildEgressPolicy(request, world(ordered), DEFAULT_EGRESS_SETTINGS).policy
          const b = buildEgressPolicy(request, world(scrambled), DEFAULT_EGRESS_SETTINGS).policy
          expect(b).toEqual(a)
          expect(policiesEquivalent(a, JSON.parse(JSON.stringify(b)))).toBe(true)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe("serviceInfoFrom", () => {
  it("digests a selector Service (ports kept, no endpoints read)", () => {
    expect(
      serviceInfoFrom(
        {
          metadata: { name: "api", namespace: "x" },
          spec: {
            type: "ClusterIP",
            selector: { app: "api" },
            ports: [{ port: 80, targetPort: "http", protocol: "TCP" }],
          },
        },
        [],
      ),
    ).toEqual({
      namespace: "x",
      name: "api",
      type: "ClusterIP",
      selector: { app: "api" },
      ports: [{ port: 80, protocol: "TCP", targetPort: "http" }],
    })
  })

  it("takes ready endpoint addresses of selector-less Services; an empty selector is no selector", () => {
    const info = serviceInfoFrom({ metadata: { name: "ext", namespace: "x" }, spec: { selector: {} } }, [
      {
        addressType: "IPv4",
        endpoints: [
          { addresses: ["192.0.2.1"], conditions: { ready: true } },
          { addresses: ["192.0.2.2"], conditions: { ready: false } },
          { addresses: ["192.0.2.3"] },
        ],
        ports: [{ port: 5432, protocol: "TCP" }],
      },
      { addressType: "FQDN", endpoints: [{ addresses: ["db.example.com"] }] },
    ])
    expect(info.selector).toBeUndefined()
    expect(info.endpoints).toEqual({
      addresses: ["192.0.2.1", "192.0.2.3"],
      ports: [{ port: 5432, protocol: "TCP" }],
    })
  })
})
