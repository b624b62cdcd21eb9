/**
 * THE table of webhook defaults: every default the mutating webhook applies, and nothing else
 * applies one (docs/admission.md §Defaulting; each kind's "Admission" section). Constant defaults live in
 * the CRD schemas instead (the API server applies them before any webhook runs).
 *
 * The table drives the code ({@link applyDefaults}, used by every `/mutate/<plural>` handler) and
 * the README's "Webhook defaults" section ({@link defaultsMarkdown}; a unit test fails when the
 * README differs), so the documentation cannot drift from the behaviour.
 *
 * Guarantees of `applyDefaults`:
 * - it never creates a parent: a default for `spec.personaRef.namespace` only applies when
 *   `spec.personaRef` is an object, `spec.modelRefs[]` only to object elements of an array, and so
 *   on; values of unexpected types are left alone (the schema check reports them);
 * - "empty" means absent, `null` or `""`; a non-empty value is never replaced;
 * - it is idempotent (its output has no empty defaulted field left), and returns a copy.
 */
import type { LangopKind } from "./handlers.ts"

export type DefaultValue =
  /** The defaulted object's own namespace (reference namespaces). */
  { readonly _tag: "ObjectNamespace" } | { readonly _tag: "Constant"; readonly value: string }

export interface WebhookDefault {
  readonly kind: LangopKind
  /** Path from the resource root; `[]` means every element of the list. */
  readonly field: string
  readonly value: DefaultValue
  /** Applies only when this path (from the root) is absent. */
  readonly whenAbsent?: string | undefined
  /** Where the spec asks for it. */
  readonly source: string
}

const objectNamespace: DefaultValue = { _tag: "ObjectNamespace" }
const constant = (value: string): DefaultValue => ({ _tag: "Constant", value })

const referenceNamespace = (kind: LangopKind, field: string, source: string): WebhookDefault => ({
  kind,
  field,
  value: objectNamespace,
  source,
})

export const webhookDefaults: ReadonlyArray<WebhookDefault> = [
  referenceNamespace("LanguageAgent", "spec.modelRefs[].namespace", "docs/languageagent.md §Admission"),
  referenceNamespace("LanguageAgent", "spec.toolRefs[].namespace", "docs/languageagent.md §Admission"),
  referenceNamespace("LanguageAgent", "spec.personaRef.namespace", "docs/languageagent.md §Admission"),
  referenceNamespace(
    "LanguageAgent",
    "spec.egress[].to.service.namespace",
    "docs/languageagent.md §Admission",
  ),
  referenceNamespace("LanguageTool", "spec.egress[].to.service.namespace", "docs/languagetool.md §Admission"),
  referenceNamespace(
    "LanguageModel",
    "spec.egress[].to.service.namespace",
    "docs/languagemodel.md §Admission",
  ),
  referenceNamespace("LanguagePersona", "spec.parentPersona.namespace", "docs/languagepersona.md §Admission"),
  {
    kind: "LanguagePersona",
    field: "spec.tone",
    value: constant("professional"),
    whenAbsent: "spec.parentPersona",
    source: "docs/languagepersona.md PE-2 (children inherit it)",
  },
  {
    kind: "LanguagePersona",
    field: "spec.language",
    value: constant("en"),
    whenAbsent: "spec.parentPersona",
    source: "docs/languagepersona.md PE-2 (children inherit it)",
  },
  referenceNamespace("LanguageClient", "spec.modelRefs[].namespace", "docs/languageclient.md §Admission"),
  referenceNamespace(
    "LanguageClient",
    "spec.regions[].modelRefs[].namespace",
    "docs/languageclient.md §Admission",
  ),
  referenceNamespace("LanguageClient", "spec.toolRefs[].namespace", "docs/languageclient.md §Admission"),
  referenceNamespace("LanguageClient", "spec.personaRef.namespace", "docs/languageclient.md §Admission"),
  referenceNamespace("LanguageClient", "spec.agentRefs[].namespace", "docs/languageclient.md §Admission"),
]

export const defaultsFor = (kind: LangopKind): ReadonlyArray<WebhookDefault> =>
  webhookDefaults.filter((d) => d.kind === kind)

// ---------------------------------------------------------------------------------------------
// Applying

type Segment = string | "[]"

const segmentsOf = (field: string): ReadonlyArray<Segment> =>
  field.split(".").flatMap((part) => (part.endsWith("[]") ? [part.slice(0, -2), "[]" as const] : [part]))

type MutableJson = { [key: string]: unknown }

const isObject = (value: unknown): value is MutableJson =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isEmpty = (value: unknown) => value === undefined || value === null || value === ""

/** The values at `segments` below `node` (every list element for `[]`). */
const valuesAt = (node: unknown, segments: ReadonlyArray<Segment>): ReadonlyArray<unknown> => {
  const [head, ...rest] = segments
  if (head === undefined) return [node]
  if (head === "[]") return Array.isArray(node) ? node.flatMap((item) => valuesAt(item, rest)) : []
  return isObject(node) && node[head] !== undefined ? valuesAt(node[head], rest) : []
}

const setEmptyLeaves = (node: unknown, segments: ReadonlyArray<Segment>, value: string): void => {
  const parents = valuesAt(node, segments.slice(0, -1))
  const leaf = segments.at(-1)
  if (leaf === undefined || leaf === "[]") return
  for (const parent of parents) if (isObject(parent) && isEmpty(parent[leaf])) parent[leaf] = value
}

/**
 * `object` (a raw resource as the API server sent it) with every default of `kind` applied;
 * `namespace` is the object's namespace. Returns a copy.
 */
export const applyDefaults = (
  kind: LangopKind,
  object: Readonly<Record<string, unknown>>,
  namespace: string,
): Readonly<Record<string, unknown>> => {
  const copy = structuredClone(object) as MutableJson
  for (const d of defaultsFor(kind)) {
    if (d.whenAbsent !== undefined && valuesAt(copy, segmentsOf(d.whenAbsent)).some((v) => v !== null))
      continue
    const value = d.value._tag === "Constant" ? d.value.value : namespace
    if (value === "") continue
    setEmptyLeaves(copy, segmentsOf(d.field), value)
  }
  return copy
}

// ---------------------------------------------------------------------------------------------
// Documentation

/** The rule of one default in words. */
export const ruleOf = (d: WebhookDefault): string => {
  const value = d.value._tag === "Constant" ? `\`${d.value.value}\`` : "the object's own namespace"
  const condition = d.whenAbsent === undefined ? "" : `, only when \`${d.whenAbsent}\` is absent`
  return `when empty: ${value}${condition}`
}

/** The README table (Markdown), one row per default, in table order. */
export const defaultsMarkdown = (): string =>
  [
    "| Kind | Field | Default | Why |",
    "|---|---|---|---|",
    ...webhookDefaults.map((d) => `| ${d.kind} | \`${d.field}\` | ${ruleOf(d)} | ${d.source} |`),
  ].join("\n")
