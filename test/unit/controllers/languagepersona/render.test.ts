import { describe, expect, it } from "vitest"
import {
  personaJson,
  renderInstructions,
  renderPersonaPrompt,
} from "../../../../src/controllers/languagepersona/render.ts"
import { mergePersonas, resolveChain } from "../../../../src/domain/persona-chain.ts"
import { examplePersona, lookupOf, spec } from "./fixtures.ts"

const effective = (fields: Record<string, unknown>) => mergePersonas([spec(fields)])

describe("renderInstructions", () => {
  it("renders the support-agent example (inheriting helpful-base) exactly", () => {
    const base = examplePersona("languagepersona-base.yaml")
    const support = examplePersona("languagepersona-support.yaml")
    const r = resolveChain(support, lookupOf(base, support))
    if (r._tag !== "Resolved") throw new Error(r._tag)
    expect(renderInstructions(r.effective, "  Handle tickets for the Acme product.\n")).toBe(
      [
        "You are a helpful assistant. Answer accurately and concisely, say so when you are not sure, and never invent facts, links or quotes.",
        "",
        "You work in first-line product support. Answer from the product documentation, and when a problem needs a human, collect the details and offer to open a ticket.",
        "",
        "Handle tickets for the Acme product.",
        "",
        "Additional Guidelines:",
        "- Ask a clarifying question when a request is ambiguous.",
        "- Prefer short paragraphs and bullet lists over long prose.",
        "- Quote the relevant documentation page when you answer from it.",
        "",
        "Rules:",
        "- [escalate-outage] When The user reports that the service is down for several users: Apologise, link the status page and open a high-priority ticket",
        "- [no-account-changes] When The user asks to change billing or account ownership: Explain that only the account owner can do this in the billing console",
        "",
        "Capabilities:",
        "- Answer product questions from the documentation",
        "- Read and summarise files in the agent workspace",
        "",
        "Limitations:",
        "- Does not give legal, medical or financial advice.",
        "",
        "Constraints:",
        "- Keep responses under 800 tokens.",
        "- Use at most 10 tool calls per interaction.",
        "- Respond within 30s.",
        "- Cite sources for factual claims.",
        "- Do not discuss: pricing negotiations.",
        "- Only use knowledge from these domains: docs.example.com.",
        "",
        "Style:",
        "- Tone: friendly",
        "- Language: en",
        "",
        "Tool preferences:",
        "- Strategy: balanced",
        "- Prefer: web-fetch, workspace-files",
        "- Explain tool use to the user",
        "",
        "Examples:",
        "Input: Can you help me?",
        "Output: Of course. What would you like to do?",
        "",
        "Input: How do I reset my password?",
        'Output: Open Settings > Security and choose "Reset password"; you will get an e-mail with a link.',
      ].join("\n"),
    )
  })

  it("without a persona returns the agent's instructions unchanged", () => {
    expect(renderInstructions(undefined, "  keep my spacing\n")).toBe("  keep my spacing\n")
    expect(renderInstructions(undefined, undefined)).toBe("")
  })

  it("a minimal persona is its trimmed prompt plus the style section; blank agent instructions are omitted", () => {
    const p = effective({ systemPrompt: "  Be brief.\n" })
    const expected = "Be brief.\n\nStyle:\n- Tone: professional\n- Language: en"
    expect(renderInstructions(p, "   ")).toBe(expected)
    expect(renderInstructions(p, undefined)).toBe(expected)
    expect(renderPersonaPrompt(p)).toBe(expected)
    expect(renderInstructions(p, "Agent.")).toBe(
      `Be brief.\n\nAgent.\n\n${expected.slice("Be brief.\n\n".length)}`,
    )
  })

  it("orders enabled rules by priority (default 100) then name and skips disabled ones", () => {
    const p = effective({
      rules: [
        { name: "z-default", condition: "c", action: "a" },
        { name: "b-first", condition: "c", action: "a", priority: 1 },
        { name: "a-default", condition: "c", action: "a" },
        { name: "off", condition: "c", action: "a", priority: 0, enabled: false },
        { name: "late", condition: "c", action: "a", priority: 200 },
      ],
    })
    expect(renderPersonaPrompt(p)).toContain(
      "Rules:\n- [b-first] When c: a\n- [a-default] When c: a\n- [z-default] When c: a\n- [late] When c: a\n\nStyle:",
    )
  })

  it("emits each constraint only when set", () => {
    expect(renderPersonaPrompt(effective({ constraints: { maxKnowledgeQueries: 0 } }))).toContain(
      "Constraints:\n- Use at most 0 knowledge queries per interaction.\n\nStyle:",
    )
    const none = renderPersonaPrompt(effective({ constraints: { blockedTopics: [], allowedDomains: [] } }))
    expect(none).not.toContain("Constraints:")
    expect(renderPersonaPrompt(effective({ constraints: { blockedTopics: ["a", "b"] } }))).toContain(
      "- Do not discuss: a, b.",
    )
  })

  it("renders the response format with template and schema lines", () => {
    const p = effective({
      responseFormat: {
        type: "json",
        maxLength: 2000,
        includeSources: true,
        includeConfidence: true,
        template: "Answer:\n{{answer}}\n",
        schema: '{"type":"object"}\n',
      },
    })
    expect(renderPersonaPrompt(p)).toContain(
      [
        "Response format:",
        "- Type: json",
        "- Maximum length: 2000 characters",
        "- Include sources",
        "- Include confidence scores",
        "- Template:",
        "Answer:",
        "{{answer}}",
        "- JSON schema:",
        '{"type":"object"}',
      ].join("\n"),
    )
    expect(renderPersonaPrompt(effective({ responseFormat: {} }))).toContain("Response format:\n- Type: text")
    expect(renderPersonaPrompt(effective({}))).not.toContain("Response format:")
  })

  it("renders tool preferences only when present", () => {
    expect(renderPersonaPrompt(effective({}))).not.toContain("Tool preferences:")
    const p = effective({
      toolPreferences: {
        avoidTools: ["shell"],
        strategy: "minimal",
        alwaysConfirm: true,
        explainToolUse: false,
      },
    })
    expect(
      renderPersonaPrompt(p).endsWith(
        "Tool preferences:\n- Strategy: minimal\n- Avoid: shell\n- Always ask for confirmation before using a tool",
      ),
    ).toBe(true)
  })

  it("renders examples with context, separated by blank lines, without a trailing newline", () => {
    const p = effective({
      examples: [
        { input: "a", output: "b", context: "c" },
        { input: "d", output: "e" },
      ],
    })
    const text = renderPersonaPrompt(p)
    expect(text.endsWith("Examples:\nInput: a\nOutput: b\nContext: c\n\nInput: d\nOutput: e")).toBe(true)
  })

  it("puts sections in the specified order", () => {
    const p = effective({
      instructions: ["i"],
      rules: [{ name: "r", condition: "c", action: "a" }],
      capabilities: ["cap"],
      limitations: ["lim"],
      constraints: { maxToolCalls: 1 },
      responseFormat: { type: "markdown" },
      toolPreferences: {},
      examples: [{ input: "x", output: "y" }],
    })
    const headings = renderInstructions(p, "agent")
      .split("\n\n")
      .map((s) => s.split("\n")[0])
    expect(headings).toEqual([
      "You are a helpful assistant.",
      "agent",
      "Additional Guidelines:",
      "Rules:",
      "Capabilities:",
      "Limitations:",
      "Constraints:",
      "Style:",
      "Response format:",
      "Tool preferences:",
      "Examples:",
    ])
  })
})

describe("personaJson", () => {
  it("sorts keys recursively so equal personas serialise equally", () => {
    expect(personaJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: "s" } })).toBe(
      '{"a":{"c":"s","d":[2,{"x":0,"y":1}]},"b":1}',
    )
  })
})
