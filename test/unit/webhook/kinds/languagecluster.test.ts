import { describe, expect, it } from "vitest"
import { clusterAdmission, clusterRuleCatalog } from "../../../../src/webhook/kinds/languagecluster.ts"
import { checkRow, expectCovered, mutate, type Row } from "./support.ts"

const cluster = { apiVersion: "langop.io/v1alpha1", kind: "LanguageCluster", metadata: { name: "demo" } }
const withNs = (namespace: string) => ({ ...cluster, spec: { namespace } })
const long = "c".repeat(61)

const rows: ReadonlyArray<Row> = [
  { name: "a cluster without spec is allowed", object: cluster },
  { name: "a cluster with a namespace is allowed", object: withNs("demo") },
  {
    name: "a computed <name>-ns that is no namespace name is denied",
    object: { ...cluster, metadata: { name: long }, spec: {} },
    deny: [
      `spec.namespace: is empty and the computed namespace "${long}-ns" is not a valid namespace name (DNS-1123 label, at most 63 characters); set spec.namespace`,
    ],
  },
  {
    name: "a long name with an explicit namespace is fine",
    object: { ...withNs("x"), metadata: { name: long } },
  },
  {
    name: "dotted names cannot compute a namespace",
    object: { ...cluster, metadata: { name: "team.ai" } },
    deny: [
      'spec.namespace: is empty and the computed namespace "team.ai-ns" is not a valid namespace name (DNS-1123 label, at most 63 characters); set spec.namespace',
    ],
  },
  {
    name: "an invalid explicit namespace is a schema violation",
    object: withNs("Team_A"),
    deny: ["spec.namespace: Expected a string matching the RegExp ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"],
  },
  {
    name: "changing spec.namespace",
    object: withNs("b"),
    oldObject: withNs("a"),
    deny: ['spec.namespace: is immutable (was "a", now "b")'],
  },
  {
    name: "adding spec.namespace, also when spec was absent before",
    object: withNs("b"),
    oldObject: cluster,
    deny: ['spec.namespace: cannot be added after creation (was unset, now "b")'],
  },
  {
    name: "removing spec.namespace",
    object: { ...cluster, spec: {} },
    oldObject: withNs("a"),
    deny: ['spec.namespace: cannot be removed after creation (was "a")'],
  },
  {
    name: "an update that leaves spec unchanged is not re-validated (docs/concepts.md X-7)",
    // Stored without the webhook: its computed namespace is invalid, yet a finalizer patch passes.
    object: { ...cluster, metadata: { name: long, finalizers: ["langop.io/finalizer"] } },
    oldObject: { ...cluster, metadata: { name: long } },
  },
]

describe("LanguageCluster validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(clusterAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(clusterRuleCatalog, exercised))
})

describe("LanguageCluster defaulting", () => {
  it("has nothing to default: no patch, spec.namespace stays empty", () => {
    expect(mutate(clusterAdmission, cluster).patch).toEqual([])
    expect(mutate(clusterAdmission, { ...cluster, spec: {} }).patch).toEqual([])
  })
})
