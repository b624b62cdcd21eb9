// Typed API errors and their classification from HTTP responses.
//
// Guarantees: every failed request maps to exactly one tagged error by HTTP status (and the
// `metav1.Status.reason` where the status alone is ambiguous: 409 AlreadyExists vs Conflict, 410 vs
// an "Expired" continue token). Only `Transient` and `TooManyRequests` are retryable by the client;
// the rest are decisions for the caller (a 409 Conflict is retried at the reconcile level, where a
// fresh read happens, never blindly by the client).
import { Schema } from "effect"
import type { Status } from "./objects.ts"

const Cause = Schema.Struct({
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  field: Schema.optionalKey(Schema.String),
})
export type StatusCause = typeof Cause.Type

/** Fields every API error carries: the HTTP status (0 = no response), the request and the server's message. */
const common = {
  code: Schema.Int,
  request: Schema.String,
  message: Schema.String,
}

/** 404: the object (or the resource type) does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", common) {}
/** 409 with reason AlreadyExists: create of an existing name. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", common) {}
/** 409: stale resourceVersion on update, or a server-side-apply field conflict (see causes). */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  ...common,
  causes: Schema.Array(Cause),
}) {}
/** 422: the object failed validation; `causes` are the server's per-field reasons. */
export class Invalid extends Schema.TaggedError<Invalid>()("Invalid", {
  ...common,
  causes: Schema.Array(Cause),
}) {}
/** 403: RBAC or admission forbids the request. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", common) {}
/**
 * 403 from the NamespaceLifecycle admission plugin: nothing new may be created in a namespace that is
 * being deleted. Its own tag because it is expected (a namespace's objects are reconciled while it goes
 * away) and needs no retry: once the namespace is gone its objects are gone too, and a namespace created
 * again under the same name brings new objects, which are reconciled afresh.
 */
export class NamespaceTerminating extends Schema.TaggedError<NamespaceTerminating>()(
  "NamespaceTerminating",
  common,
) {}
/** 401: credentials missing or rejected. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", common) {}
/** 410 (or reason Expired): the resourceVersion or continue token is too old; relist. */
export class Gone extends Schema.TaggedError<Gone>()("Gone", common) {}
/** 429: throttled by API priority and fairness; wait at least `retryAfterMs`. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  ...common,
  retryAfterMs: Schema.optionalKey(Schema.Int),
}) {}
/** 5xx, 408, network failures and timeouts: worth retrying. */
export class Transient extends Schema.TaggedError<Transient>()("Transient", {
  ...common,
  retryAfterMs: Schema.optionalKey(Schema.Int),
}) {}
/** Any other 4xx (400, 405, 415, …): a bug in the request, never retried. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", common) {}

export type KubeError =
  | NotFound
  | AlreadyExists
  | Conflict
  | Invalid
  | Forbidden
  | NamespaceTerminating
  | Unauthorized
  | Gone
  | TooManyRequests
  | Transient
  | BadRequest

const kubeErrorTags: ReadonlySet<string> = new Set([
  "NotFound",
  "AlreadyExists",
  "Conflict",
  "Invalid",
  "Forbidden",
  "NamespaceTerminating",
  "Unauthorized",
  "Gone",
  "TooManyRequests",
  "Transient",
  "BadRequest",
])

export const isKubeError = (u: unknown): u is KubeError =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  typeof u._tag === "string" &&
  kubeErrorTags.has(u._tag)

/** The client retries these (with backoff); everything else is returned to the caller at once. */
export const isRetryable = (e: unknown): e is Transient | TooManyRequests =>
  isKubeError(e) && (e._tag === "Transient" || e._tag === "TooManyRequests")

/** Server-requested minimum delay before the next attempt, if any. */
export const retryAfterMsOf = (e: unknown): number | undefined =>
  isKubeError(e) && (e._tag === "Transient" || e._tag === "TooManyRequests") ? e.retryAfterMs : undefined

/** Parses a `Retry-After` header: delta-seconds or an HTTP date (relative to `nowMs`). */
export const parseRetryAfter = (header: string | null | undefined, nowMs: number): number | undefined => {
  if (header === null || header === undefined || header.trim() === "") return undefined
  const trimmed = header.trim()
  if (/^\d+$/u.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** Reads a `metav1.Status` out of a response body, if it is one. */
export const parseStatus = (body: string): Status | undefined => {
  if (body === "") return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Status)
    : undefined
}

export interface ErrorContext {
  /** `METHOD path`, for logs. */
  readonly request: string
  readonly status?: Status | undefined
  /** Parsed `Retry-After` in milliseconds. */
  readonly retryAfterMs?: number | undefined
  /** Fallback text when the body is not a Status (e.g. a proxy's HTML page). */
  readonly body?: string | undefined
}

/** Maps an HTTP status code (0 = no response) to the typed error. */
/**
 * How kube-apiserver v1.37 reports a JSON patch that does not apply (seen on the local control plane for a
 * failed `test` of the resourceVersion we read): a 422 with this generic message and no causes.
 */
const JSON_PATCH_NOT_APPLICABLE = "the server rejected our request due to an error in our request"

/**
 * The cause type (`metav1.StatusCause.type`, `reason` in JSON) kube-apiserver's NamespaceLifecycle plugin
 * attaches to its 403 for a create in a terminating namespace (`v1.NamespaceTerminatingCause`).
 */
const NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"
/** The same plugin's message, for servers that predate the cause. */
const NAMESPACE_TERMINATING_MESSAGE = /because it is being terminated/u

export const classify = (code: number, ctx: ErrorContext): KubeError => {
  const message =
    ctx.status?.message ??
    (ctx.body !== undefined && ctx.body !== "" ? ctx.body.slice(0, 500) : `HTTP ${code}`)
  const base = { code, request: ctx.request, message }
  const causes = ctx.status?.details?.causes ?? []
  const retryAfterMs =
    ctx.retryAfterMs ??
    (ctx.status?.details?.retryAfterSeconds !== undefined
      ? ctx.status.details.retryAfterSeconds * 1000
      : undefined)
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs: Math.round(retryAfterMs) }
  const reason = ctx.status?.reason
  if (code === 0 || code === 408 || code >= 500) return new Transient({ ...base, ...retry })
  switch (code) {
    case 401:
      return new Unauthorized(base)
    case 403:
      return causes.some((c) => c.reason === NAMESPACE_TERMINATING_CAUSE) ||
        NAMESPACE_TERMINATING_MESSAGE.test(message)
        ? new NamespaceTerminating(base)
        : new Forbidden(base)
    case 404:
      return new NotFound(base)
    case 409:
      return reason === "AlreadyExists" ? new AlreadyExists(base) : new Conflict({ ...base, causes })
    case 410:
      return new Gone(base)
    case 422:
      // A JSON patch that no longer applies (our resourceVersion `test` failed) is an optimistic-concurrency
      // conflict, not an invalid object: the caller re-reads and retries, as for a 409. Our JSON patches are
      // always built from the object just read, so this is the only way they stop applying.
      return ctx.request.startsWith("PATCH ") && message === JSON_PATCH_NOT_APPLICABLE && causes.length === 0
        ? new Conflict({ ...base, causes })
        : new Invalid({ ...base, causes })
    case 429:
      return new TooManyRequests({ ...base, ...retry })
    default:
      return reason === "Expired" || reason === "Gone" ? new Gone(base) : new BadRequest(base)
  }
}

/** A short one-line description for logs and Events. */
export const describeError = (e: KubeError): string => {
  const causes =
    (e._tag === "Invalid" || e._tag === "Conflict") && e.causes.length > 0
      ? `: ${e.causes.map((c) => `${c.field ?? ""} ${c.message ?? c.reason ?? ""}`.trim()).join("; ")}`
      : ""
  return `${e._tag} (${e.code}) ${e.request}: ${e.message}${causes}`
}
