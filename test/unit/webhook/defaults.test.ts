import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { applyDefaults, defaultsMarkdown, webhookDefaults } from "../../../src/webhook/defaults.ts"
import { langopKinds } from "../../../src/webhook/handlers.ts"

const readme = readFileSync(join(import.meta.dirname, "..", "..", "..", "README.md"), "utf8")
const BEGIN = "<!-- webhook-defaults:begin (generated from src/webhook/defaults.ts) -->"
const END = "<!-- webhook-defaults:end -->"

describe("the webhook defaults table", () => {
  it("is what README.md shows (regenerate the section from defaultsMarkdown() when this fails)", () => {
    const start = readme.indexOf(BEGIN)
    const end = readme.indexOf(END)
    expect(start).toBeGreaterThan(-1)
    expect(end).toBeGreaterThan(start)
    expect(readme.slice(start + BEGIN.length, end).trim()).toBe(defaultsMarkdown())
  })

  it("names only our kinds, with paths under spec", () => {
    for (const d of webhookDefaults) {
      expect(langopKinds).toContain(d.kind)
      expect(d.field).toMatch(/^spec\./u)
    }
  })

  it("never creates a parent object or touches values of other types", () => {
    const object = {
      spec: {
        modelRefs: ["gpt", null, { name: "x", namespace: "kept" }],
        personaRef: "p",
        egress: [{ to: {} }],
      },
    }
    expect(applyDefaults("LanguageAgent", object, "team")).toEqual(object)
  })

  it("returns a copy", () => {
    const object = { spec: { personaRef: { name: "p" } } }
    const result = applyDefaults("LanguageAgent", object, "team")
    expect(object.spec.personaRef).toEqual({ name: "p" })
    expect(result).toEqual({ spec: { personaRef: { name: "p", namespace: "team" } } })
  })

  it("applies conditional defaults only when the condition holds", () => {
    expect(applyDefaults("LanguagePersona", { spec: { parentPersona: null } }, "t")).toEqual({
      spec: { parentPersona: null, tone: "professional", language: "en" },
    })
    expect(applyDefaults("LanguagePersona", { spec: { parentPersona: { name: "p" } } }, "t")).toEqual({
      spec: { parentPersona: { name: "p", namespace: "t" } },
    })
  })
})
