import { assert, describe, it } from "@effect/vitest"
import { Effect, JsonPatch, Schema } from "effect"
import fc from "fast-check"
import { formatFieldPath } from "../../../src/domain/rules.ts"
import {
  type AdmissionHandler,
  type AdmissionRequest,
  AdmissionReviewResponse,
  allow,
  allowWithMutation,
  allowWithPatch,
  answerReview,
  deny,
  jsonPatch,
  violation,
  violationsFromIssue,
} from "../../../src/webhook/review.ts"

const request = (overrides: Record<string, unknown> = {}) => ({
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  kind: { group: "langop.io", version: "v1alpha1", kind: "LanguageAgent" },
  resource: { group: "langop.io", version: "v1alpha1", resource: "languageagents" },
  name: "a1",
  namespace: "team",
  operation: "CREATE",
  userInfo: { username: "admin", groups: ["system:masters"] },
  object: { apiVersion: "langop.io/v1alpha1", kind: "LanguageAgent", metadata: { name: "a1" }, spec: {} },
  oldObject: null,
  dryRun: false,
  options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
  ...overrides,
})

const review = (req: unknown) =>
  JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: req })

/** A handler that records what it saw and denies objects without `spec.image`. */
const seen: Array<AdmissionRequest> = []
const imageRequired: AdmissionHandler = (req) =>
  Effect.sync(() => {
    seen.push(req)
    const spec = (req.object as { spec?: { image?: unknown } } | null)?.spec
    return spec?.image === undefined
      ? deny(req, [violation(["spec", "image"], "required"), violation("spec.port", "must be 1-65535")], {
          warnings: ["spec.foo is deprecated"],
        })
      : allow(req)
  })

const answer = (body: string, handler: AdmissionHandler = imageRequired) => answerReview(body, handler)

const expectReview = (a: Effect.Success<ReturnType<typeof answer>>) => {
  assert.strictEqual(a._tag, "Review")
  if (a._tag !== "Review") throw new Error("unreachable")
  // What the server sends must itself be a valid AdmissionReview response.
  return Schema.decodeUnknownSync(AdmissionReviewResponse)(JSON.parse(JSON.stringify(a.review)))
}

describe("answerReview", () => {
  it.effect("decodes a real-shaped review, calls the handler and echoes the uid", () =>
    Effect.gen(function* () {
      seen.length = 0
      const out = expectReview(yield* answer(review(request({ object: { spec: { image: "x" } } }))))
      assert.deepStrictEqual(out, {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true },
      })
      assert.strictEqual(seen.length, 1)
      assert.strictEqual(seen[0]?.operation, "CREATE")
      assert.strictEqual(seen[0]?.userInfo?.username, "admin")
    }),
  )

  it.effect("lists every violation, one `<path>: <rule>` per line, with warnings", () =>
    Effect.gen(function* () {
      const out = expectReview(yield* answer(review(request())))
      assert.strictEqual(out.response.allowed, false)
      assert.deepStrictEqual(out.response.status, {
        code: 422,
        reason: "Invalid",
        message: "spec.image: required\nspec.port: must be 1-65535",
      })
      assert.deepStrictEqual(out.response.warnings, ["spec.foo is deprecated"])
    }),
  )

  it.effect("answers a dryRun review exactly like the real one", () =>
    Effect.gen(function* () {
      for (const object of [{ spec: {} }, { spec: { image: "x" } }]) {
        const real = yield* answer(review(request({ object, dryRun: false })))
        const dry = yield* answer(review(request({ object, dryRun: true })))
        assert.deepStrictEqual(dry, real)
      }
    }),
  )

  it.effect("overwrites a wrong uid returned by a handler", () =>
    Effect.gen(function* () {
      const out = expectReview(
        yield* answer(review(request()), () => Effect.succeed(allow({ uid: "other" }))),
      )
      assert.strictEqual(out.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002")
    }),
  )

  it.effect("accepts DELETE with a null object and unknown extra fields", () =>
    Effect.gen(function* () {
      seen.length = 0
      const body = review(request({ operation: "DELETE", object: null, oldObject: { spec: {} }, future: 1 }))
      const out = expectReview(yield* answer(body, (req) => Effect.succeed(allow(req))))
      assert.strictEqual(out.response.allowed, true)
    }),
  )

  it.effect("400 for a body that is not JSON or not an admission.k8s.io/v1 AdmissionReview", () =>
    Effect.gen(function* () {
      const cases = [
        "",
        "{",
        "[1,2]",
        "null",
        JSON.stringify({ kind: "AdmissionReview", request: request() }),
        JSON.stringify({
          apiVersion: "admission.k8s.io/v1beta1",
          kind: "AdmissionReview",
          request: request(),
        }),
        JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "Pod" }),
      ]
      for (const body of cases) {
        const out = yield* answer(body)
        assert.strictEqual(out._tag, "BadRequest", body)
        if (out._tag === "BadRequest") assert.isAbove(out.message.length, 10)
      }
      const v1beta1 = yield* answer(cases[5] ?? "")
      assert.include(v1beta1._tag === "BadRequest" ? v1beta1.message : "", "apiVersion")
    }),
  )

  it.effect("a request that cannot be decoded gets a well-formed deny naming the problems", () =>
    Effect.gen(function* () {
      const bad = expectReview(yield* answer(review(request({ operation: "PATCH", kind: "LanguageAgent" }))))
      assert.strictEqual(bad.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002")
      assert.strictEqual(bad.response.allowed, false)
      assert.strictEqual(bad.response.status?.code, 400)
      const message = bad.response.status?.message ?? ""
      assert.include(message, "malformed AdmissionReview request")
      assert.include(message, "request.operation:")
      assert.include(message, "request.kind:")

      for (const req of [undefined, null, 42, "x", [], { uid: 7 }]) {
        const out = expectReview(yield* answer(review(req)))
        assert.strictEqual(out.response.uid, "")
        assert.strictEqual(out.response.allowed, false)
      }
      const missing = expectReview(
        yield* answer(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" })),
      )
      assert.include(missing.response.status?.message ?? "", "request: Missing key")
    }),
  )

  it.effect("a handler defect becomes a deny with code 500, not a crash", () =>
    Effect.gen(function* () {
      const throwing: AdmissionHandler = () => Effect.die(new Error("boom"))
      const out = expectReview(yield* answer(review(request()), throwing))
      assert.strictEqual(out.response.allowed, false)
      assert.strictEqual(out.response.status?.code, 500)
      assert.include(out.response.status?.message ?? "", "boom")
      const throwsSync: AdmissionHandler = () => {
        throw new Error("sync boom")
      }
      const out2 = expectReview(yield* answer(review(request()), throwsSync))
      assert.strictEqual(out2.response.status?.code, 500)
    }),
  )
})

describe("response builders", () => {
  it("formats Kubernetes field paths", () => {
    assert.strictEqual(formatFieldPath(["spec", "egress", 1, "to", "dns", 0]), "spec.egress[1].to.dns[0]")
    assert.strictEqual(
      formatFieldPath(["metadata", "labels", "langop.io/kind"]),
      "metadata.labels[langop.io/kind]",
    )
    assert.strictEqual(formatFieldPath([]), "")
  })

  it("allowWithPatch encodes a base64 JSONPatch and omits an empty one", () => {
    const patch: JsonPatch.JsonPatch = [{ op: "add", path: "/spec/x", value: 1, description: "dropped" }]
    const r = allowWithPatch({ uid: "u" }, patch, { warnings: ["w"] })
    assert.strictEqual(r.patchType, "JSONPatch")
    assert.deepStrictEqual(JSON.parse(Buffer.from(r.patch ?? "", "base64").toString()), [
      { op: "add", path: "/spec/x", value: 1 },
    ])
    assert.deepStrictEqual(r.warnings, ["w"])
    assert.deepStrictEqual(allowWithPatch({ uid: "u" }, []), { uid: "u", allowed: true })
  })

  it("turns schema issues into violations with prefixed paths", () => {
    const Spec = Schema.Struct({
      replicas: Schema.Int,
      ports: Schema.Array(Schema.Struct({ port: Schema.Int })),
    })
    const result = Schema.decodeUnknownResult(Spec, { errors: "all" })({
      replicas: "x",
      ports: [{ port: 1 }, {}],
    })
    assert.strictEqual(result._tag, "Failure")
    if (result._tag !== "Failure") return
    const paths = violationsFromIssue(result.failure.issue, ["spec"]).map((v) => v.path)
    assert.deepStrictEqual(paths.sort(), ["spec.ports[1].port", "spec.replicas"])
  })
})

describe("jsonPatch", () => {
  const roundTrip = (v: unknown) => JSON.parse(JSON.stringify(v ?? null))

  it("applied to the original gives the mutated value (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const patch = jsonPatch(a, b)
        assert.deepStrictEqual(JsonPatch.apply(patch, roundTrip(a)), roundTrip(b))
        assert.deepStrictEqual(jsonPatch(b, b), [])
      }),
      { numRuns: 500 },
    )
  })

  it("a mutation applied to its own output yields no patch (idempotence)", () => {
    const defaultNamespaces = (obj: {
      metadata: { namespace: string }
      spec: { modelRefs: Array<{ name: string; namespace?: string }> }
    }) => ({
      ...obj,
      spec: {
        ...obj.spec,
        modelRefs: obj.spec.modelRefs.map((r) => ({
          ...r,
          namespace: r.namespace || obj.metadata.namespace,
        })),
      },
    })
    const original = {
      metadata: { namespace: "team" },
      spec: { modelRefs: [{ name: "m1" }, { name: "m2", namespace: "" }] },
    }
    const once = defaultNamespaces(original)
    const patch = jsonPatch(original, once)
    assert.deepStrictEqual(patch, [
      { op: "add", path: "/spec/modelRefs/0/namespace", value: "team" },
      { op: "replace", path: "/spec/modelRefs/1/namespace", value: "team" },
    ])
    assert.deepStrictEqual(jsonPatch(once, defaultNamespaces(once)), [])
    const response = allowWithMutation({ uid: "u" }, once, defaultNamespaces(once))
    assert.deepStrictEqual(response, { uid: "u", allowed: true })
  })

  it("keeps patches small: one replace for an array shifted by an insert, undefined members ignored", () => {
    const containers = Array.from({ length: 20 }, (_, i) => ({ name: `c${i}`, image: "img" }))
    const patch = jsonPatch(
      { spec: { containers } },
      { spec: { containers: [{ name: "new", image: "i" }, ...containers] } },
    )
    assert.strictEqual(patch.length, 1)
    assert.strictEqual(patch[0]?.op, "replace")
    const appended = jsonPatch(
      { spec: { containers } },
      { spec: { containers: [...containers, { name: "t" }] } },
    )
    assert.deepStrictEqual(appended, [{ op: "add", path: "/spec/containers/20", value: { name: "t" } }])
    assert.deepStrictEqual(jsonPatch({ a: 1 }, { a: 1, b: undefined }), [])
    assert.deepStrictEqual(jsonPatch({ "a/b~c": 1 }, { "a/b~c": 2 }), [
      { op: "replace", path: "/a~1b~0c", value: 2 },
    ])
  })
})
