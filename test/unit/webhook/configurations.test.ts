import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { webhookConfigurations } from "../../../src/webhook/configurations.ts"
import { type HandlerSet, handlerTable, langopKinds } from "../../../src/webhook/handlers.ts"
import { type AdmissionHandler, allow } from "../../../src/webhook/review.ts"

const allowAll: AdmissionHandler = (req) => Effect.succeed(allow(req))
const set = {
  ...Object.fromEntries(langopKinds.map((k) => [k, { mutate: allowAll, validate: allowAll }])),
  Pod: { mutate: allowAll },
} as HandlerSet
const table = handlerTable(set)
/** Table order regrouped as the configurations list them: mutating first. */
const byType = [
  ...table.filter((e) => e.type === "mutating"),
  ...table.filter((e) => e.type === "validating"),
]
const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

const plurals = [
  "languageclusters",
  "languageagents",
  "languagetools",
  "languagemodels",
  "languagepersonas",
  "languageclients",
]

describe("handler table", () => {
  it("has mutate + validate for the six kinds and the Pod webhook, with docs/admission.md's operations", () => {
    expect(table.map((e) => [e.path, e.type, e.kind, e.operations.join(",")])).toEqual([
      ...plurals.flatMap((p, i) => [
        [`/mutate/${p}`, "mutating", langopKinds[i], "CREATE,UPDATE"],
        [
          `/validate/${p}`,
          "validating",
          langopKinds[i],
          p === "languagepersonas" ? "CREATE,UPDATE,DELETE" : "CREATE,UPDATE",
        ],
      ]),
      ["/mutate/pods", "mutating", "Pod", "CREATE"],
    ])
    expect(new Set(table.map((e) => e.name)).size).toBe(table.length)
    expect(table.find((e) => e.path === "/mutate/languageagents")?.handler).toBe(set.LanguageAgent.mutate)
    expect(table.find((e) => e.path === "/validate/languagetools")?.handler).toBe(set.LanguageTool.validate)
    expect(table.find((e) => e.path === "/mutate/pods")?.handler).toBe(set.Pod.mutate)
  })
})

describe("webhookConfigurations", () => {
  const inCluster = webhookConfigurations(table, { mode: "service" })
  const local = webhookConfigurations(table, { mode: "url", port: 19443, caBundle: ca })
  const all = [inCluster, local]

  it("registers exactly the table's routes, split by type, with the common settings", () => {
    for (const { mutating, validating } of all) {
      expect(mutating.metadata?.name).toBe("langop-mutating")
      expect(validating.metadata?.name).toBe("langop-validating")
      expect(mutating.kind).toBe("MutatingWebhookConfiguration")
      expect(validating.kind).toBe("ValidatingWebhookConfiguration")
      const webhooks = [...(mutating.webhooks ?? []), ...(validating.webhooks ?? [])]
      expect(webhooks.length).toBe(table.length)
      expect(mutating.webhooks?.map((w) => w.name)).toEqual(
        table.filter((e) => e.type === "mutating").map((e) => e.name),
      )
      expect(validating.webhooks?.map((w) => w.name)).toEqual(
        table.filter((e) => e.type === "validating").map((e) => e.name),
      )
      for (const w of webhooks) {
        expect(w).toMatchObject({
          admissionReviewVersions: ["v1"],
          sideEffects: "None",
          timeoutSeconds: 5,
          failurePolicy: "Fail",
          matchPolicy: "Equivalent",
        })
        const entry = table.find((e) => e.name === w.name)
        expect(w.rules).toEqual([
          {
            apiGroups: [entry?.group],
            apiVersions: [entry?.version],
            resources: [entry?.resource],
            operations: entry?.operations,
            scope: entry?.kind === "Pod" ? "Namespaced" : "*",
          },
        ])
      }
    }
  })

  it.each([
    ["/mutate/languageagents", "langop.io", "v1alpha1", "languageagents", ["CREATE", "UPDATE"]],
    [
      "/validate/languagepersonas",
      "langop.io",
      "v1alpha1",
      "languagepersonas",
      ["CREATE", "UPDATE", "DELETE"],
    ],
    ["/validate/languageclusters", "langop.io", "v1alpha1", "languageclusters", ["CREATE", "UPDATE"]],
    ["/mutate/pods", "", "v1", "pods", ["CREATE"]],
  ])("%s: rule %s/%s %s %j, no subresources", (path, group, version, resource, operations) => {
    const webhooks = [...(local.mutating.webhooks ?? []), ...(local.validating.webhooks ?? [])]
    const w = webhooks.find((x) => x.clientConfig.url?.endsWith(path))
    expect(w?.rules?.[0]).toMatchObject({
      apiGroups: [group],
      apiVersions: [version],
      resources: [resource],
      operations,
    })
  })

  it("in cluster: the Service on 443 with the path, CA injected by cert-manager", () => {
    for (const c of [inCluster.mutating, inCluster.validating]) {
      expect(c.metadata?.annotations).toEqual({
        "cert-manager.io/inject-ca-from": "langop-system/langop-serving-cert",
      })
    }
    const paths = [...(inCluster.mutating.webhooks ?? []), ...(inCluster.validating.webhooks ?? [])].map(
      (w) => w.clientConfig,
    )
    expect(paths).toEqual(
      byType.map((e) => ({
        service: { namespace: "langop-system", name: "langop-webhook", path: e.path, port: 443 },
      })),
    )
    const own = webhookConfigurations(table, { mode: "service", namespace: "ops", caBundle: ca })
    expect(own.mutating.metadata?.annotations).toBeUndefined()
    expect(own.mutating.webhooks?.[0]?.clientConfig).toEqual({
      service: { namespace: "ops", name: "langop-webhook", path: "/mutate/languageclusters", port: 443 },
      caBundle: Buffer.from(ca).toString("base64"),
    })
  })

  it("out of cluster: https://127.0.0.1:<port><path> and the CA as caBundle", () => {
    const configs = [...(local.mutating.webhooks ?? []), ...(local.validating.webhooks ?? [])].map(
      (w) => w.clientConfig,
    )
    expect(configs).toEqual(
      byType.map((e) => ({
        url: `https://127.0.0.1:19443${e.path}`,
        caBundle: Buffer.from(ca).toString("base64"),
      })),
    )
    expect(local.mutating.metadata?.annotations).toBeUndefined()
    const v6 = webhookConfigurations(table, { mode: "url", host: "::1", caBundle: ca })
    expect(v6.validating.webhooks?.[0]?.clientConfig.url).toBe("https://[::1]:9443/validate/languageclusters")
  })

  it("the Pod webhook selects agent Pods outside kube-system and the operator's namespace, reinvoked if needed", () => {
    for (const [config, operatorNamespace] of [
      [inCluster, "langop-system"],
      [webhookConfigurations(table, { mode: "service", namespace: "ops" }), "ops"],
      [webhookConfigurations(table, { mode: "url", caBundle: ca, operatorNamespace: "dev" }), "dev"],
    ] as const) {
      const pod = config.mutating.webhooks?.find((w) => w.name === "mutate.pods.langop.io")
      expect(pod).toMatchObject({
        reinvocationPolicy: "IfNeeded",
        objectSelector: { matchLabels: { "langop.io/kind": "LanguageAgent" } },
        namespaceSelector: {
          matchExpressions: [
            {
              key: "kubernetes.io/metadata.name",
              operator: "NotIn",
              values: ["kube-system", operatorNamespace],
            },
          ],
        },
      })
      const others = config.mutating.webhooks?.filter((w) => w.name !== "mutate.pods.langop.io") ?? []
      for (const w of others) {
        expect(w.objectSelector).toBeUndefined()
        expect(w.namespaceSelector).toBeUndefined()
        expect(w.reinvocationPolicy).toBe("Never")
      }
    }
  })
})
