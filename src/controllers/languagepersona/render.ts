/**
 * Persona rendering (docs/languagepersona.md §Rendering): the deterministic text agents put into
 * `AGENT_INSTRUCTIONS` and their ConfigMap, and the persona ConfigMap's `prompt` key. PURE.
 *
 * Exported API
 * - `renderInstructions(persona, agentInstructions)`: the effective instructions. `persona` is the
 *   effective persona (`resolveChain(...).effective`) or undefined when the agent has none, in which
 *   case the result is `agentInstructions` unchanged ("" when undefined). Sections are separated by one
 *   blank line, no trailing newline, empty sections omitted.
 * - `renderPersonaPrompt(persona)`: the persona part alone (empty agent instructions) — the persona
 *   ConfigMap's `prompt`.
 * - `personaJson(value)`: compact JSON with object keys sorted recursively — the one serialisation of
 *   `persona.json` / `effective.json` used by personas, agents and clients, so equal personas give equal
 *   bytes (no spurious ConfigMap diffs or rollouts).
 *
 * Choices where the spec leaves room: `Prefer:` / `Avoid:` lines appear only for non-empty lists (lists
 * joined with ", "); `Response format:` appears only when the persona has `responseFormat`; template and
 * schema text is copied verbatim without trailing whitespace; an empty template or schema counts as unset.
 */
import type { PersonaRule } from "../../api/languagepersona.ts"
import { canonicalJson } from "../../domain/hash.ts"
import type { EffectivePersona } from "../../domain/persona-chain.ts"

const DEFAULT_RULE_PRIORITY = 100

/** A heading line followed by its item lines; undefined (omitted) when there are no items. */
const section = (heading: string, items: ReadonlyArray<string>): string | undefined =>
  items.length === 0 ? undefined : [heading, ...items].join("\n")

const bullets = (items: ReadonlyArray<string> | undefined): ReadonlyArray<string> =>
  (items ?? []).map((i) => `- ${i}`)

const byPriorityThenName = (a: PersonaRule, b: PersonaRule): number => {
  const pa = a.priority ?? DEFAULT_RULE_PRIORITY
  const pb = b.priority ?? DEFAULT_RULE_PRIORITY
  if (pa !== pb) return pa - pb
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

const has = (s: string | undefined): s is string => s !== undefined && s !== ""

const rulesSection = (p: EffectivePersona) =>
  section(
    "Rules:",
    (p.rules ?? [])
      .filter((r) => r.enabled !== false)
      .sort(byPriorityThenName)
      .map((r) => `- [${r.name}] When ${r.condition}: ${r.action}`),
  )

const constraintsSection = (p: EffectivePersona) => {
  const c = p.constraints
  if (c === undefined) return undefined
  const items: Array<string> = []
  if (c.maxResponseTokens !== undefined) items.push(`- Keep responses under ${c.maxResponseTokens} tokens.`)
  if (c.maxToolCalls !== undefined) items.push(`- Use at most ${c.maxToolCalls} tool calls per interaction.`)
  if (c.maxKnowledgeQueries !== undefined)
    items.push(`- Use at most ${c.maxKnowledgeQueries} knowledge queries per interaction.`)
  if (has(c.responseTimeout)) items.push(`- Respond within ${c.responseTimeout}.`)
  if (c.requireDocumentation === true) items.push("- Cite sources for factual claims.")
  if (c.blockedTopics !== undefined && c.blockedTopics.length > 0)
    items.push(`- Do not discuss: ${c.blockedTopics.join(", ")}.`)
  if (c.allowedDomains !== undefined && c.allowedDomains.length > 0)
    items.push(`- Only use knowledge from these domains: ${c.allowedDomains.join(", ")}.`)
  return section("Constraints:", items)
}

const styleSection = (p: EffectivePersona) =>
  section("Style:", [
    ...(has(p.tone) ? [`- Tone: ${p.tone}`] : []),
    ...(has(p.language) ? [`- Language: ${p.language}`] : []),
  ])

const responseFormatSection = (p: EffectivePersona) => {
  const f = p.responseFormat
  if (f === undefined) return undefined
  const items = [`- Type: ${f.type ?? "text"}`]
  if (f.maxLength !== undefined) items.push(`- Maximum length: ${f.maxLength} characters`)
  if (f.includeSources === true) items.push("- Include sources")
  if (f.includeConfidence === true) items.push("- Include confidence scores")
  if (has(f.template)) items.push("- Template:", f.template.trimEnd())
  if (has(f.schema)) items.push("- JSON schema:", f.schema.trimEnd())
  return section("Response format:", items)
}

const toolPreferencesSection = (p: EffectivePersona) => {
  const t = p.toolPreferences
  if (t === undefined) return undefined
  const items = [`- Strategy: ${t.strategy ?? "balanced"}`]
  if (t.preferredTools !== undefined && t.preferredTools.length > 0)
    items.push(`- Prefer: ${t.preferredTools.join(", ")}`)
  if (t.avoidTools !== undefined && t.avoidTools.length > 0) items.push(`- Avoid: ${t.avoidTools.join(", ")}`)
  if (t.alwaysConfirm === true) items.push("- Always ask for confirmation before using a tool")
  if (t.explainToolUse !== false) items.push("- Explain tool use to the user")
  return section("Tool preferences:", items)
}

const examplesSection = (p: EffectivePersona) => {
  const examples = p.examples ?? []
  if (examples.length === 0) return undefined
  const blocks = examples.map((e) =>
    [`Input: ${e.input}`, `Output: ${e.output}`, ...(has(e.context) ? [`Context: ${e.context}`] : [])].join(
      "\n",
    ),
  )
  return `Examples:\n${blocks.join("\n\n")}`
}

export const renderInstructions = (
  persona: EffectivePersona | undefined,
  agentInstructions: string | undefined,
): string => {
  if (persona === undefined) return agentInstructions ?? ""
  const prompt = persona.systemPrompt.trim()
  const agent = (agentInstructions ?? "").trim()
  const sections = [
    prompt === "" ? undefined : prompt,
    agent === "" ? undefined : agent,
    section("Additional Guidelines:", bullets(persona.instructions)),
    rulesSection(persona),
    section("Capabilities:", bullets(persona.capabilities)),
    section("Limitations:", bullets(persona.limitations)),
    constraintsSection(persona),
    styleSection(persona),
    responseFormatSection(persona),
    toolPreferencesSection(persona),
    examplesSection(persona),
  ]
  return sections.filter((s): s is string => s !== undefined).join("\n\n")
}

export const renderPersonaPrompt = (persona: EffectivePersona): string => renderInstructions(persona, "")

export const personaJson = (value: unknown): string => canonicalJson(value)
