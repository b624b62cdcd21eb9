import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { decodeAll } from "../../../src/api/decode.ts"
import { LanguageModel, LanguageModelKind } from "../../../src/api/languagemodel.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { languageModelCelFixtures } from "../../fixtures/cel/languagemodel.ts"
import { celRulesOf, celViolations, valuesAt } from "../support/cel.ts"

type Json = { [key: string]: unknown }
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

const decode = decodeAll(LanguageModel)
const crd = crdFor(LanguageModelKind)
const schema: Json = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const documents = (file: string) =>
  parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8")).map((doc) => doc.toJS() as unknown)
const examples = readdirSync(EXAMPLES)
  .filter((file) => file.startsWith("languagemodel") && file.endsWith(".yaml"))
  .flatMap((file) => documents(file).map((object) => ({ file, object })))

const base = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageModel",
  metadata: { name: "gpt-4o-mini" },
  spec: { provider: "openai", modelName: "gpt-4o-mini" },
}
const withSpec = (spec: Json, extra: Json = {}) => ({ ...base, ...extra, spec: { ...base.spec, ...spec } })
const failures = (input: unknown): ReadonlyArray<string> => {
  const result = decode(input)
  return Result.isFailure(result) ? result.failure : []
}

/** Every property path below `root`, LabelSelectors counted as one path (the spec table does so). */
const fieldPaths = (root: Json, prefix: string) => {
  const passThrough = new Set(["namespaceSelector", "podSelector"])
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
  walk(root, prefix)
  return { paths, undescribed }
}

describe("LanguageModel examples", () => {
  it("finds the examples", () => {
    expect(examples.map((e) => e.file)).toEqual(
      expect.arrayContaining(["languagemodel.yaml", "languagemodel-local.yaml"]),
    )
  })

  it.each(examples.map((e) => [e.file, e.object] as const))(
    "%s decodes and passes every CEL rule",
    (_, object) => {
      expect(failures(object)).toEqual([])
      expect(celViolations(schema, object)).toEqual([])
    },
  )

  it("gpt-4o-mini reads the example Secret openai-credentials, which holds only a dummy key", () => {
    const model = examples.find((e) => e.file === "languagemodel.yaml")?.object
    expect(model).toMatchObject({
      metadata: { name: "gpt-4o-mini" },
      spec: { provider: "openai", apiKeySecretRef: { name: "openai-credentials", key: "api-key" } },
    })
    const [secret] = documents("secret-openai-credentials.yaml")
    expect(secret).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "openai-credentials" },
      stringData: { "api-key": expect.stringContaining("dummy") },
    })
    expect(secret).not.toHaveProperty("metadata.namespace")
    expect(readFileSync(join(EXAMPLES, "secret-openai-credentials.yaml"), "utf8")).toMatch(/^# EXAMPLE ONLY/u)
  })
})

describe("LanguageModel schema", () => {
  it("applies the schema defaults of the spec table", () => {
    const result = decode(
      withSpec({
        apiKeySecretRef: { name: "openai-credentials" },
        retryPolicy: {},
        loadBalancing: { endpoints: [{ url: "https://a.example.com" }], healthCheck: {} },
        caching: {},
        observability: { logging: {} },
        costTracking: {},
        regions: [{ name: "us-east-1" }],
        egress: [{ to: { dns: ["api.example.com"] }, ports: [{ port: 443 }] }],
      }),
    )
    expect(Result.isSuccess(result)).toBe(true)
    if (!Result.isSuccess(result)) return
    const spec = result.success.spec
    expect(spec).toEqual({
      provider: "openai",
      modelName: "gpt-4o-mini",
      apiKeySecretRef: { name: "openai-credentials", key: "api-key" },
      timeout: "5m",
      retryPolicy: { maxAttempts: 3, initialBackoff: "1s", maxBackoff: "30s", backoffMultiplier: 2 },
      loadBalancing: {
        strategy: "round-robin",
        endpoints: [{ url: "https://a.example.com", weight: 100 }],
        healthCheck: {
          enabled: true,
          interval: "30s",
          timeout: "5s",
          unhealthyThreshold: 3,
          healthyThreshold: 2,
        },
      },
      caching: { enabled: false, backend: "memory" },
      observability: {
        metrics: true,
        tracing: false,
        logging: { level: "info", logRequests: true, logResponses: false },
      },
      costTracking: { enabled: false, currency: "USD" },
      regions: [{ name: "us-east-1", enabled: true }],
      // The Service namespace is the webhook's default (model's namespace), never the schema's.
      egress: [{ to: { dns: ["api.example.com"] }, ports: [{ protocol: "TCP", port: 443 }] }],
    })
  })

  it("lists every violation as field.path: rule", () => {
    const lines = failures(
      withSpec(
        {
          provider: "gemini",
          modelName: "",
          image: "ghcr.io/berriai/litellm:main",
          timeout: "1h30m",
          configuration: { temperature: "hot", maxTokens: 1.5 },
          retryPolicy: { maxAttempts: 11, initialBackoff: "1.5s" },
          fallbacks: [{ conditions: ["error"] }],
          loadBalancing: {
            strategy: "sticky",
            endpoints: [{ url: "https://a.example.com", weight: -1 }],
            healthCheck: { unhealthyThreshold: 0 },
          },
          caching: { backend: "disk" },
          egress: [{ ports: [{ port: 0, protocol: "ICMP" }] }],
        },
        { status: { phase: "Failed", conditions: [{ type: "Ready", status: "True" }] } },
      ),
    )
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spec\.provider: Expected "openai" \| "anthropic" \| "openai-compatible"/u),
        expect.stringMatching(/^spec\.modelName: Expected a value with a length of at least 1/u),
        "spec.image: unknown field",
        expect.stringMatching(/^spec\.timeout: Expected a string matching/u),
        expect.stringMatching(/^spec\.configuration\.temperature: Expected number/u),
        expect.stringMatching(/^spec\.configuration\.maxTokens: Expected an integer/u),
        expect.stringMatching(/^spec\.retryPolicy\.maxAttempts: Expected a value between 0 and 10/u),
        expect.stringMatching(/^spec\.retryPolicy\.initialBackoff: Expected a string matching/u),
        "spec.fallbacks[0].modelRef: Required value",
        expect.stringMatching(/^spec\.loadBalancing\.strategy: Expected "round-robin"/u),
        expect.stringMatching(
          /^spec\.loadBalancing\.endpoints\[0\]\.weight: Expected a value greater than or equal to 0/u,
        ),
        expect.stringMatching(
          /^spec\.loadBalancing\.healthCheck\.unhealthyThreshold: Expected a value greater than or equal to 1/u,
        ),
        expect.stringMatching(/^spec\.caching\.backend: Expected "memory" \| "redis" \| "memcached"/u),
        expect.stringMatching(/^spec\.egress\[0\]\.ports\[0\]\.protocol: Expected "TCP" \| "UDP" \| "SCTP"/u),
        expect.stringMatching(/^spec\.egress\[0\]\.ports\[0\]\.port: Expected a value between 1 and 65535/u),
        // The original wrote phase Failed, which the enum rejects (docs/concepts.md §7.1).
        expect.stringMatching(/^status\.phase: Expected "Ready" \| "NotReady" \| "Error"/u),
        "status.conditions[0].lastTransitionTime: Required value",
        "status.conditions[0].reason: Required value",
        "status.conditions[0].message: Required value",
      ]),
    )
    expect(lines).toHaveLength(19)
  })

  it("requires spec, provider and modelName (docs/concepts.md X-1)", () => {
    expect(failures({ apiVersion: base.apiVersion, kind: base.kind, metadata: {} })).toEqual([
      "spec: Required value",
    ])
    expect(failures({ ...base, spec: {} })).toEqual([
      "spec.provider: Required value",
      "spec.modelName: Required value",
    ])
    expect(
      failures(
        withSpec({
          apiKeySecretRef: {},
          loadBalancing: { endpoints: [{ weight: 1 }] },
          regions: [{ enabled: false }],
        }),
      ),
    ).toEqual([
      "spec.apiKeySecretRef.name: Required value",
      "spec.loadBalancing.endpoints[0].url: Required value",
      "spec.regions[0].name: Required value",
    ])
  })

  it("has no deployment knobs (docs/languagemodel.md LM-1): image, replicas, resources, env and clusterRef are unknown fields", () => {
    expect(
      failures(
        withSpec({ image: "x", replicas: 2, resources: {}, env: [], clusterRef: "demo", nodeSelector: {} }),
      ),
    ).toEqual([
      "spec.image: unknown field",
      "spec.replicas: unknown field",
      "spec.resources: unknown field",
      "spec.env: unknown field",
      "spec.clusterRef: unknown field",
      "spec.nodeSelector: unknown field",
    ])
  })

  it("leaves generation-parameter ranges and URLs to the webhook (docs/languagemodel.md LM-7)", () => {
    const lenient = withSpec({
      provider: "openai-compatible",
      endpoint: "not a url",
      configuration: { temperature: 5, topP: 2, frequencyPenalty: -3, presencePenalty: 3 },
    })
    expect(failures(lenient)).toEqual([])
    expect(celViolations(schema, lenient)).toEqual([])
  })

  it("rejects wrong types deep in the spec and status", () => {
    expect(
      failures(
        withSpec(
          {
            configuration: { stopSequences: "END", additionalParameters: { seed: 42 } },
            retryPolicy: { retryableStatusCodes: [429, "503"], backoffMultiplier: "2x" },
            loadBalancing: { healthCheck: { enabled: "yes", interval: "soon" } },
            regions: [{ name: "eu", priority: "high" }],
          },
          { status: { healthy: "true", metrics: { totalRequests: -0.5 }, endpointStatus: [{ url: "x" }] } },
        ),
      ),
    ).toEqual([
      // Input key order: withSpec puts status before spec.
      "status.healthy: Expected boolean",
      "status.endpointStatus[0].healthy: Required value",
      "status.metrics.totalRequests: Expected an integer",
      "spec.configuration.stopSequences: Expected array",
      expect.stringMatching(/^spec\.configuration\.additionalParameters\.seed: Expected string/u),
      expect.stringMatching(/^spec\.retryPolicy\.backoffMultiplier: Expected number/u),
      expect.stringMatching(/^spec\.retryPolicy\.retryableStatusCodes\[1\]: Expected number/u),
      expect.stringMatching(/^spec\.loadBalancing\.healthCheck\.enabled: Expected boolean/u),
      expect.stringMatching(/^spec\.loadBalancing\.healthCheck\.interval: Expected a string matching/u),
      expect.stringMatching(/^spec\.regions\[0\]\.priority: Expected number/u),
    ])
  })
})

describe("LanguageModel CRD", () => {
  it("has the names, printer columns and scope of the spec", () => {
    expect(crd.metadata.name).toBe("languagemodels.langop.io")
    expect(crd.spec.names).toEqual({
      kind: "LanguageModel",
      listKind: "LanguageModelList",
      plural: "languagemodels",
      singular: "languagemodel",
      shortNames: ["lmodel"],
      categories: ["langop"],
    })
    expect(crd.spec.scope).toBe("Namespaced")
    expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} })
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Provider", "string", ".spec.provider"],
      ["Model", "string", ".spec.modelName"],
      ["Phase", "string", ".status.phase"],
      ["Healthy", "boolean", ".status.healthy"],
      ["Requests", "integer", ".status.metrics.totalRequests"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ])
    expect(schema.required).toEqual(["spec"])
  })

  it("has every spec field path of the spec table (87, 15 top-level), each described", () => {
    const spec = (schema.properties as Json).spec as Json
    const { paths, undescribed } = fieldPaths(spec, "spec")
    expect(paths).toHaveLength(87)
    expect(Object.keys(spec.properties as Json)).toHaveLength(15)
    expect(spec.required).toEqual(["provider", "modelName"])
    expect(undescribed).toEqual([])
  })

  it("has every status field path of the status table (35), each described", () => {
    const status = (schema.properties as Json).status as Json
    const { paths, undescribed } = fieldPaths(status, "status")
    // The table lists conditions as one path; its metav1.Condition items add six.
    expect(paths.filter((p) => !p.startsWith("status.conditions[]"))).toHaveLength(35)
    expect(undescribed).toEqual([])
  })

  it("keeps conditions a list-map and carries the spec's formats", () => {
    const status = (schema.properties as Json).status as Json
    const props = status.properties as Json
    expect(props.conditions).toMatchObject({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    })
    expect(props.observedGeneration).toMatchObject({ type: "integer", format: "int64" })
    expect(props.lastHealthCheck).toMatchObject({ type: "string", format: "date-time" })
    expect(props.phase).toMatchObject({ enum: ["Ready", "NotReady", "Error", "Configuring", "Degraded"] })
    const retry = (((schema.properties as Json).spec as Json).properties as Json).retryPolicy as Json
    expect((retry.properties as Json).retryableStatusCodes).toMatchObject({
      items: { type: "integer", format: "int32" },
    })
    expect(JSON.stringify(schema)).not.toContain("x-kubernetes-preserve-unknown-fields")
  })
})

describe("LanguageModel CEL rules", () => {
  it.each(languageModelCelFixtures.map((f) => [f.name, f] as const))("%s", (_, fixture) => {
    expect(failures(fixture.object)).toEqual([])
    if (fixture.oldObject !== undefined) expect(failures(fixture.oldObject)).toEqual([])
    expect(celViolations(schema, fixture.object, fixture.oldObject).map((v) => v.message)).toEqual(
      fixture.violations,
    )
  })

  it("the spec marks no schema rule for this kind, so the CRD carries none (docs/languagemodel.md LM-7)", () => {
    expect(celRulesOf(schema)).toEqual([])
  })

  it("every rule in the CRD has a passing and a failing fixture", () => {
    for (const { path, rule } of celRulesOf(schema)) {
      const outcomes = languageModelCelFixtures.map((fixture) => ({
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

  it("the fixture with every field really sets every spec field path", () => {
    const every = languageModelCelFixtures.find((f) => f.name === "model with every spec field set")?.object
    const spec = (schema.properties as Json).spec as Json
    const { paths } = fieldPaths(spec, "spec")
    const unset = paths.filter((path) => valuesAt(every, path).length === 0)
    // A Secret namespace other than the object's own is denied (docs/concepts.md X-3), and fixtures are namespace-free.
    expect(unset).toEqual(["spec.apiKeySecretRef.namespace"])
  })
})
