import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import {
  buildModelIngressPolicy,
  ingressPoliciesEquivalent,
  OPERATOR_POD_LABELS,
  type ProxyConsumer,
} from "../../../src/network/ingress.ts"

const MODEL = { namespace: "team", name: "gpt" }
const agent = (namespace: string, name: string): ProxyConsumer => ({ kind: "LanguageAgent", namespace, name })
const client = (namespace: string, name: string): ProxyConsumer => ({
  kind: "LanguageClient",
  namespace,
  name,
})
const model = (namespace: string, name: string): ProxyConsumer => ({ kind: "LanguageModel", namespace, name })
const operator = { namespace: "langop-system", podLabels: OPERATOR_POD_LABELS }

const peer = (namespace: string, labels: Record<string, string>) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  podSelector: { matchLabels: labels },
})

describe("the ingress policy of a model proxy", () => {
  it("admits each consumer's pods (any namespace), chaining proxies and the operator, on the proxy port only", () => {
    const policy = buildModelIngressPolicy(
      MODEL,
      [agent("team", "support"), client("web", "chat"), model("team", "premium"), agent("other", "visitor")],
      operator,
    )
    expect(policy.metadata).toEqual({
      name: "gpt.ingress",
      namespace: "team",
      labels: {
        "app.kubernetes.io/managed-by": "language-operator",
        "app.kubernetes.io/name": "gpt",
        "app.kubernetes.io/part-of": "langop",
        "langop.io/kind": "LanguageModel",
      },
    })
    expect(policy.spec.podSelector).toEqual({ matchLabels: policy.metadata.labels })
    expect(policy.spec.policyTypes).toEqual(["Ingress"])
    expect(policy.spec.ingress).toHaveLength(1)
    expect(policy.spec.ingress[0]?.ports).toEqual([{ protocol: "TCP", port: 4000 }])
    expect(policy.spec.ingress[0]?.from).toEqual(
      expect.arrayContaining([
        peer("team", { "app.kubernetes.io/name": "support", "langop.io/kind": "LanguageAgent" }),
        peer("web", { "app.kubernetes.io/name": "chat", "langop.io/kind": "LanguageClient" }),
        peer("team", { "app.kubernetes.io/name": "premium", "langop.io/kind": "LanguageModel" }),
        peer("other", { "app.kubernetes.io/name": "visitor", "langop.io/kind": "LanguageAgent" }),
        peer("langop-system", { "app.kubernetes.io/name": "langop-operator" }),
      ]),
    )
    expect(policy.spec.ingress[0]?.from).toHaveLength(5)
  })

  it("with no consumer and no probing operator it admits nothing (fail closed)", () => {
    expect(buildModelIngressPolicy(MODEL, [], undefined).spec).toEqual({
      podSelector: expect.anything(),
      policyTypes: ["Ingress"],
      ingress: [],
    })
  })

  it("a model naming itself as fallback does not admit itself; duplicates count once", () => {
    const policy = buildModelIngressPolicy(
      MODEL,
      [model("team", "gpt"), agent("team", "a"), agent("team", "a")],
      undefined,
    )
    expect(policy.spec.ingress[0]?.from).toEqual([
      peer("team", { "app.kubernetes.io/name": "a", "langop.io/kind": "LanguageAgent" }),
    ])
  })

  it("is the same object for the consumers in any order", () => {
    const consumers = [agent("b", "x"), client("a", "y"), model("team", "z"), agent("a", "w")]
    const one = buildModelIngressPolicy(MODEL, consumers, operator)
    const other = buildModelIngressPolicy(MODEL, [...consumers].reverse(), operator)
    expect(JSON.stringify(other)).toBe(JSON.stringify(one))
  })

  it("compares with the live object semantically: server field order and defaults are no difference", () => {
    const desired = buildModelIngressPolicy(MODEL, [agent("team", "a"), client("web", "c")], undefined)
    const from = [...(desired.spec.ingress[0]?.from ?? [])].reverse()
    const live = {
      metadata: { labels: { ...desired.metadata.labels, extra: "by-someone-else" } },
      spec: {
        podSelector: desired.spec.podSelector,
        ingress: [{ ports: [{ port: 4000, protocol: "TCP" }], from }],
        policyTypes: ["Ingress"],
      },
    }
    expect(ingressPoliciesEquivalent(desired, live)).toBe(true)
    const fewer = buildModelIngressPolicy(MODEL, [agent("team", "a")], undefined)
    expect(ingressPoliciesEquivalent(fewer, live)).toBe(false)
    expect(ingressPoliciesEquivalent(desired, { ...live, spec: { ...live.spec, egress: [{}] } })).toBe(false)
  })

  it("selects the operator by labels its Deployment's pods really carry", () => {
    const docs = parseAllDocuments(
      readFileSync(join(import.meta.dirname, "..", "..", "..", "deploy", "base", "deployment.yaml"), "utf8"),
    ).map((d) => d.toJS() as { kind?: string; spec?: { template?: { metadata?: { labels?: object } } } })
    const deployment = docs.find((d) => d.kind === "Deployment")
    expect(deployment?.spec?.template?.metadata?.labels).toMatchObject(OPERATOR_POD_LABELS)
  })
})
