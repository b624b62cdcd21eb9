/**
 * Hand-written leaves of the generated upstream Kubernetes schemas (`generated.ts` builds on these).
 *
 * Guarantees:
 * - every leaf decodes exactly the JSON values the API server's structural schema admits for it
 *   (integers stay within their `format` range, quantities match the Quantity pattern);
 * - `Schema.toJsonSchemaDocument` emits each leaf as ONE flat JSON Schema object (no `allOf`, no Effect
 *   ±2^53 bounds, no `anyOf` with NaN strings), in the form controller-gen writes into CRDs:
 *   `{type: integer, format: int32}`, `{anyOf: [{type: integer}, {type: string}],
 *   x-kubernetes-int-or-string: true[, pattern]}`, …
 *
 * Annotation contract with the CRD generator (see also `index.ts`): Kubernetes markers are Effect
 * annotations under their literal OpenAPI key; read them with
 * `includeAnnotationKey: (key) => key.startsWith("x-kubernetes-")`.
 */
import { Schema } from "effect"

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1

const isInt32 = (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX

/** A number check whose JSON Schema is exactly `jsonSchema` (one flat object, no Effect ±2^53 bounds). */
const numberWith = (
  isValid: (n: number) => boolean,
  expected: string,
  jsonSchema: { type: string; format?: string },
) => Schema.Finite.check(Schema.makeFilter(isValid, { expected, toJsonSchema: () => jsonSchema }))

/** OpenAPI `type: integer, format: int32`. */
export const int32 = numberWith(isInt32, "a 32-bit integer", { type: "integer", format: "int32" })

/** OpenAPI `type: integer, format: int64` (the safe-integer subset: JSON numbers beyond 2^53 lose precision). */
export const int64 = numberWith(Number.isSafeInteger, "an integer", { type: "integer", format: "int64" })

/** OpenAPI `type: number` (a `format`, e.g. `double`, is added as an annotation). */
export const number = numberWith(Number.isFinite, "a finite number", { type: "number" })

/**
 * `intstr.IntOrString`: `anyOf: [{type: integer}, {type: string}]` + `x-kubernetes-int-or-string: true`.
 * No type-level description, like controller-gen: the field using it carries one.
 */
export const intOrString = Schema.Union([
  numberWith(isInt32, "a 32-bit integer", { type: "integer" }),
  Schema.String,
]).annotate({ "x-kubernetes-int-or-string": true })

/**
 * The pattern controller-gen puts on every `resource.Quantity` (upstream OpenAPI has none; the API
 * server's Go decoder enforces the same grammar).
 */
export const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$"
const quantityRegExp = new RegExp(QUANTITY_PATTERN, "u")

/**
 * `resource.Quantity`: int-or-string plus the Quantity pattern at the top level (where controller-gen
 * writes it). JSON numbers must be integers, as in upstream CRDs: write `"500m"`, not `0.5`.
 */
export const quantity = Schema.Union([
  numberWith(Number.isSafeInteger, 'an integer (write fractions as a string such as "500m")', {
    type: "integer",
  }),
  Schema.String,
])
  .annotate({ "x-kubernetes-int-or-string": true })
  .check(
    Schema.makeFilter((value: number | string) => typeof value === "number" || quantityRegExp.test(value), {
      expected: "a quantity such as 500m, 1.5, 2Gi or 1e3",
      toJsonSchema: () => ({ pattern: QUANTITY_PATTERN }),
    }),
  )

/** A free-form object (`RawExtension`, a recursion cut): `x-kubernetes-preserve-unknown-fields: true`. */
export const freeFormObject = Schema.Record(Schema.String, Schema.Unknown).annotate({
  "x-kubernetes-preserve-unknown-fields": true,
})

/**
 * An object whose contents the API server PRUNES: plain `{type: object}`, which is what controller-gen
 * emits for an embedded `metav1.ObjectMeta` (e.g. `volumeClaimTemplate.metadata`). Marked with
 * `x-kubernetes-preserve-unknown-fields: false` so the CRD generator can tell it apart from a free-form
 * `Record(String, Unknown)`; the CRD generator must DROP that `false` (the API server rejects it:
 * "must be true or undefined") and must not add `true`.
 */
export const prunedObject = Schema.Record(Schema.String, Schema.Unknown).annotate({
  "x-kubernetes-preserve-unknown-fields": false,
})

/**
 * An upstream `default` (e.g. `{}` for a struct whose required fields have their own defaults). The API
 * server applies nested defaults before validating, so the literal need not match the decoded type.
 */
export const upstreamDefault = <A>(value: A): never => value as never

/** Annotation keys (besides `description`, `default`, `format`) that carry upstream markers. */
export const MARKER_KEYS = [
  "x-kubernetes-int-or-string",
  "x-kubernetes-list-map-keys",
  "x-kubernetes-list-type",
  "x-kubernetes-map-type",
  "x-kubernetes-preserve-unknown-fields",
] as const
