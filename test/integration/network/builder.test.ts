// The egress NetworkPolicies of OUR pure builder (`buildEgressPolicy`), verified rather than assumed: an agent,
// the models and service-mode tools it references (same namespace and another one), plus unrelated pods,
// run on the kwok node with the common labels; names resolve through a real DNS server on 127.0.0.1 via the
// `Dns` layer; the policies are stored in the cluster and np-guard's netpol-analyzer computes what they
// allow (no CNI enforces them here). Addresses are documentation ranges only (IPv4: see setup/netpol.ts).
import { CoreV1Api, type KubeConfig, type V1Pod } from "@kubernetes/client-node"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { commonLabels } from "../../../src/domain/labels.ts"
import { Dns } from "../../../src/network/dns.ts"
import { DnsMemory } from "../../../src/network/memory.ts"
import { type EgressPolicyResult, type EgressRequest, MODEL_PROXY_PORT } from "../../../src/network/policy.ts"
import type { EgressSettings } from "../../../src/network/settings.ts"
import { dnsTestServer } from "../../unit/network/support/dns-server.ts"
import { createNamespace, deleteNamespace, makeKubeConfig } from "../setup/context.ts"
import {
  type Conn,
  type ConnectionQuery,
  describeQuery,
  evalConnections,
  ipv4Range,
  listConnections,
  type Protocol,
  workloadOf,
} from "../setup/netpol.ts"
import { applyPolicy, buildGathered, createWorkload, podRef, runningPod } from "./support.ts"

const RECORDS = {
  "api.example.com": { a: ["203.0.113.11", "203.0.113.10"] },
  "cdn.example.net": { a: ["192.0.2.7"] },
  "git.example.org": { a: ["198.18.0.5"] },
  "provider.example.ai": { a: ["203.0.113.50"] },
  "backend.example.com": { a: ["203.0.113.60"] },
}

interface Scenario {
  readonly kc: KubeConfig
  readonly ns: {
    readonly agent: string
    readonly remote: string
    readonly other: string
    readonly dns: string
  }
  readonly results: Readonly<Record<"agent" | "sharedModel" | "remoteTool", EgressPolicyResult>>
  readonly pods: Readonly<Record<string, V1Pod>>
  readonly dnsQueries: ReadonlyArray<string>
}

let scenario: Scenario | undefined
const created: Array<string> = []

const setUp = async (): Promise<Scenario> => {
  const kc = makeKubeConfig()
  const ns = {
    agent: await createNamespace(kc, "np-agent"),
    remote: await createNamespace(kc, "np-remote"),
    other: await createNamespace(kc, "np-other"),
    dns: await createNamespace(kc, "np-dns"),
  }
  created.push(...Object.values(ns))
  // The configured DNS peer lives in its own namespace (operator setting, docs/concepts.md §9 step 1).
  const settings: EgressSettings = {
    clusterDomain: "cluster.local",
    dnsPeer: {
      namespace: ns.dns,
      podLabels: { "k8s-app": "kube-dns" },
      cidrs: [],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
    ciliumFqdn: false,
  }
  // An in-cluster destination named by DNS: its Service must exist before the builder reads it.
  await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace: ns.other,
    body: {
      metadata: { name: "db" },
      spec: { selector: { app: "db" }, ports: [{ port: 5432, targetPort: 5432 }] },
    },
  })

  const agent: EgressRequest = {
    kind: "LanguageAgent",
    name: "assistant",
    namespace: ns.agent,
    targets: [
      { kind: "LanguageModel", name: "local-llm", namespace: ns.agent, port: MODEL_PROXY_PORT },
      { kind: "LanguageTool", name: "search", namespace: ns.agent, port: 8080 },
      { kind: "LanguageModel", name: "shared-llm", namespace: ns.remote, port: MODEL_PROXY_PORT },
      { kind: "LanguageTool", name: "remote-tool", namespace: ns.remote, port: 9000 },
    ],
    egress: [
      { to: { cidr: "198.51.100.0/24" }, ports: [{ port: 443 }] },
      { to: { dns: ["api.example.com"] }, ports: [{ port: 443 }, { port: 8443 }] },
      { to: { dns: ["*.cdn.example.net"] }, ports: [{ protocol: "UDP", port: 3478 }] },
      // NXDOMAIN: the rule must vanish, not become "anywhere on 25" (docs/concepts.md §9 defect 1).
      { to: { dns: ["missing.example.com"] }, ports: [{ port: 25 }] },
      { to: { cidr: "192.0.2.200" }, ports: [{ port: 5432 }] },
      { to: { dns: [`db.${ns.other}.svc.cluster.local`] }, ports: [{ port: 5432 }] },
    ],
    sidecars: [
      {
        tool: "git",
        namespace: ns.agent,
        egress: [{ to: { dns: ["git.example.org"] }, ports: [{ port: 22 }] }],
      },
    ],
  }
  const sharedModel: EgressRequest = {
    kind: "LanguageModel",
    name: "shared-llm",
    namespace: ns.remote,
    egress: [],
    hosts: [{ host: "provider.example.ai", port: 443, source: "provider" }],
  }
  const remoteTool: EgressRequest = {
    kind: "LanguageTool",
    name: "remote-tool",
    namespace: ns.remote,
    egress: [{ to: { dns: ["backend.example.com"] }, ports: [{ port: 443 }] }],
  }
  const plain = (kind: "LanguageModel" | "LanguageTool", name: string): EgressRequest => ({
    kind,
    name,
    namespace: ns.agent,
    egress: [],
  })

  const requests = [
    agent,
    sharedModel,
    remoteTool,
    plain("LanguageModel", "local-llm"),
    plain("LanguageTool", "search"),
  ]
  const { built, dnsQueries } = await Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const server = yield* dnsTestServer(RECORDS)
        const layer = Layer.merge(
          DnsMemory.layer,
          Dns.layer({ servers: [server.server], timeoutMs: 500, tries: 2 }),
        )
        const built = yield* Effect.forEach(requests, (r) => buildGathered(kc, r, settings)).pipe(
          Effect.provide(layer),
        )
        return { built, dnsQueries: [...server.queries] }
      }),
    ),
  )
  for (const result of built) await applyPolicy(kc, result.policy)
  // Control: the original operator's output when every name of a rule failed to resolve — a ports-only
  // rule (docs/concepts.md §9 defect 1). The analyzer must see it as "anywhere on 25", or it could not catch the defect.
  await applyPolicy(kc, {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "legacy", namespace: ns.agent, labels: {} },
    spec: {
      podSelector: { matchLabels: { app: "legacy" } },
      policyTypes: ["Egress"],
      egress: [{ to: [{ podSelector: {} }] }, { ports: [{ protocol: "TCP", port: 25 }] }],
    },
  })

  const workloads: ReadonlyArray<readonly [string, string, Record<string, string>, ReadonlyArray<number>]> = [
    ["assistant", ns.agent, commonLabels("LanguageAgent", "assistant"), [8080]],
    ["local-llm", ns.agent, commonLabels("LanguageModel", "local-llm"), [4000]],
    ["search", ns.agent, commonLabels("LanguageTool", "search"), [8080]],
    ["neighbour", ns.agent, { app: "neighbour" }, []],
    ["legacy", ns.agent, { app: "legacy" }, []],
    ["shared-llm", ns.remote, commonLabels("LanguageModel", "shared-llm"), [4000]],
    ["remote-tool", ns.remote, commonLabels("LanguageTool", "remote-tool"), [9000]],
    // A model the agent does NOT reference, in the namespace of one it does.
    ["other-llm", ns.remote, commonLabels("LanguageModel", "other-llm"), [4000]],
    ["stranger", ns.remote, { app: "stranger" }, []],
    ["db", ns.other, { app: "db" }, [5432]],
    ["cache", ns.other, { app: "cache" }, [5432]],
    ["coredns", ns.dns, { "k8s-app": "kube-dns" }, [53]],
  ]
  for (const [name, namespace, labels, ports] of workloads)
    await createWorkload(kc, namespace, name, labels, ports)
  const pods: Record<string, V1Pod> = {}
  for (const [name, namespace, labels] of workloads) pods[name] = await runningPod(kc, namespace, labels)
  const [a, m, t] = built
  if (a === undefined || m === undefined || t === undefined) throw new Error("unreachable")
  return { kc, ns, results: { agent: a, sharedModel: m, remoteTool: t }, pods, dnsQueries }
}

const get = (): Scenario => {
  if (scenario === undefined) throw new Error("scenario not set up")
  return scenario
}

const pod = (name: string) => {
  const p = get().pods[name]
  if (p === undefined) throw new Error(`no pod ${name}`)
  return podRef(p)
}

const toPod =
  (name: string, port: number, protocol: Protocol = "TCP") =>
  (from: string): ConnectionQuery => ({
    from: pod(from),
    to: { pod: pod(name) },
    port,
    protocol,
  })
const toIp =
  (ip: string, port: number, protocol: Protocol = "TCP") =>
  (from: string): ConnectionQuery => ({
    from: pod(from),
    to: { ip },
    port,
    protocol,
  })

/** Evaluates `[from, query, expected]` rows; the mismatches are reported all at once. */
const expectVerdicts = async (
  rows: ReadonlyArray<readonly [string, (from: string) => ConnectionQuery, boolean]>,
): Promise<void> => {
  const queries = rows.map(([from, q]) => q(from))
  const verdicts = await evalConnections(queries)
  const actual = verdicts.map((v) => `${describeQuery(v.query)}: ${v.allowed ? "allowed" : "denied"}`)
  const expected = rows.map(([, , allowed], i) => {
    const q = queries[i]
    return q === undefined ? "" : `${describeQuery(q)}: ${allowed ? "allowed" : "denied"}`
  })
  expect(actual).toEqual(expected)
}

beforeAll(async () => {
  scenario = await setUp()
})

afterAll(async () => {
  const kc = scenario?.kc ?? makeKubeConfig()
  for (const name of created) await deleteNamespace(kc, name)
})

describe("egress policies from the pure builder, checked by netpol-analyzer", () => {
  test("names were resolved through the DNS server; the unresolvable one is reported, not opened", () => {
    const { results, dnsQueries } = get()
    expect(dnsQueries).toEqual(
      expect.arrayContaining([
        "api.example.com A",
        "cdn.example.net A",
        "git.example.org A",
        "missing.example.com A",
      ]),
    )
    expect(dnsQueries.some((q) => q.startsWith("*"))).toBe(false)
    expect(results.agent.condition).toMatchObject({ status: "False", reason: "DNSResolutionFailed" })
    expect(results.agent.condition.message).toContain("missing.example.com")
    expect(results.agent.lookups).toEqual({ services: [], names: [] })
    expect(results.sharedModel.condition.status).toBe("True")
    expect(results.remoteTool.condition.status).toBe("True")
  })

  test("the agent reaches its models and tools (own namespace and across namespaces) on their ports only", async () => {
    await expectVerdicts([
      ["assistant", toPod("local-llm", 4000), true],
      ["assistant", toPod("search", 8080), true],
      // Same namespace is open on every port (base rule 1).
      ["assistant", toPod("neighbour", 1234), true],
      // Another namespace: only through the automatic rules, only the target's port and protocol.
      ["assistant", toPod("shared-llm", 4000), true],
      ["assistant", toPod("shared-llm", 4001), false],
      ["assistant", toPod("shared-llm", 4000, "UDP"), false],
      ["assistant", toPod("remote-tool", 9000), true],
      ["assistant", toPod("remote-tool", 9001), false],
      ["assistant", toPod("remote-tool", 4000), false],
      // Unrelated pods of other namespaces, even a langop model the agent does not reference.
      ["assistant", toPod("other-llm", 4000), false],
      ["assistant", toPod("stranger", 4000), false],
      ["assistant", toPod("stranger", 80), false],
      // An in-cluster DNS name became namespace + Service selector, on the rule's port.
      ["assistant", toPod("db", 5432), true],
      ["assistant", toPod("db", 5433), false],
      ["assistant", toPod("cache", 5432), false],
    ])
  })

  test("the agent reaches the configured DNS peer on 53 (UDP and TCP) only", async () => {
    await expectVerdicts([
      ["assistant", toPod("coredns", 53, "UDP"), true],
      ["assistant", toPod("coredns", 53, "TCP"), true],
      ["assistant", toPod("coredns", 54, "UDP"), false],
      ["assistant", toPod("coredns", 5353, "UDP"), false],
      ["shared-llm", toPod("coredns", 53, "UDP"), true],
      ["remote-tool", toPod("coredns", 53, "TCP"), true],
    ])
  })

  test("external addresses: allowed CIDRs and resolved addresses on their ports, nothing else", async () => {
    await expectVerdicts([
      ["assistant", toIp("198.51.100.1", 443), true],
      ["assistant", toIp("198.51.100.254", 443), true],
      ["assistant", toIp("198.51.100.1", 80), false],
      ["assistant", toIp("198.51.101.1", 443), false],
      ["assistant", toIp("203.0.113.10", 443), true],
      ["assistant", toIp("203.0.113.11", 8443), true],
      ["assistant", toIp("203.0.113.10", 80), false],
      ["assistant", toIp("203.0.113.12", 443), false],
      // `*.cdn.example.net` → the apex's address, UDP only.
      ["assistant", toIp("192.0.2.7", 3478, "UDP"), true],
      ["assistant", toIp("192.0.2.7", 3478, "TCP"), false],
      // A bare IP is a /32.
      ["assistant", toIp("192.0.2.200", 5432), true],
      ["assistant", toIp("192.0.2.201", 5432), false],
      // The embedded sidecar tool's rule applies to the agent's pods (docs/concepts.md §9 defect 5).
      ["assistant", toIp("198.18.0.5", 22), true],
      ["assistant", toIp("198.18.0.5", 443), false],
      // The unresolvable name's port is open nowhere (fail closed).
      ["assistant", toIp("8.8.8.8", 25), false],
      ["assistant", toIp("203.0.113.10", 25), false],
      ["assistant", toIp("1.1.1.1", 443), false],
      // …whereas the original's ports-only rule is read as exactly that hole.
      ["legacy", toIp("8.8.8.8", 25), true],
      ["legacy", toIp("8.8.8.8", 26), false],
      // Another resource's destinations are not the agent's.
      ["assistant", toIp("203.0.113.50", 443), false],
      // The model proxy reaches its provider, the tool its backend; neither gets the other's.
      ["shared-llm", toIp("203.0.113.50", 443), true],
      ["shared-llm", toIp("203.0.113.50", 80), false],
      ["shared-llm", toIp("203.0.113.10", 443), false],
      ["remote-tool", toIp("203.0.113.60", 443), true],
      ["remote-tool", toIp("198.51.100.1", 443), false],
      // Models and tools get no automatic route into the agent's namespace.
      ["shared-llm", toPod("assistant", 8080), false],
    ])
  })

  test("the connectivity map of the agent lists exactly the allowed destinations", async () => {
    const { pods, ns } = get()
    const agentPod = pods.assistant
    if (agentPod === undefined) throw new Error("no agent pod")
    const byWorkload = new Map(
      Object.entries(pods).map(([name, p]) => [workloadOf(p), `${p.metadata?.namespace}/${name}`]),
    )
    const conns = await listConnections({ focusWorkloads: [workloadOf(agentPod)], direction: "egress" })
    const from = new Set(
      conns.map((c) => (c.src._tag === "Workload" ? `${c.src.namespace}/${c.src.name}` : c.raw.src)),
    )
    expect([...from]).toEqual([workloadOf(agentPod)])

    const ports = (...spec: ReadonlyArray<readonly [Protocol, ...ReadonlyArray<number>]>): Conn => ({
      _tag: "Ports",
      ports: Object.fromEntries(spec.map(([p, ...ns]) => [p, ns.map((n) => ({ from: n, to: n }))])),
    })
    const external = conns
      .flatMap((c) =>
        c.dst._tag === "IpRange" ? [{ first: c.dst.first, last: c.dst.last, conn: c.conn }] : [],
      )
      .sort((a, b) => (a.first < b.first ? -1 : 1))
    expect(external).toEqual([
      { ...ipv4Range("192.0.2.200/32"), conn: ports(["TCP", 5432]) },
      { ...ipv4Range("192.0.2.7/32"), conn: ports(["UDP", 3478]) },
      { ...ipv4Range("198.18.0.5/32"), conn: ports(["TCP", 22]) },
      { ...ipv4Range("198.51.100.0/24"), conn: ports(["TCP", 443]) },
      // The two addresses of api.example.com are neighbours with the same ports: one range.
      { first: "203.0.113.10", last: "203.0.113.11", conn: ports(["TCP", 443, 8443]) },
    ])

    const internal = conns
      .flatMap((c) =>
        c.dst._tag === "Workload"
          ? [{ dst: byWorkload.get(`${c.dst.namespace}/${c.dst.name}`) ?? c.raw.dst, conn: c.conn }]
          : [],
      )
      .sort((a, b) => (a.dst < b.dst ? -1 : 1))
    expect(internal).toEqual(
      [
        { dst: `${ns.agent}/legacy`, conn: { _tag: "All" } },
        { dst: `${ns.agent}/local-llm`, conn: { _tag: "All" } },
        { dst: `${ns.agent}/neighbour`, conn: { _tag: "All" } },
        { dst: `${ns.agent}/search`, conn: { _tag: "All" } },
        { dst: `${ns.dns}/coredns`, conn: ports(["TCP", 53], ["UDP", 53]) },
        { dst: `${ns.other}/db`, conn: ports(["TCP", 5432]) },
        { dst: `${ns.remote}/remote-tool`, conn: ports(["TCP", 9000]) },
        { dst: `${ns.remote}/shared-llm`, conn: ports(["TCP", 4000]) },
      ].sort((a, b) => (a.dst < b.dst ? -1 : 1)),
    )
  })
})
