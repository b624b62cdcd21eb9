import { describe, expect, it } from "vitest"
import {
  isWellFormedLanguageTag,
  missingSecretWarnings,
  ownSpecErrors,
  parentInvalidErrors,
  personaWarnings,
  qualityScore,
} from "../../../../src/domain/languagepersona.ts"
import { persona, spec } from "./fixtures.ts"

const LONG_PROMPT = "You are a careful assistant who answers product questions precisely."
const clean = { systemPrompt: LONG_PROMPT, examples: [{ input: "a", output: "b" }] }
const lines = (issues: ReadonlyArray<{ readonly path: string; readonly message: string }>) =>
  issues.map((i) => `${i.path}: ${i.message}`)

describe("ownSpecErrors", () => {
  it("accepts the clean fixture", () => {
    expect(ownSpecErrors(spec(clean), "ns")).toEqual([])
  })

  it.each([
    [
      "duplicate rule names",
      {
        rules: [
          { name: "verify", condition: "c", action: "a" },
          { name: "verify", condition: "c", action: "a" },
        ],
      },
      ['spec.rules[1].name: duplicate rule name "verify"'],
    ],
    [
      "blank rule name, condition and action",
      { rules: [{ name: " ", condition: "", action: "\t" }] },
      [
        "spec.rules[0].name: rules[0]: name must not be blank",
        "spec.rules[0].condition: rules[0]: condition must not be blank",
        "spec.rules[0].action: rules[0]: action must not be blank",
      ],
    ],
    [
      "blank condition of a named rule",
      { rules: [{ name: "r", condition: "  ", action: "a" }] },
      ['spec.rules[0].condition: rule "r": condition must not be blank'],
    ],
    [
      "duplicate knowledge source names",
      {
        knowledgeSources: [
          { name: "kb", type: "document" },
          { name: "kb", type: "database" },
        ],
      },
      ['spec.knowledgeSources[1].name: duplicate knowledge source name "kb"'],
    ],
    [
      "url and api sources without url",
      {
        knowledgeSources: [
          { name: "a", type: "url" },
          { name: "b", type: "api", url: "" },
        ],
      },
      [
        'spec.knowledgeSources[0].url: knowledge source "a": type url requires url',
        'spec.knowledgeSources[1].url: knowledge source "b": type api requires url',
      ],
    ],
    [
      "a relative url",
      { knowledgeSources: [{ name: "docs", type: "url", url: "docs.example.com/path" }] },
      [
        'spec.knowledgeSources[0].url: knowledge source "docs": url "docs.example.com/path" is not an absolute URL',
      ],
    ],
    [
      "an unparsable response schema",
      { responseFormat: { type: "json", schema: "{not json" } },
      ["spec.responseFormat.schema: responseFormat.schema is not valid JSON"],
    ],
    [
      "non-positive and negative limits",
      {
        responseFormat: { maxLength: 0 },
        constraints: { maxResponseTokens: -5, maxToolCalls: -1, maxKnowledgeQueries: -2 },
      },
      [
        "spec.responseFormat.maxLength: responseFormat.maxLength must be positive (got 0)",
        "spec.constraints.maxResponseTokens: constraints.maxResponseTokens must be positive (got -5)",
        "spec.constraints.maxToolCalls: constraints.maxToolCalls must not be negative (got -1)",
        "spec.constraints.maxKnowledgeQueries: constraints.maxKnowledgeQueries must not be negative (got -2)",
      ],
    ],
    [
      "a secretRef in another namespace",
      { knowledgeSources: [{ name: "kb", type: "document", secretRef: { name: "s", namespace: "other" } }] },
      [
        'spec.knowledgeSources[0].secretRef.namespace: knowledge source "kb": secretRef namespace "other" differs from the persona\'s namespace "ns"',
      ],
    ],
  ])("reports %s", (_, fields, expected) => {
    expect(lines(ownSpecErrors(spec({ ...clean, ...fields }), "ns"))).toEqual(expected)
  })

  it("accepts zero tool calls and knowledge queries, and a secretRef in the own namespace", () => {
    const s = spec({
      ...clean,
      constraints: { maxToolCalls: 0, maxKnowledgeQueries: 0 },
      knowledgeSources: [
        { name: "kb", type: "api", url: "https://kb.example/api", secretRef: { name: "s", namespace: "ns" } },
      ],
    })
    expect(ownSpecErrors(s, "ns")).toEqual([])
  })
})

describe("personaWarnings", () => {
  it("has none for the clean fixture", () => {
    expect(personaWarnings(spec(clean))).toEqual([])
  })

  it.each([
    [
      "a tool both preferred and avoided",
      { toolPreferences: { preferredTools: ["a", "b"], avoidTools: ["b"] } },
      ['spec.toolPreferences: tool "b" is both preferred and avoided'],
    ],
    [
      "json without schema",
      { responseFormat: { type: "json" } },
      ["spec.responseFormat.schema: responseFormat.type json has no schema"],
    ],
    [
      "structured without schema",
      { responseFormat: { type: "structured", schema: "" } },
      ["spec.responseFormat.schema: responseFormat.type structured has no schema"],
    ],
    [
      "enabled rules sharing a priority (disabled ones ignored, default 100 counts)",
      {
        rules: [
          { name: "a", condition: "c", action: "x" },
          { name: "b", condition: "c", action: "x", priority: 100 },
          { name: "c", condition: "c", action: "x", priority: 5 },
          { name: "d", condition: "c", action: "x", priority: 5, enabled: false },
          { name: "e", condition: "c", action: "x" },
        ],
      },
      ['spec.rules: enabled rules "a", "b" and "e" share priority 100'],
    ],
    ["no examples", { examples: [] }, ["spec.examples: no examples"]],
    [
      "a short prompt",
      { systemPrompt: "  Be nice.  " },
      ["spec.systemPrompt: systemPrompt is shorter than 50 characters"],
    ],
    [
      "a malformed language",
      { language: "english_US" },
      ['spec.language: language "english_US" is not a well-formed BCP 47 tag'],
    ],
    [
      "allowedDomains without an enabled knowledge source",
      {
        constraints: { allowedDomains: ["docs.example.com"] },
        knowledgeSources: [{ name: "kb", type: "document", enabled: false }],
      },
      [
        "spec.constraints.allowedDomains: constraints.allowedDomains is set but no knowledge source is enabled",
      ],
    ],
  ])("warns about %s", (_, fields, expected) => {
    expect(lines(personaWarnings(spec({ ...clean, ...fields })))).toEqual(expected)
  })

  it("reports missing Secrets of the own knowledge sources", () => {
    const s = spec({
      knowledgeSources: [
        { name: "a", type: "document", secretRef: { name: "present" } },
        { name: "b", type: "document", secretRef: { name: "absent" } },
        { name: "c", type: "document" },
      ],
    })
    expect(lines(missingSecretWarnings(s, (name) => name === "present"))).toEqual([
      'spec.knowledgeSources[1].secretRef.name: knowledge source "b": Secret "absent" not found',
    ])
  })
})

describe("parentInvalidErrors", () => {
  it("names each ancestor whose own spec has an error, with its first error", () => {
    const good = persona("good")
    const bad = persona(
      "bad",
      { constraints: { maxToolCalls: -1, maxKnowledgeQueries: -1 } },
      { namespace: "lib" },
    )
    expect(lines(parentInvalidErrors([good, bad]))).toEqual([
      'spec.parentPersona: parent persona "lib/bad" is invalid: constraints.maxToolCalls must not be negative (got -1)',
    ])
  })
})

describe("qualityScore", () => {
  it.each([
    [0, 0, 100],
    [1, 0, 75],
    [0, 3, 85],
    [2, 2, 40],
    [4, 1, 0],
    [5, 0, 0],
  ])("%i errors, %i warnings → %i", (errors, warnings, score) => {
    expect(qualityScore(errors, warnings)).toBe(score)
  })
})

describe("isWellFormedLanguageTag", () => {
  it.each([
    "en",
    "de-CH",
    "zh-Hant-TW",
    "es-419",
    "sr-Latn-RS",
    "de-DE-1996",
    "en-US-x-twain",
    "x-private",
    "gsw",
  ])("accepts %s", (tag) => expect(isWellFormedLanguageTag(tag)).toBe(true))
  it.each(["", "english_US", "e", "en-", "en--US", "toolongtag", "en-US-x"])("rejects %s", (tag) =>
    expect(isWellFormedLanguageTag(tag)).toBe(false),
  )
})
