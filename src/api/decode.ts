/**
 * Decoding of our kinds with errors a kubectl user can act on: every violation, one per line, as
 * `<field path>: <rule>` with Kubernetes-style paths (`spec.egress[1].to.dns[0]`).
 */
import { Result, Schema, SchemaIssue } from "effect"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** `["spec", "egress", 1, "to"]` → `spec.egress[1].to` */
export const formatPath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string => {
  let out = ""
  for (const segment of path) {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment
    if (typeof key === "number") out += `[${key}]`
    else out += out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

/** Turns Effect's wording into the rule phrasing of our deny messages. */
const phrase = (message: string): string => {
  if (message === "Missing key") return "Required value"
  if (message === "Expected no excess property") return "unknown field"
  return message
}

/** One line per violation, `<path>: <rule>`, in the order the schema reports them. */
export const issueLines = (error: Schema.SchemaError): ReadonlyArray<string> =>
  formatter(error.issue).issues.map((issue) => {
    const path = formatPath(issue.path ?? [])
    return path === "" ? phrase(issue.message) : `${path}: ${phrase(issue.message)}`
  })

export interface DecodeOptions {
  /** Reject fields the schema does not know (what `kubectl` strict field validation does). Default true. */
  readonly rejectUnknownFields?: boolean
}

/**
 * Decode `input` with every violation reported (not only the first). Unknown fields are errors by default;
 * caches reading objects the API server already pruned may pass `rejectUnknownFields: false`.
 */
export const decodeAll =
  <S extends Schema.Decoder<unknown>>(schema: S, options: DecodeOptions = {}) =>
  (input: unknown): Result.Result<S["Type"], ReadonlyArray<string>> => {
    const result = Schema.decodeUnknownResult(schema)(input, {
      errors: "all",
      onExcessProperty: options.rejectUnknownFields === false ? "ignore" : "error",
    })
    return Result.mapError(result, issueLines)
  }
