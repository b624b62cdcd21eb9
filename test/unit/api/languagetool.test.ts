import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { decodeAll } from "../../../src/api/decode.ts"
import { LanguageTool, LanguageToolKind } from "../../../src/api/languagetool.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { languageToolCelFixtures } from "../../fixtures/cel/languagetool.ts"
import { celRulesOf, celViolations, valuesAt } from "../support/cel.ts"

const decode = decodeAll(LanguageTool)
const crd = crdFor(LanguageToolKind)
const version = crd.spec.versions[0]
const schema = version?.schema.openAPIV3Schema ?? {}

const examplesDir = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const examples = readdirSync(examplesDir)
  .filter((file) => file.startsWith("languagetool") && file.endsWith(".yaml"))
  .map((file) => ({ file, object: parse(readFileSync(join(examplesDir, file), "utf8")) as unknown }))

const tool = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageTool",
  metadata: { name: "t" },
  spec,
  ...extra,
})
const failures = (input: unknown): ReadonlyArray<string> => {
  const result = decode(input)
  return Result.isFailure(result) ? result.failure : []
}

/** CEL as the API server runs it: on the object after schema defaulting (our decoder applies the same defaults). */
const celOf = (object: unknown, oldObject?: unknown) => {
  const defaulted = (value: unknown) => Result.getOrThrow(decode(value))
  return celViolations(schema, defaulted(object), oldObject === undefined ? undefined : defaulted(oldObject))
}

describe("LanguageTool examples", () => {
  it("ships the service-mode web-fetch and the sidecar-mode workspace-files tools", () => {
    const byName = new Map(
      examples.map(({ object }) => {
        const decoded = Result.getOrThrow(decode(object))
        return [decoded.metadata.name, decoded.spec] as const
      }),
    )
    expect(byName.get("web-fetch")?.deploymentMode).toBe("service")
    expect(byName.get("web-fetch")?.image).toBe("ghcr.io/langop/mcp-web-fetch:1.0")
    expect(byName.get("workspace-files")?.deploymentMode).toBe("sidecar")
    expect(byName.get("workspace-files")?.image).toBe("ghcr.io/langop/mcp-filesystem:1.0")
  })

  it.each(examples)("$file decodes strictly, has no namespace and passes every CEL rule", ({ object }) => {
    expect(failures(object)).toEqual([])
    expect(object).not.toHaveProperty("metadata.namespace")
    expect(celOf(object)).toEqual([])
  })

  it("sidecar examples fit the container name and do not take the agent's port 8080", () => {
    for (const { object } of examples) {
      const { metadata, spec } = Result.getOrThrow(decode(object))
      if (spec.deploymentMode !== "sidecar") continue
      expect(`tool-${metadata.name ?? ""}`.length).toBeLessThanOrEqual(63)
      expect(spec.port).not.toBe(8080)
    }
  })
})

describe("LanguageTool schema", () => {
  it("requires spec (docs/concepts.md X-1) and applies the spec's constant defaults", () => {
    expect(
      failures({ apiVersion: "langop.io/v1alpha1", kind: "LanguageTool", metadata: { name: "t" } }),
    ).toEqual(["spec: Required value"])
    const decoded = Result.getOrThrow(
      decode(tool({ image: "img", horizontalPodAutoscaler: {}, updateStrategy: {} })),
    )
    expect(decoded.spec).toEqual({
      image: "img",
      imagePullPolicy: "IfNotPresent",
      type: "mcp",
      deploymentMode: "service",
      port: 8080,
      replicas: 1,
      serviceType: "ClusterIP",
      updateStrategy: { type: "RollingUpdate" },
      horizontalPodAutoscaler: { enabled: false, minReplicas: 2, maxReplicas: 10 },
    })
    const egress = Result.getOrThrow(
      decode(tool({ image: "img", egress: [{ to: { cidr: "10.0.0.0/8" }, ports: [{ port: 5432 }] }] })),
    )
    expect(egress.spec.egress?.[0]?.ports).toEqual([{ protocol: "TCP", port: 5432 }])
  })

  it("lists every violation as field.path: rule", () => {
    const lines = failures(
      tool(
        {
          deploymentMode: "daemon",
          port: 70000,
          replicas: -1,
          replica: 2,
          serviceType: "ExternalName",
          imagePullPolicy: "Sometimes",
          resources: { limits: { memory: "lots" } },
          egress: [{ to: { service: { namespace: "db" } }, ports: [{ port: 0, protocol: "ICMP" }] }],
          podDisruptionBudget: { minAvailable: "50%" },
          horizontalPodAutoscaler: { minReplicas: 0, customMetrics: [{ name: "qps", type: "Resource" }] },
        },
        { status: { phase: "Ready", readyReplicas: "1" } },
      ),
    )
    expect(lines).toEqual([
      'status.phase: Expected "Pending" | "Running" | "Failed" | "Unknown" | "Updating"',
      "status.readyReplicas: Expected number",
      "spec.replica: unknown field",
      "spec.image: Required value",
      'spec.imagePullPolicy: Expected "Always" | "Never" | "IfNotPresent"',
      'spec.deploymentMode: Expected "service" | "sidecar"',
      "spec.port: Expected a value between 1 and 65535",
      "spec.replicas: Expected a value greater than or equal to 0",
      "spec.resources.limits.memory: Expected a quantity such as 500m, 1.5, 2Gi or 1e3",
      'spec.serviceType: Expected "ClusterIP" | "NodePort" | "LoadBalancer"',
      "spec.podDisruptionBudget.minAvailable: Expected number",
      "spec.egress[0].to.service.name: Required value",
      'spec.egress[0].ports[0].protocol: Expected "TCP" | "UDP" | "SCTP"',
      "spec.egress[0].ports[0].port: Expected a value between 1 and 65535",
      "spec.horizontalPodAutoscaler.minReplicas: Expected a value greater than or equal to 1",
      'spec.horizontalPodAutoscaler.customMetrics[0].type: Expected "Pods" | "Object" | "External"',
      "spec.horizontalPodAutoscaler.customMetrics[0].target: Required value",
    ])
  })

  it("rejects an empty image and a malformed condition", () => {
    expect(
      failures(
        tool(
          { image: "" },
          { status: { conditions: [{ type: "Ready", status: "Yes", reason: "", message: "" }] } },
        ),
      ),
    ).toEqual([
      'status.conditions[0].status: Expected "True" | "False" | "Unknown"',
      "status.conditions[0].lastTransitionTime: Required value",
      "status.conditions[0].reason: Expected a value with a length of at least 1",
      "status.conditions[0].reason: Expected a string matching the RegExp ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      "spec.image: Expected a value with a length of at least 1",
    ])
  })
})

describe("LanguageTool CRD", () => {
  it("has the spec's names, printer columns and structural markers", () => {
    expect(crd.spec.names).toEqual({
      kind: "LanguageTool",
      listKind: "LanguageToolList",
      plural: "languagetools",
      singular: "languagetool",
      shortNames: ["ltool"],
      categories: ["langop"],
    })
    expect(crd.spec.scope).toBe("Namespaced")
    expect(version?.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Type", "string", ".spec.type"],
      ["Image", "string", ".spec.image"],
      ["Phase", "string", ".status.phase"],
      ["Endpoint", "string", ".status.endpoint"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ])
    expect(schema).toHaveProperty("required", ["spec"])
    expect(schema).toHaveProperty(
      ["properties", "status", "properties", "conditions", "x-kubernetes-list-type"],
      "map",
    )
  })
})

describe("LanguageTool CEL rules", () => {
  it.each(languageToolCelFixtures)("$name", ({ object, oldObject, violations }) => {
    expect(failures(object)).toEqual([])
    if (oldObject !== undefined) expect(failures(oldObject)).toEqual([])
    expect(celOf(object, oldObject).map((v) => v.message)).toEqual(violations)
  })

  it("every CEL rule of the CRD has a passing and a failing fixture", () => {
    const rules = celRulesOf(schema)
    expect(rules.map((r) => r.path)).toEqual([
      "spec.podDisruptionBudget",
      "spec.updateStrategy",
      "spec.horizontalPodAutoscaler",
    ])
    for (const { path, rule } of rules) {
      const outcomes = languageToolCelFixtures
        .filter(({ object }) => valuesAt(object, path).length > 0)
        .map(({ object, oldObject }) => celOf(object, oldObject).some((v) => v.rule === rule))
      expect({ path, fails: outcomes.includes(true) }).toEqual({ path, fails: true })
      expect({ path, passes: outcomes.includes(false) }).toEqual({ path, passes: true })
    }
  })
})
