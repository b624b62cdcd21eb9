/**
 * LanguageAgent (namespaced): a goal-directed agent program (the `agent` container image) that talks to
 * LanguageModel proxies and LanguageTool servers, optionally with a persona, a persistent workspace volume,
 * sidecar tools, memory, event triggers and guardrails. It runs as a Deployment (`autonomous`,
 * `interactive`, `event-driven`) or a CronJob (`scheduled`). Spec and behaviour:
 * docs/languageagent.md.
 *
 * The spec marks no rule of this kind as a "schema rule", so the CRD carries no CEL of its own (the
 * shared types it embeds carry none either). Every rule of §Validation — name length per mode, cron
 * syntax of `schedule` and of `schedule` triggers, trigger sources, `custom` content filters needing a
 * pattern, memory backends needing a Secret, duplicate model/tool references, reserved volume names and
 * mount paths, egress rules, same-namespace Secrets (docs/concepts.md X-3) and sidecar tools (docs/concepts.md X-5) — is enforced by the
 * validating webhook and re-checked at reconcile (docs/concepts.md X-7: objects stored before a rule existed stay
 * deletable). The descriptions below state them so `kubectl explain` shows them.
 *
 * Schema defaults are the spec table's constants only. Deliberately NOT defaulted: `spec.workspace` (an
 * omitted workspace means no workspace, docs/languageagent.md AG-5), `spec.schedule` (the controller falls back to
 * `0 * * * *` and says so) and reference namespaces (the mutating webhook writes the agent's namespace).
 */
import { Schema } from "effect"
import {
  Affinity,
  EnvFromSource,
  EnvVar,
  LocalObjectReference,
  PodSecurityContext,
  ResourceRequirements,
  Toleration,
  Volume,
  VolumeMount,
} from "./k8s/index.ts"
import {
  Conditions,
  DateTime,
  Duration,
  defineKind,
  described,
  Egress,
  flag,
  Int32,
  Int64,
  ModelReference,
  NonEmptyString,
  optional,
  PersonaReference,
  SecretReference,
  StringMap,
  strings,
  ToolReference,
  withDefault,
} from "./shared.ts"

const integer = (description: string) => optional(Int32, description)
const counter = (description: string) => optional(Int64, description)
const number = (description: string) => optional(Schema.Finite, description)

// ---------------------------------------------------------------------------------------------------------
// Enums other code switches on

/** `scheduled` → CronJob `<name>`; every other mode → Deployment `<name>` (docs/languageagent.md AG-1). */
export const AgentExecutionMode = Schema.Literals(["autonomous", "interactive", "scheduled", "event-driven"])
export type AgentExecutionMode = typeof AgentExecutionMode.Type
export const AgentPhase = Schema.Literals([
  "Pending",
  "Running",
  "Succeeded",
  "Failed",
  "Unknown",
  "Suspended",
])
export type AgentPhase = typeof AgentPhase.Type
export const EventTriggerType = Schema.Literals(["webhook", "kubernetes-event", "message-queue", "schedule"])
export type EventTriggerType = typeof EventTriggerType.Type
export const MemoryStoreType = Schema.Literals(["ephemeral", "redis", "postgres", "s3"])
export type MemoryStoreType = typeof MemoryStoreType.Type
export const ContentFilterType = Schema.Literals(["profanity", "pii", "toxic", "custom"])
export type ContentFilterType = typeof ContentFilterType.Type
export const ContentFilterAction = Schema.Literals(["block", "warn", "log"])
export type ContentFilterAction = typeof ContentFilterAction.Type
export const AgentLogLevel = Schema.Literals(["debug", "info", "warn", "error"])
export type AgentLogLevel = typeof AgentLogLevel.Type
export const WorkspaceAccessMode = Schema.Literals(["ReadWriteOnce", "ReadWriteMany"])
export type WorkspaceAccessMode = typeof WorkspaceAccessMode.Type
/** Applies to Job pods only: Deployments always use `Always`, Jobs turn `Always` into `OnFailure` (docs/languageagent.md AG-13). */
export const AgentRestartPolicy = Schema.Literals(["Always", "OnFailure", "Never"])
export type AgentRestartPolicy = typeof AgentRestartPolicy.Type

/** `^[0-9]+(d|w|m|y)$`: days, weeks, months or years (memory retention). */
export const RETENTION_AGE_PATTERN = /^[0-9]+(d|w|m|y)$/u
/** Binary or decimal suffix, integer amount only (the spec's workspace size pattern). */
export const WORKSPACE_SIZE_PATTERN = /^[0-9]+(Ei|Pi|Ti|Gi|Mi|Ki|E|P|T|G|M|K)$/u

// ---------------------------------------------------------------------------------------------------------
// Triggers

export const EventTrigger = Schema.Struct({
  type: described(
    EventTriggerType,
    "Trigger kind: webhook (the agent serves HTTP on port 8080 behind Service <name>), kubernetes-event (the pod's service account may read Events in the namespace), message-queue (the runtime consumes a broker; egress to it is allowed automatically) or schedule (the running agent fires itself on a cron expression).",
  ),
  source: optional(
    Schema.String,
    "Meaning per type: webhook — optional URL path, must start with '/'; kubernetes-event — optional Kind or Kind/name of the involved object; message-queue — required broker URL with a host (nats, amqp, amqps, kafka, redis, rediss); schedule — required cron expression, as a Kubernetes CronJob accepts it (five fields, @hourly-style descriptor or @every <duration>).",
  ),
  filter: optional(
    StringMap,
    "Filtering criteria, interpreted by the agent runtime; for kubernetes-event the keys reason, type, involvedObject.kind, involvedObject.name and involvedObject.namespace (default: the agent's namespace).",
  ),
}).annotate({
  description:
    "One event trigger of an event-driven agent; passed to the runtime as AGENT_EVENT_TRIGGERS. Ignored in other modes.",
})
export type EventTrigger = typeof EventTrigger.Type

// ---------------------------------------------------------------------------------------------------------
// Memory

export const MemoryRetentionPolicy = Schema.Struct({
  maxAge: optional(
    Schema.String.check(Schema.isPattern(RETENTION_AGE_PATTERN)),
    "Maximum age of stored messages: one integer and one unit d (days), w (weeks), m (months) or y (years), e.g. 30d.",
  ),
  maxMessages: integer("Maximum number of messages kept per conversation."),
}).annotate({ description: "How long conversation memory is kept; delivered to the runtime." })
export type MemoryRetentionPolicy = typeof MemoryRetentionPolicy.Type

export const MemoryStore = Schema.Struct({
  type: withDefault(
    described(
      MemoryStoreType,
      "Memory backend: ephemeral (in-process, lost on restart), redis, postgres or s3. redis, postgres and s3 require connectionSecretRef. The operator does not deploy the backend. Default ephemeral.",
    ),
    "ephemeral",
  ),
  connectionSecretRef: optional(
    SecretReference,
    "Secret in the agent's namespace whose key (default api-key) holds the backend's connection URL, given to the agent as MEMORY_STORE_URL. Required for redis, postgres and s3; the Secret and key must exist. Add an egress rule unless the backend runs in the agent's namespace.",
  ),
  retentionPolicy: optional(MemoryRetentionPolicy, "Retention limits of stored conversations."),
  maxConversations: integer("Maximum number of concurrent conversations."),
}).annotate({
  description: "Conversation memory of the agent; delivered to the runtime as MEMORY_* variables.",
})
export type MemoryStore = typeof MemoryStore.Type

// ---------------------------------------------------------------------------------------------------------
// Observability, rate limits, safety

export const AgentObservability = Schema.Struct({
  metrics: flag(
    true,
    "Collect metrics in the runtime (AGENT_METRICS_ENABLED). No scrape annotations are added; set podAnnotations for that.",
  ),
  tracing: flag(
    false,
    "Export OpenTelemetry traces; the OTEL_* variables and an egress rule to the collector are added when the operator has a collector endpoint.",
  ),
  logLevel: withDefault(
    described(AgentLogLevel, "Log level of the agent (LOG_LEVEL). Default info."),
    "info",
  ),
  logConversations: flag(true, "Log conversation content (AGENT_LOG_CONVERSATIONS)."),
}).annotate({ description: "Monitoring settings of the agent runtime." })
export type AgentObservability = typeof AgentObservability.Type

export const AgentRateLimits = Schema.Struct({
  requestsPerMinute: integer("Model requests per minute."),
  tokensPerMinute: integer("Model tokens per minute."),
  toolCallsPerMinute: integer("Tool calls per minute."),
}).annotate({
  description: "Agent-level rate limits, delivered in AGENT_SAFETY_CONFIG and enforced by the runtime.",
})
export type AgentRateLimits = typeof AgentRateLimits.Type

export const ContentFilter = Schema.Struct({
  type: described(
    ContentFilterType,
    "Filter kind: profanity, pii, toxic or custom (custom requires a non-empty pattern).",
  ),
  action: withDefault(
    described(ContentFilterAction, "What happens on a match: block, warn or log. Default block."),
    "block",
  ),
  pattern: optional(
    Schema.String,
    "Regular expression matched by a custom filter; required for type custom.",
  ),
}).annotate({ description: "One content filter, applied by the runtime." })
export type ContentFilter = typeof ContentFilter.Type

export const SafetyConfig = Schema.Struct({
  maxToolCallsPerIteration: withDefault(
    described(
      Int32.check(Schema.isGreaterThanOrEqualTo(0)),
      "Tool calls allowed per reasoning loop, at least 0. Default 10.",
    ),
    10,
  ),
  blockedTools: strings(
    "Tools that must not be used: a LanguageTool named in toolRefs is removed from the pod entirely (no URL, no sidecar); every entry is also passed to the runtime, which blocks function-level tool names (docs/languageagent.md AG-6).",
  ),
  requireApprovalFor: strings(
    "Tools that need human approval before each use, in addition to toolRefs with requireApproval: true.",
  ),
  contentFilters: optional(Schema.Array(ContentFilter), "Content filters applied by the runtime."),
  maxCostPerExecution: number("Cost cap per execution, enforced by the runtime."),
}).annotate({
  description:
    "Guardrails, delivered to the runtime in AGENT_SAFETY_CONFIG; enforcement is the runtime's job.",
})
export type SafetyConfig = typeof SafetyConfig.Type

// ---------------------------------------------------------------------------------------------------------
// Workspace

export const Workspace = Schema.Struct({
  enabled: flag(
    true,
    "Create PVC <name>-workspace and mount it as volume workspace in the agent and its sidecar tools. Switching to false unmounts it but keeps the PVC until the agent is deleted.",
  ),
  size: withDefault(
    described(
      Schema.String.check(Schema.isPattern(WORKSPACE_SIZE_PATTERN)),
      "Storage request: an integer with a unit Ei, Pi, Ti, Gi, Mi, Ki, E, P, T, G, M or K, e.g. 10Gi. After creation it may only grow (if the StorageClass allows expansion). Default 10Gi.",
    ),
    "10Gi",
  ),
  storageClassName: optional(
    Schema.String,
    "StorageClass of the PVC; the cluster default when absent. Fixed after creation.",
  ),
  accessMode: withDefault(
    described(
      WorkspaceAccessMode,
      "Access mode of the PVC, fixed after creation. With ReadWriteOnce the Deployment uses the Recreate strategy, and more than one replica is only warned about (pods on other nodes stay Pending). Default ReadWriteOnce.",
    ),
    "ReadWriteOnce",
  ),
  mountPath: withDefault(
    described(
      Schema.String,
      "Mount path in the agent container and in every sidecar tool container; user volumeMounts must not use it. Default /workspace.",
    ),
    "/workspace",
  ),
}).annotate({
  description:
    "Persistent workspace volume. Only created when this object is present and enabled; the data is deleted with the agent.",
})
export type Workspace = typeof Workspace.Type

// ---------------------------------------------------------------------------------------------------------
// Spec

export const LanguageAgentSpec = Schema.Struct({
  clusterRef: optional(
    Schema.String,
    "Name of the LanguageCluster this agent belongs to; the cluster must be Ready and its namespace must be the agent's namespace.",
  ),
  image: described(NonEmptyString, "Container image of the agent (at least one character)."),
  imagePullPolicy: withDefault(
    described(
      Schema.Literals(["Always", "Never", "IfNotPresent"]),
      "Pull policy of the agent container. Default IfNotPresent.",
    ),
    "IfNotPresent",
  ),
  imagePullSecrets: optional(
    Schema.Array(LocalObjectReference),
    "Image pull secrets of the pod; sidecar tools' pull secrets are added to them.",
  ),
  modelRefs: described(
    Schema.Array(ModelReference).check(Schema.isMinLength(1)),
    "LanguageModels the agent may use; at least one, no duplicates. They must exist (the agent waits otherwise). Order for MODEL_ENDPOINTS and LLM_MODEL: role fallback last, then priority ascending (entries without priority after those with one), then list order.",
  ),
  toolRefs: optional(
    Schema.Array(ToolReference),
    "LanguageTools available to the agent, without duplicates (same name and namespace). Service-mode tools are reached through their Service; sidecar-mode tools run inside the agent pod and must be in the agent's namespace. Disabled entries are ignored; tools named in safetyConfig.blockedTools are left out.",
  ),
  personaRef: optional(
    PersonaReference,
    "LanguagePersona whose effective (inherited) prompt, tone and language are merged into the agent's instructions; it must exist and be Ready before changes roll out.",
  ),
  goal: optional(
    Schema.String,
    "Objective of an autonomous or event-driven agent (AGENT_GOAL, status.currentGoal).",
  ),
  instructions: optional(Schema.String, "System instructions, merged with the persona's."),
  executionMode: withDefault(
    described(
      AgentExecutionMode,
      "How the agent runs: autonomous (Deployment), interactive (Deployment and ClusterIP Service <name>, port 80 to 8080), scheduled (CronJob <name> on schedule; the name must be at most 52 characters) or event-driven (Deployment, plus what eventTriggers need). Modes with a Service need a DNS-1035 name (at most 63 characters, starting with a letter). Default autonomous.",
    ),
    "autonomous",
  ),
  schedule: optional(
    Schema.String,
    "Cron schedule of a scheduled agent, exactly as a Kubernetes CronJob accepts it: five cron fields (names JAN-DEC and SUN-SAT, ranges, steps, ? in any field), one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, or @every <duration>; a TZ= or CRON_TZ= prefix is rejected. Surrounding spaces are trimmed. When empty the agent runs hourly (0 * * * *) with a warning.",
  ),
  eventTriggers: optional(
    Schema.Array(EventTrigger),
    "Triggers of an event-driven agent; the operator provisions what each type needs (Service, RBAC, egress) and ignores them in other modes.",
  ),
  maxIterations: withDefault(
    described(
      Int32.check(Schema.isBetween({ minimum: 1, maximum: 1000 })),
      "Cap on reasoning/action loops, 1-1000, passed to the runtime (AGENT_MAX_ITERATIONS). Default 50.",
    ),
    50,
  ),
  timeout: withDefault(
    described(
      Duration,
      "Maximum execution time: one integer and one unit (ns, us, µs, ms, s, m, h), e.g. 10m; 1h30m is invalid. Becomes the Job's activeDeadlineSeconds in scheduled mode and AGENT_TIMEOUT for the runtime. Default 10m.",
    ),
    "10m",
  ),
  replicas: withDefault(
    described(
      Int32.check(Schema.isGreaterThanOrEqualTo(0)),
      "Number of agent pods in Deployment modes, at least 0; 0 suspends the agent (also suspends the CronJob in scheduled mode, where other values have no effect). Default 1.",
    ),
    1,
  ),
  env: optional(
    Schema.Array(EnvVar),
    "Extra environment of the agent container, after the operator's variables; an entry with the same name replaces the operator's.",
  ),
  envFrom: optional(Schema.Array(EnvFromSource), "Environment sources of the agent container."),
  resources: optional(ResourceRequirements, "Compute resources of the agent container."),
  nodeSelector: optional(StringMap, "Node selector of the agent pods."),
  affinity: optional(Affinity, "Affinity of the agent pods."),
  tolerations: optional(Schema.Array(Toleration), "Tolerations of the agent pods."),
  serviceAccountName: optional(
    Schema.String,
    "ServiceAccount of the agent pods; when empty and a kubernetes-event trigger exists, the operator creates ServiceAccount <name>.",
  ),
  securityContext: optional(
    PodSecurityContext,
    "Pod security context; set fsGroup so a non-root image can write a fresh workspace volume. Fields left unset get the restricted Pod Security Standard (runAsNonRoot: true, a RuntimeDefault seccomp profile; not runAsNonRoot when you set runAsUser: 0); a value you set is used unchanged, and one that restricted forbids (e.g. runAsUser: 0 for an image that runs as root) is admitted with a warning where the namespace's pod-security.kubernetes.io/enforce level allows it (no label = privileged) and denied where it does not. An image whose USER is a name rather than a number needs runAsUser set to its numeric uid, or the kubelet cannot verify runAsNonRoot.",
  ),
  volumeMounts: optional(
    Schema.Array(VolumeMount),
    "Mounts of the agent container, after the workspace and agent-config mounts; mountPath must not be the workspace mount path or /etc/langop/agent.",
  ),
  volumes: optional(
    Schema.Array(Volume),
    "Pod volumes; the names workspace, agent-config and knowledge-<n> are reserved for the operator.",
  ),
  podAnnotations: optional(
    StringMap,
    "Annotations of the agent pods; the operator's own annotations win. Keys under langop.io/ are the operator's marks and are denied.",
  ),
  podLabels: optional(
    StringMap,
    "Extra labels of the agent pods; they cannot override the common labels. Keys under langop.io/ are the operator's and are denied, except langop.io/group (egress group peers).",
  ),
  restartPolicy: withDefault(
    described(
      AgentRestartPolicy,
      "Restart policy of Job pods in scheduled mode (Always is used as OnFailure, since Jobs reject it); Deployment pods always use Always. Default OnFailure.",
    ),
    "OnFailure",
  ),
  backoffLimit: withDefault(
    described(
      Int32.check(Schema.isGreaterThanOrEqualTo(0)),
      "Retries of a scheduled run's Job before it counts as failed, at least 0. Default 3.",
    ),
    3,
  ),
  memoryStore: optional(MemoryStore, "Conversation memory backend and retention."),
  observability: optional(
    AgentObservability,
    "Monitoring settings; when absent no LOG_LEVEL or AGENT_*_ENABLED variables are set.",
  ),
  rateLimits: optional(AgentRateLimits, "Agent-level rate limits, enforced by the runtime."),
  safetyConfig: optional(SafetyConfig, "Guardrails, enforced by the runtime."),
  workspace: optional(
    Workspace,
    "Persistent workspace volume; none when absent (there is no default workspace).",
  ),
  egress: optional(
    Egress,
    "External egress rules of NetworkPolicy <name> beyond the defaults (same namespace, cluster DNS, referenced models and tools in other namespaces). Each rule needs a destination; DNS names are RFC 1123 names with at most one leading '*.' label, or '*'. The egress rules of sidecar tools are merged in.",
  ),
}).annotate({ description: "Desired state of the LanguageAgent." })
export type LanguageAgentSpec = typeof LanguageAgentSpec.Type

// ---------------------------------------------------------------------------------------------------------
// Status

export const AgentMetrics = Schema.Struct({
  averageIterations: number("Average loops per execution (runtime-reported; not set by the operator)."),
  averageExecutionTime: number("Scheduled mode: running mean of successful Job durations in seconds."),
  totalTokens: counter("Tokens used, from usage attribution; unset without it."),
  totalToolCalls: counter("Tool calls made (runtime-reported; not set by the operator)."),
  successRate: number(
    "Percentage (0-100) of successful executions: successfulExecutions x 100 / executionCount.",
  ),
}).annotate({ description: "Aggregated execution metrics." })
export type AgentMetrics = typeof AgentMetrics.Type

export const ToolUsage = Schema.Struct({
  toolName: described(Schema.String, "Name of the tool."),
  invocationCount: described(Int64, "Calls of the tool."),
  successCount: described(Int64, "Successful calls."),
  failureCount: described(Int64, "Failed calls."),
  averageLatency: integer("Average call latency in milliseconds."),
}).annotate({ description: "Usage of one tool (runtime-reported; not set by the operator)." })
export type ToolUsage = typeof ToolUsage.Type

export const ModelUsage = Schema.Struct({
  modelName: described(Schema.String, "Name of the LanguageModel."),
  modelNamespace: optional(
    Schema.String,
    "Namespace of the LanguageModel (models of the same name in two namespaces are counted apart).",
  ),
  requestCount: described(Int64, "Requests sent to the model."),
  totalTokens: described(Int64, "Tokens used (input plus output)."),
  inputTokens: counter("Input tokens."),
  outputTokens: counter("Output tokens."),
}).annotate({ description: "Usage of one LanguageModel, from usage attribution." })
export type ModelUsage = typeof ModelUsage.Type

export const ModelCost = Schema.Struct({
  modelName: described(Schema.String, "Name of the LanguageModel."),
  modelNamespace: optional(Schema.String, "Namespace of the LanguageModel."),
  cost: described(Schema.Finite, "Cost of this model's tokens, from its spec.costTracking prices."),
}).annotate({ description: "Cost of one LanguageModel's usage." })
export type ModelCost = typeof ModelCost.Type

export const AgentCostMetrics = Schema.Struct({
  totalCost: number("Sum of modelCosts when all models share one currency; unset with mixed currencies."),
  modelCosts: optional(Schema.Array(ModelCost), "Cost per model with cost tracking enabled."),
  currency: optional(Schema.String, "Currency shared by all modelCosts; unset with mixed currencies."),
  lastReset: optional(DateTime, "When the counters were first recorded (proxy restarts reset them)."),
}).annotate({ description: "Costs from usage attribution; unset without it." })
export type AgentCostMetrics = typeof AgentCostMetrics.Type

export const LanguageAgentStatus = Schema.Struct({
  observedGeneration: optional(Int64, "The metadata.generation of the last successful reconcile."),
  phase: optional(
    AgentPhase,
    "Pending while waiting or starting; Running when a Deployment pod is available or the CronJob exists; Suspended with replicas 0; Failed on an invalid spec or failing pods; Unknown when the workload cannot be read. Succeeded is not used.",
  ),
  conditions: Schema.optionalKey(Conditions),
  activeReplicas: integer("Pods of the Deployment; in scheduled mode the number of active Jobs."),
  readyReplicas: integer("Ready pods of the Deployment; in scheduled mode Ready pods of active Jobs."),
  executionCount: counter("Scheduled mode: finished Jobs counted."),
  successfulExecutions: counter("Scheduled mode: succeeded Jobs counted."),
  failedExecutions: counter("Scheduled mode: failed Jobs counted."),
  lastExecutionTime: optional(DateTime, "Finish time of the newest counted Job."),
  lastExecutionResult: optional(
    Schema.String,
    "Result of the newest counted Job: Succeeded, or Failed: <reason>.",
  ),
  currentGoal: optional(Schema.String, "spec.goal when set."),
  iterationCount: integer("Loops of the current execution (runtime-reported; not set by the operator)."),
  metrics: optional(AgentMetrics, "Aggregated execution metrics."),
  activeConversations: integer("Open conversations (runtime-reported; not set by the operator)."),
  toolUsage: optional(Schema.Array(ToolUsage), "Usage per tool (runtime-reported; not set by the operator)."),
  modelUsage: optional(
    Schema.Array(ModelUsage),
    "Usage per LanguageModel, from usage attribution; unset without it.",
  ),
  costMetrics: optional(AgentCostMetrics, "Costs from usage attribution; unset without it."),
  lastUpdateTime: optional(DateTime, "When another status field last changed."),
  message: optional(Schema.String, "Message of the Ready condition."),
  reason: optional(Schema.String, "Reason of the Ready condition."),
}).annotate({ description: "Observed state of the LanguageAgent." })
export type LanguageAgentStatus = typeof LanguageAgentStatus.Type

export const LanguageAgentKind = defineKind({
  kind: "LanguageAgent",
  plural: "languageagents",
  singular: "languageagent",
  listKind: "LanguageAgentList",
  shortNames: ["lagent"],
  scope: "Namespaced",
  description:
    "LanguageAgent runs an agent program that uses LanguageModels and LanguageTools, optionally with a persona, a persistent workspace, sidecar tools, memory, event triggers and guardrails, as a Deployment or (scheduled mode) a CronJob.",
  printerColumns: [
    { name: "Mode", type: "string", jsonPath: ".spec.executionMode" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Replicas", type: "integer", jsonPath: ".status.activeReplicas" },
    { name: "Executions", type: "integer", jsonPath: ".status.executionCount" },
    { name: "Success Rate", type: "string", jsonPath: ".status.metrics.successRate" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: true,
  spec: LanguageAgentSpec,
  status: LanguageAgentStatus,
})
export const LanguageAgent = LanguageAgentKind.resource
export type LanguageAgent = typeof LanguageAgent.Type
