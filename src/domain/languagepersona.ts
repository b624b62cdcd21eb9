/**
 * Persona validation (docs/languagepersona.md §Validation). PURE. Shared by the validating webhook (own-spec
 * errors are denials, warnings are admission warnings) and the reconciler (the full list, including the
 * inheritance chain and the effective persona, into `status.validationResult`).
 *
 * Exported API
 * - `ValidationIssue {path, message}`: `path` is the Kubernetes-style field path (`spec.rules[1].name`),
 *   `message` a stable sentence naming the offending element (`duplicate rule name "verify"`). Admission
 *   deny lines are `${path}: ${message}`; status lists carry `message` only.
 * - `ownSpecErrors(spec, namespace)`: every own-spec error (everything except the inheritance errors).
 * - `personaWarnings(persona)`: the warnings of a persona body — at admission the own spec, at reconcile the
 *   effective persona (so a child inheriting examples is not warned about having none).
 * - `missingSecretWarnings(spec, secretExists)`: own knowledge sources whose Secret does not exist in the
 *   persona's namespace (`secretExists(name)`).
 * - `parentInvalidErrors(ancestors)`: one `ParentInvalid` error per ancestor whose own spec has errors.
 * - `qualityScore(errors, warnings)`: `max(0, 100 − 25·errors − 5·warnings)` (docs/languagepersona.md PE-4).
 * - `isWellFormedLanguageTag(tag)`: BCP 47 (RFC 5646) well-formedness (docs/languagepersona.md PE-9).
 */
import type { LanguagePersonaSpec } from "../api/languagepersona.ts"
import { type EffectivePersona, keyString, type PersonaNode, personaKeyOf } from "./persona-chain.ts"

export interface ValidationIssue {
  readonly path: string
  readonly message: string
}

const MIN_PROMPT_LENGTH = 50

const blank = (s: string | undefined) => s === undefined || s.trim() === ""

const canParseJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

const isAbsoluteUrl = (url: string): boolean => URL.canParse(url)

export const ownSpecErrors = (
  spec: LanguagePersonaSpec,
  namespace: string,
): ReadonlyArray<ValidationIssue> => {
  const errors: Array<ValidationIssue> = []
  const ruleNames = new Set<string>()
  for (const [i, rule] of (spec.rules ?? []).entries()) {
    const path = `spec.rules[${i}]`
    if (blank(rule.name))
      errors.push({ path: `${path}.name`, message: `rules[${i}]: name must not be blank` })
    else if (ruleNames.has(rule.name))
      errors.push({ path: `${path}.name`, message: `duplicate rule name "${rule.name}"` })
    ruleNames.add(rule.name)
    const label = blank(rule.name) ? `rules[${i}]` : `rule "${rule.name}"`
    if (blank(rule.condition))
      errors.push({ path: `${path}.condition`, message: `${label}: condition must not be blank` })
    if (blank(rule.action))
      errors.push({ path: `${path}.action`, message: `${label}: action must not be blank` })
  }
  const sourceNames = new Set<string>()
  for (const [i, source] of (spec.knowledgeSources ?? []).entries()) {
    const path = `spec.knowledgeSources[${i}]`
    if (sourceNames.has(source.name))
      errors.push({ path: `${path}.name`, message: `duplicate knowledge source name "${source.name}"` })
    sourceNames.add(source.name)
    const label = `knowledge source "${source.name}"`
    if (source.type === "url" || source.type === "api") {
      if (source.url === undefined || source.url === "")
        errors.push({ path: `${path}.url`, message: `${label}: type ${source.type} requires url` })
      else if (!isAbsoluteUrl(source.url))
        errors.push({ path: `${path}.url`, message: `${label}: url "${source.url}" is not an absolute URL` })
    }
    const secretNamespace = source.secretRef?.namespace
    if (secretNamespace !== undefined && secretNamespace !== "" && secretNamespace !== namespace)
      errors.push({
        path: `${path}.secretRef.namespace`,
        message: `${label}: secretRef namespace "${secretNamespace}" differs from the persona's namespace "${namespace}"`,
      })
  }
  const format = spec.responseFormat
  if (format?.schema !== undefined && !canParseJson(format.schema))
    errors.push({ path: "spec.responseFormat.schema", message: "responseFormat.schema is not valid JSON" })
  if (format?.maxLength !== undefined && format.maxLength <= 0)
    errors.push({
      path: "spec.responseFormat.maxLength",
      message: `responseFormat.maxLength must be positive (got ${format.maxLength})`,
    })
  const c = spec.constraints
  if (c?.maxResponseTokens !== undefined && c.maxResponseTokens <= 0)
    errors.push({
      path: "spec.constraints.maxResponseTokens",
      message: `constraints.maxResponseTokens must be positive (got ${c.maxResponseTokens})`,
    })
  for (const field of ["maxToolCalls", "maxKnowledgeQueries"] as const) {
    const value = c?.[field]
    if (value !== undefined && value < 0)
      errors.push({
        path: `spec.constraints.${field}`,
        message: `constraints.${field} must not be negative (got ${value})`,
      })
  }
  return errors
}

const quoteList = (names: ReadonlyArray<string>): string => {
  const quoted = names.map((n) => `"${n}"`)
  return quoted.length <= 1 ? quoted.join("") : `${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`
}

export const personaWarnings = (
  persona: LanguagePersonaSpec | EffectivePersona,
): ReadonlyArray<ValidationIssue> => {
  const warnings: Array<ValidationIssue> = []
  const avoid = new Set(persona.toolPreferences?.avoidTools ?? [])
  for (const tool of new Set(persona.toolPreferences?.preferredTools ?? []))
    if (avoid.has(tool))
      warnings.push({ path: "spec.toolPreferences", message: `tool "${tool}" is both preferred and avoided` })
  const format = persona.responseFormat
  if (
    format !== undefined &&
    (format.type === "json" || format.type === "structured") &&
    blank(format.schema)
  )
    warnings.push({
      path: "spec.responseFormat.schema",
      message: `responseFormat.type ${format.type} has no schema`,
    })
  const byPriority = new Map<number, Array<string>>()
  for (const rule of persona.rules ?? []) {
    if (rule.enabled === false) continue
    const priority = rule.priority ?? 100
    byPriority.set(priority, [...(byPriority.get(priority) ?? []), rule.name])
  }
  for (const [priority, names] of [...byPriority].sort(([a], [b]) => a - b))
    if (names.length > 1)
      warnings.push({
        path: "spec.rules",
        message: `enabled rules ${quoteList(names)} share priority ${priority}`,
      })
  if ((persona.examples ?? []).length === 0) warnings.push({ path: "spec.examples", message: "no examples" })
  if (persona.systemPrompt.trim().length < MIN_PROMPT_LENGTH)
    warnings.push({
      path: "spec.systemPrompt",
      message: `systemPrompt is shorter than ${MIN_PROMPT_LENGTH} characters`,
    })
  if (persona.language !== undefined && persona.language !== "" && !isWellFormedLanguageTag(persona.language))
    warnings.push({
      path: "spec.language",
      message: `language "${persona.language}" is not a well-formed BCP 47 tag`,
    })
  const allowedDomains = persona.constraints?.allowedDomains ?? []
  if (allowedDomains.length > 0 && !(persona.knowledgeSources ?? []).some((k) => k.enabled !== false))
    warnings.push({
      path: "spec.constraints.allowedDomains",
      message: "constraints.allowedDomains is set but no knowledge source is enabled",
    })
  return warnings
}

export const missingSecretWarnings = (
  spec: LanguagePersonaSpec,
  secretExists: (name: string) => boolean,
): ReadonlyArray<ValidationIssue> =>
  (spec.knowledgeSources ?? []).flatMap((source, i) =>
    source.secretRef === undefined || secretExists(source.secretRef.name)
      ? []
      : [
          {
            path: `spec.knowledgeSources[${i}].secretRef.name`,
            message: `knowledge source "${source.name}": Secret "${source.secretRef.name}" not found`,
          },
        ],
  )

export const parentInvalidErrors = (ancestors: ReadonlyArray<PersonaNode>): ReadonlyArray<ValidationIssue> =>
  ancestors.flatMap((ancestor) => {
    const key = personaKeyOf(ancestor)
    const [first] = ownSpecErrors(ancestor.spec, key.namespace)
    return first === undefined
      ? []
      : [
          {
            path: "spec.parentPersona",
            message: `parent persona "${keyString(key)}" is invalid: ${first.message}`,
          },
        ]
  })

export const qualityScore = (errors: number, warnings: number): number =>
  Math.max(0, 100 - 25 * errors - 5 * warnings)

// RFC 5646 §2.1 langtag / privateuse (grandfathered tags are not accepted: they are deprecated).
const LANGTAG =
  /^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wy-z](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?|x(?:-[a-z0-9]{1,8})+)$/iu

export const isWellFormedLanguageTag = (tag: string): boolean => LANGTAG.test(tag)
