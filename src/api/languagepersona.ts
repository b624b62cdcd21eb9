/**
 * LanguagePersona (namespaced): a reusable behaviour template (system prompt, guidelines, rules, examples,
 * tone, constraints, tool preferences, knowledge sources) that agents and clients reference and that can
 * inherit from a parent persona. Spec and behaviour: docs/languagepersona.md.
 *
 * The spec marks no rule of this kind as a "schema rule", so the CRD carries no CEL. The own-spec errors of
 * §Validation (duplicate or blank rule names, knowledge-source URLs, unparsable responseFormat.schema,
 * non-positive limits, cross-namespace secretRef) and the inheritance checks (cycles, depth > 10) are
 * enforced by the validating webhook; the descriptions below state them so `kubectl explain` shows them.
 * `tone` and `language` deliberately have NO schema default (docs/languagepersona.md PE-2): the mutating webhook sets
 * `professional` / `en` only on personas without `parentPersona`, so children inherit them.
 */
import { Schema } from "effect"
import {
  Conditions,
  DateTime,
  Duration,
  defineKind,
  described,
  flag,
  Int32,
  Int64,
  NonEmptyString,
  optional,
  PersonaReference,
  SecretReference,
  StringMap,
  strings,
  withDefault,
} from "./shared.ts"

// ---------------------------------------------------------------------------------------------------------
// Enums other code switches on

export const PersonaTone = Schema.Literals([
  "professional",
  "casual",
  "friendly",
  "formal",
  "technical",
  "empathetic",
  "concise",
  "detailed",
])
export type PersonaTone = typeof PersonaTone.Type
export const ResponseFormatType = Schema.Literals(["text", "markdown", "json", "structured", "list", "table"])
export type ResponseFormatType = typeof ResponseFormatType.Type
export const ToolStrategy = Schema.Literals(["conservative", "balanced", "aggressive", "minimal"])
export type ToolStrategy = typeof ToolStrategy.Type
export const KnowledgeSourceType = Schema.Literals(["url", "document", "database", "api", "vector-store"])
export type KnowledgeSourceType = typeof KnowledgeSourceType.Type
export const PersonaPhase = Schema.Literals(["Ready", "NotReady", "Validating", "Error"])
export type PersonaPhase = typeof PersonaPhase.Type

// ---------------------------------------------------------------------------------------------------------
// Spec parts

export const PersonaRule = Schema.Struct({
  name: described(
    Schema.String,
    "Unique id of the rule: not blank and unique within the persona. A child persona's rule replaces the inherited rule of the same name.",
  ),
  description: optional(Schema.String, "What the rule is for."),
  condition: described(Schema.String, "When the rule applies (not blank)."),
  action: described(Schema.String, "What to do when it applies (not blank)."),
  priority: withDefault(described(Int32, "Evaluation order; lower is evaluated first. Default 100."), 100),
  enabled: flag(true, "Whether the rule is in effect."),
}).annotate({ description: "A conditional behaviour: when <condition>, <action>." })
export type PersonaRule = typeof PersonaRule.Type

export const PersonaExample = Schema.Struct({
  input: described(Schema.String, "User input."),
  output: described(Schema.String, "Expected response."),
  context: optional(Schema.String, "Situation the example applies to."),
  tags: strings("Free labels of the example."),
}).annotate({ description: "A few-shot example." })
export type PersonaExample = typeof PersonaExample.Type

export const ResponseFormat = Schema.Struct({
  type: withDefault(
    described(
      ResponseFormatType,
      "Shape of responses; json and structured should come with a schema. Default text.",
    ),
    "text",
  ),
  template: optional(Schema.String, "Response template."),
  schema: optional(Schema.String, "JSON schema of responses, as a JSON string (must parse as JSON)."),
  maxLength: optional(Int32, "Maximum response length in characters; must be positive."),
  includeSources: flag(false, "Cite sources in responses."),
  includeConfidence: flag(false, "Include confidence scores in responses."),
}).annotate({
  description: "Response format; a child persona's object replaces the inherited one as a whole.",
})
export type ResponseFormat = typeof ResponseFormat.Type

export const ToolPreferences = Schema.Struct({
  preferredTools: strings(
    "Names of tools to prefer; inherited lists are unioned, and a tool preferred here is dropped from the inherited avoid list.",
  ),
  avoidTools: strings(
    "Names of tools to avoid; inherited lists are unioned, and a tool avoided here is dropped from the inherited prefer list.",
  ),
  strategy: withDefault(described(ToolStrategy, "How eagerly tools are used. Default balanced."), "balanced"),
  alwaysConfirm: flag(false, "Ask for confirmation before every tool use."),
  explainToolUse: flag(true, "Explain tool use to the user."),
}).annotate({
  description:
    "Tool usage preferences. strategy, alwaysConfirm and explainToolUse come from the nearest persona in the chain that has toolPreferences.",
})
export type ToolPreferences = typeof ToolPreferences.Type

export const KnowledgeSource = Schema.Struct({
  name: described(
    Schema.String,
    "Id of the source, unique within the persona; a child's source replaces the inherited one of the same name.",
  ),
  type: described(KnowledgeSourceType, "Kind of source; url and api need url."),
  url: optional(Schema.String, "Absolute URL of the source; required for types url and api."),
  secretRef: optional(
    SecretReference,
    "Secret with credentials, in the persona's namespace (key default api-key). Agents in that namespace mount it read-only at /etc/langop/knowledge/<name>/.",
  ),
  query: optional(Schema.String, "How to query the source."),
  priority: optional(Int32, "Precedence among sources."),
  enabled: flag(true, "Whether the source is used."),
}).annotate({ description: "An external knowledge source." })
export type KnowledgeSource = typeof KnowledgeSource.Type

export const PersonaConstraints = Schema.Struct({
  maxResponseTokens: optional(Int32, "Maximum tokens per response; must be positive."),
  maxToolCalls: optional(Int32, "Maximum tool calls per interaction; must not be negative."),
  maxKnowledgeQueries: optional(Int32, "Maximum knowledge queries per interaction; must not be negative."),
  responseTimeout: optional(
    Duration,
    "Time to respond within: one integer and one unit (ns, us, µs, ms, s, m, h), e.g. 30s; 1m30s is invalid.",
  ),
  requireDocumentation: flag(
    false,
    "Cite sources for factual claims; once set by a parent, a child cannot switch it off.",
  ),
  blockedTopics: strings("Topics to refuse; inherited lists are unioned."),
  allowedDomains: strings(
    "Knowledge domains allowed; replaces the inherited list when non-empty. Needs an enabled knowledge source to be meaningful.",
  ),
}).annotate({
  description: "Limits on the persona's behaviour; unset fields are inherited from the parent.",
})
export type PersonaConstraints = typeof PersonaConstraints.Type

// ---------------------------------------------------------------------------------------------------------
// Spec

export const LanguagePersonaSpec = Schema.Struct({
  displayName: described(NonEmptyString, "Human-readable name (at least one character)."),
  description: described(NonEmptyString, "Role and behaviour of the persona (at least one character)."),
  systemPrompt: described(
    NonEmptyString,
    "Base system instruction (at least one character). Under inheritance the prompts are layered root first, separated by a blank line.",
  ),
  instructions: strings(
    "Extra behavioural guidelines, appended after the parent's (exact duplicates dropped).",
  ),
  rules: optional(
    Schema.Array(PersonaRule),
    "Conditional behaviours; names must be unique and name, condition and action must not be blank.",
  ),
  examples: optional(Schema.Array(PersonaExample), "Few-shot examples, appended after the parent's."),
  capabilities: strings("What the persona can do."),
  limitations: strings("What the persona must not do."),
  tone: optional(
    PersonaTone,
    "Tone of responses. No schema default: a persona without parentPersona gets professional from the admission webhook; a child inherits its parent's when unset.",
  ),
  language: optional(
    Schema.String,
    "Primary response language, a BCP 47 tag such as en or de-CH (other values are accepted with a warning). No schema default: a persona without parentPersona gets en from the admission webhook; a child inherits its parent's when unset.",
  ),
  responseFormat: optional(ResponseFormat, "Format of responses."),
  toolPreferences: optional(ToolPreferences, "Tool usage preferences."),
  knowledgeSources: optional(Schema.Array(KnowledgeSource), "External knowledge; names must be unique."),
  constraints: optional(PersonaConstraints, "Behavioural limits."),
  metadata: optional(StringMap, "Free metadata; merged with the parent's, this persona's keys winning."),
  version: optional(Schema.String, "Version label of the persona."),
  parentPersona: optional(
    PersonaReference,
    "Persona to inherit from (namespace defaults to this persona's). The chain must not loop and may have at most 10 ancestors; a missing parent is admitted and reported as ParentNotFound.",
  ),
}).annotate({ description: "Desired state of the LanguagePersona." })
export type LanguagePersonaSpec = typeof LanguagePersonaSpec.Type

// ---------------------------------------------------------------------------------------------------------
// Status

export const ValidationResult = Schema.Struct({
  valid: described(Schema.Boolean, "Whether the persona (own spec and inheritance chain) has no error."),
  validationTime: optional(
    DateTime,
    "When this result was produced; unchanged while the result is the same.",
  ),
  errors: strings("Errors, each naming the offending element."),
  warnings: strings("Warnings; they do not invalidate the persona."),
  score: optional(
    Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })),
    "Quality score 0-100: 100 - 25 per error - 5 per warning, at least 0.",
  ),
}).annotate({ description: "Result of validating the persona and its inheritance chain." })
export type ValidationResult = typeof ValidationResult.Type

const ToolUsage = Schema.Struct({
  toolName: described(Schema.String, "Name of the tool."),
  count: described(Int64, "Number of uses."),
  percentage: optional(Schema.Finite, "Share of all tool uses in percent."),
}).annotate({ description: "Usage of one tool." })

const TopicUsage = Schema.Struct({
  topic: described(Schema.String, "The topic."),
  count: described(Int64, "Number of interactions about it."),
  percentage: optional(Schema.Finite, "Share of all interactions in percent."),
}).annotate({ description: "Frequency of one topic." })

export const PersonaMetrics = Schema.Struct({
  totalInteractions: optional(Int64, "Interactions handled."),
  averageResponseLength: optional(Int32, "Average response length in characters."),
  averageToolCalls: optional(Schema.Finite, "Average tool calls per interaction."),
  ruleActivations: optional(Schema.Record(Schema.String, Int64), "Activations per rule name."),
  topTools: optional(Schema.Array(ToolUsage), "Most used tools."),
  topTopics: optional(Schema.Array(TopicUsage), "Most frequent topics."),
  userSatisfaction: optional(
    Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 100 })),
    "User satisfaction, 0-100.",
  ),
}).annotate({ description: "Runtime usage metrics; not set by the operator (docs/languagepersona.md PE-6)." })
export type PersonaMetrics = typeof PersonaMetrics.Type

export const LanguagePersonaStatus = Schema.Struct({
  observedGeneration: optional(Int64, "The metadata.generation the status reflects."),
  phase: optional(
    PersonaPhase,
    "Ready (valid, chain resolved), Error (invalid), NotReady (an ancestor is missing) or Validating (transient).",
  ),
  conditions: Schema.optionalKey(Conditions),
  usageCount: optional(Int32, "Number of LanguageAgents referencing this persona directly."),
  activeAgents: strings("Those agents as <namespace>/<name>, sorted."),
  validationResult: optional(ValidationResult, "Result of the last validation."),
  metrics: optional(PersonaMetrics, "Usage metrics reported by the runtime."),
  lastUpdateTime: optional(DateTime, "When the status last changed."),
  message: optional(Schema.String, "Message of the Ready condition."),
  reason: optional(Schema.String, "Reason of the Ready condition."),
}).annotate({ description: "Observed state of the LanguagePersona." })
export type LanguagePersonaStatus = typeof LanguagePersonaStatus.Type

export const LanguagePersonaKind = defineKind({
  kind: "LanguagePersona",
  plural: "languagepersonas",
  singular: "languagepersona",
  listKind: "LanguagePersonaList",
  shortNames: ["lpersona"],
  scope: "Namespaced",
  description:
    "LanguagePersona is a reusable behaviour template (system prompt, guidelines, rules, examples, tone, constraints, tool preferences, knowledge sources) for agents and clients; personas can inherit from a parent persona.",
  printerColumns: [
    { name: "Display Name", type: "string", jsonPath: ".spec.displayName" },
    { name: "Tone", type: "string", jsonPath: ".spec.tone" },
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Usage", type: "integer", jsonPath: ".status.usageCount" },
    { name: "Valid", type: "boolean", jsonPath: ".status.validationResult.valid" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: true,
  spec: LanguagePersonaSpec,
  status: LanguagePersonaStatus,
})
export const LanguagePersona = LanguagePersonaKind.resource
export type LanguagePersona = typeof LanguagePersona.Type
