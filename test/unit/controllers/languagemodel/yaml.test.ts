import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { toYaml, yamlNumber } from "../../../../src/controllers/languagemodel/yaml.ts"

// YAML 1.1 is what LiteLLM's PyYAML implements: the hazards this emitter avoids only exist there.
const read11 = (text: string): unknown => parse(text, { version: "1.1" })

describe("toYaml", () => {
  it("writes nested maps and lists in block style, strings double-quoted", () => {
    expect(toYaml({ a: { b: [1, "x"], c: [{ d: true, e: null }] } })).toBe(
      ["a:", "  b:", "    - 1", '    - "x"', "  c:", "    - d: true", "      e: null", ""].join("\n"),
    )
  })

  it("drops undefined members and writes empty collections inline", () => {
    expect(toYaml({ a: undefined, b: {}, c: [], d: { e: undefined } })).toBe("b: {}\nc: []\nd: {}\n")
  })

  it("quotes keys that are not plain identifiers or that YAML 1.1 would read as booleans", () => {
    const text = toYaml({ on: 1, "llama3.2:3b": 2, "a b": 3, plain_key: 4, "fallback/x": 5 })
    expect(text).toBe('"on": 1\n"llama3.2:3b": 2\n"a b": 3\nplain_key: 4\nfallback/x: 5\n')
    expect(read11(text)).toEqual({ on: 1, "llama3.2:3b": 2, "a b": 3, plain_key: 4, "fallback/x": 5 })
  })

  it.each([
    ["yes"],
    ["on"],
    ["2025-01-01"],
    ["1e3"],
    ["0x1F"],
    ["~"],
    ['quote " and \\ backslash'],
    ["line\nbreak"],
    ["µs ünïcode"],
  ])("keeps the string %j a string for a YAML 1.1 reader", (s) => {
    expect(read11(toYaml({ v: s }))).toEqual({ v: s })
  })

  it.each([
    [0, "0"],
    [42, "42"],
    [-3, "-3"],
    [0.5, "0.5"],
    [1.5e-7, "1.5e-7"],
    [1e-7, "1.0e-7"],
    [6e-7, "6.0e-7"],
    [1e21, "1.0e+21"],
  ])("writes the number %d as %s, read back as the same number", (n, text) => {
    expect(yamlNumber(n)).toBe(text)
    expect(read11(toYaml({ v: n }))).toEqual({ v: n })
  })

  it("rejects non-finite numbers", () => {
    expect(() => yamlNumber(Number.NaN)).toThrow(RangeError)
  })

  it("is byte-stable for equal input and follows insertion order", () => {
    const value = { z: 1, a: [{ y: "1", b: "2" }] }
    expect(toYaml(value)).toBe(toYaml(JSON.parse(JSON.stringify(value))))
    expect(toYaml(value).indexOf("z:")).toBeLessThan(toYaml(value).indexOf("a:"))
  })
})
