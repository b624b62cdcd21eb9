import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { commonLabels } from "../../../src/domain/labels.ts"
import { buildEgressPolicy, type EgressRuleInput, MODEL_PROXY_PORT } from "../../../src/network/policy.ts"
import { DEFAULT_EGRESS_SETTINGS, egressSettingsFrom } from "../../../src/network/settings.ts"
import { agent, BASE_RULES, ip, nsPeer, tcp, world } from "./fixtures.ts"

const settings = DEFAULT_EGRESS_SETTINGS
/** The rules after the two base rules. */
const extra = (rules: ReadonlyArray<unknown> | undefined) => (rules ?? []).slice(2)

describe("policy shape and base rules", () => {
  it("names, labels, selects by the common labels, Egress only, base rules first", () => {
    const { policy, condition, hasDnsPeers } = buildEgressPolicy(agent([]), world(), settings)
    const labels = commonLabels("LanguageAgent", "helper")
    expect(policy).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "helper", namespace: "team-a", labels },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ["Egress"], egress: BASE_RULES },
    })
    expect(condition).toEqual({
      type: "EgressResolved",
      status: "True",
      reason: "Resolved",
      message: "All egress destinations resolved",
    })
    expect(hasDnsPeers).toBe(false)
  })

  it("takes the DNS peer from the settings (OpenShift)", () => {
    const openshift = egressSettingsFrom({
      clusterDomain: "cluster.local",
      dnsNamespace: "openshift-dns",
      dnsPodLabels: "dns.operator.openshift.io/daemonset-dns=default",
      dnsPorts: "UDP/5353,TCP/5353",
      ciliumFqdnPolicies: false,
    })
    if (Result.isFailure(openshift)) throw new Error(openshift.failure)
    const { policy } = buildEgressPolicy(agent([]), world(), openshift.success)
    expect(policy.spec.egress?.[1]).toEqual({
      to: [nsPeer("openshift-dns", { "dns.operator.openshift.io/daemonset-dns": "default" })],
      ports: [
        { protocol: "TCP", port: 5353 },
        { protocol: "UDP", port: 5353 },
      ],
    })
  })

  it("adds the DNS servers of LANGOP_DNS_CIDRS to the DNS rule, with the DNS pods or instead of them", () => {
    const raw = {
      clusterDomain: "cluster.local",
      dnsNamespace: "kube-system",
      dnsPodLabels: "k8s-app=kube-dns",
      dnsCidrs: " 169.254.20.10 , 10.96.0.10/32,169.254.20.10/32",
      dnsPorts: "UDP/53,TCP/53",
      ciliumFqdnPolicies: false,
    }
    const dnsRuleOf = (settings: typeof raw) => {
      const parsed = egressSettingsFrom(settings)
      if (Result.isFailure(parsed)) throw new Error(parsed.failure)
      return buildEgressPolicy(agent([]), world(), parsed.success).policy.spec.egress?.[1]
    }
    const ports = [
      { protocol: "TCP", port: 53 },
      { protocol: "UDP", port: 53 },
    ]
    expect(dnsRuleOf(raw)).toEqual({
      to: [ip("10.96.0.10/32"), ip("169.254.20.10/32"), nsPeer("kube-system", { "k8s-app": "kube-dns" })],
      ports,
    })
    expect(dnsRuleOf({ ...raw, dnsPodLabels: "" })).toEqual({
      to: [ip("10.96.0.10/32"), ip("169.254.20.10/32")],
      ports,
    })
  })

  it.each([
    [{ dnsCidrs: "169.254.20.10/33" }, 'LANGOP_DNS_CIDRS: "169.254.20.10/33" is not a CIDR'],
    [{ dnsCidrs: "10.0.0.0/8,node-local" }, 'LANGOP_DNS_CIDRS: "node-local" is not a CIDR'],
    [{ dnsPodLabels: "" }, "LANGOP_DNS_POD_LABELS: empty, and LANGOP_DNS_CIDRS names no DNS server"],
    [
      { dnsPodLabels: " ", dnsCidrs: "," },
      "LANGOP_DNS_POD_LABELS: empty, and LANGOP_DNS_CIDRS names no DNS server",
    ],
  ])("rejects %j with an error naming the setting", (override, message) => {
    const raw = {
      clusterDomain: "cluster.local",
      dnsNamespace: "kube-system",
      dnsPodLabels: "k8s-app=kube-dns",
      dnsCidrs: "",
      dnsPorts: "UDP/53",
      ciliumFqdnPolicies: false,
    }
    const parsed = egressSettingsFrom({ ...raw, ...override })
    expect(Result.isFailure(parsed) ? parsed.failure : "accepted").toContain(message)
  })

  it.each([
    [{ dnsPodLabels: "k8s-app" }, "LANGOP_DNS_POD_LABELS"],
    [{ dnsPorts: "53" }, "LANGOP_DNS_PORTS"],
    [{ dnsPorts: "UDP/70000" }, "LANGOP_DNS_PORTS"],
    [{ dnsNamespace: "Kube_System" }, "LANGOP_DNS_NAMESPACE"],
  ])("rejects malformed DNS peer settings %j", (override, variable) => {
    const raw = {
      clusterDomain: "cluster.local",
      dnsNamespace: "kube-system",
      dnsPodLabels: "k8s-app=kube-dns",
      dnsPorts: "UDP/53",
      ciliumFqdnPolicies: false,
    }
    const parsed = egressSettingsFrom({ ...raw, ...override })
    expect(Result.isFailure(parsed) && parsed.failure.startsWith(variable)).toBe(true)
  })
})

describe("spec.egress peers", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly rule: EgressRuleInput
    readonly expected: ReadonlyArray<unknown>
  }> = [
    {
      name: "CIDR as given",
      rule: { to: { cidr: "10.0.0.0/8" }, ports: [{ protocol: "TCP", port: 5432 }] },
      expected: [{ to: [ip("10.0.0.0/8")], ports: tcp(5432) }],
    },
    {
      name: "bare IPv4 → /32",
      rule: { to: { cidr: "192.0.2.5" } },
      expected: [{ to: [ip("192.0.2.5/32")] }],
    },
    {
      name: "bare IPv6 → /128, canonical spelling",
      rule: { to: { cidr: "2001:DB8:0:0:0:0:0:1" } },
      expected: [{ to: [ip("2001:db8::1/128")] }],
    },
    {
      name: "host bits masked",
      rule: { to: { cidr: "10.1.2.3/8" } },
      expected: [{ to: [ip("10.0.0.0/8")] }],
    },
    {
      name: "namespaceSelector AND podSelector in one peer",
      rule: {
        to: {
          namespaceSelector: { matchLabels: { team: "db" } },
          podSelector: { matchLabels: { app: "pg", tier: "primary" } },
        },
      },
      expected: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { team: "db" } },
              podSelector: { matchLabels: { app: "pg", tier: "primary" } },
            },
          ],
        },
      ],
    },
    {
      name: "podSelector alone (same namespace)",
      rule: {
        to: { podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["b", "a", "a"] }] } },
      },
      expected: [
        { to: [{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }] } }] },
      ],
    },
    {
      name: "group → langop.io/group pod label",
      rule: { to: { group: "backend" }, ports: [{ port: 8080 }] },
      expected: [
        { to: [{ podSelector: { matchLabels: { "langop.io/group": "backend" } } }], ports: tcp(8080) },
      ],
    },
    {
      name: "ports: TCP default, sorted, deduplicated",
      rule: {
        to: { cidr: "10.0.0.0/8" },
        ports: [{ port: 443 }, { protocol: "UDP", port: 53 }, { protocol: "TCP", port: 443 }, { port: 80 }],
      },
      expected: [
        {
          to: [ip("10.0.0.0/8")],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 80 },
            { protocol: "TCP", port: 443 },
          ],
        },
      ],
    },
    {
      name: "'*' alone → 0.0.0.0/0 and ::/0",
      rule: { to: { dns: ["*"] }, ports: [{ port: 443 }] },
      expected: [{ to: [ip("0.0.0.0/0"), ip("::/0")], ports: tcp(443) }],
    },
    {
      name: "an IP literal in dns is an address",
      rule: { to: { dns: ["198.51.100.1"] } },
      expected: [{ to: [ip("198.51.100.1/32")] }],
    },
    {
      name: "several destination kinds are ORed peers of one rule, IPv4 before IPv6 before selectors",
      rule: { to: { cidr: "2001:db8::/32", dns: ["192.0.2.1"], group: "g" } },
      expected: [
        {
          to: [
            ip("192.0.2.1/32"),
            ip("2001:db8::/32"),
            { podSelector: { matchLabels: { "langop.io/group": "g" } } },
          ],
        },
      ],
    },
  ]
  it.each(cases)("$name", ({ rule, expected }) => {
    const result = buildEgressPolicy(agent([rule]), world(), settings)
    expect(extra(result.policy.spec.egress)).toEqual(expected)
    expect(result.condition.status).toBe("True")
    expect(result.hasDnsPeers).toBe(false)
    expect(result.requeueForDns).toBe(false)
  })
})

describe("DNS names", () => {
  it("resolved addresses become /32 and /128 peers, sorted numerically, deduplicated across names", () => {
    const w = world({
      "api.example.com": ["203.0.113.10", "2001:db8::2", "9.9.9.9"],
      "cdn.example.com": ["203.0.113.10", "2001:db8::1", "10.0.0.1"],
    })
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["api.example.com", "CDN.example.com."] }, ports: [{ port: 443 }] }]),
      w,
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([
      {
        to: [
          ip("9.9.9.9/32"),
          ip("10.0.0.1/32"),
          ip("203.0.113.10/32"),
          ip("2001:db8::1/128"),
          ip("2001:db8::2/128"),
        ],
        ports: tcp(443),
      },
    ])
    expect(result.hasDnsPeers).toBe(true)
    expect(result.requeueForDns).toBe(true)
    expect(result.lookups).toEqual({ services: [], names: [] })
  })

  it("fail closed: every name failed and ports given → the rule is omitted, never ports-only", () => {
    const w = world({ "gone.example.com": "NotFound", "slow.example.com": "Timeout" })
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["gone.example.com", "slow.example.com"] }, ports: [{ port: 443 }] }]),
      w,
      settings,
    )
    expect(result.policy.spec.egress).toEqual(BASE_RULES)
    expect(result.policy.spec.egress?.some((r) => r.to === undefined)).toBe(false)
    expect(result.condition.status).toBe("False")
    expect(result.condition.reason).toBe("DNSResolutionFailed")
    expect(result.condition.message).toContain("spec.egress[0].to.dns[0]: gone.example.com: NXDOMAIN")
    expect(result.condition.message).toContain("spec.egress[0].to.dns[1]: slow.example.com: lookup timed out")
    expect(result.condition.message).toContain("rule omitted (fail closed)")
    expect(result.hasDnsPeers).toBe(false)
    expect(result.requeueForDns).toBe(true)
  })

  it("partial failure keeps the resolved peers and reports the failed name", () => {
    const w = world({ "ok.example.com": ["192.0.2.1"], "gone.example.com": "NotFound" })
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["gone.example.com", "ok.example.com"] } }]),
      w,
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [ip("192.0.2.1/32")] }])
    expect(result.condition).toMatchObject({ status: "False", reason: "DNSResolutionFailed" })
    expect(result.condition.message).toContain("gone.example.com")
    expect(result.condition.message).not.toContain("ok.example.com")
  })

  it("a resolved name without addresses counts as unresolved", () => {
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["empty.example.com"] } }]),
      world({ "empty.example.com": [] }),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([])
    expect(result.condition.message).toContain("empty.example.com: no A or AAAA records")
  })

  it("'*.example.com' uses the apex's answer (documented limitation)", () => {
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["*.example.com"] } }]),
      world({ "example.com": ["192.0.2.80"] }),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [ip("192.0.2.80/32")] }])
  })

  it("names not yet resolved are listed in lookups (keys normalised) and the rule stays closed", () => {
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["*.Example.COM", "api.example.com."] }, ports: [{ port: 443 }] }]),
      world(),
      settings,
    )
    expect(result.lookups.names).toEqual(["api.example.com", "example.com"])
    expect(extra(result.policy.spec.egress)).toEqual([])
  })

  it("an invalid name is reported and never looked up", () => {
    const result = buildEgressPolicy(
      agent([{ to: { dns: ["*.*.example.com", "bad_name.example.com"] } }]),
      world(),
      settings,
    )
    expect(result.lookups.names).toEqual([])
    expect(result.condition.reason).toBe("DNSResolutionFailed")
    expect(result.condition.message).toContain('"*.*.example.com" is not an RFC 1123 host name')
  })
})

describe("skipped and invalid rules", () => {
  it("invalid CIDR → rule skipped (even with other resolved peers), InvalidCIDR wins over DNS failures", () => {
    const w = world({ "ok.example.com": ["192.0.2.1"], "gone.example.com": "NotFound" })
    const result = buildEgressPolicy(
      agent([
        { to: { cidr: "10.0.0.0/33", dns: ["ok.example.com"] }, ports: [{ port: 443 }] },
        { to: { dns: ["gone.example.com"] } },
        { to: { cidr: "010.0.0.1" } },
      ]),
      w,
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([])
    expect(result.condition).toMatchObject({ status: "False", reason: "InvalidCIDR" })
    expect(result.condition.message).toContain('spec.egress[0].to.cidr: "10.0.0.0/33" is not a CIDR')
    expect(result.condition.message).toContain('spec.egress[2].to.cidr: "010.0.0.1"')
  })

  it("a rule without `to` is skipped (RuleWithoutDestination); `from` is ignored with a note", () => {
    const result = buildEgressPolicy(
      agent([
        { description: "ports only", ports: [{ port: 443 }] },
        { from: { cidr: "10.0.0.0/8" }, to: { cidr: "192.0.2.0/24" } },
      ]),
      world(),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [ip("192.0.2.0/24")] }])
    expect(result.condition.reason).toBe("RuleWithoutDestination")
    expect(result.condition.message).toContain("spec.egress[0]: no `to`; rule skipped")
    expect(result.condition.message).toContain("spec.egress[1].from: meaningless on an egress rule; ignored")
  })

  it("`from` alone leaves the condition True but says so", () => {
    const result = buildEgressPolicy(agent([{ from: { group: "x" }, to: { group: "y" } }]), world(), settings)
    expect(result.condition.status).toBe("True")
    expect(result.condition.message).toContain("spec.egress[0].from: meaningless")
  })

  it.each([
    { to: {} },
    { to: { dns: [] }, ports: [{ port: 80 }] },
    { to: { group: "" } },
    { to: { service: { name: "" } } },
  ])("a `to` naming no destination is skipped: %j", (rule) => {
    const result = buildEgressPolicy(agent([rule]), world(), settings)
    expect(result.policy.spec.egress).toEqual(BASE_RULES)
    expect(result.condition.reason).toBe("RuleWithoutDestination")
  })
})

describe("sidecar tools and automatic agent rules", () => {
  it("sidecar rules follow the agent's own, in toolRefs order, resolved in the agent's namespace", () => {
    const git = { namespace: "team-a", name: "git-server", selector: { app: "git" } }
    const result = buildEgressPolicy(
      agent([{ to: { cidr: "192.0.2.0/24" } }], {
        sidecars: [
          { tool: "web", namespace: "team-a", egress: [{ to: { dns: ["*"] }, ports: [{ port: 443 }] }] },
          {
            tool: "git",
            namespace: "team-a",
            egress: [{ to: { service: { name: "git-server" } } }, { ports: [{ port: 22 }] }],
          },
        ],
      }),
      world({}, [git]),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([
      { to: [ip("192.0.2.0/24")] },
      { to: [ip("0.0.0.0/0"), ip("::/0")], ports: tcp(443) },
      { to: [nsPeer("team-a", { app: "git" })] },
    ])
    expect(result.condition.message).toContain("LanguageTool git spec.egress[1]: no `to`")
  })

  it("models and tools in other namespaces get one rule each (pod port, common labels); same namespace none", () => {
    const result = buildEgressPolicy(
      agent([], {
        targets: [
          { kind: "LanguageTool", name: "search", namespace: "tools", port: 9000 },
          { kind: "LanguageModel", name: "gpt", namespace: "models", port: MODEL_PROXY_PORT },
          { kind: "LanguageModel", name: "local", namespace: "team-a", port: MODEL_PROXY_PORT },
          { kind: "LanguageModel", name: "gpt", namespace: "models", port: MODEL_PROXY_PORT },
        ],
      }),
      world(),
      settings,
    )
    expect(extra(result.policy.spec.egress)).toEqual([
      { to: [nsPeer("models", commonLabels("LanguageModel", "gpt"))], ports: tcp(4000) },
      { to: [nsPeer("tools", commonLabels("LanguageTool", "search"))], ports: tcp(9000) },
    ])
  })

  it("automatic rules come before spec.egress regardless of target order", () => {
    const targets = [
      { kind: "LanguageTool" as const, name: "b", namespace: "x", port: 1 },
      { kind: "LanguageTool" as const, name: "a", namespace: "y", port: 2 },
    ]
    const one = buildEgressPolicy(agent([{ to: { group: "g" } }], { targets }), world(), settings)
    const two = buildEgressPolicy(
      agent([{ to: { group: "g" } }], { targets: [...targets].reverse() }),
      world(),
      settings,
    )
    expect(one.policy).toEqual(two.policy)
    expect(extra(one.policy.spec.egress).at(-1)).toEqual({
      to: [{ podSelector: { matchLabels: { "langop.io/group": "g" } } }],
    })
  })

  it("API server access: default/kubernetes EndpointSlice addresses on their port", () => {
    const kubernetes = {
      namespace: "default",
      name: "kubernetes",
      ports: [{ port: 443, targetPort: 6443 }],
      endpoints: { addresses: ["172.18.0.2"], ports: [{ port: 6443, protocol: "TCP" }] },
    }
    const result = buildEgressPolicy(agent([], { apiServer: true }), world({}, [kubernetes]), settings)
    expect(extra(result.policy.spec.egress)).toEqual([{ to: [ip("172.18.0.2/32")], ports: tcp(6443) }])
  })
})
