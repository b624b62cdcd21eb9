/**
 * Effect JSON Schema (draft 2020-12) → Kubernetes *structural* OpenAPI v3 schema.
 *
 * Guarantees (checked by `assertStructural` and by installing the CRDs into a real kube-apiserver):
 * - no `$ref`, no `allOf` (flattened), no `anyOf`/`oneOf` except the int-or-string form Kubernetes allows;
 * - every object node with `properties` has no `additionalProperties`; a free-form object becomes
 *   `x-kubernetes-preserve-unknown-fields: true`;
 * - Effect's ±2^53 bounds of `Schema.Int` are dropped; draft 2020-12 `exclusiveMinimum: n` becomes the
 *   OpenAPI v3.0 form (`minimum: n, exclusiveMinimum: true`);
 * - only keys the API server's JSONSchemaProps knows survive, so a strict-decoding client accepts the CRD.
 *
 * Assumption: schemas are non-recursive (the API forbids recursive structural schemas anyway).
 */

export type JsonSchema = { [key: string]: unknown }

const MAX_SAFE = Number.MAX_SAFE_INTEGER

/** Keys of apiextensions.k8s.io/v1 JSONSchemaProps we emit. */
const ALLOWED_KEYS = new Set([
  "type",
  "format",
  "description",
  "default",
  "enum",
  "nullable",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "maxProperties",
  "minProperties",
  "required",
  "items",
  "properties",
  "additionalProperties",
  "anyOf",
  "x-kubernetes-preserve-unknown-fields",
  "x-kubernetes-embedded-resource",
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-validations",
])

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export class NotStructuralError extends Error {
  constructor(path: string, what: string) {
    super(`${path || "<root>"}: ${what}`)
    this.name = "NotStructuralError"
  }
}

/** Merge an `allOf` member into its parent: rules concatenate, other keys must agree or be absent. */
const mergeInto = (target: JsonSchema, source: JsonSchema, path: string): void => {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key]
    if (existing === undefined) target[key] = value
    else if (key === "x-kubernetes-validations" && Array.isArray(existing) && Array.isArray(value))
      target[key] = [...existing, ...value]
    else if (key === "required" && Array.isArray(existing) && Array.isArray(value))
      target[key] = [...new Set([...existing, ...value])]
    else if (key === "allOf" && Array.isArray(existing) && Array.isArray(value))
      target[key] = [...existing, ...value]
    else if (typeof existing === "number" && typeof value === "number" && TIGHTER[key] !== undefined)
      target[key] = TIGHTER[key](existing, value)
    else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      if (key === "additionalProperties") continue
      throw new NotStructuralError(path, `conflicting "${key}" in allOf`)
    }
  }
}

/** Bounds from several checks combine to the tightest one. */
const TIGHTER: Record<string, (a: number, b: number) => number> = {
  minimum: Math.max,
  exclusiveMinimum: Math.max,
  minLength: Math.max,
  minItems: Math.max,
  minProperties: Math.max,
  maximum: Math.min,
  exclusiveMaximum: Math.min,
  maxLength: Math.min,
  maxItems: Math.min,
  maxProperties: Math.min,
}

const isNullSchema = (s: unknown) => isObject(s) && s.type === "null"

/** Convert one node (recursively). `path` is for error messages only. */
export const toStructural = (input: JsonSchema, path = ""): JsonSchema => {
  const node: JsonSchema = { ...input }
  // Flatten allOf first: Effect puts checks and annotations applied after a check into allOf members.
  while (Array.isArray(node.allOf)) {
    const members = node.allOf
    delete node.allOf
    for (const member of members) {
      if (!isObject(member)) throw new NotStructuralError(path, "non-object allOf member")
      mergeInto(node, member, path)
    }
  }
  if ("$ref" in node) throw new NotStructuralError(path, "$ref is not allowed (inline the schema)")
  if ("const" in node) {
    node.enum = [node.const]
    delete node.const
  }
  if (Array.isArray(node.anyOf) || Array.isArray(node.oneOf)) {
    const branches = (node.anyOf ?? node.oneOf) as ReadonlyArray<unknown>
    delete node.anyOf
    delete node.oneOf
    const nonNull = branches.filter((b) => !isNullSchema(b))
    if (node["x-kubernetes-int-or-string"] === true) {
      delete node.type
      node.anyOf = [{ type: "integer" }, { type: "string" }]
    } else if (nonNull.length === 1 && isObject(nonNull[0])) {
      // NullOr(X): X plus nullable.
      mergeInto(node, nonNull[0], path)
      node.nullable = true
      return toStructural(node, path)
    } else if (
      branches.every(
        (b) =>
          isObject(b) && Array.isArray(b.enum) && b.type === branches.map((x) => (x as JsonSchema).type)[0],
      )
    ) {
      // A union of literal sets of one type: one enum.
      node.type = (branches[0] as JsonSchema).type
      node.enum = branches.flatMap((b) => (b as JsonSchema).enum as ReadonlyArray<unknown>)
    } else {
      throw new NotStructuralError(path, "unions other than int-or-string are not structural")
    }
  }
  if (node.type === "integer" || node.type === "number") {
    if (node.minimum === -MAX_SAFE) delete node.minimum
    if (node.maximum === MAX_SAFE) delete node.maximum
    if (typeof node.exclusiveMinimum === "number") {
      node.minimum = node.exclusiveMinimum
      node.exclusiveMinimum = true
    }
    if (typeof node.exclusiveMaximum === "number") {
      node.maximum = node.exclusiveMaximum
      node.exclusiveMaximum = true
    }
  }
  if (isObject(node.properties)) {
    const properties: JsonSchema = {}
    for (const [key, value] of Object.entries(node.properties)) {
      if (!isObject(value)) throw new NotStructuralError(`${path}.${key}`, "property schema is not an object")
      properties[key] = toStructural(value, `${path}.${key}`)
    }
    node.properties = properties
    node.type = "object"
    delete node.additionalProperties
    if (Object.keys(properties).length === 0) {
      delete node.properties
      node["x-kubernetes-preserve-unknown-fields"] = true
    }
  } else if (node.type === "object" && node["x-kubernetes-preserve-unknown-fields"] === false) {
    // An opaque object whose contents the API server prunes (e.g. embedded ObjectMeta), as controller-gen
    // emits it; the API server rejects a literal `false`, so the key goes.
    delete node["x-kubernetes-preserve-unknown-fields"]
    delete node.additionalProperties
  } else if (node.type === "object") {
    const extra = node.additionalProperties
    if (extra === undefined || extra === true || (isObject(extra) && Object.keys(extra).length === 0)) {
      delete node.additionalProperties
      node["x-kubernetes-preserve-unknown-fields"] = true
    } else if (isObject(extra)) {
      node.additionalProperties = toStructural(extra, `${path}{}`)
    }
  } else if (
    node.type === undefined &&
    !("anyOf" in node) &&
    node["x-kubernetes-preserve-unknown-fields"] !== true
  ) {
    // `Schema.Unknown`: any JSON value.
    node["x-kubernetes-preserve-unknown-fields"] = true
  }
  if (isObject(node.items)) node.items = toStructural(node.items, `${path}[]`)
  if (Array.isArray(node.required) && node.required.length === 0) delete node.required
  for (const key of Object.keys(node)) if (!ALLOWED_KEYS.has(key)) delete node[key]
  return node
}

/** Throws when `schema` violates a structural rule the API server enforces. */
export const assertStructural = (schema: JsonSchema, path = ""): void => {
  for (const key of Object.keys(schema)) {
    if (!ALLOWED_KEYS.has(key)) throw new NotStructuralError(path, `unknown key ${key}`)
  }
  const hasType = typeof schema.type === "string"
  const intOrString = schema["x-kubernetes-int-or-string"] === true
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true
  if (!hasType && !intOrString && !preserve) throw new NotStructuralError(path, "type is missing")
  if (schema.properties !== undefined && schema.additionalProperties !== undefined)
    throw new NotStructuralError(path, "properties and additionalProperties together")
  if (schema.anyOf !== undefined && !intOrString)
    throw new NotStructuralError(path, "anyOf outside int-or-string")
  if (isObject(schema.properties))
    for (const [key, value] of Object.entries(schema.properties))
      if (isObject(value)) assertStructural(value, `${path}.${key}`)
  if (isObject(schema.items)) assertStructural(schema.items, `${path}[]`)
  if (isObject(schema.additionalProperties)) assertStructural(schema.additionalProperties, `${path}{}`)
  if (schema.type === "array" && !isObject(schema.items))
    throw new NotStructuralError(path, "array without items")
}
