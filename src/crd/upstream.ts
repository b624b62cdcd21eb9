/**
 * Shortens the descriptions our CRDs inherit from embedded upstream Kubernetes types (src/api/k8s/).
 *
 * Why: client-side `kubectl apply` keeps the whole object in the `last-applied-configuration` annotation,
 * and all annotations of an object together may not exceed 256 KiB. Upstream descriptions of Volume,
 * Affinity, SecurityContext and friends are most of a CRD's size (LanguageClient was 230 KB as JSON),
 * so one more embedded field would have broken `kubectl apply -k deploy/`. controller-gen solves the same
 * problem with `crd:maxDescLen`; we keep the *first sentence* of an upstream description when it is short
 * (see MAX_UPSTREAM_SENTENCE) and drop the rest, so `kubectl explain` still defines most embedded fields
 * in one line, and the full text stays one `kubectl explain pod.spec.<field>` away. Descriptions written
 * in src/api/ are never touched.
 *
 * Guarantees: pure and deterministic; a description is treated as upstream's only when it is exactly the
 * text of a description in the generated upstream schemas, so every description we wrote (including one
 * that overrides an embedded type's) is kept whole.
 */
import { Schema } from "effect"
import * as Upstream from "../api/k8s/generated.ts"
import type { JsonSchema } from "./structural.ts"

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const collect = (node: unknown, into: Set<string>): void => {
  if (Array.isArray(node)) for (const item of node) collect(item, into)
  else if (isObject(node))
    for (const [key, value] of Object.entries(node)) {
      if (key === "description" && typeof value === "string") into.add(value)
      else collect(value, into)
    }
}

/** Every description text of the generated upstream Kubernetes schemas. */
export const upstreamDescriptions: ReadonlySet<string> = (() => {
  const texts = new Set<string>()
  for (const name of Object.keys(Upstream.DEFINITIONS)) {
    const schema = (Upstream as unknown as Record<string, Schema.Top>)[name]
    if (schema === undefined) throw new Error(`src/api/k8s/generated.ts lists ${name} but does not export it`)
    collect(Schema.toJsonSchemaDocument(schema, { referencePolicy: () => undefined }), texts)
  }
  return texts
})()

// Abbreviations upstream writes mid-sentence ("e.g. ext4", "Ex. ntfs"): a period after them ends nothing.
const ABBREVIATION = /(?:\be\.g|\bi\.e|\betc|\bEx|\bvs)\.$/u

/**
 * The first sentence of `text`: up to the first `.` followed by whitespace that does not end an
 * abbreviation, or the first line break, whichever comes first; the whole text when neither occurs.
 */
export const firstSentence = (text: string): string => {
  const line = text.split("\n")[0]?.trim() ?? ""
  for (const match of line.matchAll(/\.\s/gu)) {
    const end = (match.index ?? 0) + 1
    if (!ABBREVIATION.test(line.slice(0, end))) return line.slice(0, end)
  }
  return line
}

/**
 * Longest first sentence kept. Short first sentences define the field ("key is the label key that the
 * selector applies to."); longer ones are prose whose cost decides the size (LanguageClient: 138 KB with
 * every first sentence, 112 KB with this limit, 86 KB with none), and a cut sentence would mislead.
 */
export const MAX_UPSTREAM_SENTENCE = 80

/** What is left of an upstream description: its first sentence when short enough, else nothing. */
export const shortUpstreamDescription = (text: string): string | undefined => {
  const sentence = firstSentence(text)
  return sentence !== "" && sentence.length <= MAX_UPSTREAM_SENTENCE ? sentence : undefined
}

/** `schema` with every upstream description shortened or removed (a new object; input untouched). */
export const trimUpstreamDescriptions = (
  schema: JsonSchema,
  upstream: ReadonlySet<string> = upstreamDescriptions,
): JsonSchema => {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!isObject(node)) return node
    return Object.fromEntries(
      Object.entries(node).flatMap(([key, value]): Array<[string, unknown]> => {
        if (key === "description" && typeof value === "string" && upstream.has(value)) {
          const short = shortUpstreamDescription(value)
          return short === undefined ? [] : [[key, short]]
        }
        // `default`, `enum` and CEL rules hold data, not schemas: never rewrite inside them.
        return [
          [
            key,
            key === "default" || key === "enum" || key === "x-kubernetes-validations" ? value : walk(value),
          ],
        ]
      }),
    )
  }
  return walk(schema) as JsonSchema
}
