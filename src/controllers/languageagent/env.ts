/**
 * The `agent` container's environment (docs/concepts.md §6.1) and the JSON values it carries
 * (docs/languageagent.md §Triggers, §Memory, §Safety, §Observability). PURE.
 *
 * Guarantees: variables come in the table's exact order and formats; values never depend on time or
 * randomness; when a user `spec.env` entry has the same name as an operator entry, the operator entry is
 * omitted (the user's wins, without a duplicate-name warning); credentials appear only as secretKeyRef.
 * JSON values follow the spec's convention: listed keys in the listed order, maps copied from the spec with
 * sorted keys, absent fields omitted.
 */
import type { EnvVar } from "../../api/k8s/index.ts"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { canonicalJson } from "../../domain/hash.ts"
import type { ResolvedModel, ResolvedPersona, ResolvedTool } from "./dependencies.ts"
import { servesHttp } from "./dependencies.ts"
import { AGENT_HTTP_PORT, CONFIG_DIR, DUMMY_OPENAI_API_KEY, OTEL_SERVICE_PREFIX } from "./names.ts"

export interface EnvInput {
  readonly agent: LanguageAgent
  readonly models: ReadonlyArray<ResolvedModel>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly persona: ResolvedPersona | undefined
  /** The effective instructions (docs/languagepersona.md §Rendering). */
  readonly instructions: string
  /** Operator setting LANGOP_OTLP_ENDPOINT, if configured. */
  readonly otlpEndpoint?: string | undefined
}

const value = (name: string, v: string): EnvVar => ({ name, value: v })
const bool = (b: boolean): string => (b ? "true" : "false")

/** An object from JSON fragments, keys in the given order, `undefined` members dropped. */
const orderedJson = (entries: ReadonlyArray<readonly [string, string | undefined]>): string =>
  `{${entries
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(",")}}`

/** A value as a JSON fragment (maps with sorted keys), or undefined. */
const raw = (v: unknown): string | undefined => (v === undefined ? undefined : canonicalJson(v))

/** `AGENT_EVENT_TRIGGERS`: compact JSON array of `{type, source, filter}` in spec order (event-driven only). */
export const eventTriggersJson = (agent: LanguageAgent): string | undefined => {
  const triggers = agent.spec.eventTriggers ?? []
  if (agent.spec.executionMode !== "event-driven" || triggers.length === 0) return undefined
  return `[${triggers
    .map((t) =>
      orderedJson([
        ["type", raw(t.type)],
        ["source", raw(t.source)],
        ["filter", raw(t.filter)],
      ]),
    )
    .join(",")}]`
}

/** The approval set: `safetyConfig.requireApprovalFor` ∪ enabled toolRefs with `requireApproval`, sorted. */
export const approvalSet = (agent: LanguageAgent): ReadonlyArray<string> =>
  [
    ...new Set([
      ...(agent.spec.safetyConfig?.requireApprovalFor ?? []),
      ...(agent.spec.toolRefs ?? []).filter((r) => r.enabled && r.requireApproval).map((r) => r.name),
    ]),
  ].sort()

/** `AGENT_SAFETY_CONFIG` (docs/languageagent.md §Safety), or undefined when none of its sources exists. */
export const safetyConfigJson = (agent: LanguageAgent): string | undefined => {
  const safety = agent.spec.safetyConfig
  const limits = agent.spec.rateLimits
  const approvals = approvalSet(agent)
  const approvalRef = (agent.spec.toolRefs ?? []).some((r) => r.enabled && r.requireApproval)
  if (safety === undefined && limits === undefined && !approvalRef) return undefined
  const filters = safety?.contentFilters?.map((f) =>
    orderedJson([
      ["type", raw(f.type)],
      ["action", raw(f.action)],
      ["pattern", raw(f.pattern)],
    ]),
  )
  return orderedJson([
    ["maxToolCallsPerIteration", safety === undefined ? undefined : String(safety.maxToolCallsPerIteration)],
    ["blockedTools", raw(safety?.blockedTools)],
    ["requireApprovalFor", approvals.length > 0 ? raw(approvals) : undefined],
    ["contentFilters", filters === undefined ? undefined : `[${filters.join(",")}]`],
    ["maxCostPerExecution", raw(safety?.maxCostPerExecution)],
    [
      "rateLimits",
      limits === undefined
        ? undefined
        : orderedJson([
            ["requestsPerMinute", raw(limits.requestsPerMinute)],
            ["tokensPerMinute", raw(limits.tokensPerMinute)],
            ["toolCallsPerMinute", raw(limits.toolCallsPerMinute)],
          ]),
    ],
  ])
}

/** `http://` prepended when the setting has no scheme. */
export const otlpUrl = (endpoint: string): string =>
  /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//u.test(endpoint) ? endpoint : `http://${endpoint}`

const memoryEnv = (agent: LanguageAgent): ReadonlyArray<EnvVar> => {
  const store = agent.spec.memoryStore
  if (store === undefined) return []
  const out: Array<EnvVar> = [value("MEMORY_STORE_TYPE", store.type)]
  const ref = store.connectionSecretRef
  if (store.type !== "ephemeral" && ref !== undefined)
    out.push({ name: "MEMORY_STORE_URL", valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } })
  const retention = store.retentionPolicy
  if (retention?.maxAge !== undefined) out.push(value("MEMORY_RETENTION_MAX_AGE", retention.maxAge))
  if (retention?.maxMessages !== undefined)
    out.push(value("MEMORY_RETENTION_MAX_MESSAGES", String(retention.maxMessages)))
  if (store.maxConversations !== undefined)
    out.push(value("MEMORY_MAX_CONVERSATIONS", String(store.maxConversations)))
  return out
}

const joined = (urls: ReadonlyArray<string>) => urls.join(",")

/** The operator's variables, rows 1–23, before user env is merged. */
export const operatorEnv = (input: EnvInput): ReadonlyArray<EnvVar> => {
  const { agent, models, tools, persona } = input
  const spec = agent.spec
  const out: Array<EnvVar> = [
    value("AGENT_NAME", agent.metadata.name ?? ""),
    value("AGENT_NAMESPACE", agent.metadata.namespace ?? ""),
    value("AGENT_MODE", spec.executionMode),
  ]
  if (spec.goal !== undefined && spec.goal !== "") out.push(value("AGENT_GOAL", spec.goal))
  if (input.instructions !== "") out.push(value("AGENT_INSTRUCTIONS", input.instructions))
  out.push(value("AGENT_CONFIG_DIR", CONFIG_DIR))
  if (persona !== undefined) {
    out.push(value("PERSONA_NAME", persona.name))
    out.push(value("PERSONA_TONE", persona.effective.tone))
    if (persona.effective.language !== "") out.push(value("PERSONA_LANGUAGE", persona.effective.language))
  }
  if (models.length > 0) {
    out.push(value("MODEL_ENDPOINTS", joined(models.map((m) => m.url))))
    out.push(value("LLM_MODEL", joined(models.map((m) => m.modelName))))
    out.push(value("OPENAI_API_KEY", DUMMY_OPENAI_API_KEY))
  }
  const mcp = tools.filter((t) => t.type === "mcp")
  const openapi = tools.filter((t) => t.type === "openapi")
  if (mcp.length > 0) out.push(value("MCP_SERVERS", joined(mcp.map((t) => t.url))))
  if (openapi.length > 0) out.push(value("OPENAPI_SERVERS", joined(openapi.map((t) => t.url))))
  out.push(value("AGENT_MAX_ITERATIONS", String(spec.maxIterations)))
  out.push(value("AGENT_TIMEOUT", spec.timeout))
  const obs = spec.observability
  if (obs !== undefined) {
    out.push(value("LOG_LEVEL", obs.logLevel))
    out.push(value("AGENT_METRICS_ENABLED", bool(obs.metrics)))
    out.push(value("AGENT_TRACING_ENABLED", bool(obs.tracing)))
    out.push(value("AGENT_LOG_CONVERSATIONS", bool(obs.logConversations)))
  }
  out.push(...memoryEnv(agent))
  const triggers = eventTriggersJson(agent)
  if (triggers !== undefined) out.push(value("AGENT_EVENT_TRIGGERS", triggers))
  const safety = safetyConfigJson(agent)
  if (safety !== undefined) out.push(value("AGENT_SAFETY_CONFIG", safety))
  if (servesHttp(agent)) out.push(value("AGENT_WEBHOOK_PORT", String(AGENT_HTTP_PORT)))
  if (tracingActive(agent, input.otlpEndpoint) && input.otlpEndpoint !== undefined) {
    out.push(value("OTEL_EXPORTER_OTLP_ENDPOINT", otlpUrl(input.otlpEndpoint)))
    out.push(value("OTEL_SERVICE_NAME", `${OTEL_SERVICE_PREFIX}${agent.metadata.name ?? ""}`))
    out.push(value("OTEL_TRACES_EXPORTER", "otlp"))
  }
  return out
}

/** Tracing is on in the spec and the operator has a collector endpoint. */
export const tracingActive = (agent: LanguageAgent, otlpEndpoint: string | undefined): boolean =>
  agent.spec.observability?.tracing === true && otlpEndpoint !== undefined && otlpEndpoint !== ""

/** docs/concepts.md §6.1 rows 1–24: operator variables (minus those the user redefines), then user `spec.env`. */
export const agentEnv = (input: EnvInput): ReadonlyArray<EnvVar> => {
  const user = input.agent.spec.env ?? []
  const userNames = new Set(user.map((e) => e.name))
  return [...operatorEnv(input).filter((e) => !userNames.has(e.name)), ...user]
}
