import { describe, expect, it } from "vitest"
import { buildEgressPolicy, type EgressRuleInput } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS } from "../../../src/network/settings.ts"
import { agent, ip, nsPeer, tcp, world } from "./fixtures.ts"

const settings = DEFAULT_EGRESS_SETTINGS
/** The rules after the two base rules. */
const extra = (rules: ReadonlyArray<unknown> | undefined) => (rules ?? []).slice(2)

describe("in-cluster names → namespace + Service selector, never the ClusterIP", () => {
  const ollama = {
    namespace: "default",
    name: "ollama",
    selector: { app: "ollama" },
    ports: [{ port: 11434 }],
  }
  // The operator's resolver would answer the ClusterIP; the builder must not use it.
  const w = world(
    { "ollama.default.svc.cluster.local": ["10.96.0.50"], "ollama.default.svc": ["10.96.0.50"] },
    [ollama],
  )
  it.each(["ollama.default.svc.cluster.local", "ollama.default.svc", "Ollama.Default.svc.cluster.local."])(
    "%s",
    (name) => {
      const result = buildEgressPolicy(
        agent([{ to: { dns: [name] }, ports: [{ port: 11434 }] }]),
        w,
        settings,
      )
      expect(extra(result.policy.spec.egress)).toEqual([
        { to: [nsPeer("default", { app: "ollama" })], ports: tcp(11434) },
      ])
      expect(JSON.stringify(result.policy)).not.toContain("10.96.0.50")
      expect(result.lookups.names).toEqual([])
    },
  )

  it("honours the cluster-domain setting", () => {
    const custom = { ...settings, clusterDomain: "corp.internal" }
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["ollama.default.svc.corp.internal"] } }]),
      w,
      custom,
    )
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [nsPeer("default", { app: "ollama" })] }])
  })

  it("a single label is a Service in the resource's namespace", () => {
    const redis = { namespace: "team-a", name: "redis", selector: { app: "redis" } }
    const result = buildEgressPolicy(agent([{ to: { dns: ["redis"] } }]), world({}, [redis]), settings)
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [nsPeer("team-a", { app: "redis" })] }])
  })

  it("a two-label name is never in-cluster", () => {
    const result = buildEgressPolicy(agent([{ to: { dns: ["example.com"] } }]), world(), settings)
    expect(result.lookups).toEqual({ services: [], names: ["example.com"] })
  })

  it("other names under the cluster domain are rejected, not resolved", () => {
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["10-0-0-1.team-a.pod.cluster.local"] } }]),
      world(),
      settings,
    )
    expect(result.lookups.names).toEqual([])
    expect(result.condition.message).toContain("in-cluster name other than")
  })

  it("a Service not read yet is a lookup; one that does not exist is reported", () => {
    const first = buildEgressPolicy(agent([{ to: { dns: ["db.data.svc"] } }]), world(), settings)
    expect(first.lookups.services).toEqual([{ namespace: "data", name: "db" }])
    const second = buildEgressPolicy(
      agent([{ to: { dns: ["db.data.svc"] } }]),
      world({}, [], ["data/db"]),
      settings,
    )
    expect(second.lookups.services).toEqual([])
    expect(second.condition.message).toContain("Service data/db not found")
    expect(extra(second.policy.spec.egress)).toEqual([])
  })
})

describe("to.service", () => {
  it("selector → namespace + pod selector; namespace defaults to the resource's", () => {
    const api = { namespace: "team-a", name: "api", selector: { app: "api" } }
    const other = { namespace: "shared", name: "cache", selector: { app: "cache", role: "primary" } }
    const rules: ReadonlyArray<EgressRuleInput> = [
      { to: { service: { name: "api" } } },
      { to: { service: { name: "cache", namespace: "shared" } }, ports: [{ port: 6379 }] },
    ]
    const result = buildEgressPolicy(agent(rules), world({}, [api, other]), settings)
    expect(extra(result.policy.spec.egress)).toEqual([
      { to: [nsPeer("team-a", { app: "api" })] },
      { to: [nsPeer("shared", { app: "cache", role: "primary" })], ports: tcp(6379) },
    ])
    expect(result.hasDnsPeers).toBe(false)
  })

  it("selector-less → its EndpointSlice addresses as ipBlocks (time-varying → requeue)", () => {
    const legacy = {
      namespace: "team-a",
      name: "legacy-db",
      endpoints: { addresses: ["2001:db8::5", "192.0.2.31", "192.0.2.30"], ports: [{ port: 5432 }] },
    }
    const result = buildEgressPolicy(
      agent([{ to: { service: { name: "legacy-db" } } }]),
      world({}, [legacy]),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([
      { to: [ip("192.0.2.30/32"), ip("192.0.2.31/32"), ip("2001:db8::5/128")] },
    ])
    expect(result.hasDnsPeers).toBe(true)
  })

  it("selector-less without endpoints → nothing allowed, reported", () => {
    const empty = { namespace: "team-a", name: "nothing", endpoints: { addresses: [], ports: [] } }
    const result = buildEgressPolicy(
      agent([{ to: { service: { name: "nothing" } }, ports: [{ port: 1 }] }]),
      world({}, [empty]),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([])
    expect(result.condition.message).toContain("no selector and no ready endpoint addresses")
  })

  it("ExternalName → resolved like dns (two gathering rounds)", () => {
    const ext = { namespace: "team-a", name: "stripe", type: "ExternalName", externalName: "api.stripe.com" }
    const request = agent([{ to: { service: { name: "stripe" } }, ports: [{ port: 443 }] }])
    const round1 = buildEgressPolicy(request, world(), settings)
    expect(round1.lookups).toEqual({ services: [{ namespace: "team-a", name: "stripe" }], names: [] })
    const round2 = buildEgressPolicy(request, world({}, [ext]), settings)
    expect(round2.lookups).toEqual({ services: [], names: ["api.stripe.com"] })
    const round3 = buildEgressPolicy(request, world({ "api.stripe.com": ["198.51.100.9"] }, [ext]), settings)
    expect(round3.lookups).toEqual({ services: [], names: [] })
    expect(extra(round3.policy.spec.egress)).toEqual([{ to: [ip("198.51.100.9/32")], ports: tcp(443) }])
    expect(round3.condition.status).toBe("True")
  })

  it("ExternalName pointing at an in-cluster name → that Service's selector", () => {
    const alias = {
      namespace: "team-a",
      name: "db",
      type: "ExternalName",
      externalName: "pg.data.svc.cluster.local",
    }
    const pg = { namespace: "data", name: "pg", selector: { app: "pg" } }
    const result = buildEgressPolicy(
      agent([{ to: { service: { name: "db" } } }]),
      world({}, [alias, pg]),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [nsPeer("data", { app: "pg" })] }])
  })
})
