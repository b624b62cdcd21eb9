/**
 * The API reference under `docs/reference/`, one page per kind, generated from the same CRD objects that
 * `npm run crds` writes (so from the Effect Schemas in `src/api/`): every field path of `spec` and `status`
 * with its type, default, bounds, CEL rules and description. Embedded Kubernetes types (EnvVar, Probe, …)
 * are named, not expanded: `kubectl explain` and the Kubernetes API reference describe them.
 *
 * `npm run docs` writes the pages; `npm run docs:check` (part of `npm test`) fails when they are stale.
 */
import { Schema } from "effect"
import { allKinds } from "../api/index.ts"
import * as K8s from "../api/k8s/generated.ts"
import { DEFINITIONS } from "../api/k8s/generated.ts"
import type { KindDefinition } from "../api/shared.ts"
import { crdFor, openApiSchemaOf } from "../crd/generate.ts"
import type { JsonSchema } from "../crd/structural.ts"

type Kind = KindDefinition<Schema.Top, Schema.Top>

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A schema with every `description` removed, as a comparable string (descriptions may be overridden per field). */
const shape = (schema: unknown): string =>
  JSON.stringify(schema, (key, value) => (key === "description" ? undefined : value))

/** Shape of each embedded upstream type → its OpenAPI definition name (e.g. `io.k8s.api.core.v1.EnvVar`). */
const embeddedTypes = (): ReadonlyMap<string, string> => {
  const byShape = new Map<string, string>()
  const exports = K8s as unknown as Record<string, unknown>
  for (const [name, definition] of Object.entries(DEFINITIONS)) {
    const schema = exports[name]
    if (Schema.isSchema(schema)) byShape.set(shape(openApiSchemaOf(schema)), definition)
  }
  return byShape
}

export interface FieldRow {
  readonly path: string
  readonly type: string
  readonly constraints: ReadonlyArray<string>
  readonly description: string
}

const code = (value: unknown) => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``

const typeOf = (schema: JsonSchema, embedded: ReadonlyMap<string, string>): string => {
  const upstream = embedded.get(shape(schema))
  if (upstream !== undefined) return upstream.replace(/^io\.k8s\.(api\.)?/, "")
  if (schema["x-kubernetes-int-or-string"] === true) return "int-or-string"
  const type = schema.type
  if (type === "array" && isObject(schema.items)) return `[]${typeOf(schema.items, embedded)}`
  if (type === "object" && isObject(schema.additionalProperties))
    return `map[string]${typeOf(schema.additionalProperties, embedded)}`
  if (type === "object" && schema["x-kubernetes-preserve-unknown-fields"] === true)
    return "object (free-form)"
  if (typeof type === "string") return typeof schema.format === "string" ? `${type} (${schema.format})` : type
  return "any"
}

const constraintsOf = (schema: JsonSchema, required: boolean): string[] => {
  const out: string[] = []
  if (required) out.push("required")
  if (schema.default !== undefined) out.push(`default ${code(schema.default)}`)
  if (Array.isArray(schema.enum)) out.push(`one of ${schema.enum.map(code).join(", ")}`)
  // The int32/int64 range of a formatted integer says nothing the type does not already say.
  const implied = new Set([2 ** 31 - 1, -(2 ** 31), 2 ** 63, -(2 ** 63)])
  const bound = (key: string, label: string) => {
    const value = schema[key]
    if (typeof value === "number" && !(typeof schema.format === "string" && implied.has(value)))
      out.push(`${label} ${value}`)
  }
  bound("minimum", schema.exclusiveMinimum === true ? ">" : "≥")
  bound("maximum", schema.exclusiveMaximum === true ? "<" : "≤")
  bound("minLength", "length ≥")
  bound("maxLength", "length ≤")
  bound("minItems", "items ≥")
  bound("maxItems", "items ≤")
  bound("minProperties", "entries ≥")
  bound("maxProperties", "entries ≤")
  if (typeof schema.pattern === "string") out.push(`pattern ${code(schema.pattern)}`)
  if (Array.isArray(schema["x-kubernetes-list-map-keys"]))
    out.push(`list keyed by ${schema["x-kubernetes-list-map-keys"].map(code).join(", ")}`)
  if (schema["x-kubernetes-list-type"] === "set") out.push("unique items")
  for (const rule of Array.isArray(schema["x-kubernetes-validations"])
    ? schema["x-kubernetes-validations"]
    : [])
    if (isObject(rule)) out.push(`rule: ${typeof rule.message === "string" ? rule.message : code(rule.rule)}`)
  return out
}

/** Every field under `schema`, depth first in declaration order; embedded upstream types are not expanded. */
export const fieldRows = (
  schema: JsonSchema,
  path: string,
  embedded: ReadonlyMap<string, string> = embeddedTypes(),
): FieldRow[] => {
  const rows: FieldRow[] = []
  const visit = (node: JsonSchema, at: string, required: boolean, top: boolean) => {
    if (!top)
      rows.push({
        path: at,
        type: typeOf(node, embedded),
        constraints: constraintsOf(node, required),
        description: typeof node.description === "string" ? node.description : "",
      })
    if (embedded.has(shape(node))) return
    if (node.type === "array" && isObject(node.items)) {
      const items = node.items
      if (!embedded.has(shape(items)) && isObject(items.properties)) visit(items, `${at}[]`, false, true)
      return
    }
    if (node.type === "object" && isObject(node.additionalProperties)) {
      const values = node.additionalProperties
      if (!embedded.has(shape(values)) && isObject(values.properties)) visit(values, `${at}{}`, false, true)
      return
    }
    if (!isObject(node.properties)) return
    const requiredKeys = new Set(Array.isArray(node.required) ? node.required : [])
    for (const [key, child] of Object.entries(node.properties))
      if (isObject(child)) visit(child, `${at}.${key}`, requiredKeys.has(key), false)
  }
  visit(schema, path, false, true)
  return rows
}

const cell = (text: string) =>
  text
    .replaceAll("|", "\\|")
    .replaceAll(/\s*\n\s*/g, " ")
    .trim()

const table = (rows: ReadonlyArray<FieldRow>) =>
  [
    "| Field | Type | Rules | Description |",
    "|---|---|---|---|",
    ...rows.map(
      (row) =>
        `| \`${row.path}\` | ${cell(row.type)} | ${cell(row.constraints.join("; "))} | ${cell(row.description)} |`,
    ),
  ].join("\n")

/** Markdown of one kind's reference page. */
export const referencePage = (kind: Kind): string => {
  const crd = crdFor(kind)
  const version = crd.spec.versions[0]
  const root = version?.schema.openAPIV3Schema
  const properties = isObject(root?.properties) ? root.properties : {}
  const embedded = embeddedTypes()
  const section = (name: "spec" | "status") => {
    const schema = properties[name]
    return isObject(schema) ? table(fieldRows(schema, name, embedded)) : "(none)"
  }
  const columns = (version?.additionalPrinterColumns ?? []).map(
    (column) => `| ${column.name} | \`${column.jsonPath}\` | ${cell(column.description ?? "")} |`,
  )
  return [
    `<!-- Generated by \`npm run docs\` from src/api/${kind.singular}.ts. Do not edit. -->`,
    `# ${kind.kind} API reference`,
    "",
    cell(kind.description),
    "",
    "| | |",
    "|---|---|",
    `| apiVersion | \`${crd.spec.group}/${version?.name ?? ""}\` |`,
    `| scope | ${kind.scope} |`,
    `| plural / singular | \`${kind.plural}\` / \`${kind.singular}\` |`,
    `| short names | ${kind.shortNames.length > 0 ? kind.shortNames.map(code).join(", ") : "(none)"} |`,
    "| category | `langop` (`kubectl get langop -A` lists every kind) |",
    "",
    `What the operator does with these fields: [the ${kind.kind} guide](../${kind.singular}.md).`,
    "Embedded Kubernetes types are named by their API type (`core.v1.EnvVar` is `io.k8s.api.core.v1.EnvVar`); `kubectl explain` shows their fields.",
    "",
    "## Printer columns",
    "",
    "| Column | JSON path | Description |",
    "|---|---|---|",
    ...columns,
    "",
    "## spec",
    "",
    section("spec"),
    "",
    "## status",
    "",
    section("status"),
    "",
  ].join("\n")
}

/** Every generated page: path relative to the repository root → content. */
export const referencePages = (): ReadonlyMap<string, string> =>
  new Map(allKinds.map((kind) => [`docs/reference/${kind.singular}.md`, referencePage(kind)]))
