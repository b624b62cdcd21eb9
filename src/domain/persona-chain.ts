/**
 * Persona inheritance: walking the `spec.parentPersona` chain and folding it into the effective persona
 * (docs/languagepersona.md §Inheritance). PURE: no I/O; callers pass a lookup over whatever they read from
 * (the persona reconciler and the agent reconciler: the informer cache; the admission webhook: the cache
 * with the object under review put in place of its stored version).
 *
 * Exported API
 * - `MAX_ANCESTORS` (10): more ancestors than this is `InheritanceTooDeep`.
 * - `PersonaNode`: what a chain element needs (metadata name/namespace + spec); a decoded `LanguagePersona`
 *   is one. `PersonaKey` `{namespace, name}`; `personaKeyOf(p)`, `keyString(k)` (`ns/name`).
 * - `parentKeyOf(p)`: the parent reference with its namespace defaulted to `p`'s own, or undefined.
 * - `resolveChain(persona, lookup)` → `ChainResult<P>`:
 *     `Resolved {chain, effective}`: `chain` is ROOT FIRST and ends with `persona` itself;
 *     `Cycle {path}`: `path` from `persona` upwards, ending with the key that repeats an earlier one;
 *     `TooDeep {path}`: `path` from `persona` upwards, 12 keys (itself, 10 ancestors, the 11th);
 *     `ParentNotFound {missing, child, walked}`: `child` names `missing` as parent and `missing` does not
 *       exist; `walked` are the personas found, from `persona` upwards.
 *   Check order per step: cycle, then depth, then existence (a reference loop is reported as a cycle even
 *   when one of its members is missing further up; nothing is looked up twice).
 * - `chainProblem(result)` → `{reason, message}` for a non-Resolved result (stable message text).
 * - `mergePersonas(specs)`: the effective persona of a chain of specs given ROOT FIRST (non-empty), per the
 *   merge table; `mergeOnto(parent, child)` is one fold step; `rootEffective(spec)` the start value.
 * - `EffectivePersona`: the spec without `parentPersona`, with `tone` and `language` always set
 *   (`professional` / `en` when the whole chain leaves them empty, docs/languagepersona.md PE-2).
 * - `effectiveKnowledgeSources(chain)`: the effective `knowledgeSources` in order, each with the key of the
 *   persona that declared it (knowledge-source Secrets live in that persona's namespace).
 */
import type {
  KnowledgeSource,
  LanguagePersonaSpec,
  PersonaConstraints,
  PersonaTone,
  ToolPreferences,
} from "../api/languagepersona.ts"

export const MAX_ANCESTORS = 10
export const DEFAULT_TONE: PersonaTone = "professional"
export const DEFAULT_LANGUAGE = "en"

export interface PersonaKey {
  readonly namespace: string
  readonly name: string
}

export interface PersonaNode {
  readonly metadata: { readonly name?: string | undefined; readonly namespace?: string | undefined }
  readonly spec: LanguagePersonaSpec
}

export type PersonaLookup<P extends PersonaNode> = (key: PersonaKey) => P | undefined

export type EffectivePersona = Omit<LanguagePersonaSpec, "parentPersona" | "tone" | "language"> & {
  readonly tone: PersonaTone
  readonly language: string
}

export type ChainResult<P extends PersonaNode> =
  | { readonly _tag: "Resolved"; readonly chain: ReadonlyArray<P>; readonly effective: EffectivePersona }
  | { readonly _tag: "Cycle"; readonly path: ReadonlyArray<PersonaKey> }
  | { readonly _tag: "TooDeep"; readonly path: ReadonlyArray<PersonaKey> }
  | {
      readonly _tag: "ParentNotFound"
      readonly missing: PersonaKey
      readonly child: PersonaKey
      readonly walked: ReadonlyArray<P>
    }

export const personaKeyOf = (p: PersonaNode): PersonaKey => ({
  namespace: p.metadata.namespace ?? "",
  name: p.metadata.name ?? "",
})

export const keyString = (k: PersonaKey): string => `${k.namespace}/${k.name}`

export const parentKeyOf = (p: PersonaNode): PersonaKey | undefined => {
  const ref = p.spec.parentPersona
  if (ref === undefined) return undefined
  const namespace = ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : p.metadata.namespace
  return { namespace: namespace ?? "", name: ref.name }
}

export const resolveChain = <P extends PersonaNode>(persona: P, lookup: PersonaLookup<P>): ChainResult<P> => {
  const walked: Array<P> = [persona]
  const seen = new Set([keyString(personaKeyOf(persona))])
  let current: P = persona
  for (;;) {
    const parent = parentKeyOf(current)
    if (parent === undefined) {
      // `current` is the root: fold the rest of the walk onto it, nearest-to-root first.
      const effective = walked
        .slice(0, -1)
        .reduceRight((acc, p) => mergeOnto(acc, p.spec), rootEffective(current.spec))
      return { _tag: "Resolved", chain: [...walked].reverse(), effective }
    }
    const path = [...walked.map(personaKeyOf), parent]
    if (seen.has(keyString(parent))) return { _tag: "Cycle", path }
    // `walked` holds the persona itself plus its ancestors so far; `parent` would be ancestor number
    // `walked.length`.
    if (walked.length > MAX_ANCESTORS) return { _tag: "TooDeep", path }
    const next = lookup(parent)
    if (next === undefined)
      return { _tag: "ParentNotFound", missing: parent, child: personaKeyOf(current), walked }
    walked.push(next)
    seen.add(keyString(parent))
    current = next
  }
}

export const chainProblem = (
  result: Exclude<ChainResult<PersonaNode>, { _tag: "Resolved" }>,
): {
  readonly reason: "CircularInheritance" | "InheritanceTooDeep" | "ParentNotFound"
  readonly message: string
} => {
  const arrow = (path: ReadonlyArray<PersonaKey>) => path.map(keyString).join(" -> ")
  switch (result._tag) {
    case "Cycle":
      return { reason: "CircularInheritance", message: `circular inheritance: ${arrow(result.path)}` }
    case "TooDeep":
      return {
        reason: "InheritanceTooDeep",
        message: `inheritance chain has more than ${MAX_ANCESTORS} ancestors: ${arrow(result.path)}`,
      }
    case "ParentNotFound":
      return {
        reason: "ParentNotFound",
        message:
          result.walked.length === 1
            ? `parent persona "${keyString(result.missing)}" not found`
            : `ancestor persona "${keyString(result.missing)}" (parent of "${keyString(result.child)}") not found`,
      }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Merge (docs/languagepersona.md §Inheritance, merge table)

/** Values of `a` then `b`, first occurrence kept (by `keyOf`). */
const uniqueConcat = <T>(
  a: ReadonlyArray<T> | undefined,
  b: ReadonlyArray<T> | undefined,
  keyOf: (t: T) => string = String,
): ReadonlyArray<T> | undefined => {
  if (a === undefined && b === undefined) return undefined
  const seen = new Set<string>()
  const out: Array<T> = []
  for (const item of [...(a ?? []), ...(b ?? [])]) {
    const k = keyOf(item)
    if (seen.has(k)) continue
    seen.add(k)
    out.push(item)
  }
  return out
}

/** Keyed by `name`: a child item replaces the parent's of the same name in place; new ones are appended. */
const mergeByName = <T extends { readonly name: string }>(
  parent: ReadonlyArray<T> | undefined,
  child: ReadonlyArray<T> | undefined,
): ReadonlyArray<T> | undefined => {
  if (child === undefined) return parent
  const out = [...(parent ?? [])]
  for (const item of child) {
    const i = out.findIndex((x) => x.name === item.name)
    if (i >= 0) out[i] = item
    else out.push(item)
  }
  return out
}

const mergeToolPreferences = (
  parent: ToolPreferences | undefined,
  child: ToolPreferences | undefined,
): ToolPreferences | undefined => {
  if (child === undefined) return parent
  if (parent === undefined) return child
  const childPreferred = child.preferredTools ?? []
  const childAvoid = child.avoidTools ?? []
  const preferred = uniqueConcat(
    parent.preferredTools?.filter((t) => !childAvoid.includes(t)),
    child.preferredTools,
  )
  const avoid = uniqueConcat(
    parent.avoidTools?.filter((t) => !childPreferred.includes(t)),
    child.avoidTools,
  )
  return {
    ...(preferred !== undefined ? { preferredTools: preferred } : {}),
    ...(avoid !== undefined ? { avoidTools: avoid } : {}),
    strategy: child.strategy,
    alwaysConfirm: child.alwaysConfirm,
    explainToolUse: child.explainToolUse,
  }
}

const mergeConstraints = (
  parent: PersonaConstraints | undefined,
  child: PersonaConstraints | undefined,
): PersonaConstraints | undefined => {
  if (child === undefined) return parent
  if (parent === undefined) return child
  const pick = <K extends "maxResponseTokens" | "maxToolCalls" | "maxKnowledgeQueries" | "responseTimeout">(
    k: K,
  ) => {
    const v = child[k] ?? parent[k]
    return v !== undefined ? { [k]: v } : {}
  }
  const blockedTopics = uniqueConcat(parent.blockedTopics, child.blockedTopics)
  const allowedDomains =
    child.allowedDomains !== undefined && child.allowedDomains.length > 0
      ? child.allowedDomains
      : parent.allowedDomains
  return {
    ...pick("maxResponseTokens"),
    ...pick("maxToolCalls"),
    ...pick("maxKnowledgeQueries"),
    ...pick("responseTimeout"),
    // `false` is indistinguishable from unset, so a stricter parent cannot be switched off.
    requireDocumentation: parent.requireDocumentation || child.requireDocumentation,
    ...(blockedTopics !== undefined ? { blockedTopics } : {}),
    ...(allowedDomains !== undefined ? { allowedDomains } : {}),
  }
}

const nonEmpty = (s: string | undefined): s is string => s !== undefined && s !== ""

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value !== undefined ? { [key]: value } : {}) as { [P in K]?: V }

/** The effective persona of a root (a persona without parent): its spec minus parentPersona, tone/language defaulted. */
export const rootEffective = (spec: LanguagePersonaSpec): EffectivePersona => {
  const { parentPersona: _dropped, tone, language, ...rest } = spec
  return {
    ...rest,
    tone: tone ?? DEFAULT_TONE,
    language: nonEmpty(language) ? language : DEFAULT_LANGUAGE,
  }
}

/** One fold step: `child` merged onto the accumulated `parent` (the merge table, row by row). */
export const mergeOnto = (parent: EffectivePersona, child: LanguagePersonaSpec): EffectivePersona => {
  const systemPrompt = [parent.systemPrompt.trim(), child.systemPrompt.trim()]
    .filter((s) => s !== "")
    .join("\n\n")
  const metadata =
    parent.metadata === undefined && child.metadata === undefined
      ? undefined
      : { ...parent.metadata, ...child.metadata }
  return {
    displayName: child.displayName,
    description: child.description,
    systemPrompt,
    ...optional("instructions", uniqueConcat(parent.instructions, child.instructions)),
    ...optional("rules", mergeByName(parent.rules, child.rules)),
    ...optional(
      "examples",
      uniqueConcat(parent.examples, child.examples, (e) => JSON.stringify([e.input, e.output])),
    ),
    ...optional("capabilities", uniqueConcat(parent.capabilities, child.capabilities)),
    ...optional("limitations", uniqueConcat(parent.limitations, child.limitations)),
    tone: child.tone ?? parent.tone,
    language: nonEmpty(child.language) ? child.language : parent.language,
    ...optional("responseFormat", child.responseFormat ?? parent.responseFormat),
    ...optional("toolPreferences", mergeToolPreferences(parent.toolPreferences, child.toolPreferences)),
    ...optional("knowledgeSources", mergeByName(parent.knowledgeSources, child.knowledgeSources)),
    ...optional("constraints", mergeConstraints(parent.constraints, child.constraints)),
    ...optional("metadata", metadata),
    ...optional("version", child.version),
  }
}

/** The effective persona of a chain of specs given root first. */
export const mergePersonas = (
  specs: readonly [LanguagePersonaSpec, ...ReadonlyArray<LanguagePersonaSpec>],
): EffectivePersona => {
  const [root, ...descendants] = specs
  return descendants.reduce(mergeOnto, rootEffective(root))
}

export interface EffectiveKnowledgeSource {
  readonly source: KnowledgeSource
  /** The persona that declared this source (its Secret lives in that persona's namespace). */
  readonly declaredBy: PersonaKey
}

/** The effective knowledge sources of a chain given root first, with their declaring personas. */
export const effectiveKnowledgeSources = (
  chain: ReadonlyArray<PersonaNode>,
): ReadonlyArray<EffectiveKnowledgeSource> => {
  const out: Array<EffectiveKnowledgeSource & { readonly name: string }> = []
  for (const persona of chain) {
    const declaredBy = personaKeyOf(persona)
    for (const source of persona.spec.knowledgeSources ?? []) {
      const entry = { name: source.name, source, declaredBy }
      const i = out.findIndex((x) => x.name === source.name)
      if (i >= 0) out[i] = entry
      else out.push(entry)
    }
  }
  return out.map(({ source, declaredBy }) => ({ source, declaredBy }))
}
