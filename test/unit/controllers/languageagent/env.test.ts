import { describe, expect, it } from "vitest"
import type { LanguageAgent } from "../../../../src/api/languageagent.ts"
import { resolveDependencies } from "../../../../src/controllers/languageagent/dependencies.ts"
import {
  agentEnv,
  approvalSet,
  eventTriggersJson,
  otlpUrl,
  safetyConfigJson,
} from "../../../../src/controllers/languageagent/env.ts"
import { renderInstructions } from "../../../../src/controllers/languagepersona/render.ts"
import { agent, lookups, model, NS, persona, tool, type World } from "./fixtures.ts"

/** The env of `a` as `NAME=value` lines (secretKeyRef as `NAME<-secret/key`), like the pod would get it. */
const envOf = (a: LanguageAgent, world: World = {}, otlpEndpoint?: string): ReadonlyArray<string> => {
  const r = resolveDependencies(a, lookups(world), "cluster.local")
  if (!r.dependencies.ok || !r.persona.ok) throw new Error("fixture does not resolve")
  const p = r.persona.persona
  return agentEnv({
    agent: a,
    models: r.dependencies.models,
    tools: r.dependencies.tools,
    persona: p,
    instructions: renderInstructions(p?.effective, a.spec.instructions),
    otlpEndpoint,
  }).map((e) =>
    e.valueFrom?.secretKeyRef !== undefined
      ? `${e.name}<-${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`
      : `${e.name}=${e.value ?? ""}`,
  )
}

const names = (lines: ReadonlyArray<string>) => lines.map((l) => l.split(/=|<-/u)[0])

describe("agent env (docs/concepts.md §6.1)", () => {
  it("minimal agent: rows 1–3, 6, 10–12, 15, 16 in order", () => {
    expect(envOf(agent())).toEqual([
      "AGENT_NAME=bot",
      `AGENT_NAMESPACE=${NS}`,
      "AGENT_MODE=autonomous",
      "AGENT_CONFIG_DIR=/etc/langop/agent",
      `MODEL_ENDPOINTS=http://m1.${NS}.svc.cluster.local:8000`,
      "LLM_MODEL=m1-model",
      "OPENAI_API_KEY=sk-dummy-key-for-local-proxy",
      "AGENT_MAX_ITERATIONS=50",
      "AGENT_TIMEOUT=10m",
    ])
  })

  it("every row in the table's order when everything is set", () => {
    const a = agent({
      executionMode: "event-driven",
      goal: "Triage",
      instructions: "Be brief.",
      personaRef: { name: "p" },
      modelRefs: [{ name: "m1" }],
      toolRefs: [{ name: "mcp" }, { name: "api" }],
      observability: { logLevel: "debug" },
      memoryStore: {
        type: "redis",
        connectionSecretRef: { name: "redis" },
        retentionPolicy: { maxAge: "7d", maxMessages: 10 },
        maxConversations: 3,
      },
      eventTriggers: [{ type: "webhook" }],
      safetyConfig: {},
      env: [{ name: "EXTRA", value: "1" }],
    })
    const world: World = {
      personas: [persona("p", { tone: "formal", language: "de" })],
      tools: [tool("mcp"), tool("api", { type: "openapi", port: 9090 })],
      secrets: { redis: ["api-key"] },
    }
    expect(names(envOf(a, world, "otel:4317"))).toEqual([
      "AGENT_NAME",
      "AGENT_NAMESPACE",
      "AGENT_MODE",
      "AGENT_GOAL",
      "AGENT_INSTRUCTIONS",
      "AGENT_CONFIG_DIR",
      "PERSONA_NAME",
      "PERSONA_TONE",
      "PERSONA_LANGUAGE",
      "MODEL_ENDPOINTS",
      "LLM_MODEL",
      "OPENAI_API_KEY",
      "MCP_SERVERS",
      "OPENAPI_SERVERS",
      "AGENT_MAX_ITERATIONS",
      "AGENT_TIMEOUT",
      "LOG_LEVEL",
      "AGENT_METRICS_ENABLED",
      "AGENT_TRACING_ENABLED",
      "AGENT_LOG_CONVERSATIONS",
      "MEMORY_STORE_TYPE",
      "MEMORY_STORE_URL",
      "MEMORY_RETENTION_MAX_AGE",
      "MEMORY_RETENTION_MAX_MESSAGES",
      "MEMORY_MAX_CONVERSATIONS",
      "AGENT_EVENT_TRIGGERS",
      "AGENT_SAFETY_CONFIG",
      "AGENT_WEBHOOK_PORT",
      "EXTRA",
    ])
    const env = envOf(a, world)
    expect(env).toContain("AGENT_GOAL=Triage")
    expect(env).toContain("PERSONA_NAME=p")
    expect(env).toContain("PERSONA_TONE=formal")
    expect(env).toContain("PERSONA_LANGUAGE=de")
    expect(env).toContain(`MCP_SERVERS=http://mcp.${NS}.svc.cluster.local:8080`)
    expect(env).toContain(`OPENAPI_SERVERS=http://api.${NS}.svc.cluster.local:9090`)
    expect(env).toContain("LOG_LEVEL=debug")
    expect(env).toContain("AGENT_METRICS_ENABLED=true")
    expect(env).toContain("AGENT_TRACING_ENABLED=false")
    expect(env).toContain("AGENT_LOG_CONVERSATIONS=true")
    expect(env).toContain("MEMORY_STORE_TYPE=redis")
    expect(env).toContain("MEMORY_STORE_URL<-redis/api-key")
    expect(env).toContain("MEMORY_RETENTION_MAX_AGE=7d")
    expect(env).toContain("MEMORY_RETENTION_MAX_MESSAGES=10")
    expect(env).toContain("MEMORY_MAX_CONVERSATIONS=3")
    expect(env).toContain("AGENT_WEBHOOK_PORT=8080")
    expect(env).toContain(
      "AGENT_INSTRUCTIONS=You are p.\n\nBe brief.\n\nStyle:\n- Tone: formal\n- Language: de",
    )
  })

  it("AGENT_GOAL and AGENT_INSTRUCTIONS only when non-empty; instructions unchanged without persona", () => {
    expect(names(envOf(agent({ goal: "", instructions: "" })))).not.toContain("AGENT_GOAL")
    expect(names(envOf(agent({ instructions: "" })))).not.toContain("AGENT_INSTRUCTIONS")
    expect(envOf(agent({ instructions: "  Do it.  " }))).toContain("AGENT_INSTRUCTIONS=  Do it.  ")
  })

  it("MODEL_ENDPOINTS / LLM_MODEL follow the resolved order (fallback last, priority, list order)", () => {
    const a = agent({
      modelRefs: [
        { name: "fb", role: "fallback" },
        { name: "c" },
        { name: "b", priority: 2 },
        { name: "a", priority: 1, namespace: "shared" },
      ],
    })
    const env = envOf(a, {
      models: [model("fb"), model("c"), model("b"), model("a", {}, { namespace: "shared" })],
    })
    expect(env).toContain(
      `MODEL_ENDPOINTS=http://a.shared.svc.cluster.local:8000,http://b.${NS}.svc.cluster.local:8000,http://c.${NS}.svc.cluster.local:8000,http://fb.${NS}.svc.cluster.local:8000`,
    )
    expect(env).toContain("LLM_MODEL=a-model,b-model,c-model,fb-model")
  })

  it("MCP_SERVERS: toolRefs order, sidecars on localhost, disabled and blocked tools left out", () => {
    const a = agent({
      toolRefs: [
        { name: "svc" },
        { name: "off", enabled: false },
        { name: "side" },
        { name: "blocked" },
        { name: "other", namespace: "tools" },
      ],
      safetyConfig: { blockedTools: ["blocked"] },
    })
    const env = envOf(a, {
      tools: [
        tool("svc", { port: 8081 }),
        tool("side", { deploymentMode: "sidecar", port: 9000 }),
        tool("blocked"),
        tool("other", {}, { namespace: "tools" }),
      ],
    })
    expect(env).toContain(
      `MCP_SERVERS=http://svc.${NS}.svc.cluster.local:8081,http://localhost:9000,http://other.tools.svc.cluster.local:8080`,
    )
    expect(names(env)).not.toContain("OPENAPI_SERVERS")
  })

  it("a user env entry replaces the operator's of the same name (no duplicate), user entries last in order", () => {
    const env = envOf(
      agent({
        env: [
          { name: "Z", value: "z" },
          { name: "AGENT_TIMEOUT", value: "1h" },
          { name: "OPENAI_API_KEY", valueFrom: { secretKeyRef: { name: "openai", key: "k" } } },
        ],
      }),
    )
    expect(env.filter((l) => l.startsWith("AGENT_TIMEOUT"))).toEqual(["AGENT_TIMEOUT=1h"])
    expect(env.slice(-3)).toEqual(["Z=z", "AGENT_TIMEOUT=1h", "OPENAI_API_KEY<-openai/k"])
  })

  it("AGENT_WEBHOOK_PORT only for interactive and event-driven", () => {
    for (const [mode, has] of [
      ["autonomous", false],
      ["scheduled", false],
      ["interactive", true],
      ["event-driven", true],
    ] as const)
      expect(names(envOf(agent({ executionMode: mode }))).includes("AGENT_WEBHOOK_PORT")).toBe(has)
  })

  it.each(["redis", "postgres", "s3"] as const)(
    "%s memory: the URL comes from the Secret by reference (default key api-key), never as a value",
    (type) => {
      const world: World = { secrets: { store: ["url", "api-key"] } }
      const withKey = envOf(
        agent({ memoryStore: { type, connectionSecretRef: { name: "store", key: "url" } } }),
        world,
      )
      expect(withKey.filter((l) => l.startsWith("MEMORY_"))).toEqual([
        `MEMORY_STORE_TYPE=${type}`,
        "MEMORY_STORE_URL<-store/url",
      ])
      const defaultKey = envOf(
        agent({ memoryStore: { type, connectionSecretRef: { name: "store" } } }),
        world,
      )
      expect(defaultKey).toContain("MEMORY_STORE_URL<-store/api-key")
    },
  )

  it("ephemeral memory: type only, no URL; retention only when set", () => {
    const env = envOf(agent({ memoryStore: { type: "ephemeral", retentionPolicy: { maxMessages: 5 } } }))
    expect(env.filter((l) => l.startsWith("MEMORY_"))).toEqual([
      "MEMORY_STORE_TYPE=ephemeral",
      "MEMORY_RETENTION_MAX_MESSAGES=5",
    ])
    expect(envOf(agent()).some((l) => l.startsWith("MEMORY_"))).toBe(false)
  })

  it("OpenTelemetry only with tracing on and a collector endpoint (http:// added when schemeless)", () => {
    const traced = agent({ observability: { tracing: true } })
    expect(envOf(traced, {}, "otel-collector.observability:4317").slice(-3)).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability:4317",
      "OTEL_SERVICE_NAME=language-operator-agent-bot",
      "OTEL_TRACES_EXPORTER=otlp",
    ])
    expect(envOf(traced, {}, "https://otel:4318")).toContain("OTEL_EXPORTER_OTLP_ENDPOINT=https://otel:4318")
    expect(names(envOf(traced))).not.toContain("OTEL_SERVICE_NAME")
    expect(names(envOf(agent({ observability: { tracing: false } }), {}, "otel:4317"))).not.toContain(
      "OTEL_SERVICE_NAME",
    )
    expect(otlpUrl("grpc://x:1")).toBe("grpc://x:1")
  })
})

describe("AGENT_EVENT_TRIGGERS", () => {
  it("compact JSON array {type, source, filter} in spec order, filter keys sorted, absent fields omitted", () => {
    const a = agent({
      executionMode: "event-driven",
      eventTriggers: [
        { type: "kubernetes-event", source: "Pod", filter: { type: "Warning", reason: "BackOff" } },
        { type: "webhook" },
      ],
    })
    expect(eventTriggersJson(a)).toBe(
      '[{"type":"kubernetes-event","source":"Pod","filter":{"reason":"BackOff","type":"Warning"}},{"type":"webhook"}]',
    )
  })
  it("only in event-driven mode", () => {
    expect(eventTriggersJson(agent({ eventTriggers: [{ type: "webhook" }] }))).toBeUndefined()
    expect(eventTriggersJson(agent({ executionMode: "event-driven" }))).toBeUndefined()
  })
})

describe("AGENT_SAFETY_CONFIG", () => {
  it("absent without safetyConfig, rateLimits or an approval-requiring toolRef", () => {
    expect(safetyConfigJson(agent({ toolRefs: [{ name: "t" }] }))).toBeUndefined()
  })
  it("maxToolCallsPerIteration (default 10) once safetyConfig exists", () => {
    expect(safetyConfigJson(agent({ safetyConfig: {} }))).toBe('{"maxToolCallsPerIteration":10}')
  })
  it("keys in the spec's order; approvals are the sorted union with requireApproval toolRefs", () => {
    const a = agent({
      toolRefs: [
        { name: "zeta", requireApproval: true },
        { name: "off", enabled: false, requireApproval: true },
      ],
      rateLimits: { tokensPerMinute: 100, requestsPerMinute: 5 },
      safetyConfig: {
        maxToolCallsPerIteration: 3,
        blockedTools: ["rm", "dd"],
        requireApprovalFor: ["write", "alpha"],
        contentFilters: [
          { type: "custom", pattern: "secret" },
          { type: "pii", action: "log" },
        ],
        maxCostPerExecution: 0.5,
      },
    })
    expect(approvalSet(a)).toEqual(["alpha", "write", "zeta"])
    expect(safetyConfigJson(a)).toBe(
      '{"maxToolCallsPerIteration":3,"blockedTools":["rm","dd"],"requireApprovalFor":["alpha","write","zeta"],"contentFilters":[{"type":"custom","action":"block","pattern":"secret"},{"type":"pii","action":"log"}],"maxCostPerExecution":0.5,"rateLimits":{"requestsPerMinute":5,"tokensPerMinute":100}}',
    )
  })
  it("an approval-requiring toolRef alone emits only the approvals", () => {
    expect(safetyConfigJson(agent({ toolRefs: [{ name: "t", requireApproval: true }] }))).toBe(
      '{"requireApprovalFor":["t"]}',
    )
  })
  it("rate limits alone", () => {
    expect(safetyConfigJson(agent({ rateLimits: { toolCallsPerMinute: 7 } }))).toBe(
      '{"rateLimits":{"toolCallsPerMinute":7}}',
    )
  })
})
