// Persona fixtures for the languagepersona unit tests: specs are decoded with the API schema, so schema
// defaults (rule priority/enabled, toolPreferences.strategy, …) are filled exactly as in the cache.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { Schema } from "effect"
import { parse } from "yaml"
import {
  LanguagePersona,
  type LanguagePersonaSpec,
  LanguagePersonaSpec as SpecSchema,
} from "../../../../src/api/languagepersona.ts"

const decodeSpec = Schema.decodeUnknownSync(SpecSchema)
const decodePersona = Schema.decodeUnknownSync(LanguagePersona)

export const base = {
  displayName: "Base",
  description: "Base persona.",
  systemPrompt: "You are a helpful assistant.",
}

/** A decoded spec: `base` plus `fields`. */
export const spec = (fields: Record<string, unknown> = {}): LanguagePersonaSpec =>
  decodeSpec({ ...base, ...fields })

/** A decoded persona `namespace/name` with `base` plus `fields` as spec. */
export const persona = (
  name: string,
  fields: Record<string, unknown> = {},
  options: { readonly namespace?: string; readonly uid?: string; readonly generation?: number } = {},
): LanguagePersona =>
  decodePersona({
    apiVersion: "langop.io/v1alpha1",
    kind: "LanguagePersona",
    metadata: {
      name,
      namespace: options.namespace ?? "ns",
      uid: options.uid ?? `uid-${name}`,
      generation: options.generation ?? 1,
      resourceVersion: "1",
    },
    spec: { ...base, ...fields },
  })

/** `persona(name, {parentPersona: {name: parent}})` */
export const child = (name: string, parent: string, fields: Record<string, unknown> = {}) =>
  persona(name, { ...fields, parentPersona: { name: parent } })

/** A lookup over a fixed set of personas (what the cache would answer). */
export const lookupOf =
  (...personas: ReadonlyArray<LanguagePersona>) =>
  (key: { readonly namespace: string; readonly name: string }) =>
    personas.find((p) => p.metadata.namespace === key.namespace && p.metadata.name === key.name)

const examplesDir = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "examples")

/** A deploy/examples persona, decoded, in namespace `ns`. */
export const examplePersona = (file: string): LanguagePersona => {
  const raw = parse(readFileSync(join(examplesDir, file), "utf8")) as {
    readonly metadata: Record<string, unknown>
  }
  return decodePersona({ ...raw, metadata: { ...raw.metadata, namespace: "ns", uid: `uid-${file}` } })
}
