// The decoding hook between raw API objects and the kind Schemas in src/api.
//
// Guarantees: a decoder never throws; it returns either the typed object or readable
// `path: message` lines (suitable for a log line and an Event note). Informers call it once per
// received object version, so decoding cost is paid at ingestion, not on every cache read.
import { Result, Schema, SchemaIssue } from "effect"

/** Turns a raw object into `T` or explains, one line per problem, why it cannot. */
export type Decoder<T> = (obj: unknown) => Result.Result<T, ReadonlyArray<string>>

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** `spec.replicas: Expected a value between 0 and 50, got 99` lines for a schema error. */
export const issueLines = (error: Schema.SchemaError): ReadonlyArray<string> =>
  formatter(error.issue).issues.map((i) => {
    const path = (i.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".")
    return path === "" ? i.message : `${path}: ${i.message}`
  })

/**
 * A `Decoder` for a whole object Schema (apiVersion, kind, metadata, spec, status) from src/api.
 * All problems are reported (`errors: "all"`) with the offending input value.
 */
export const decodeObject = <S extends Schema.ConstraintDecoder<unknown>>(schema: S): Decoder<S["Type"]> => {
  const decode = Schema.decodeUnknownResult(schema, { errors: "all" })
  return (obj) => Result.mapError(decode(obj), issueLines)
}
