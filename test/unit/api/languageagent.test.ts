import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Result } from "effect"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { decodeAll } from "../../../src/api/decode.ts"
import { allKinds } from "../../../src/api/index.ts"
import { LanguageAgent, LanguageAgentKind } from "../../../src/api/languageagent.ts"
import { crdFor } from "../../../src/crd/generate.ts"
import { everyAgentField, languageAgentCelFixtures } from "../../fixtures/cel/languageagent.ts"
import { celRulesOf, celViolations, valuesAt } from "../support/cel.ts"

type Json = { [key: string]: unknown }
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v)

const decode = decodeAll(LanguageAgent)
const crd = crdFor(LanguageAgentKind)
const schema: Json = crd.spec.versions[0]?.schema.openAPIV3Schema ?? {}
const specSchema = (schema.properties as Json).spec as Json
const statusSchema = (schema.properties as Json).status as Json

const EXAMPLES = join(import.meta.dirname, "..", "..", "..", "deploy", "examples")
const documents = (file: string) =>
  parseAllDocuments(readFileSync(join(EXAMPLES, file), "utf8")).map((doc) => doc.toJS() as unknown)
const examples = readdirSync(EXAMPLES)
  .filter((file) => file.startsWith("languageagent") && file.endsWith(".yaml"))
  .flatMap((file) => documents(file).map((object) => ({ file, object })))
const decodedExample = (name: string) =>
  examples
    .map(({ object }) => Result.getOrThrow(decode(object)))
    .find((agent) => agent.metadata.name === name)

const base = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageAgent",
  metadata: { name: "support" },
  spec: { image: "ghcr.io/langop/agent:1.0", modelRefs: [{ name: "gpt-4o-mini" }] },
}
const withSpec = (spec: Json, extra: Json = {}) => ({ ...base, ...extra, spec: { ...base.spec, ...spec } })
const failures = (input: unknown): ReadonlyArray<string> => {
  const result = decode(input)
  return Result.isFailure(result) ? result.failure : []
}

/** Upstream types are embedded whole; the spec table lists each as one path. */
const PASS_THROUGH = new Set([
  "imagePullSecrets",
  "env",
  "envFrom",
  "resources",
  "affinity",
  "tolerations",
  "securityContext",
  "volumeMounts",
  "volumes",
  "namespaceSelector",
  "podSelector",
])

/** Every property path below `root` (pass-through types counted once), and those without a description. */
const fieldPaths = (root: Json, prefix: string) => {
  const paths: string[] = []
  const undescribed: string[] = []
  const walk = (node: Json, path: string) => {
    if (isObject(node.properties))
      for (const [key, child] of Object.entries(node.properties)) {
        if (!isObject(child)) continue
        paths.push(`${path}.${key}`)
        if (typeof child.description !== "string" || child.description === "")
          undescribed.push(`${path}.${key}`)
        if (!PASS_THROUGH.has(key)) walk(child, `${path}.${key}`)
      }
    if (isObject(node.items)) walk(node.items, `${path}[]`)
  }
  walk(root, prefix)
  return { paths, undescribed }
}

describe("LanguageAgent examples", () => {
  it("finds the examples", () => {
    expect(examples.map((e) => e.file).sort()).toEqual([
      "languageagent-event-driven.yaml",
      "languageagent-scheduled.yaml",
      "languageagent.yaml",
    ])
  })

  it.each(examples.map((e) => [e.file, e.object] as const))(
    "%s decodes strictly, has no namespace and passes every CEL rule",
    (_, object) => {
      expect(failures(object)).toEqual([])
      expect(object).not.toHaveProperty("metadata.namespace")
      expect(celViolations(schema, object)).toEqual([])
    },
  )

  it("support uses every demo object: cluster, model, both tools, the child persona, a workspace", () => {
    const support = decodedExample("support")
    expect(support?.spec).toMatchObject({
      clusterRef: "demo",
      executionMode: "interactive",
      modelRefs: [{ name: "gpt-4o-mini" }],
      toolRefs: [{ name: "web-fetch" }, { name: "workspace-files" }],
      personaRef: { name: "support-agent" },
      workspace: { enabled: true, mountPath: "/workspace", accessMode: "ReadWriteOnce" },
    })
    // A fresh volume is only writable for a non-root agent with fsGroup (docs/languageagent.md AG-7).
    expect(support?.spec.securityContext?.fsGroup).toBeDefined()
  })

  it("names fit their mode (docs/concepts.md §3): scheduled ≤ 52 characters, Service modes DNS-1035 labels", () => {
    for (const { object } of examples) {
      const { metadata, spec } = Result.getOrThrow(decode(object))
      const name = metadata.name ?? ""
      if (spec.executionMode === "scheduled") expect(name.length).toBeLessThanOrEqual(52)
      else expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/u)
    }
  })

  it("every example references only demo objects that other examples define", () => {
    const defined = new Set(
      readdirSync(EXAMPLES)
        .filter((file) => file.endsWith(".yaml"))
        .flatMap(documents)
        .filter(isObject)
        .map((o) => `${String(o.kind)}/${String((o.metadata as Json).name)}`),
    )
    for (const { object } of examples) {
      const { spec } = Result.getOrThrow(decode(object))
      const refs = [
        ...spec.modelRefs.map((m) => `LanguageModel/${m.name}`),
        ...(spec.toolRefs ?? []).map((t) => `LanguageTool/${t.name}`),
        ...(spec.personaRef === undefined ? [] : [`LanguagePersona/${spec.personaRef.name}`]),
        ...(spec.clusterRef === undefined ? [] : [`LanguageCluster/${spec.clusterRef}`]),
      ]
      expect(refs.filter((ref) => !defined.has(ref))).toEqual([])
    }
  })
})

describe("LanguageAgent schema", () => {
  it("applies the constant defaults of the spec table, and no others", () => {
    const result = decode(
      withSpec({
        toolRefs: [{ name: "web-fetch" }],
        personaRef: { name: "support-agent" },
        eventTriggers: [{ type: "webhook" }],
        memoryStore: { connectionSecretRef: { name: "memory" }, retentionPolicy: {} },
        observability: {},
        rateLimits: {},
        safetyConfig: { contentFilters: [{ type: "pii" }] },
        workspace: {},
        egress: [{ to: { service: { name: "tickets" } }, ports: [{ port: 443 }] }],
      }),
    )
    expect(Result.isSuccess(result)).toBe(true)
    if (!Result.isSuccess(result)) return
    expect(result.success.spec).toEqual({
      image: "ghcr.io/langop/agent:1.0",
      imagePullPolicy: "IfNotPresent",
      // Reference namespaces are the webhook's default (the agent's namespace), never the schema's.
      modelRefs: [{ name: "gpt-4o-mini", role: "primary" }],
      toolRefs: [{ name: "web-fetch", enabled: true, requireApproval: false }],
      personaRef: { name: "support-agent" },
      executionMode: "autonomous",
      eventTriggers: [{ type: "webhook" }],
      maxIterations: 50,
      timeout: "10m",
      replicas: 1,
      restartPolicy: "OnFailure",
      backoffLimit: 3,
      memoryStore: {
        type: "ephemeral",
        connectionSecretRef: { name: "memory", key: "api-key" },
        retentionPolicy: {},
      },
      observability: { metrics: true, tracing: false, logLevel: "info", logConversations: true },
      rateLimits: {},
      safetyConfig: { maxToolCallsPerIteration: 10, contentFilters: [{ type: "pii", action: "block" }] },
      workspace: { enabled: true, size: "10Gi", accessMode: "ReadWriteOnce", mountPath: "/workspace" },
      egress: [{ to: { service: { name: "tickets" } }, ports: [{ protocol: "TCP", port: 443 }] }],
    })
  })

  it("has no workspace and no schedule unless given (docs/languageagent.md AG-5; the hourly fallback is the controller's)", () => {
    const spec = Result.getOrThrow(decode(withSpec({ executionMode: "scheduled" }))).spec
    expect(spec).not.toHaveProperty("workspace")
    expect(spec).not.toHaveProperty("schedule")
  })

  it("lists every violation as field.path: rule", () => {
    const lines = failures(
      withSpec(
        {
          image: "",
          imagePullPolicy: "Sometimes",
          modelRefs: [{ role: "critic", priority: 1.5 }],
          toolRefs: [{ name: "web-fetch", enabled: "yes" }],
          executionMode: "continuous",
          eventTriggers: [{ type: "cron", filter: { reason: 1 } }],
          maxIterations: 0,
          timeout: "1h30m",
          replicas: -1,
          backoffLimit: -2,
          restartPolicy: "Sometimes",
          memoryStore: { type: "sqlite", retentionPolicy: { maxAge: "30 days" } },
          observability: { logLevel: "trace" },
          safetyConfig: {
            maxToolCallsPerIteration: -1,
            contentFilters: [{ action: "drop" }],
            maxCostPerExecution: "1 USD",
          },
          workspace: { size: "10GB", accessMode: "ReadOnlyMany" },
          egress: [{ to: { dns: "api.example.com" }, ports: [{ port: 70000 }] }],
          replica: 2,
        },
        { status: { phase: "Ready", conditions: [{ type: "Ready", status: "True" }] } },
      ),
    )
    expect(lines).toEqual([
      // The original wrote phase Ready, which the enum rejects (docs/concepts.md §7.1).
      'status.phase: Expected "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown" | "Suspended"',
      "status.conditions[0].lastTransitionTime: Required value",
      "status.conditions[0].reason: Required value",
      "status.conditions[0].message: Required value",
      "spec.replica: unknown field",
      "spec.image: Expected a value with a length of at least 1",
      'spec.imagePullPolicy: Expected "Always" | "Never" | "IfNotPresent"',
      "spec.modelRefs[0].name: Required value",
      'spec.modelRefs[0].role: Expected "primary" | "fallback" | "reasoning" | "tool-calling" | "summarization"',
      "spec.modelRefs[0].priority: Expected an integer",
      "spec.toolRefs[0].enabled: Expected boolean",
      'spec.executionMode: Expected "autonomous" | "interactive" | "scheduled" | "event-driven"',
      'spec.eventTriggers[0].type: Expected "webhook" | "kubernetes-event" | "message-queue" | "schedule"',
      "spec.eventTriggers[0].filter.reason: Expected string",
      "spec.maxIterations: Expected a value between 1 and 1000",
      "spec.timeout: Expected a string matching the RegExp ^[0-9]+(ns|us|µs|ms|s|m|h)$",
      "spec.replicas: Expected a value greater than or equal to 0",
      'spec.restartPolicy: Expected "Always" | "OnFailure" | "Never"',
      "spec.backoffLimit: Expected a value greater than or equal to 0",
      'spec.memoryStore.type: Expected "ephemeral" | "redis" | "postgres" | "s3"',
      "spec.memoryStore.retentionPolicy.maxAge: Expected a string matching the RegExp ^[0-9]+(d|w|m|y)$",
      'spec.observability.logLevel: Expected "debug" | "info" | "warn" | "error"',
      "spec.safetyConfig.maxToolCallsPerIteration: Expected a value greater than or equal to 0",
      "spec.safetyConfig.contentFilters[0].type: Required value",
      'spec.safetyConfig.contentFilters[0].action: Expected "block" | "warn" | "log"',
      "spec.safetyConfig.maxCostPerExecution: Expected number",
      "spec.workspace.size: Expected a string matching the RegExp ^[0-9]+(Ei|Pi|Ti|Gi|Mi|Ki|E|P|T|G|M|K)$",
      'spec.workspace.accessMode: Expected "ReadWriteOnce" | "ReadWriteMany"',
      "spec.egress[0].to.dns: Expected array",
      "spec.egress[0].ports[0].port: Expected a value between 1 and 65535",
    ])
  })

  it("requires spec, image and at least one model (docs/concepts.md X-1)", () => {
    expect(failures({ apiVersion: base.apiVersion, kind: base.kind, metadata: {} })).toEqual([
      "spec: Required value",
    ])
    expect(failures({ ...base, spec: {} })).toEqual([
      "spec.image: Required value",
      "spec.modelRefs: Required value",
    ])
    expect(failures(withSpec({ modelRefs: [] }))).toEqual([
      "spec.modelRefs: Expected a value with a length of at least 1",
    ])
    expect(
      failures(
        withSpec({
          toolRefs: [{ enabled: false }],
          personaRef: { namespace: "personas" },
          memoryStore: { connectionSecretRef: { key: "url" } },
          safetyConfig: { contentFilters: [{ pattern: "x" }] },
          eventTriggers: [{ source: "/hook" }],
          egress: [{ to: { service: {} }, ports: [{ protocol: "UDP" }] }],
        }),
      ),
    ).toEqual([
      "spec.toolRefs[0].name: Required value",
      "spec.personaRef.name: Required value",
      "spec.eventTriggers[0].type: Required value",
      "spec.memoryStore.connectionSecretRef.name: Required value",
      "spec.safetyConfig.contentFilters[0].type: Required value",
      "spec.egress[0].to.service.name: Required value",
      "spec.egress[0].ports[0].port: Required value",
    ])
  })

  it("rejects wrong types and bad values in the status", () => {
    expect(
      failures(
        withSpec(
          {},
          {
            status: {
              activeReplicas: "1",
              executionCount: 2.5,
              lastExecutionTime: 1700000000,
              metrics: { successRate: "97%" },
              toolUsage: [{ toolName: "web-fetch", invocationCount: 3 }],
              modelUsage: [{ modelName: "gpt-4o-mini", requestCount: 1, totalTokens: 10, extra: 1 }],
              costMetrics: { modelCosts: [{ modelName: "gpt-4o-mini" }] },
            },
          },
        ),
      ),
    ).toEqual([
      "status.activeReplicas: Expected number",
      "status.executionCount: Expected an integer",
      "status.lastExecutionTime: Expected string",
      "status.metrics.successRate: Expected number",
      "status.toolUsage[0].successCount: Required value",
      "status.toolUsage[0].failureCount: Required value",
      "status.modelUsage[0].extra: unknown field",
      "status.costMetrics.modelCosts[0].cost: Required value",
    ])
  })

  it("decodes a status as the controller writes it", () => {
    const status = {
      observedGeneration: 3,
      phase: "Running",
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "ReconcileSuccess",
          message: "LanguageAgent is ready",
          lastTransitionTime: "2025-11-01T10:00:00Z",
          observedGeneration: 3,
        },
      ],
      activeReplicas: 0,
      readyReplicas: 0,
      executionCount: 4,
      successfulExecutions: 3,
      failedExecutions: 1,
      lastExecutionTime: "2025-11-01T07:04:10Z",
      lastExecutionResult: "Failed: DeadlineExceeded",
      currentGoal: "Write the digest.",
      metrics: { averageExecutionTime: 61.5, successRate: 75, totalTokens: 12345 },
      modelUsage: [
        {
          modelName: "gpt-4o-mini",
          requestCount: 12,
          totalTokens: 12345,
          inputTokens: 10000,
          outputTokens: 2345,
        },
      ],
      costMetrics: {
        totalCost: 0.0029,
        modelCosts: [{ modelName: "gpt-4o-mini", cost: 0.0029 }],
        currency: "USD",
        lastReset: "2025-11-01T00:00:00Z",
      },
      lastUpdateTime: "2025-11-01T07:04:11Z",
      message: "LanguageAgent is ready",
      reason: "ReconcileSuccess",
    }
    const decoded = Result.getOrThrow(decode(withSpec({ executionMode: "scheduled" }, { status })))
    expect(decoded.status).toEqual(status)
  })
})

describe("LanguageAgent CRD", () => {
  it("is registered in allKinds in the README's kind order", () => {
    expect(allKinds.map((k) => k.kind).slice(0, 2)).toEqual(["LanguageCluster", "LanguageAgent"])
  })

  it("has the names, printer columns and scope of the spec", () => {
    expect(crd.metadata.name).toBe("languageagents.langop.io")
    expect(crd.spec.names).toEqual({
      kind: "LanguageAgent",
      listKind: "LanguageAgentList",
      plural: "languageagents",
      singular: "languageagent",
      shortNames: ["lagent"],
      categories: ["langop"],
    })
    expect(crd.spec.scope).toBe("Namespaced")
    expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} })
    expect(crd.spec.versions[0]?.additionalPrinterColumns.map((c) => [c.name, c.type, c.jsonPath])).toEqual([
      ["Ready", "string", '.status.conditions[?(@.type=="Ready")].status'],
      ["Mode", "string", ".spec.executionMode"],
      ["Phase", "string", ".status.phase"],
      ["Replicas", "integer", ".status.activeReplicas"],
      ["Executions", "integer", ".status.executionCount"],
      ["Success Rate", "string", ".status.metrics.successRate"],
      ["Age", "date", ".metadata.creationTimestamp"],
    ])
    expect(schema.required).toEqual(["spec"])
  })

  it("has every spec field path of the spec table (99, 35 top-level), each described", () => {
    const { paths, undescribed } = fieldPaths(specSchema, "spec")
    expect(paths).toHaveLength(99)
    expect(Object.keys(specSchema.properties as Json)).toHaveLength(35)
    expect(specSchema.required).toEqual(["image", "modelRefs"])
    expect(undescribed).toEqual([])
  })

  it("has every status field path of the status table (41) plus the model namespaces of usage and costs, each described", () => {
    const { paths, undescribed } = fieldPaths(statusSchema, "status")
    // The table lists conditions as one path; its metav1.Condition items add six.
    const table = paths.filter((p) => !p.startsWith("status.conditions[]"))
    // modelUsage[]/modelCosts[] also name the model's namespace: two models of one name are two entries.
    expect(table.filter((p) => p.endsWith(".modelNamespace"))).toHaveLength(2)
    expect(table).toHaveLength(41 + 2)
    expect(undescribed).toEqual([])
  })

  it("carries the spec's bounds, formats and markers", () => {
    const spec = specSchema.properties as Json
    expect(spec.modelRefs).toMatchObject({ minItems: 1 })
    expect(spec.maxIterations).toMatchObject({ type: "integer", format: "int32", minimum: 1, maximum: 1000 })
    expect(spec.replicas).toMatchObject({ minimum: 0, default: 1 })
    expect(spec.timeout).toMatchObject({ pattern: "^[0-9]+(ns|us|µs|ms|s|m|h)$", default: "10m" })
    expect(spec.workspace).not.toHaveProperty("default")
    expect(spec.schedule).not.toHaveProperty("default")
    expect(spec.schedule).not.toHaveProperty("pattern")
    const safety = (spec.safetyConfig as Json).properties as Json
    expect(safety.maxCostPerExecution).toMatchObject({ type: "number" })
    const status = statusSchema.properties as Json
    expect(status.conditions).toMatchObject({
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    })
    expect(status.executionCount).toMatchObject({ type: "integer", format: "int64" })
    expect(status.activeReplicas).toMatchObject({ type: "integer", format: "int32" })
    expect(status.lastExecutionTime).toMatchObject({ type: "string", format: "date-time" })
    expect(status.phase).toMatchObject({
      enum: ["Pending", "Running", "Succeeded", "Failed", "Unknown", "Suspended"],
    })
    expect(JSON.stringify(schema)).not.toContain("x-kubernetes-preserve-unknown-fields")
  })
})

describe("LanguageAgent CEL rules", () => {
  it.each(languageAgentCelFixtures.map((f) => [f.name, f] as const))("%s", (_, fixture) => {
    expect(failures(fixture.object)).toEqual([])
    if (fixture.oldObject !== undefined) expect(failures(fixture.oldObject)).toEqual([])
    expect(celViolations(schema, fixture.object, fixture.oldObject).map((v) => v.message)).toEqual(
      fixture.violations,
    )
  })

  it("the spec marks no schema rule for this kind, so the CRD carries none", () => {
    expect(celRulesOf(schema)).toEqual([])
  })

  it("every rule in the CRD has a passing and a failing fixture", () => {
    for (const { path, rule } of celRulesOf(schema)) {
      const outcomes = languageAgentCelFixtures.map((fixture) => ({
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
    const every = { spec: everyAgentField }
    const { paths } = fieldPaths(specSchema, "spec")
    const unset = paths.filter((path) => valuesAt(every, path).length === 0)
    // A Secret namespace other than the agent's own is denied (docs/concepts.md X-3), and fixtures are namespace-free.
    expect(unset).toEqual(["spec.memoryStore.connectionSecretRef.namespace"])
  })
})
