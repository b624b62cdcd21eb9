import { describe, expect, it } from "vitest"
import { classify, isRetryable, parseRetryAfter, parseStatus } from "../../../src/kube/errors.ts"

const request = "GET /api/v1/namespaces/a/configmaps/b"
const tagOf = (code: number, reason?: string) =>
  classify(code, { request, status: reason === undefined ? undefined : { reason, code } })._tag

describe("classify", () => {
  it.each([
    [401, undefined, "Unauthorized"],
    [403, "Forbidden", "Forbidden"],
    [404, "NotFound", "NotFound"],
    [409, "AlreadyExists", "AlreadyExists"],
    [409, "Conflict", "Conflict"],
    [409, undefined, "Conflict"],
    [410, "Expired", "Gone"],
    [400, "Expired", "Gone"],
    [422, "Invalid", "Invalid"],
    [429, "TooManyRequests", "TooManyRequests"],
    [400, "BadRequest", "BadRequest"],
    [415, undefined, "BadRequest"],
    [408, undefined, "Transient"],
    [500, "InternalError", "Transient"],
    [503, "ServiceUnavailable", "Transient"],
    [504, "Timeout", "Transient"],
    [0, undefined, "Transient"],
  ] as const)("HTTP %i (%s) is %s", (code, reason, tag) => {
    expect(tagOf(code, reason)).toBe(tag)
  })

  it("a JSON patch that no longer applies (failed resourceVersion test) is a Conflict; other 422s stay Invalid", () => {
    const message = "the server rejected our request due to an error in our request"
    const status = { reason: "Invalid", code: 422, message }
    const patch = "PATCH /apis/langop.io/v1alpha1/namespaces/a/languagepersonas/b"
    expect(classify(422, { request: patch, status })._tag).toBe("Conflict")
    expect(classify(422, { request, status })._tag).toBe("Invalid")
    expect(
      classify(422, { request: patch, status: { ...status, message: "spec.x: Invalid value" } })._tag,
    ).toBe("Invalid")
  })

  it("a create in a namespace being deleted is NamespaceTerminating (by the server's cause, or its message); other 403s stay Forbidden", () => {
    // The body kube-apiserver's NamespaceLifecycle admission plugin answers (v1.37).
    const terminating = {
      kind: "Status",
      status: "Failure",
      reason: "Forbidden",
      code: 403,
      message:
        'configmaps "c" is forbidden: unable to create new content in namespace t because it is being terminated',
      details: {
        name: "c",
        kind: "configmaps",
        causes: [
          {
            reason: "NamespaceTerminating",
            message: "namespace t is being terminated",
            field: "metadata.namespace",
          },
        ],
      },
    }
    const body = JSON.stringify(terminating)
    const e = classify(403, { request, status: parseStatus(body), body })
    expect(e._tag).toBe("NamespaceTerminating")
    expect(isRetryable(e)).toBe(false)
    const noCause = { ...terminating, details: { name: "c", kind: "configmaps" } }
    expect(classify(403, { request, status: noCause })._tag).toBe("NamespaceTerminating")
    const rbac = {
      reason: "Forbidden",
      code: 403,
      message: 'configmaps is forbidden: User "x" cannot create resource "configmaps" in namespace "t"',
    }
    expect(classify(403, { request, status: rbac })._tag).toBe("Forbidden")
  })

  it("retries only transient failures and throttling", () => {
    const retryable = [0, 408, 429, 500, 502, 503, 504].map((c) => isRetryable(classify(c, { request })))
    const final = [400, 401, 403, 404, 409, 410, 422].map((c) => isRetryable(classify(c, { request })))
    expect(retryable.every(Boolean)).toBe(true)
    expect(final.some(Boolean)).toBe(false)
  })

  it("keeps the server's causes of an Invalid and the message of the Status", () => {
    const body = JSON.stringify({
      kind: "Status",
      status: "Failure",
      reason: "Invalid",
      code: 422,
      message: 'ConfigMap "Bad" is invalid',
      details: {
        causes: [{ reason: "FieldValueInvalid", field: "metadata.name", message: "must be lower case" }],
      },
    })
    const e = classify(422, { request, status: parseStatus(body), body })
    expect(e._tag).toBe("Invalid")
    expect(e.message).toBe('ConfigMap "Bad" is invalid')
    expect(e._tag === "Invalid" ? e.causes : []).toEqual([
      { reason: "FieldValueInvalid", field: "metadata.name", message: "must be lower case" },
    ])
  })

  it("takes Retry-After from the header, else from the Status details", () => {
    const h = classify(429, { request, retryAfterMs: 3000 })
    const d = classify(429, { request, status: { code: 429, details: { retryAfterSeconds: 2 } } })
    expect(h._tag === "TooManyRequests" ? h.retryAfterMs : undefined).toBe(3000)
    expect(d._tag === "TooManyRequests" ? d.retryAfterMs : undefined).toBe(2000)
  })

  it("uses a non-JSON body as the message (e.g. a proxy's error page)", () => {
    const e = classify(502, {
      request,
      status: parseStatus("<html>bad gateway</html>"),
      body: "<html>bad gateway</html>",
    })
    expect(e.message).toBe("<html>bad gateway</html>")
  })
})

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    const now = Date.parse("2026-01-01T00:00:00Z")
    expect(parseRetryAfter("7", now)).toBe(7000)
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:05 GMT", now)).toBe(5000)
    expect(parseRetryAfter("garbage", now)).toBeUndefined()
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
  })
})
