import { describe, expect, it } from "vitest"
import { commonLabels } from "../../../src/domain/labels.ts"
import { buildFqdnPolicy, fqdnPolicyName } from "../../../src/network/cilium.ts"
import { buildEgressPolicy, type EgressRuleInput } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS, type EgressSettings } from "../../../src/network/settings.ts"
import { agent, world } from "./fixtures.ts"

const on: EgressSettings = { ...DEFAULT_EGRESS_SETTINGS, ciliumFqdn: true }
const https = [{ protocol: "TCP" as const, port: 443 }]
const rule = (dns: ReadonlyArray<string>, ports = https): EgressRuleInput => ({ to: { dns }, ports })

/** The rule that lets the pods ask the cluster DNS through Cilium's DNS proxy (default settings). */
const DNS_RULE = {
  toEndpoints: [
    { matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" } },
  ],
  toPorts: [
    {
      ports: [
        { port: "53", protocol: "TCP" },
        { port: "53", protocol: "UDP" },
      ],
      rules: { dns: [{ matchPattern: "*" }] },
    },
  ],
}

describe("Cilium FQDN policy (docs/concepts.md §9 item 6)", () => {
  it("is built only when the setting is on and names an external DNS name", () => {
    const request = agent([rule(["api.github.com"])])
    expect(buildEgressPolicy(request, world(), DEFAULT_EGRESS_SETTINGS).fqdnPolicy).toBeUndefined()
    expect(buildEgressPolicy(request, world(), on).fqdnPolicy).toEqual(buildFqdnPolicy(request, on))
    expect(buildFqdnPolicy(agent([]), on)).toBeUndefined()
  })

  it("selects the owner's pods, sits beside the NetworkPolicy as <name>-fqdn, DNS rule first", () => {
    const policy = buildFqdnPolicy(agent([rule(["api.github.com"])]), on)
    const labels = commonLabels("LanguageAgent", "helper")
    expect(fqdnPolicyName("helper")).toBe("helper-fqdn")
    expect(policy).toEqual({
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "helper-fqdn", namespace: "team-a", labels },
      spec: {
        endpointSelector: { matchLabels: labels },
        egress: [
          DNS_RULE,
          {
            toFQDNs: [{ matchName: "api.github.com" }],
            toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
          },
        ],
      },
    })
  })

  it("wildcards become matchPattern, names are lower-cased without a trailing dot", () => {
    const policy = buildFqdnPolicy(agent([rule(["*.Example.com", "API.GitHub.com."])]), on)
    expect(policy?.spec.egress[1]?.toFQDNs).toEqual([
      { matchName: "api.github.com" },
      { matchPattern: "*.example.com" },
    ])
  })

  it("leaves `*`, addresses, in-cluster names and invalid names to the NetworkPolicy", () => {
    const request = agent([
      rule(["*", "192.0.2.7", "search.tools.svc", "search", "bad_name!", "search.tools.svc.cluster.local"]),
    ])
    expect(buildFqdnPolicy(request, on)).toBeUndefined()
  })

  it("one rule per distinct port set; a rule without ports allows every port", () => {
    const policy = buildFqdnPolicy(
      agent([
        rule(["b.example.com"]),
        rule(["a.example.com"]),
        { to: { dns: ["git.example.com"] }, ports: [{ port: 22 }, { port: 443 }] },
        { to: { dns: ["any.example.com"] } },
      ]),
      on,
    )
    // Sorted by port set: every port first, then 22+443, then 443.
    expect(policy?.spec.egress.slice(1)).toEqual([
      { toFQDNs: [{ matchName: "any.example.com" }] },
      {
        toFQDNs: [{ matchName: "git.example.com" }],
        toPorts: [
          {
            ports: [
              { port: "22", protocol: "TCP" },
              { port: "443", protocol: "TCP" },
            ],
          },
        ],
      },
      {
        toFQDNs: [{ matchName: "a.example.com" }, { matchName: "b.example.com" }],
        toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
      },
    ])
  })

  it("skips the rules the NetworkPolicy skips (invalid CIDR or port)", () => {
    const policy = buildFqdnPolicy(
      agent([
        { to: { dns: ["a.example.com"], cidr: "not-a-cidr" }, ports: https },
        { to: { dns: ["b.example.com"] }, ports: [{ port: 70000 }] },
        rule(["c.example.com"]),
      ]),
      on,
    )
    expect(policy?.spec.egress.slice(1).flatMap((r) => r.toFQDNs)).toEqual([{ matchName: "c.example.com" }])
  })

  it("includes embedded sidecar tools' names and automatic hosts (model providers, collectors)", () => {
    const policy = buildFqdnPolicy(
      agent([], {
        sidecars: [{ tool: "git", namespace: "team-a", egress: [rule(["github.com"])] }],
        hosts: [
          { host: "api.openai.com", port: 443, source: "provider openai" },
          { host: "otel.example.com", port: 4317, source: "OTLP collector" },
          { host: "10.0.0.5", port: 6379, source: "Redis" },
        ],
      }),
      on,
    )
    expect(policy?.spec.egress.slice(1)).toEqual([
      {
        toFQDNs: [{ matchName: "otel.example.com" }],
        toPorts: [{ ports: [{ port: "4317", protocol: "TCP" }] }],
      },
      {
        toFQDNs: [{ matchName: "api.openai.com" }, { matchName: "github.com" }],
        toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
      },
    ])
  })

  it("lets the pods query the DNS servers of LANGOP_DNS_CIDRS through the DNS proxy too", () => {
    const nodeLocal: EgressSettings = {
      ...on,
      dnsPeer: { ...on.dnsPeer, podLabels: undefined, cidrs: ["169.254.20.10/32"] },
    }
    expect(buildFqdnPolicy(agent([rule(["a.example.com"])]), nodeLocal)?.spec.egress[0]).toEqual({
      toCIDR: ["169.254.20.10/32"],
      toPorts: [
        {
          ports: [
            { port: "53", protocol: "TCP" },
            { port: "53", protocol: "UDP" },
          ],
          rules: { dns: [{ matchPattern: "*" }] },
        },
      ],
    })
  })

  it("takes the DNS peer from the settings (OpenShift)", () => {
    const openshift: EgressSettings = {
      ...on,
      dnsPeer: {
        namespace: "openshift-dns",
        podLabels: { "dns.operator.openshift.io/daemonset-dns": "default" },
        cidrs: [],
        ports: [{ protocol: "UDP", port: 5353 }],
      },
    }
    expect(buildFqdnPolicy(agent([rule(["a.example.com"])]), openshift)?.spec.egress[0]).toEqual({
      toEndpoints: [
        {
          matchLabels: {
            "k8s:dns.operator.openshift.io/daemonset-dns": "default",
            "k8s:io.kubernetes.pod.namespace": "openshift-dns",
          },
        },
      ],
      toPorts: [{ ports: [{ port: "5353", protocol: "UDP" }], rules: { dns: [{ matchPattern: "*" }] } }],
    })
  })

  it("is the same object whatever the order and duplication of names", () => {
    const a = buildFqdnPolicy(
      agent([rule(["a.example.com", "b.example.com"]), rule(["*.c.example.com"])]),
      on,
    )
    const b = buildFqdnPolicy(
      agent([rule(["*.c.example.com", "b.example.com"]), rule(["b.example.com", "a.example.com"])]),
      on,
    )
    expect(JSON.stringify(b)).toBe(JSON.stringify(a))
  })
})
