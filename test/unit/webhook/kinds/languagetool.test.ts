import { describe, expect, it } from "vitest"
import { toolRuleCatalog } from "../../../../src/domain/languagetool.ts"
import { toolAdmission } from "../../../../src/webhook/kinds/languagetool.ts"
import { checkRow, expectCovered, mutate, NS, type Row, withSpec } from "./support.ts"

const tool = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageTool",
  metadata: { name: "web-fetch", namespace: NS },
  spec: { image: "ghcr.io/langop/mcp-web-fetch:1.0" },
}
const t = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  withSpec(tool, spec, metadata)
const name = (n: number) => `t${"x".repeat(n - 1)}`

const rows: ReadonlyArray<Row> = [
  { name: "a minimal valid tool is allowed without warnings", object: tool },
  {
    name: "the name is a DNS-1035 label (it names a Service)",
    object: t({}, { name: "2fetch" }),
    deny: [
      `metadata.name: "2fetch" must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters): it names the tool's Service`,
    ],
  },
  {
    name: "sidecar tools: at most 58 characters",
    object: t({ deploymentMode: "sidecar" }, { name: name(59) }),
    deny: [
      `metadata.name: "${name(59)}" is longer than 58 characters: sidecar container tool-<name> would exceed 63`,
    ],
  },
  { name: "service tools may use 63 characters", object: t({}, { name: name(63) }) },
  {
    name: "PDB with both minAvailable and maxUnavailable",
    object: t({ podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } }),
    deny: ["spec.podDisruptionBudget: set at most one of minAvailable and maxUnavailable"],
  },
  {
    name: "rollingUpdate with Recreate",
    object: t({ updateStrategy: { type: "Recreate", rollingUpdate: { maxSurge: 1 } } }),
    deny: [
      "spec.updateStrategy.rollingUpdate: rollingUpdate is only allowed with type RollingUpdate (type is Recreate)",
    ],
  },
  {
    name: "HPA minReplicas above maxReplicas (maxReplicas defaulted to 10)",
    object: t({ horizontalPodAutoscaler: { enabled: true, minReplicas: 12 } }),
    deny: [
      "spec.horizontalPodAutoscaler.minReplicas: minReplicas (12) must be less than or equal to maxReplicas (10)",
    ],
  },
  {
    name: "sidecar tools with agent-reserved volume names: a warning",
    object: t({
      deploymentMode: "sidecar",
      volumes: [
        { name: "workspace", emptyDir: {} },
        { name: "cache", emptyDir: {} },
      ],
    }),
    warn: [
      'spec.volumes[0].name: "workspace" is reserved in agent Pods; agents embedding this tool report SidecarVolumeConflict',
    ],
  },
  {
    name: "service tools may name a volume workspace",
    object: t({ volumes: [{ name: "workspace", emptyDir: {} }] }),
  },
  {
    name: "schema: port and enums",
    object: t({ port: 0, deploymentMode: "daemon" }),
    deny: [
      'spec.deploymentMode: Expected "service" | "sidecar"',
      "spec.port: Expected a value between 1 and 65535",
    ],
  },
  {
    name: "egress rules are checked (and `from` warned about)",
    object: t({
      egress: [
        { to: {} },
        { from: { group: "x" }, to: { dns: ["*.*.example.com"], cidr: "300.1.1.1" } },
        {
          to: {
            service: { name: "Db" },
            group: "a b",
            podSelector: { matchExpressions: [{ key: "k", operator: "Exists", values: ["v"] }] },
          },
        },
      ],
    }),
    deny: [
      "spec.egress[0].to: rule has no destination: set to.cidr, to.dns, to.service, to.group, to.namespaceSelector or to.podSelector",
      'spec.egress[1].to.dns[0]: "*.*.example.com" is not a valid DNS name or single leading wildcard',
      'spec.egress[1].to.cidr: "300.1.1.1" is not an IPv4 or IPv6 CIDR or address',
      `spec.egress[2].to.service.name: "Db" is not a valid Service name (DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters)`,
      'spec.egress[2].to.group: "a b" is not a valid label value',
      "spec.egress[2].to.podSelector.matchExpressions[0].values: operator Exists takes no values",
    ],
    warn: ["spec.egress[1].from: is ignored on an egress rule; use `to`"],
  },
]

describe("LanguageTool validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(toolAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(toolRuleCatalog, exercised))
})

describe("LanguageTool defaulting", () => {
  const withService = t({
    egress: [{ to: { service: { name: "db" } } }, { to: { service: { name: "q", namespace: "mq" } } }],
  })
  it("sets only egress Service namespaces", () => {
    const { result, patch } = mutate(toolAdmission, withService)
    expect(patch).toEqual([{ op: "add", path: "/spec/egress/0/to/service/namespace", value: NS }])
    expect(mutate(toolAdmission, result).patch).toEqual([])
  })
  it("leaves a tool without references unpatched", () => {
    expect(mutate(toolAdmission, tool).response).toEqual({ uid: expect.any(String), allowed: true })
  })
})
