import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { decodeAll } from "../../../src/api/decode.ts"
import { LanguageClient, LanguageClientKind } from "../../../src/api/languageclient.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { languageClientCelFixtures } from "../../fixtures/cel/languageclient.ts"
import { celRulesOf, celViolations, valuesAt } from "../support/cel.ts"

type Json = { [key: string]: unknown }
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

const decode = decodeAll(LanguageClient)
const crd = crdFor(LanguageClientKind)
const schema: Json = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const examples = readdirSync(EXAMPLES)
  .filter((file) => file.startsWith("languageclient") && file.endsWith(".yaml"))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8")).map((doc) => ({
      file,
      object: doc.toJS() as unknown,
    })),
  )

const base = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageClient",
  metadata: { name: "chat" },
  spec: { image: "ghcr.io/langop/chat-ui:1.0", modelRefs: [{ name: "gpt-4o-mini" }] },
}
const withSpec = (spec: Json, extra: Json = {}) => ({ ...base, ...extra, spec: { ...base.spec, ...spec } })
const failures = (input: unknown): ReadonlyArray<string> => {
  const result = decode(input)
  return Result.isFailure(result) ? result.failure : []
}

describe("LanguageClient examples", () => {
  it("finds the examples", () => {
    expect(examples.map((e) => e.file)).toEqual(
      expect.arrayContaining(["languageclient.yaml", "languageclient-public.yaml"]),
    )
  })

  it.each(examples.map((e) => [e.file, e.object] as const))(
    "%s decodes and passes every CEL rule",
    (_, object) => {
      expect(failures(object)).toEqual([])
      expect(celViolations(schema, object)).toEqual([])
    },
  )
})

describe("LanguageClient schema", () => {
  it("applies the schema defaults of the spec table", () => {
    const result = decode(
      withSpec({
        sessionConfig: { cookieConfig: {} },
        authentication: { providers: [{ name: "sso", type: "oidc", secretRef: { name: "sso" } }] },
        contentModeration: { customFilters: [{ name: "cards", pattern: "[0-9]{16}" }] },
        ingress: {},
        horizontalPodAutoscaler: {},
        regions: [{ name: "eu", modelRefs: [{ name: "m" }] }],
      }),
    )
    expect(Result.isSuccess(result)).toBe(true)
    const spec = Result.isSuccess(result) ? result.success.spec : undefined
    if (spec === undefined) throw new Error("spec missing after decoding")
    expect(spec).toMatchObject({
      imagePullPolicy: "IfNotPresent",
      type: "web",
      port: 8080,
      replicas: 2,
      allowModelSelection: true,
      allowPersonaSelection: false,
      serviceType: "ClusterIP",
      modelRefs: [{ name: "gpt-4o-mini", role: "primary" }],
      sessionConfig: {
        backend: "memory",
        ttl: "24h",
        maxMessagesPerSession: 100,
        enablePersistence: false,
        cookieConfig: { name: "session_id", secure: true, httpOnly: true, sameSite: "Lax", path: "/" },
      },
      authentication: {
        enabled: false,
        requireAuthentication: false,
        allowAnonymous: true,
        providers: [{ enabled: true, secretRef: { name: "sso", key: "api-key" } }],
      },
      contentModeration: { enabled: false, action: "warn" },
      ingress: { enabled: false, path: "/", pathType: "Prefix" },
      horizontalPodAutoscaler: { enabled: false, minReplicas: 2, maxReplicas: 10 },
      regions: [{ name: "eu", enabled: true, modelRefs: [{ name: "m", role: "primary" }] }],
    })
    // docs/languageclient.md CL-13: a filter's action keeps following contentModeration.action, so it gets no default.
    expect(spec.contentModeration?.customFilters?.[0]).toEqual({ name: "cards", pattern: "[0-9]{16}" })
    // Namespaces of references are filled in by the webhook, never by the schema.
    expect(spec.modelRefs[0]).not.toHaveProperty("namespace")
  })

  it("lists every violation as field.path: rule", () => {
    const lines = failures(
      withSpec(
        {
          image: "",
          type: "desktop",
          port: 70000,
          replicas: -1,
          modelRefs: [{ role: "primary" }],
          extra: true,
          sessionConfig: { ttl: "1h30m", maxMessagesPerSession: "many" },
          ingress: { hosts: [], pathType: "Regex" },
          resources: { limits: { cpu: "lots" } },
        },
        { status: { phase: "Ready", conditions: [{ type: "Ready", status: "True" }] } },
      ),
    )
    expect(lines).toEqual([
      'status.phase: Expected "Pending" | "Running" | "Failed" | "Unknown" | "Updating"',
      "status.conditions[0].lastTransitionTime: Required value",
      "status.conditions[0].reason: Required value",
      "status.conditions[0].message: Required value",
      "spec.extra: unknown field",
      "spec.image: Expected a value with a length of at least 1",
      'spec.type: Expected "web" | "api" | "cli" | "widget" | "slack" | "discord" | "teams"',
      "spec.port: Expected a value between 1 and 65535",
      "spec.replicas: Expected a value greater than or equal to 0",
      "spec.modelRefs[0].name: Required value",
      "spec.sessionConfig.ttl: Expected a string matching the RegExp ^[0-9]+(ns|us|µs|ms|s|m|h)$",
      "spec.sessionConfig.maxMessagesPerSession: Expected number",
      "spec.ingress.hosts: Expected a value with a length of at least 1",
      'spec.ingress.pathType: Expected "Exact" | "Prefix" | "ImplementationSpecific"',
      "spec.resources.limits.cpu: Expected a quantity such as 500m, 1.5, 2Gi or 1e3",
    ])
  })

  it("requires spec, image and at least one model (docs/concepts.md X-1)", () => {
    expect(failures({ ...base, spec: undefined })).toEqual(["spec: Expected object"])
    expect(failures({ apiVersion: base.apiVersion, kind: base.kind, metadata: {} })).toEqual([
      "spec: Required value",
    ])
    expect(failures({ ...base, spec: { modelRefs: [] } })).toEqual([
      "spec.image: Required value",
      "spec.modelRefs: Expected a value with a length of at least 1",
    ])
  })

  it("rejects wrong types and enum values deep in the spec", () => {
    expect(
      failures(
        withSpec({
          authentication: { providers: [{ name: "x", type: "kerberos" }] },
          horizontalPodAutoscaler: { minReplicas: 0, customMetrics: [{ name: "rps", type: "Pods" }] },
          regions: [{ name: "eu", replicas: 1.5 }],
          agentRefs: [{ name: "support", enabled: "yes" }],
        }),
      ),
    ).toEqual([
      "spec.agentRefs[0].enabled: Expected boolean",
      'spec.authentication.providers[0].type: Expected "oauth2" | "oidc" | "saml" | "ldap" | "basic" | "api-key"',
      "spec.horizontalPodAutoscaler.minReplicas: Expected a value greater than or equal to 1",
      "spec.horizontalPodAutoscaler.customMetrics[0].target: Required value",
      "spec.regions[0].replicas: Expected an integer",
    ])
  })
})

describe("LanguageClient CRD", () => {
  it("has the names, printer columns and scope of the spec", () => {
    expect(crd.spec.names).toMatchObject({
      kind: "LanguageClient",
      shortNames: ["lclient"],
      categories: ["langop"],
    })
    expect(crd.spec.scope).toBe("Namespaced")
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Type", "string", ".spec.type"],
      ["Phase", "string", ".status.phase"],
      ["URL", "string", ".status.url"],
      ["Sessions", "integer", ".status.activeSessions"],
      ["Users", "integer", ".status.totalUsers"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ])
    expect(schema.required).toEqual(["spec"])
  })

  it("has every spec field path of the spec table (210, 46 top-level), each described", () => {
    // Upstream types are embedded whole; the spec table lists them as one path each.
    const passThrough = new Set([
      "imagePullSecrets",
      "env",
      "envFrom",
      "resources",
      "affinity",
      "tolerations",
      "topologySpreadConstraints",
      "securityContext",
      "containerSecurityContext",
      "volumeMounts",
      "volumes",
      "livenessProbe",
      "readinessProbe",
      "startupProbe",
    ])
    const paths: string[] = []
    const undescribed: string[] = []
    const walk = (node: Json, path: string) => {
      if (isObject(node.properties))
        for (const [key, child] of Object.entries(node.properties)) {
          if (!isObject(child)) continue
          paths.push(`${path}.${key}`)
          if (typeof child.description !== "string" || child.description === "")
            undescribed.push(`${path}.${key}`)
          if (!passThrough.has(key)) walk(child, `${path}.${key}`)
        }
      if (isObject(node.items)) walk(node.items, `${path}[]`)
    }
    const spec = (schema.properties as Json).spec as Json
    walk(spec, "spec")
    expect(paths).toHaveLength(210)
    expect(Object.keys(spec.properties as Json)).toHaveLength(46)
    expect(undescribed).toEqual([])
  })

  it("keeps conditions a list-map and ingress TLS hosts atomic", () => {
    const status = (schema.properties as Json).status as Json
    const conditions = (status.properties as Json).conditions as Json
    expect(conditions["x-kubernetes-list-type"]).toBe("map")
    expect(conditions["x-kubernetes-list-map-keys"]).toEqual(["type"])
    const ingress = ((schema.properties as Json).spec as Json).properties as Json
    const tls = ((ingress.ingress as Json).properties as Json).tls as Json
    expect(((tls.items as Json).properties as Json).hosts).toMatchObject({
      "x-kubernetes-list-type": "atomic",
    })
    expect(JSON.stringify(schema)).not.toContain("x-kubernetes-preserve-unknown-fields")
  })
})

describe("LanguageClient CEL rules", () => {
  it.each(languageClientCelFixtures.map((f) => [f.name, f] as const))("%s", (_, fixture) => {
    expect(failures(fixture.object)).toEqual([])
    if (fixture.oldObject !== undefined) expect(failures(fixture.oldObject)).toEqual([])
    expect(celViolations(schema, fixture.object, fixture.oldObject).map((v) => v.message)).toEqual(
      fixture.violations,
    )
  })

  it("every rule in the CRD has a passing and a failing fixture", () => {
    const rules = celRulesOf(schema)
    expect(rules.length).toBeGreaterThanOrEqual(3)
    for (const { path, rule } of rules) {
      const outcomes = languageClientCelFixtures.map((fixture) => ({
        reached: valuesAt(fixture.object, path).length > 0,
        failed: celViolations(schema, fixture.object, fixture.oldObject).some((v) => v.rule === rule),
      }))
      expect({ path, rule, fails: outcomes.some((o) => o.failed) }).toEqual({ path, rule, fails: true })
      expect({ path, rule, passes: outcomes.some((o) => o.reached && !o.failed) }).toEqual({
        path,
        rule,
        passes: true,
      })
    }
  })
})
