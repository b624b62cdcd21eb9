import { describe, expect, it } from "vitest"
import {
  closureOf,
  type Definitions,
  exportNames,
  generate,
  sourceOf,
} from "../../../src/api/k8s/generate.ts"

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const source = { module: "k8s.io/kubernetes", version: "v0.0.0-test" }

/** A miniature upstream: allOf wrappers with defaults, a recursion, a short-name clash, an enum. */
const definitions: Definitions = {
  "io.k8s.api.core.v1.Pod": {
    description: "Pod.",
    type: "object",
    required: ["spec"],
    properties: {
      spec: { allOf: [ref("io.k8s.api.core.v1.Node")], default: {}, description: "The spec." },
      status: { allOf: [ref("io.k8s.api.core.v1.Status")], description: "Core status." },
      meta: { allOf: [ref("io.k8s.apimachinery.pkg.apis.meta.v1.Status")] },
      phase: { type: "string", enum: ["Pending", "Running"] },
      port: { allOf: [ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString")], description: "Port." },
      items: {
        type: "array",
        items: ref("io.k8s.api.core.v1.Status"),
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["code"],
        "x-kubernetes-patch-strategy": "merge",
      },
    },
  },
  "io.k8s.api.core.v1.Node": {
    type: "object",
    properties: {
      children: { type: "array", items: ref("io.k8s.api.core.v1.Node") },
      labels: { type: "object", additionalProperties: { type: "string" } },
      weight: { type: "integer", format: "int32", default: 1 },
    },
  },
  "io.k8s.api.core.v1.Status": { type: "object", properties: { code: { type: "integer", format: "int64" } } },
  "io.k8s.apimachinery.pkg.apis.meta.v1.Status": {
    type: "object",
    "x-kubernetes-map-type": "atomic",
    properties: {},
  },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
    format: "int-or-string",
    oneOf: [{ type: "integer" }, { type: "string" }],
  },
  "io.k8s.api.core.v1.Unused": { type: "object", properties: {} },
}
const roots = ["io.k8s.api.core.v1.Pod"]

describe("generator", () => {
  it("emits the closure in dependency order and cuts the recursion", () => {
    const { order, cuts } = closureOf(definitions, roots)
    expect(order).toEqual([
      "io.k8s.api.core.v1.Node",
      "io.k8s.api.core.v1.Status",
      "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
      "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
      "io.k8s.api.core.v1.Pod",
    ])
    expect([...cuts]).toEqual(["io.k8s.api.core.v1.Node -> io.k8s.api.core.v1.Node"])
  })

  it("prefixes clashing short names with their package", () => {
    const names = exportNames(closureOf(definitions, roots).order)
    expect(names.get("io.k8s.api.core.v1.Status")).toBe("CoreV1Status")
    expect(names.get("io.k8s.apimachinery.pkg.apis.meta.v1.Status")).toBe("MetaV1Status")
    expect(names.get("io.k8s.api.core.v1.Pod")).toBe("Pod")
  })

  it("writes structs, optional keys, markers, defaults and enums; drops patch markers", () => {
    const text = generate(definitions, roots, source)
    expect(text).toContain(
      "// k8s.io/kubernetes v0.0.0-test. Do not edit; regenerate with `npm run gen:k8s`.",
    )
    expect(text).toContain("export const IntOrString = P.intOrString")
    expect(text).toContain("export type Pod = typeof Pod.Type")
    expect(text).toContain("children: Schema.optionalKey(Schema.Array(P.freeFormObject)),")
    expect(text).toContain('spec: Node.annotate({\n    description: "The spec.",\n  }),')
    expect(text).toContain('phase: Schema.optionalKey(Schema.Literals(["Pending","Running"])),')
    expect(text).toContain('"x-kubernetes-list-map-keys": ["code"],')
    expect(text).toContain('"x-kubernetes-map-type": "atomic"')
    expect(text).toContain("weight: Schema.optionalKey(P.int32.annotate({\n    default: 1,")
    expect(text).not.toContain("patch-strategy")
    expect(text).not.toContain("Unused")
  })

  it("is deterministic regardless of the documents' key order", () => {
    const reversed = Object.fromEntries(Object.entries(definitions).reverse())
    expect(generate(reversed, roots, source)).toBe(generate(definitions, roots, source))
  })

  it("fails loudly on what it does not understand", () => {
    const bad = {
      ...definitions,
      "io.k8s.api.core.v1.Status": { type: "object", properties: { x: { type: "null" } } },
    }
    expect(() => generate(bad, roots, source)).toThrow(/unsupported schema/)
    expect(() => generate(definitions, ["io.k8s.api.core.v1.Missing"], source)).toThrow(/not found/)
  })

  it("reads module and version from the module cache path", () => {
    expect(sourceOf("/root/go/pkg/mod/k8s.io/kubernetes@v1.37.2/api/openapi-spec/v3")).toEqual({
      module: "k8s.io/kubernetes",
      version: "v1.37.2",
    })
    expect(() => sourceOf("/tmp/spec")).toThrow(/cannot tell/)
  })
})
