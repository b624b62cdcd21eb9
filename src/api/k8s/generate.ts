/**
 * Generates `src/api/k8s/generated.ts`: Effect Schemas for the upstream Kubernetes types our kinds embed,
 * from the OpenAPI v3 documents shipped in the `k8s.io/kubernetes` Go module (`api/openapi-spec/v3`).
 *
 *   node src/api/k8s/generate.ts <openapi-v3-dir> [--check]      (npm run gen:k8s [-- --check])
 *
 * Guarantees:
 * - output depends only on the documents and `roots.ts`: definitions are emitted in dependency order
 *   with alphabetical tie-breaks, properties alphabetically, so regenerating is byte-for-byte stable;
 * - every definition in the transitive closure of `ROOTS` becomes `export const <ShortName>` plus
 *   `export type <ShortName>`; a short name used by two packages gets a package prefix (`MetaV1Status`);
 * - upstream markers are copied as annotations under their OpenAPI key (`description`, `default`,
 *   `format`, `x-kubernetes-list-type`, `-list-map-keys`, `-map-type`, `-int-or-string`,
 *   `-preserve-unknown-fields`); `x-kubernetes-patch-*` and `-unions` (not valid in CRDs) are dropped;
 * - a recursive reference is cut: the inner occurrence becomes a free-form object (reported on stderr);
 * - anything the generator does not understand is an error, never a silent approximation.
 * `--check` exits 1 when the committed file differs from what would be generated.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { OPAQUE, PRIMITIVES, ROOTS } from "./roots.ts"

export interface OpenApiSchema {
  readonly type?: string
  readonly format?: string
  readonly description?: string
  readonly default?: unknown
  readonly enum?: ReadonlyArray<string | number | boolean>
  readonly properties?: Readonly<Record<string, OpenApiSchema>>
  readonly required?: ReadonlyArray<string>
  readonly items?: OpenApiSchema
  readonly additionalProperties?: OpenApiSchema | boolean
  readonly allOf?: ReadonlyArray<OpenApiSchema>
  readonly $ref?: string
  readonly [key: string]: unknown
}
export type Definitions = Readonly<Record<string, OpenApiSchema>>

/** Markers copied from OpenAPI to Effect annotations, in output order. */
const MARKERS = [
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-preserve-unknown-fields",
] as const

const REF_PREFIX = "#/components/schemas/"

/** Merges `components.schemas` of every document; a name defined differently by two documents is remembered. */
export const loadDefinitions = (
  dir: string,
): { definitions: Definitions; conflicts: ReadonlySet<string> } => {
  const definitions: Record<string, OpenApiSchema> = {}
  const conflicts = new Set<string>()
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith("_openapi.json"))
    .sort()) {
    const document = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
      components?: { schemas?: Record<string, OpenApiSchema> }
    }
    for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
      const known = definitions[name]
      if (known === undefined) definitions[name] = schema
      else if (JSON.stringify(known) !== JSON.stringify(schema)) conflicts.add(name)
    }
  }
  return { definitions, conflicts }
}

/** The definition a property points at: a bare `$ref`, or upstream's `allOf: [{$ref}]` wrapper. */
const refOf = (schema: OpenApiSchema): string | undefined => {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined)
  if (ref === undefined) {
    if (schema.allOf !== undefined) throw new Error(`unsupported allOf: ${JSON.stringify(schema.allOf)}`)
    return undefined
  }
  if (!ref.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${ref}`)
  return ref.slice(REF_PREFIX.length)
}

/** Definitions referenced directly by `schema`, in property order. */
const refsIn = (schema: OpenApiSchema): ReadonlyArray<string> => {
  const ref = refOf(schema)
  if (ref !== undefined) return [ref]
  const properties = schema.properties ?? {}
  const nested: Array<OpenApiSchema> = [
    ...(schema.items === undefined ? [] : [schema.items]),
    ...(typeof schema.additionalProperties === "object" ? [schema.additionalProperties] : []),
    ...Object.keys(properties)
      .sort()
      .map((key) => properties[key] ?? {}),
  ]
  return nested.flatMap(refsIn)
}

const isLeaf = (name: string) => name in OPAQUE || name in PRIMITIVES

export interface Closure {
  /** Every definition to emit, in emission order (dependencies first). */
  readonly order: ReadonlyArray<string>
  /** Cut recursive references as `from -> to`. */
  readonly cuts: ReadonlySet<string>
}

/** Depth-first closure from `roots`; a reference back into the current path is recorded as a cut. */
export const closureOf = (definitions: Definitions, roots: ReadonlyArray<string>): Closure => {
  const deps = new Map<string, Set<string>>()
  const cuts = new Set<string>()
  const onPath = new Set<string>()
  const visit = (name: string): void => {
    if (deps.has(name)) return
    const schema = definitions[name]
    if (schema === undefined) throw new Error(`definition ${name} not found`)
    const own = new Set<string>()
    deps.set(name, own)
    if (isLeaf(name)) return
    onPath.add(name)
    for (const ref of refsIn(schema)) {
      if (onPath.has(ref)) cuts.add(`${name} -> ${ref}`)
      else {
        own.add(ref)
        visit(ref)
      }
    }
    onPath.delete(name)
  }
  for (const root of [...roots].sort()) visit(root)
  // Kahn's algorithm, always taking the alphabetically first ready definition.
  const order: Array<string> = []
  const pending = new Set(deps.keys())
  while (pending.size > 0) {
    const ready = [...pending].filter((n) => [...(deps.get(n) ?? [])].every((d) => !pending.has(d))).sort()
    const next = ready[0]
    if (next === undefined) throw new Error(`dependency cycle among ${[...pending].join(", ")}`)
    order.push(next)
    pending.delete(next)
  }
  return { order, cuts }
}

const shortName = (name: string) => name.slice(name.lastIndexOf(".") + 1)
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

/** Short export names; on a clash every clashing definition gets its two package segments (`CoreV1`). */
export const exportNames = (names: ReadonlyArray<string>): ReadonlyMap<string, string> => {
  const count = new Map<string, number>()
  for (const name of names) count.set(shortName(name), (count.get(shortName(name)) ?? 0) + 1)
  const reserved = new Set(["Schema", "P"])
  return new Map(
    names.map((name) => {
      const short = shortName(name)
      if ((count.get(short) ?? 0) === 1 && !reserved.has(short)) return [name, short]
      const segments = name.split(".")
      return [name, segments.slice(-3, -1).map(pascal).join("") + short]
    }),
  )
}

const literal = (value: unknown) => JSON.stringify(value)
const isZeroValue = (value: unknown) =>
  value === "" ||
  value === false ||
  value === 0 ||
  (typeof value === "object" && value !== null && Object.keys(value).length === 0)
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/u.test(k) ? k : literal(k))

/** Emits TypeScript for definitions of one closure (`names`: export names; `cuts`: recursion cuts). */
const makeEmitter = (names: ReadonlyMap<string, string>, cuts: ReadonlySet<string>) => {
  /** `.annotate({...})` with upstream's description, default, string format and markers ("" if none). */
  const annotations = (schema: OpenApiSchema, indent: string, withFormat: boolean): string => {
    const entries: Array<string> = []
    if (schema.description !== undefined) entries.push(`description: ${literal(schema.description)}`)
    // openapi-gen writes the zero value ("", false, 0, {}) as `default` for every non-pointer field. Those are
    // not API defaults: in a CRD they would turn a missing required field into a valid zero value, and `{}`
    // is rejected outright where the object has required fields (PodAffinityTerm). Keep only real
    // `+default=` markers, as controller-gen does.
    if (schema.default !== undefined && !isZeroValue(schema.default)) {
      const value = literal(schema.default)
      entries.push(`default: ${typeof schema.default === "object" ? `P.upstreamDefault(${value})` : value}`)
    }
    if (withFormat && schema.format !== undefined) entries.push(`format: ${literal(schema.format)}`)
    for (const marker of MARKERS)
      if (schema[marker] !== undefined) entries.push(`${literal(marker)}: ${literal(schema[marker])}`)
    if (entries.length === 0) return ""
    return `.annotate({\n${entries.map((e) => `${indent}  ${e},\n`).join("")}${indent}})`
  }

  /** The schema expression for a property, array item, map value or top-level definition. */
  const expression = (schema: OpenApiSchema, from: string, indent: string): string => {
    const ref = refOf(schema)
    if (ref !== undefined) {
      const base = cuts.has(`${from} -> ${ref}`) ? "P.freeFormObject" : names.get(ref)
      if (base === undefined) throw new Error(`${from}: ${ref} is outside the closure`)
      return base + annotations(schema, indent, false)
    }
    const here = (base: string, withFormat = false) => base + annotations(schema, indent, withFormat)
    switch (schema.type) {
      case "string":
        return here(
          schema.enum === undefined ? "Schema.String" : `Schema.Literals(${literal(schema.enum)})`,
          true,
        )
      case "boolean":
        return here("Schema.Boolean")
      case "integer":
        if (schema.format !== undefined && schema.format !== "int32" && schema.format !== "int64")
          throw new Error(`${from}: unsupported integer format ${schema.format}`)
        return here(schema.format === "int32" ? "P.int32" : "P.int64")
      case "number":
        if (schema.format !== undefined && schema.format !== "double")
          throw new Error(`${from}: unsupported number format ${schema.format}`)
        return here("P.number", true)
      case "array":
        if (schema.items === undefined) throw new Error(`${from}: array without items`)
        return here(`Schema.Array(${expression(schema.items, from, indent)})`)
      case "object":
        if (schema.properties !== undefined) return here(struct(schema, from, indent))
        if (typeof schema.additionalProperties === "object")
          return here(
            `Schema.Record(Schema.String, ${expression(schema.additionalProperties, from, indent)})`,
          )
        return here("P.freeFormObject")
      default:
        throw new Error(`${from}: unsupported schema ${JSON.stringify(schema).slice(0, 200)}`)
    }
  }

  const struct = (schema: OpenApiSchema, from: string, indent: string): string => {
    const properties = schema.properties ?? {}
    const required = new Set(schema.required ?? [])
    for (const name of required)
      if (!(name in properties)) throw new Error(`${from}: required ${name} is no property`)
    const inner = `${indent}  `
    const fields = Object.keys(properties)
      .sort()
      .map((name) => {
        const value = expression(properties[name] ?? {}, from, inner)
        return `${inner}${key(name)}: ${required.has(name) ? value : `Schema.optionalKey(${value})`},\n`
      })
    return `Schema.Struct({\n${fields.join("")}${indent}})`
  }

  const definition = (name: string, schema: OpenApiSchema): string => {
    const exported = names.get(name) ?? name
    const primitive = PRIMITIVES[name]
    const opaque = OPAQUE[name]
    const body =
      primitive !== undefined
        ? `P.${primitive}`
        : opaque !== undefined
          ? `P.${opaque}${annotations(schema.description === undefined ? {} : { description: schema.description }, "", false)}`
          : expression(schema, name, "")
    return `/** ${name} */\nexport const ${exported} = ${body}\nexport type ${exported} = typeof ${exported}.Type\n`
  }

  return { definition }
}

export interface Source {
  readonly module: string
  readonly version: string
}

/** The complete text of `generated.ts`. */
export const generate = (definitions: Definitions, roots: ReadonlyArray<string>, source: Source): string => {
  const { order, cuts } = closureOf(definitions, roots)
  const names = exportNames(order)
  const emitter = makeEmitter(names, cuts)
  const table = order.map((n) => `  ${key(names.get(n) ?? n)}: ${literal(n)},\n`).join("")
  return [
    `// Generated by src/api/k8s/generate.ts from the OpenAPI v3 documents (api/openapi-spec/v3) of\n`,
    `// ${source.module} ${source.version}. Do not edit; regenerate with \`npm run gen:k8s\`.\n`,
    `// Roots: ${[...roots].sort().map(shortName).join(", ")}.\n`,
    `// Closure: ${order.length} definitions.${cuts.size === 0 ? "" : ` Recursion cut (free-form object): ${[...cuts].join("; ")}.`}\n`,
    `import { Schema } from "effect"\nimport * as P from "./primitives.ts"\n\n`,
    `export const SOURCE = { module: ${literal(source.module)}, version: ${literal(source.version)} } as const\n\n`,
    `/** Export name -> upstream OpenAPI definition, for every schema in this file. */\n`,
    `export const DEFINITIONS = {\n${table}} as const\n\n`,
    order.map((name) => emitter.definition(name, definitions[name] ?? {})).join("\n"),
  ].join("")
}

/** `.../k8s.io/kubernetes@v1.37.2/api/openapi-spec/v3` -> the module and version. */
export const sourceOf = (dir: string): Source => {
  const match = /([^/\\]+\/[^/\\@]+)@(v[^/\\]+)[/\\]api[/\\]openapi-spec[/\\]v3[/\\]?$/u.exec(dir)
  if (match?.[1] === undefined || match[2] === undefined)
    throw new Error(
      `cannot tell module@version from ${dir} (expected <gomodcache>/k8s.io/kubernetes@vX/api/openapi-spec/v3)`,
    )
  return { module: match[1], version: match[2] }
}

const main = (args: ReadonlyArray<string>) => {
  const dir = args.find((a) => !a.startsWith("--"))
  if (dir === undefined) throw new Error("usage: node src/api/k8s/generate.ts <openapi-v3-dir> [--check]")
  const { definitions, conflicts } = loadDefinitions(dir)
  const { order, cuts } = closureOf(definitions, ROOTS)
  const conflicting = order.filter((n) => conflicts.has(n))
  if (conflicting.length > 0)
    throw new Error(`defined differently by two documents: ${conflicting.join(", ")}`)
  for (const cut of cuts)
    process.stderr.write(`recursion cut, inner reference is a free-form object: ${cut}\n`)
  const text = generate(definitions, ROOTS, sourceOf(dir))
  const target = fileURLToPath(new URL("./generated.ts", import.meta.url))
  if (args.includes("--check")) {
    const current = readFileSync(target, "utf8")
    if (current !== text) {
      process.stderr.write(`${target} is stale; run npm run gen:k8s\n`)
      process.exitCode = 1
    }
    return
  }
  writeFileSync(target, text)
  process.stdout.write(`wrote ${target}: ${order.length} definitions from ${sourceOf(dir).version}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2))
