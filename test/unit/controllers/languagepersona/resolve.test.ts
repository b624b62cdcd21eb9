import { describe, expect, it } from "vitest"
import {
  chainProblem,
  effectiveKnowledgeSources,
  MAX_ANCESTORS,
  mergePersonas,
  parentKeyOf,
  resolveChain,
} from "../../../../src/domain/persona-chain.ts"
import { child, lookupOf, persona, spec } from "./fixtures.ts"

const names = (chain: ReadonlyArray<{ readonly metadata: { readonly name?: string } }>) =>
  chain.map((p) => p.metadata.name)
const keys = (path: ReadonlyArray<{ readonly namespace: string; readonly name: string }>) =>
  path.map((k) => `${k.namespace}/${k.name}`)

describe("parentKeyOf", () => {
  it("defaults the namespace to the persona's own (also when empty)", () => {
    expect(parentKeyOf(child("c", "p"))).toEqual({ namespace: "ns", name: "p" })
    expect(parentKeyOf(persona("c", { parentPersona: { name: "p", namespace: "" } }))).toEqual({
      namespace: "ns",
      name: "p",
    })
    expect(parentKeyOf(persona("c", { parentPersona: { name: "p", namespace: "other" } }))).toEqual({
      namespace: "other",
      name: "p",
    })
    expect(parentKeyOf(persona("c"))).toBeUndefined()
  })
})

describe("resolveChain", () => {
  it("a persona without parent is its own chain", () => {
    const root = persona("root")
    const r = resolveChain(root, lookupOf())
    expect(r._tag).toBe("Resolved")
    if (r._tag === "Resolved") expect(names(r.chain)).toEqual(["root"])
  })

  it("returns the chain root first and ending with the persona itself", () => {
    const a = persona("a")
    const b = child("b", "a")
    const c = child("c", "b")
    const r = resolveChain(c, lookupOf(a, b, c))
    expect(r._tag).toBe("Resolved")
    if (r._tag === "Resolved") {
      expect(names(r.chain)).toEqual(["a", "b", "c"])
      expect(r.effective.systemPrompt).toBe(
        "You are a helpful assistant.\n\nYou are a helpful assistant.\n\nYou are a helpful assistant.",
      )
    }
  })

  it("follows parents into other namespaces", () => {
    const shared = persona("shared", { systemPrompt: "Shared." }, { namespace: "lib" })
    const mine = persona("mine", {
      parentPersona: { name: "shared", namespace: "lib" },
      systemPrompt: "Mine.",
    })
    const r = resolveChain(mine, lookupOf(shared, mine))
    expect(r._tag === "Resolved" && r.effective.systemPrompt).toBe("Shared.\n\nMine.")
  })

  it("reports a missing parent with the persona that names it", () => {
    const r = resolveChain(child("c", "gone"), lookupOf())
    expect(r).toMatchObject({
      _tag: "ParentNotFound",
      missing: { namespace: "ns", name: "gone" },
      child: { namespace: "ns", name: "c" },
    })
    if (r._tag === "ParentNotFound") {
      expect(names(r.walked)).toEqual(["c"])
      expect(chainProblem(r)).toEqual({
        reason: "ParentNotFound",
        message: 'parent persona "ns/gone" not found',
      })
    }
  })

  it("reports a missing grandparent", () => {
    const p = child("p", "gone")
    const r = resolveChain(child("c", "p"), lookupOf(p))
    expect(r).toMatchObject({ _tag: "ParentNotFound", missing: { name: "gone" }, child: { name: "p" } })
    if (r._tag === "ParentNotFound")
      expect(chainProblem(r).message).toBe('ancestor persona "ns/gone" (parent of "ns/p") not found')
  })

  it("detects a persona that is its own parent", () => {
    const self = child("self", "self")
    const r = resolveChain(self, lookupOf(self))
    expect(r._tag).toBe("Cycle")
    if (r._tag === "Cycle") {
      expect(keys(r.path)).toEqual(["ns/self", "ns/self"])
      expect(chainProblem(r)).toEqual({
        reason: "CircularInheritance",
        message: "circular inheritance: ns/self -> ns/self",
      })
    }
  })

  it("detects a two-persona cycle from either side", () => {
    const a = child("a", "b")
    const b = child("b", "a")
    const fromA = resolveChain(a, lookupOf(a, b))
    const fromB = resolveChain(b, lookupOf(a, b))
    expect(fromA._tag === "Cycle" && keys(fromA.path)).toEqual(["ns/a", "ns/b", "ns/a"])
    expect(fromB._tag === "Cycle" && keys(fromB.path)).toEqual(["ns/b", "ns/a", "ns/b"])
  })

  it("detects a cycle further up that does not include the persona itself", () => {
    const x = child("x", "y")
    const y = child("y", "z")
    const z = child("z", "y")
    const r = resolveChain(x, lookupOf(x, y, z))
    expect(r._tag === "Cycle" && keys(r.path)).toEqual(["ns/x", "ns/y", "ns/z", "ns/y"])
  })

  it("never looks up a persona already on the path (the webhook puts the new object in place)", () => {
    // The stored version of `a` has no parent; the object under review names `b`, which names `a`.
    const stored = persona("a")
    const reviewed = child("a", "b")
    const b = child("b", "a")
    const looked: Array<string> = []
    const r = resolveChain(reviewed, (k) => {
      looked.push(k.name)
      return lookupOf(stored, b)(k)
    })
    expect(r._tag).toBe("Cycle")
    expect(looked).toEqual(["b"])
  })

  const line = (n: number) => {
    // p0 is the root; p<n> has n ancestors.
    const personas = [persona("p0")]
    for (let i = 1; i <= n; i++) personas.push(child(`p${i}`, `p${i - 1}`))
    return personas
  }

  it(`allows exactly ${MAX_ANCESTORS} ancestors`, () => {
    const personas = line(MAX_ANCESTORS)
    const last = personas[MAX_ANCESTORS]
    if (last === undefined) throw new Error("fixture")
    const r = resolveChain(last, lookupOf(...personas))
    expect(r._tag).toBe("Resolved")
    if (r._tag === "Resolved") expect(r.chain).toHaveLength(MAX_ANCESTORS + 1)
  })

  it(`rejects ${MAX_ANCESTORS + 1} ancestors, even when the last one is missing`, () => {
    const personas = line(MAX_ANCESTORS + 1)
    const last = personas[MAX_ANCESTORS + 1]
    if (last === undefined) throw new Error("fixture")
    const r = resolveChain(last, lookupOf(...personas))
    expect(r._tag).toBe("TooDeep")
    if (r._tag === "TooDeep") {
      expect(r.path).toHaveLength(MAX_ANCESTORS + 2)
      expect(chainProblem(r).reason).toBe("InheritanceTooDeep")
      expect(chainProblem(r).message).toMatch(
        /^inheritance chain has more than 10 ancestors: ns\/p11 -> ns\/p10/,
      )
    }
    const withoutRoot = resolveChain(last, lookupOf(...personas.slice(1)))
    expect(withoutRoot._tag).toBe("TooDeep")
  })
})

describe("mergePersonas: the merge table, row by row", () => {
  const merge = (parent: Record<string, unknown>, childFields: Record<string, unknown>) =>
    mergePersonas([spec(parent), spec({ ...childFields, parentPersona: { name: "parent" } })])

  it("without a parent: the own spec minus parentPersona, tone and language defaulted", () => {
    const own = spec({ instructions: ["a", "a"], version: "1", metadata: { k: "v" } })
    expect(mergePersonas([own])).toEqual({ ...own, tone: "professional", language: "en" })
    const set = spec({ tone: "casual", language: "de" })
    expect(mergePersonas([set])).toEqual(set)
  })

  it("displayName, description: the child's", () => {
    const e = merge({ displayName: "P", description: "parent" }, { displayName: "C", description: "child" })
    expect([e.displayName, e.description]).toEqual(["C", "child"])
  })

  it("systemPrompt: parent's, blank line, child's (both trimmed), layered over the whole chain", () => {
    expect(merge({ systemPrompt: "  Parent.\n" }, { systemPrompt: "\nChild.  " }).systemPrompt).toBe(
      "Parent.\n\nChild.",
    )
    const three = mergePersonas([
      spec({ systemPrompt: "A" }),
      spec({ systemPrompt: "B" }),
      spec({ systemPrompt: "C" }),
    ])
    expect(three.systemPrompt).toBe("A\n\nB\n\nC")
  })

  it("instructions: parent's then child's, exact duplicates dropped (first kept)", () => {
    expect(merge({ instructions: ["x", "y"] }, { instructions: ["z", "x", "Y"] }).instructions).toEqual([
      "x",
      "y",
      "z",
      "Y",
    ])
    expect(merge({ instructions: ["x"] }, {}).instructions).toEqual(["x"])
    expect(merge({}, { instructions: ["z"] }).instructions).toEqual(["z"])
    expect(merge({}, {}).instructions).toBeUndefined()
  })

  it("rules: keyed by name, a child rule replaces the parent's in place, new ones appended", () => {
    const rule = (name: string, action: string) => ({ name, condition: "always", action })
    const e = merge(
      { rules: [rule("a", "parent-a"), rule("b", "parent-b"), rule("c", "parent-c")] },
      { rules: [rule("d", "child-d"), rule("b", "child-b")] },
    )
    expect(e.rules?.map((r) => `${r.name}:${r.action}`)).toEqual([
      "a:parent-a",
      "b:child-b",
      "c:parent-c",
      "d:child-d",
    ])
    expect(e.rules?.[1]).toEqual({
      name: "b",
      condition: "always",
      action: "child-b",
      priority: 100,
      enabled: true,
    })
  })

  it("examples: parent's then child's, same input and output dropped", () => {
    const e = merge(
      { examples: [{ input: "hi", output: "hello" }] },
      {
        examples: [
          { input: "hi", output: "hello", context: "dup" },
          { input: "hi", output: "hey" },
        ],
      },
    )
    expect(e.examples).toEqual([
      { input: "hi", output: "hello" },
      { input: "hi", output: "hey" },
    ])
  })

  it("capabilities, limitations: concatenated, duplicates dropped", () => {
    const e = merge(
      { capabilities: ["read", "write"], limitations: ["no legal advice"] },
      { capabilities: ["write", "search"], limitations: ["no legal advice", "no medical advice"] },
    )
    expect(e.capabilities).toEqual(["read", "write", "search"])
    expect(e.limitations).toEqual(["no legal advice", "no medical advice"])
  })

  it("tone, language: the child's if non-empty, else the parent's, else professional / en", () => {
    expect(merge({ tone: "friendly", language: "de" }, {})).toMatchObject({
      tone: "friendly",
      language: "de",
    })
    expect(merge({ tone: "friendly", language: "de" }, { tone: "formal", language: "fr" })).toMatchObject({
      tone: "formal",
      language: "fr",
    })
    expect(merge({ language: "de" }, { language: "" }).language).toBe("de")
    expect(merge({}, {})).toMatchObject({ tone: "professional", language: "en" })
    expect(merge({ language: "" }, {}).language).toBe("en")
  })

  it("responseFormat: the child's whole object if present, else the parent's", () => {
    const parent = { type: "json", schema: "{}", maxLength: 100, includeSources: true }
    expect(
      merge({ responseFormat: parent }, { responseFormat: { type: "markdown" } }).responseFormat,
    ).toEqual({
      type: "markdown",
      includeSources: false,
      includeConfidence: false,
    })
    expect(merge({ responseFormat: parent }, {}).responseFormat).toEqual({
      ...parent,
      includeConfidence: false,
    })
  })

  it("toolPreferences: lists unioned with cross-removal; scalars from the child's object if it has one", () => {
    const e = merge(
      {
        toolPreferences: {
          preferredTools: ["search", "fetch"],
          avoidTools: ["shell", "email"],
          strategy: "aggressive",
          alwaysConfirm: true,
          explainToolUse: false,
        },
      },
      { toolPreferences: { preferredTools: ["shell", "calc"], avoidTools: ["fetch"] } },
    )
    expect(e.toolPreferences).toEqual({
      preferredTools: ["search", "shell", "calc"],
      avoidTools: ["email", "fetch"],
      strategy: "balanced",
      alwaysConfirm: false,
      explainToolUse: true,
    })
    const inherited = merge({ toolPreferences: { strategy: "minimal", alwaysConfirm: true } }, {})
    expect(inherited.toolPreferences).toEqual({
      strategy: "minimal",
      alwaysConfirm: true,
      explainToolUse: true,
    })
    const onlyChild = merge({}, { toolPreferences: { avoidTools: ["x"] } })
    expect(onlyChild.toolPreferences).toEqual({
      avoidTools: ["x"],
      strategy: "balanced",
      alwaysConfirm: false,
      explainToolUse: true,
    })
  })

  it("knowledgeSources: keyed by name, the child replaces the same name, new ones appended", () => {
    const e = merge(
      {
        knowledgeSources: [
          { name: "docs", type: "url", url: "https://parent.example/" },
          { name: "kb", type: "document" },
        ],
      },
      {
        knowledgeSources: [
          { name: "faq", type: "document" },
          { name: "docs", type: "url", url: "https://child.example/" },
        ],
      },
    )
    expect(e.knowledgeSources?.map((k) => `${k.name}:${k.url ?? ""}`)).toEqual([
      "docs:https://child.example/",
      "kb:",
      "faq:",
    ])
  })

  it("constraints: per field", () => {
    const e = merge(
      {
        constraints: {
          maxResponseTokens: 500,
          maxToolCalls: 5,
          maxKnowledgeQueries: 3,
          responseTimeout: "30s",
          requireDocumentation: true,
          blockedTopics: ["politics", "religion"],
          allowedDomains: ["a.example"],
        },
      },
      {
        constraints: {
          maxToolCalls: 2,
          responseTimeout: "10s",
          requireDocumentation: false,
          blockedTopics: ["religion", "pricing"],
          allowedDomains: [],
        },
      },
    )
    expect(e.constraints).toEqual({
      maxResponseTokens: 500,
      maxToolCalls: 2,
      maxKnowledgeQueries: 3,
      responseTimeout: "10s",
      requireDocumentation: true,
      blockedTopics: ["politics", "religion", "pricing"],
      allowedDomains: ["a.example"],
    })
    const child = merge(
      { constraints: { allowedDomains: ["a.example"] } },
      { constraints: { allowedDomains: ["b.example"] } },
    )
    expect(child.constraints?.allowedDomains).toEqual(["b.example"])
    expect(merge({}, { constraints: { requireDocumentation: true } }).constraints?.requireDocumentation).toBe(
      true,
    )
    expect(merge({ constraints: { maxToolCalls: 1 } }, {}).constraints).toEqual({
      maxToolCalls: 1,
      requireDocumentation: false,
    })
  })

  it("metadata: map merge, the child wins", () => {
    expect(
      merge({ metadata: { team: "core", tier: "1" } }, { metadata: { team: "support" } }).metadata,
    ).toEqual({
      team: "support",
      tier: "1",
    })
    expect(merge({}, {}).metadata).toBeUndefined()
  })

  it("version: the child's (absent when the child has none)", () => {
    expect(merge({ version: "1" }, { version: "2" }).version).toBe("2")
    expect(merge({ version: "1" }, {}).version).toBeUndefined()
  })

  it("parentPersona: dropped", () => {
    expect("parentPersona" in merge({}, {})).toBe(false)
  })
})

describe("effectiveKnowledgeSources", () => {
  it("lists the effective sources in merge order with the persona that declared each", () => {
    const root = persona(
      "root",
      {
        knowledgeSources: [
          { name: "docs", type: "document" },
          { name: "kb", type: "document" },
        ],
      },
      { namespace: "lib" },
    )
    const leaf = persona("leaf", {
      parentPersona: { name: "root", namespace: "lib" },
      knowledgeSources: [{ name: "kb", type: "database" }],
    })
    expect(
      effectiveKnowledgeSources([root, leaf]).map(
        (e) => `${e.source.name}:${e.source.type}@${e.declaredBy.namespace}/${e.declaredBy.name}`,
      ),
    ).toEqual(["docs:document@lib/root", "kb:database@ns/leaf"])
  })
})
