import { describe, expect, it } from "vitest"
import type { KubeObject } from "../../../../src/kube/objects.ts"
import { personaAdmission, personaRuleCatalog } from "../../../../src/webhook/kinds/languagepersona.ts"
import { makeLookupFromObjects } from "../../../../src/webhook/lookup.ts"
import {
  checkRow,
  expectCovered,
  failingLookup,
  LONG_PROMPT,
  mutate,
  NS,
  type Row,
  withSpec,
  world,
} from "./support.ts"

const persona = {
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguagePersona",
  metadata: { name: "p1", namespace: NS },
  spec: {
    displayName: "Helper",
    description: "Helps",
    systemPrompt: LONG_PROMPT,
    tone: "friendly",
    language: "en",
    examples: [{ input: "hi", output: "hello" }],
  },
}
const p = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
  withSpec(persona, spec, metadata)
const named = (name: string, spec: Record<string, unknown>) => p(spec, { name })

/** A chain `link-1 -> link-2 -> … -> link-<n>` (link-n is the root). */
const chain = (n: number) =>
  makeLookupFromObjects([
    ...world,
    ...Array.from({ length: n }, (_, i) =>
      named(`link-${i + 1}`, i + 1 < n ? { parentPersona: { name: `link-${i + 2}` } } : {}),
    ),
    named("orphan", { parentPersona: { name: "ghost" } }),
  ] as unknown as ReadonlyArray<KubeObject>)

const rows: ReadonlyArray<Row> = [
  { name: "a complete root persona is allowed without warnings", object: persona },
  {
    name: "name longer than 63 characters",
    object: p({}, { name: "p".repeat(64) }),
    deny: [`metadata.name: "${"p".repeat(64)}" is longer than 63 characters`],
  },
  {
    name: "rule names: blank and duplicate; blank condition and action",
    object: p({
      rules: [
        { name: "verify", condition: "always", action: "check", priority: 1 },
        { name: " ", condition: "x", action: "y", priority: 2 },
        { name: "verify", condition: "", action: " ", priority: 3 },
      ],
    }),
    deny: [
      "spec.rules[1].name: rules[1]: name must not be blank",
      'spec.rules[2].name: duplicate rule name "verify"',
      'spec.rules[2].condition: rule "verify": condition must not be blank',
      'spec.rules[2].action: rule "verify": action must not be blank',
    ],
  },
  {
    name: "knowledge sources: duplicate names, urls, Secret namespace (docs/concepts.md X-3)",
    object: p({
      constraints: { allowedDomains: ["docs"] },
      knowledgeSources: [
        { name: "docs", type: "url" },
        { name: "docs", type: "api", url: "/v1/search" },
        { name: "db", type: "database", secretRef: { name: "db", namespace: "vault" } },
      ],
    }),
    deny: [
      'spec.knowledgeSources[0].url: knowledge source "docs": type url requires url',
      'spec.knowledgeSources[1].name: duplicate knowledge source name "docs"',
      'spec.knowledgeSources[1].url: knowledge source "docs": url "/v1/search" is not an absolute URL',
      'spec.knowledgeSources[2].secretRef.namespace: knowledge source "db": secretRef namespace "vault" differs from the persona\'s namespace "team"',
    ],
  },
  {
    name: "responseFormat.schema must parse as JSON",
    object: p({ responseFormat: { type: "json", schema: "{not json" } }),
    deny: ["spec.responseFormat.schema: responseFormat.schema is not valid JSON"],
  },
  {
    name: "limits",
    object: p({
      responseFormat: { maxLength: 0 },
      constraints: { maxResponseTokens: 0, maxToolCalls: -1, maxKnowledgeQueries: -2 },
    }),
    deny: [
      "spec.responseFormat.maxLength: responseFormat.maxLength must be positive (got 0)",
      "spec.constraints.maxResponseTokens: constraints.maxResponseTokens must be positive (got 0)",
      "spec.constraints.maxToolCalls: constraints.maxToolCalls must not be negative (got -1)",
      "spec.constraints.maxKnowledgeQueries: constraints.maxKnowledgeQueries must not be negative (got -2)",
    ],
  },
  {
    name: "own-spec warnings are admission warnings",
    object: p({
      systemPrompt: "Be nice.",
      examples: undefined,
      language: "english!",
      responseFormat: { type: "structured" },
      toolPreferences: { preferredTools: ["search"], avoidTools: ["search"] },
      constraints: { allowedDomains: ["docs"] },
    }),
    warn: [
      'spec.toolPreferences: tool "search" is both preferred and avoided',
      "spec.responseFormat.schema: responseFormat.type structured has no schema",
      "spec.examples: no examples",
      "spec.systemPrompt: systemPrompt is shorter than 50 characters",
      'spec.language: language "english!" is not a well-formed BCP 47 tag',
      "spec.constraints.allowedDomains: constraints.allowedDomains is set but no knowledge source is enabled",
    ],
  },
  {
    name: "a missing knowledge-source Secret is a warning",
    object: p({
      knowledgeSources: [
        { name: "wiki", type: "url", url: "https://wiki.example.com", secretRef: { name: "wiki-token" } },
      ],
    }),
    warn: [
      'spec.knowledgeSources[0].secretRef: knowledge source "wiki": Secret "team/wiki-token" not found (it may be created later)',
    ],
  },
  {
    name: "a cycle through existing personas, with the new spec in place, is denied",
    object: named("base", { parentPersona: { name: "child" } }),
    deny: ["spec.parentPersona: circular inheritance: team/base -> team/child -> team/base"],
  },
  {
    name: "a persona naming itself as parent is a cycle",
    object: p({ parentPersona: { name: "p1", namespace: NS } }),
    deny: ["spec.parentPersona: circular inheritance: team/p1 -> team/p1"],
  },
  {
    name: "10 ancestors are fine",
    object: p({ parentPersona: { name: "link-1" } }),
    lookup: chain(10),
  },
  {
    name: "more than 10 ancestors are denied",
    object: p({ parentPersona: { name: "link-1" } }),
    lookup: chain(11),
    deny: [
      "spec.parentPersona: inheritance chain has more than 10 ancestors: team/p1 -> team/link-1 -> team/link-2 -> team/link-3 -> team/link-4 -> team/link-5 -> team/link-6 -> team/link-7 -> team/link-8 -> team/link-9 -> team/link-10 -> team/link-11",
    ],
  },
  {
    name: "a missing parent is admitted with a warning",
    object: p({ parentPersona: { name: "ghost", namespace: "elsewhere" } }),
    warn: ['spec.parentPersona: parent persona "elsewhere/ghost" not found (it may be created later)'],
  },
  {
    name: "a missing ancestor further up is admitted with a warning",
    object: p({ parentPersona: { name: "orphan" } }),
    lookup: chain(1),
    warn: [
      'spec.parentPersona: ancestor persona "team/ghost" (parent of "team/orphan") not found (it may be created later)',
    ],
  },
  {
    name: "a chain that cannot be read now is a warning",
    object: p({ parentPersona: { name: "base" } }),
    lookup: failingLookup,
    warn: ['spec.parentPersona: cannot check LanguagePersona "team/base" now: timeout'],
  },
  {
    name: "schema violations",
    object: p({ displayName: "", tone: "grumpy" }),
    deny: [
      "spec.displayName: Expected a value with a length of at least 1",
      'spec.tone: Expected "professional" | "casual" | "friendly" | "formal" | "technical" | "empathetic" | "concise" | "detailed"',
    ],
  },
  {
    name: "DELETE of a persona others inherit from and agents use: admitted with warnings naming them",
    object: null,
    operation: "DELETE",
    oldObject: named("base", {}),
    warn: [
      'LanguagePersona "team/base" is the parent of "team/child"; they will report ParentNotFound',
      'LanguagePersona "team/base" is used by agents "team/uses-base"; they will report PersonaNotFound',
    ],
  },
  { name: "DELETE of an unused persona: plain allow", object: null, operation: "DELETE", oldObject: persona },
  {
    name: "DELETE when dependents cannot be listed: a warning",
    object: null,
    operation: "DELETE",
    oldObject: persona,
    lookup: failingLookup,
    warn: [
      'cannot check LanguagePersona "(all namespaces)" now: timeout',
      'cannot check LanguageAgent "(all namespaces)" now: timeout',
    ],
  },
]

describe("LanguagePersona validation", () => {
  const exercised = new Set<string>()
  it.each(rows)("$name", (row) => {
    for (const rule of checkRow(personaAdmission, row)) exercised.add(rule)
  })
  it("has a row for every rule", () => expectCovered(personaRuleCatalog, exercised))
})

describe("LanguagePersona defaulting", () => {
  const root = { ...persona, spec: { displayName: "R", description: "R", systemPrompt: LONG_PROMPT } }

  it("gives a root persona tone professional and language en", () => {
    const { result, patch } = mutate(personaAdmission, root)
    expect(patch).toEqual([
      { op: "add", path: "/spec/tone", value: "professional" },
      { op: "add", path: "/spec/language", value: "en" },
    ])
    expect(mutate(personaAdmission, result).patch).toEqual([])
  })

  it("replaces empty values on a root but keeps given ones", () => {
    const { result } = mutate(personaAdmission, withSpec(root, { tone: "", language: "de-CH" }))
    expect(result.spec).toMatchObject({ tone: "professional", language: "de-CH" })
  })

  it("gives a child only its parent's namespace, so it inherits tone and language", () => {
    const { result, patch } = mutate(personaAdmission, withSpec(root, { parentPersona: { name: "base" } }))
    expect(patch).toEqual([{ op: "add", path: "/spec/parentPersona/namespace", value: NS }])
    expect(result.spec).not.toHaveProperty("tone")
    expect(mutate(personaAdmission, result).patch).toEqual([])
  })

  it("fills tone and language when an update removes the parent", () => {
    const child = withSpec(root, { parentPersona: { name: "base", namespace: NS } })
    const { patch } = mutate(personaAdmission, root, { oldObject: child })
    expect(patch.map((op) => op.path)).toEqual(["/spec/tone", "/spec/language"])
  })
})
