/**
 * What every kind's admission module shares: the docs/concepts.md X-7 skip test, decoding into findings, reference
 * checks through the lookup, and the two generic handlers that turn a kind's pure functions into
 * `AdmissionHandler`s. (Rule catalogs, findings and the rules themselves live in src/domain/, shared
 * with the controllers.)
 *
 * Guarantees of the handlers built here:
 * - The validating handler reports every finding at once: denials as `<field path>: <rule>` lines
 *   (docs/admission.md), warnings as `<field path>: <message>`; nothing is looked up when the object
 *   does not even decode (the decode lines are the whole answer then — the API server's own schema
 *   check rejects such objects before validating webhooks run, so this is a fallback).
 * - UPDATEs that leave `spec` unchanged, and UPDATEs of objects being deleted, are allowed without
 *   any check (docs/concepts.md X-7); the mutating handler leaves them unpatched too, so a metadata-only write
 *   (e.g. a finalizer patch) never changes `spec` and never meets new validation.
 * - A body that is not an object is denied with code 400; nothing throws.
 * - Lookup failures become warnings (the controller re-checks at reconcile), never denials.
 */
import { Effect, Result, type Schema } from "effect"
import { decodeAll } from "../../api/decode.ts"
import {
  CommonRules,
  type FieldPath,
  type Finding,
  finding,
  type ValidationOptions,
} from "../../domain/rules.ts"
import type { LangopKind } from "../handlers.ts"
import type { LookupError, WebhookLookupShape } from "../lookup.ts"
import {
  type AdmissionHandler,
  type AdmissionRequest,
  type AdmissionResponse,
  allow,
  allowWithMutation,
  deny,
  violation,
} from "../review.ts"

// ---------------------------------------------------------------------------------------------
// Inputs

/** What a kind's validator gets: the decoded object (namespace filled in) and the raw old object. */
export interface ValidationInput<T> {
  readonly request: AdmissionRequest
  readonly object: T
  /** The stored object on UPDATE, as sent (not decoded); undefined on CREATE. */
  readonly oldObject: Readonly<Record<string, unknown>> | undefined
  /** The object's namespace ("" for cluster-scoped kinds). */
  readonly namespace: string
  readonly lookup: WebhookLookupShape
  readonly options: ValidationOptions
}

export interface DeleteInput<T> {
  readonly request: AdmissionRequest
  readonly oldObject: T
  readonly namespace: string
  readonly lookup: WebhookLookupShape
}

// ---------------------------------------------------------------------------------------------
// Helpers over raw JSON

export type Json = Readonly<Record<string, unknown>>

export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Deep equality of JSON values, insensitive to object key order. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (Object.is(a, b)) return true
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined)
    const otherKeys = Object.keys(b).filter((k) => b[k] !== undefined)
    return keys.length === otherKeys.length && keys.every((k) => jsonEqual(a[k], b[k]))
  }
  return false
}

const deletionTimestampOf = (object: unknown): unknown =>
  isObject(object) && isObject(object.metadata) ? object.metadata.deletionTimestamp : undefined

/**
 * docs/concepts.md X-7: an UPDATE that leaves `spec` unchanged, or of an object being deleted, is not
 * re-validated (and not re-defaulted).
 */
export const skipsAdmission = (request: AdmissionRequest): boolean => {
  if (request.operation !== "UPDATE") return false
  const { object, oldObject } = request
  if (deletionTimestampOf(object) !== undefined || deletionTimestampOf(oldObject) !== undefined) return true
  const spec = isObject(object) ? object.spec : undefined
  const oldSpec = isObject(oldObject) ? oldObject.spec : undefined
  return jsonEqual(spec, oldSpec)
}

/** The object's namespace: the request's, else the object's own, else "". */
export const namespaceOf = (request: AdmissionRequest, object: unknown): string => {
  if (request.namespace !== undefined && request.namespace !== "") return request.namespace
  const metadata = isObject(object) ? object.metadata : undefined
  const namespace = isObject(metadata) ? metadata.namespace : undefined
  return typeof namespace === "string" ? namespace : ""
}

// ---------------------------------------------------------------------------------------------
// Shared checks

const lookupFailedFinding = (path: FieldPath, error: LookupError): Finding =>
  finding(CommonRules.lookupFailed, path, `cannot check ${error.kind} "${error.key}" now: ${error.message}`)

/**
 * Looks an object up and returns what `check` makes of it; a missing object is a
 * `missingReference` warning, a failed lookup a `lookupFailed` warning.
 */
export const checkReference = <T>(
  get: Effect.Effect<T | undefined, LookupError>,
  path: FieldPath,
  what: string,
  check: (found: T) => ReadonlyArray<Finding> = () => [],
): Effect.Effect<ReadonlyArray<Finding>> =>
  get.pipe(
    Effect.map((found) =>
      found === undefined
        ? [finding(CommonRules.missingReference, path, `${what} not found (it may be created later)`)]
        : check(found),
    ),
    Effect.catch((error) => Effect.succeed([lookupFailedFinding(path, error)])),
  )

/** Runs reference checks concurrently and concatenates their findings in order. */
export const allFindings = (
  checks: ReadonlyArray<Effect.Effect<ReadonlyArray<Finding>>>,
): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.map(Effect.all(checks, { concurrency: "unbounded" }), (lists) => lists.flat())

export const lookupFailed = lookupFailedFinding

// ---------------------------------------------------------------------------------------------
// Answers

/** Findings → response: deny with every violation when any denies, else allow; warnings either way. */
export const respond = (request: AdmissionRequest, findings: ReadonlyArray<Finding>): AdmissionResponse => {
  const violations = findings.filter((f) => f.severity === "deny").map((f) => violation(f.path, f.message))
  const warnings = findings
    .filter((f) => f.severity === "warn")
    .map((f) => (f.path === "" ? f.message : `${f.path}: ${f.message}`))
  return violations.length > 0 ? deny(request, violations, { warnings }) : allow(request, { warnings })
}

/** The decode problems of `raw` as findings (paths already in the lines), or the decoded value. */
export const decodeFindings = <S extends Schema.Decoder<unknown>>(
  schema: S,
  raw: Json,
): Result.Result<S["Type"], ReadonlyArray<Finding>> => {
  // Status is the controllers' business: it is never validated here (a stale status must not block
  // spec changes).
  const { status: _status, ...withoutStatus } = raw
  return Result.mapError(decodeAll(schema, { rejectUnknownFields: false })(withoutStatus), (lines) =>
    lines.map((line) => ({
      rule: CommonRules.schema.id,
      severity: "deny" as const,
      path: "",
      message: line,
    })),
  )
}

/** A kind's admission functions, as the generic handlers need them. */
export interface KindAdmission<S extends Schema.Decoder<unknown>> {
  readonly kind: LangopKind
  /** The whole-object schema (`LanguageAgent`, …). */
  readonly schema: S
  /** Defaulting: the raw object with the webhook defaults applied (a copy; never the input). */
  readonly mutate: (object: Json, namespace: string) => Json
  readonly validate: (input: ValidationInput<S["Type"]>) => Effect.Effect<ReadonlyArray<Finding>>
  /** Only for kinds whose validating webhook sees DELETE (LanguagePersona). */
  readonly validateDelete?: (input: DeleteInput<S["Type"]>) => Effect.Effect<ReadonlyArray<Finding>>
}

const notAnObject = (request: AdmissionRequest, kind: string, field: string) =>
  deny(request, [violation(field, `expected a ${kind} object`)], { code: 400, reason: "BadRequest" })

/** `/mutate/<plural>`: applies `admission.mutate` and answers with the JSON Patch to it. */
export const mutatingHandler =
  <S extends Schema.Decoder<unknown>>(admission: KindAdmission<S>): AdmissionHandler =>
  (request) =>
    Effect.sync(() => {
      if (request.operation !== "CREATE" && request.operation !== "UPDATE") return allow(request)
      if (skipsAdmission(request)) return allow(request)
      const object = request.object
      if (!isObject(object)) return notAnObject(request, admission.kind, "object")
      return allowWithMutation(request, object, admission.mutate(object, namespaceOf(request, object)))
    })

const withNamespace = <T>(decoded: T, namespace: string): T => {
  if (namespace === "" || !isObject(decoded) || !isObject(decoded.metadata)) return decoded
  return { ...decoded, metadata: { ...decoded.metadata, namespace } }
}

/** What validation made of a review: skipped (docs/concepts.md X-7, other operations), refused outright, or findings. */
export type Evaluation =
  | { readonly _tag: "Skipped" }
  | { readonly _tag: "Refused"; readonly response: AdmissionResponse }
  | { readonly _tag: "Evaluated"; readonly findings: ReadonlyArray<Finding> }

const skipped: Evaluation = { _tag: "Skipped" }
const evaluated = (findings: ReadonlyArray<Finding>): Evaluation => ({ _tag: "Evaluated", findings })

/** Decode, then the kind's checks: the findings of one review (see the module header). */
export const evaluate = <S extends Schema.Decoder<unknown>>(
  admission: KindAdmission<S>,
  request: AdmissionRequest,
  lookup: WebhookLookupShape,
  options: ValidationOptions = {},
): Effect.Effect<Evaluation> =>
  Effect.gen(function* () {
    if (request.operation === "DELETE") {
      if (admission.validateDelete === undefined) return skipped
      const old = request.oldObject
      if (!isObject(old))
        return { _tag: "Refused", response: notAnObject(request, admission.kind, "oldObject") }
      const decoded = decodeFindings(admission.schema, old)
      // An object that no longer decodes can still be deleted; there is nothing to warn about then.
      if (Result.isFailure(decoded)) return skipped
      const namespace = namespaceOf(request, old)
      return evaluated(
        yield* admission.validateDelete({
          request,
          oldObject: withNamespace(decoded.success, namespace),
          namespace,
          lookup,
        }),
      )
    }
    if (request.operation !== "CREATE" && request.operation !== "UPDATE") return skipped
    if (skipsAdmission(request)) return skipped
    const object = request.object
    if (!isObject(object))
      return { _tag: "Refused", response: notAnObject(request, admission.kind, "object") }
    const decoded = decodeFindings(admission.schema, object)
    if (Result.isFailure(decoded)) return evaluated(decoded.failure)
    const namespace = namespaceOf(request, object)
    return evaluated(
      yield* admission.validate({
        request,
        object: withNamespace(decoded.success, namespace),
        oldObject:
          request.operation === "UPDATE" && isObject(request.oldObject) ? request.oldObject : undefined,
        namespace,
        lookup,
        options,
      }),
    )
  })

/** `/validate/<plural>`: {@link evaluate}, answered with every finding at once. */
export const validatingHandler =
  <S extends Schema.Decoder<unknown>>(
    admission: KindAdmission<S>,
    lookup: WebhookLookupShape,
    options: ValidationOptions = {},
  ): AdmissionHandler =>
  (request) =>
    Effect.map(evaluate(admission, request, lookup, options), (evaluation) => {
      switch (evaluation._tag) {
        case "Skipped":
          return allow(request)
        case "Refused":
          return evaluation.response
        case "Evaluated":
          return respond(request, evaluation.findings)
      }
    })
