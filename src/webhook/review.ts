/**
 * `admission.k8s.io/v1` AdmissionReview codec, response builders and the JSON Patch helper.
 *
 * Guarantees:
 * - `answerReview` never fails and never dies: a body that is not JSON or not an
 *   `admission.k8s.io/v1` AdmissionReview gives `BadRequest` (the server answers HTTP 400); a review
 *   whose `request` cannot be decoded gives a well-formed deny (code 400) that lists what was wrong,
 *   with the request's `uid` echoed when it is a string; a handler defect gives a deny with code
 *   500. The response `uid` is always the request's, whatever the handler returned.
 * - `dryRun` is passed to handlers as part of the request and not otherwise looked at, so dry-run
 *   reviews are answered exactly like real ones.
 * - `jsonPatch(a, b)` applied to `a` gives `b` (after a JSON round trip, so `undefined` members
 *   count as absent) and is empty when they are equal. Members and same-length arrays are patched
 *   element by element; an array whose length changed is replaced whole when that is shorter.
 * - Deny messages list every violation on its own line as `<field path>: <rule>` (docs/admission.md).
 */
import { Cause, Effect, type JsonPatch, JsonPointer, Result, Schema, SchemaIssue } from "effect"
import { type FieldPath, formatFieldPath } from "../domain/rules.ts"

export const AdmissionReviewApiVersion = "admission.k8s.io/v1"

export const GroupVersionKind = Schema.Struct({
  group: Schema.String,
  version: Schema.String,
  kind: Schema.String,
})
export const GroupVersionResource = Schema.Struct({
  group: Schema.String,
  version: Schema.String,
  resource: Schema.String,
})
export const UserInfo = Schema.Struct({
  username: Schema.optionalKey(Schema.String),
  uid: Schema.optionalKey(Schema.String),
  groups: Schema.optionalKey(Schema.Array(Schema.String)),
  extra: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(Schema.String))),
})
export const Operation = Schema.Literals(["CREATE", "UPDATE", "DELETE", "CONNECT"])
export type Operation = typeof Operation.Type

/** The `request` of an AdmissionReview. `object`/`oldObject` are the raw JSON (`null` where absent). */
export const AdmissionRequest = Schema.Struct({
  uid: Schema.String,
  kind: GroupVersionKind,
  resource: GroupVersionResource,
  subResource: Schema.optionalKey(Schema.String),
  requestKind: Schema.optionalKey(GroupVersionKind),
  requestResource: Schema.optionalKey(GroupVersionResource),
  requestSubResource: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  namespace: Schema.optionalKey(Schema.String),
  operation: Operation,
  userInfo: Schema.optionalKey(UserInfo),
  object: Schema.optionalKey(Schema.Unknown),
  oldObject: Schema.optionalKey(Schema.Unknown),
  dryRun: Schema.optionalKey(Schema.Boolean),
  options: Schema.optionalKey(Schema.Unknown),
})
export type AdmissionRequest = typeof AdmissionRequest.Type

/** The subset of `metav1.Status` an admission response carries. */
export const ResponseStatus = Schema.Struct({
  code: Schema.optionalKey(Schema.Int),
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
})

export const AdmissionResponse = Schema.Struct({
  uid: Schema.String,
  allowed: Schema.Boolean,
  status: Schema.optionalKey(ResponseStatus),
  /** base64 of the JSON Patch document. */
  patch: Schema.optionalKey(Schema.String),
  patchType: Schema.optionalKey(Schema.Literal("JSONPatch")),
  warnings: Schema.optionalKey(Schema.Array(Schema.String)),
  auditAnnotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
})
export type AdmissionResponse = typeof AdmissionResponse.Type

/** The envelope the server answers with. */
export const AdmissionReviewResponse = Schema.Struct({
  apiVersion: Schema.Literal(AdmissionReviewApiVersion),
  kind: Schema.Literal("AdmissionReview"),
  response: AdmissionResponse,
})
export type AdmissionReviewResponse = typeof AdmissionReviewResponse.Type

/** The envelope as it arrives; `request` is decoded separately so its problems become a deny. */
const IncomingReview = Schema.Struct({
  apiVersion: Schema.Literal(AdmissionReviewApiVersion),
  kind: Schema.Literal("AdmissionReview"),
  request: Schema.optionalKey(Schema.Unknown),
})

/**
 * A pure admission handler. `R` is whatever read access it needs (the informer cache, defined
 * elsewhere); it must not fail: every problem is an answer (`deny`), not an error.
 */
export type AdmissionHandler<R = never> = (
  request: AdmissionRequest,
) => Effect.Effect<AdmissionResponse, never, R>

// ---------------------------------------------------------------------------------------------
// Violations and field paths

/** One broken rule: `path` in Kubernetes field-path form (`spec.egress[1].to.dns[0]`). */
export interface Violation {
  readonly path: string
  readonly rule: string
}

export const violation = (path: string | FieldPath, rule: string): Violation => ({
  path: typeof path === "string" ? path : formatFieldPath(path),
  rule,
})

/** The deny message: one `<field path>: <rule>` line per violation. */
export const violationMessage = (violations: ReadonlyArray<Violation>): string =>
  violations.map((v) => (v.path === "" ? v.rule : `${v.path}: ${v.rule}`)).join("\n")

const issueFormatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Every issue of a schema failure as a violation, paths prefixed with `prefix` (e.g. `["spec"]`). */
export const violationsFromIssue = (issue: SchemaIssue.Issue, prefix: FieldPath = []): Array<Violation> =>
  issueFormatter(issue).issues.map((i) =>
    violation(
      [
        ...prefix,
        ...(i.path ?? []).map((p) => {
          const key = typeof p === "object" ? p.key : p
          return typeof key === "number" ? key : String(key)
        }),
      ],
      i.message,
    ),
  )

// ---------------------------------------------------------------------------------------------
// Response builders

interface HasUid {
  readonly uid: string
}

export interface ResponseOptions {
  /** Non-fatal findings, shown by kubectl as `Warning: …`; keep each short (≲ 120 characters), the API server truncates long ones. */
  readonly warnings?: ReadonlyArray<string> | undefined
}

const withWarnings = (
  response: AdmissionResponse,
  options: ResponseOptions | undefined,
): AdmissionResponse =>
  options?.warnings !== undefined && options.warnings.length > 0
    ? { ...response, warnings: [...options.warnings] }
    : response

export const allow = (request: HasUid, options?: ResponseOptions): AdmissionResponse =>
  withWarnings({ uid: request.uid, allowed: true }, options)

/** Allows with the given JSON Patch (plain allow when it is empty). */
export const allowWithPatch = (
  request: HasUid,
  patch: JsonPatch.JsonPatch,
  options?: ResponseOptions,
): AdmissionResponse =>
  patch.length === 0
    ? allow(request, options)
    : withWarnings(
        {
          uid: request.uid,
          allowed: true,
          patchType: "JSONPatch",
          patch: Buffer.from(JSON.stringify(patch.map(({ description: _, ...op }) => op))).toString("base64"),
        },
        options,
      )

/** Allows with the patch that turns `original` (the request's object) into `mutated`. */
export const allowWithMutation = (
  request: HasUid,
  original: unknown,
  mutated: unknown,
  options?: ResponseOptions,
): AdmissionResponse => allowWithPatch(request, jsonPatch(original, mutated), options)

export interface DenyOptions extends ResponseOptions {
  /** HTTP-style status code shown to the user; default 422 (reason `Invalid`). */
  readonly code?: number | undefined
  /** A `metav1.StatusReason`; default `Invalid`. */
  readonly reason?: string | undefined
}

/** Denies, listing every violation on its own line. */
export const deny = (
  request: HasUid,
  violations: ReadonlyArray<Violation>,
  options?: DenyOptions,
): AdmissionResponse =>
  withWarnings(
    {
      uid: request.uid,
      allowed: false,
      status: {
        code: options?.code ?? 422,
        reason: options?.reason ?? "Invalid",
        message: violations.length === 0 ? "denied" : violationMessage(violations),
      },
    },
    options,
  )

export const reviewResponse = (response: AdmissionResponse): AdmissionReviewResponse => ({
  apiVersion: AdmissionReviewApiVersion,
  kind: "AdmissionReview",
  response,
})

// ---------------------------------------------------------------------------------------------
// JSON Patch

type Json = Schema.Json

const isObject = (value: Json): value is { readonly [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const size = (patch: JsonPatch.JsonPatch) => JSON.stringify(patch).length

const diff = (from: Json, to: Json, path: string): JsonPatch.JsonPatch => {
  if (Object.is(from, to)) return []
  if (isObject(from) && isObject(to)) {
    const ops: Array<JsonPatch.JsonPatchOperation> = []
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) ops.push({ op: "remove", path: `${path}/${JsonPointer.escapeToken(key)}` })
    }
    for (const [key, value] of Object.entries(to)) {
      const child = `${path}/${JsonPointer.escapeToken(key)}`
      const old = from[key]
      if (old === undefined || !Object.hasOwn(from, key)) ops.push({ op: "add", path: child, value })
      else ops.push(...diff(old, value, child))
    }
    return ops
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const byIndex: Array<JsonPatch.JsonPatchOperation> = []
    const shared = Math.min(from.length, to.length)
    for (let i = 0; i < shared; i++) byIndex.push(...diff(from[i] as Json, to[i] as Json, `${path}/${i}`))
    for (let i = from.length - 1; i >= to.length; i--) byIndex.push({ op: "remove", path: `${path}/${i}` })
    for (let i = from.length; i < to.length; i++)
      byIndex.push({ op: "add", path: `${path}/${i}`, value: to[i] as Json })
    if (from.length === to.length) return byIndex
    // An insert or removal before the end shifts every later element; one replace is then shorter.
    const whole: JsonPatch.JsonPatch = [{ op: "replace", path, value: to }]
    return size(byIndex) <= size(whole) ? byIndex : whole
  }
  return [{ op: "replace", path, value: to }]
}

/**
 * The JSON Patch from `original` to `mutated`, both read as JSON (a round trip drops `undefined`
 * members). Object members and same-length arrays are patched element by element; an array whose
 * length changed is patched by index or replaced whole, whichever is shorter.
 */
export const jsonPatch = (original: unknown, mutated: unknown): JsonPatch.JsonPatch => {
  const asJson = (value: unknown): Json => (value === undefined ? null : JSON.parse(JSON.stringify(value)))
  return diff(asJson(original), asJson(mutated), "")
}

// ---------------------------------------------------------------------------------------------
// Reading a review

export type ReviewAnswer =
  | { readonly _tag: "Review"; readonly review: AdmissionReviewResponse }
  | { readonly _tag: "BadRequest"; readonly message: string }

const decodeOptions = { errors: "all", onExcessProperty: "ignore" } as const
const decodeEnvelope = Schema.decodeUnknownResult(IncomingReview, decodeOptions)
const decodeRequest = Schema.decodeUnknownResult(AdmissionRequest, decodeOptions)

const uidOf = (request: unknown): string => {
  if (typeof request !== "object" || request === null) return ""
  const uid = (request as { readonly uid?: unknown }).uid
  return typeof uid === "string" ? uid : ""
}

const parseJson = (body: string) =>
  Result.try({
    try: (): unknown => JSON.parse(body),
    catch: (e) => (e instanceof Error ? e.message : String(e)),
  })

/**
 * Reads one AdmissionReview body and answers it with `handle`. Never fails or dies; see the module
 * header for what each kind of bad input gets.
 */
export const answerReview = <R>(
  body: string,
  handle: AdmissionHandler<R>,
): Effect.Effect<ReviewAnswer, never, R> => {
  const json = parseJson(body)
  if (Result.isFailure(json)) {
    return Effect.succeed({ _tag: "BadRequest", message: `request body is not JSON: ${json.failure}` })
  }
  const envelope = decodeEnvelope(json.success)
  if (Result.isFailure(envelope)) {
    return Effect.succeed({
      _tag: "BadRequest",
      message: `request body is not an ${AdmissionReviewApiVersion} AdmissionReview:\n${violationMessage(
        violationsFromIssue(envelope.failure.issue),
      )}`,
    })
  }
  const raw = envelope.success.request
  const uid = uidOf(raw)
  const answer = (response: AdmissionResponse): ReviewAnswer => ({
    _tag: "Review",
    review: reviewResponse({ ...response, uid }),
  })
  const request = decodeRequest(raw)
  if (Result.isFailure(request)) {
    const problems =
      raw === undefined
        ? [violation("request", "Missing key")]
        : violationsFromIssue(request.failure.issue, ["request"])
    return Effect.succeed(
      answer(
        deny({ uid }, [violation("", "malformed AdmissionReview request"), ...problems], {
          code: 400,
          reason: "BadRequest",
        }),
      ),
    )
  }
  return Effect.suspend(() => handle(request.success)).pipe(
    Effect.map(answer),
    Effect.catchCause((cause) =>
      Effect.logError("admission handler failed", cause).pipe(
        Effect.as(
          answer(
            deny(
              { uid },
              [
                violation(
                  "",
                  `internal error in the admission handler: ${Cause.pretty(cause).split("\n")[0]}`,
                ),
              ],
              {
                code: 500,
                reason: "InternalError",
              },
            ),
          ),
        ),
      ),
    ),
  )
}
