import { describe, expect, it } from "vitest"
import { allKinds } from "../../../src/api/index.ts"
import { Affinity } from "../../../src/api/k8s/index.ts"
import { crdFor, openApiSchemaOf } from "../../../src/crd/generate.ts"
import type { JsonSchema } from "../../../src/crd/structural.ts"
import {
  firstSentence,
  MAX_UPSTREAM_SENTENCE,
  shortUpstreamDescription,
  trimUpstreamDescriptions,
  upstreamDescriptions,
} from "../../../src/crd/upstream.ts"

// Client-side `kubectl apply` stores the whole object in an annotation, and all annotations together may
// not exceed 256 KiB; half of that leaves room for the CRDs to grow before plain `apply -k` breaks.
const LIMIT = 128 * 1024

type Node = {
  readonly description?: string
  readonly properties?: Record<string, Node>
  readonly items?: Node
}

const at = (schema: unknown, path: string): Node =>
  path
    .split(".")
    .reduce<Node>(
      (node, key) => (key === "[]" ? (node.items ?? {}) : (node.properties?.[key] ?? {})),
      schema as Node,
    )

const openApi = (kind: string): JsonSchema => {
  const definition = allKinds.find((k) => k.kind === kind)
  if (definition === undefined) throw new Error(kind)
  return crdFor(definition).spec.versions[0]?.schema.openAPIV3Schema as JsonSchema
}

const descriptions = (node: unknown): Array<string> =>
  Array.isArray(node)
    ? node.flatMap(descriptions)
    : typeof node === "object" && node !== null
      ? Object.entries(node).flatMap(([k, v]) =>
          k === "description" && typeof v === "string" ? [v] : descriptions(v),
        )
      : []

describe("CRD size", () => {
  it.each(allKinds.map((k) => [k.kind, k] as const))("%s stays under 128 KiB as JSON", (_kind, k) => {
    expect(JSON.stringify(crdFor(k)).length).toBeLessThan(LIMIT)
  })
})

describe("upstream descriptions in the CRDs", () => {
  it("keeps every description written in src/api/ whole", () => {
    const agent = openApi("LanguageAgent")
    expect(at(agent, "spec.modelRefs").description).toBe(
      (openApiSchemaOf(allKinds.find((k) => k.kind === "LanguageAgent")?.spec ?? Affinity) as Node).properties
        ?.modelRefs?.description,
    )
    expect(at(openApi("LanguageClient"), "spec.affinity").description).toBe("Affinity of the pods.")
  })

  it("shortens an embedded type's field to its first sentence, or drops it when that is long", () => {
    const client = openApi("LanguageClient")
    const key = at(
      client,
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.[].matchExpressions.[].key",
    )
    expect(key.description).toBe("The label key that the selector applies to.")
    const preferred = at(client, "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution")
    expect(preferred.description).toBeUndefined()
    // The field itself is still there, so `kubectl explain` shows it with its type.
    expect(preferred.items?.properties?.weight).toBeDefined()
  })

  it("leaves no upstream description longer than one short sentence in any CRD", () => {
    for (const k of allKinds)
      for (const text of descriptions(crdFor(k)))
        if (upstreamDescriptions.has(text)) {
          expect(text.length, `${k.kind}: ${text}`).toBeLessThanOrEqual(MAX_UPSTREAM_SENTENCE)
          expect(firstSentence(text)).toBe(text)
        }
  })

  it("trims only texts it knows as upstream's, and never inside defaults, enums or rules", () => {
    const upstream = new Set(["Upstream says this. And more.", "x"])
    const schema: JsonSchema = {
      description: "Ours. Two sentences.",
      properties: {
        a: { type: "string", description: "Upstream says this. And more." },
        description: { type: "object", description: "x", default: { description: "x" } },
      },
    }
    expect(trimUpstreamDescriptions(schema, upstream)).toEqual({
      description: "Ours. Two sentences.",
      properties: {
        a: { type: "string", description: "Upstream says this." },
        description: { type: "object", description: "x", default: { description: "x" } },
      },
    })
    expect(schema.properties).toMatchObject({ a: { description: "Upstream says this. And more." } })
  })
})

describe("firstSentence", () => {
  it.each([
    ["One. Two.", "One."],
    ["fsType, e.g. ext4. More.", "fsType, e.g. ext4."],
    ["Ex. ntfs is fine. More.", "Ex. ntfs is fine."],
    ["First line\nsecond line.", "First line"],
    ["Version 1.2 is meant. Next.", "Version 1.2 is meant."],
    ["No period", "No period"],
  ])("%j → %j", (text, expected) => {
    expect(firstSentence(text)).toBe(expected)
  })

  it("drops a first sentence over the limit instead of cutting it", () => {
    expect(shortUpstreamDescription(`${"a".repeat(MAX_UPSTREAM_SENTENCE)}. b`)).toBeUndefined()
    expect(shortUpstreamDescription("Short. Long tail.")).toBe("Short.")
  })
})
