// LANGOP_DNS_CIDRS, checked by netpol-analyzer: on clusters where DNS answers outside any pod (NodeLocal
// DNSCache at 169.254.20.10, host-network DNS), the egress policy must let pods reach those addresses on the
// DNS ports — together with the DNS pods' selector, or instead of it — and nothing more.

import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { commonLabels } from "../../../src/domain/labels.ts"
import { Dns } from "../../../src/network/dns.ts"
import { DnsMemory } from "../../../src/network/memory.ts"
import type { EgressRequest } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS, type EgressSettings } from "../../../src/network/settings.ts"
import { createNamespace, deleteNamespace, makeKubeConfig } from "../setup/context.ts"
import {
  type ConnectionQuery,
  describeQuery,
  evalConnections,
  type PodRef,
  type Protocol,
} from "../setup/netpol.ts"
import { applyPolicy, buildGathered, createWorkload, podRef, runningPod } from "./support.ts"

const NODE_LOCAL_DNS = "169.254.20.10"
const kc = makeKubeConfig()
const created: Array<string> = []
let pods: Record<"both" | "cidrOnly" | "selectorOnly" | "coredns", PodRef> | undefined

const tool = (namespace: string, name: string): EgressRequest => ({
  kind: "LanguageTool",
  name,
  namespace,
  egress: [],
})

beforeAll(async () => {
  const ns = await createNamespace(kc, "np-dnscidr")
  const dnsNs = await createNamespace(kc, "np-dnscidr-dns")
  created.push(ns, dnsNs)
  const selector = { ...DEFAULT_EGRESS_SETTINGS.dnsPeer, namespace: dnsNs }
  const variants: ReadonlyArray<readonly [string, EgressSettings]> = [
    ["both", { ...DEFAULT_EGRESS_SETTINGS, dnsPeer: { ...selector, cidrs: [`${NODE_LOCAL_DNS}/32`] } }],
    [
      "cidr-only",
      {
        ...DEFAULT_EGRESS_SETTINGS,
        dnsPeer: { ...selector, podLabels: undefined, cidrs: [`${NODE_LOCAL_DNS}/32`] },
      },
    ],
    ["selector-only", { ...DEFAULT_EGRESS_SETTINGS, dnsPeer: selector }],
  ]
  const layer = Layer.merge(DnsMemory.layer, Dns.layerTest({}))
  for (const [name, settings] of variants) {
    const built = await Effect.runPromise(
      buildGathered(kc, tool(ns, name), settings).pipe(Effect.provide(layer)),
    )
    await applyPolicy(kc, built.policy)
    await createWorkload(kc, ns, name, commonLabels("LanguageTool", name), [8080])
  }
  await createWorkload(kc, dnsNs, "coredns", { "k8s-app": "kube-dns" }, [53])
  const ref = async (namespace: string, labels: Record<string, string>) =>
    podRef(await runningPod(kc, namespace, labels))
  pods = {
    both: await ref(ns, commonLabels("LanguageTool", "both")),
    cidrOnly: await ref(ns, commonLabels("LanguageTool", "cidr-only")),
    selectorOnly: await ref(ns, commonLabels("LanguageTool", "selector-only")),
    coredns: await ref(dnsNs, { "k8s-app": "kube-dns" }),
  }
})

afterAll(async () => {
  for (const name of created) await deleteNamespace(kc, name)
})

describe("DNS peers given as CIDRs (LANGOP_DNS_CIDRS)", () => {
  test("reach NodeLocal DNSCache on UDP and TCP 53 when set, with or instead of the DNS pods; nothing else", async () => {
    if (pods === undefined) throw new Error("not set up")
    const p = pods
    const ip = (from: PodRef, address: string, port: number, protocol: Protocol): ConnectionQuery => ({
      from,
      to: { ip: address },
      port,
      protocol,
    })
    const toDnsPod = (from: PodRef, protocol: Protocol): ConnectionQuery => ({
      from,
      to: { pod: p.coredns },
      port: 53,
      protocol,
    })
    const rows: ReadonlyArray<readonly [ConnectionQuery, boolean]> = [
      [ip(p.both, NODE_LOCAL_DNS, 53, "UDP"), true],
      [ip(p.both, NODE_LOCAL_DNS, 53, "TCP"), true],
      [toDnsPod(p.both, "UDP"), true],
      [ip(p.both, NODE_LOCAL_DNS, 80, "TCP"), false],
      [ip(p.both, "169.254.20.11", 53, "UDP"), false],
      [ip(p.cidrOnly, NODE_LOCAL_DNS, 53, "UDP"), true],
      [ip(p.cidrOnly, NODE_LOCAL_DNS, 53, "TCP"), true],
      [toDnsPod(p.cidrOnly, "UDP"), false],
      // Without the setting (the default), NodeLocal DNSCache is unreachable: every lookup would fail.
      [ip(p.selectorOnly, NODE_LOCAL_DNS, 53, "UDP"), false],
      [toDnsPod(p.selectorOnly, "UDP"), true],
    ]
    const verdicts = await evalConnections(rows.map(([q]) => q))
    expect(verdicts.map((v) => `${describeQuery(v.query)}: ${v.allowed ? "allowed" : "denied"}`)).toEqual(
      rows.map(([q, allowed]) => `${describeQuery(q)}: ${allowed ? "allowed" : "denied"}`),
    )
  })
})
