import { createServer as createNetServer } from "node:net"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { Settings, settingsFrom } from "../../../src/settings.ts"
import { handlerTable } from "../../../src/webhook/handlers.ts"
import { allowWithMutation } from "../../../src/webhook/review.ts"
import { layerFromSettings, WebhookServer } from "../../../src/webhook/server.ts"
import { ServingCertificate } from "../../../src/webhook/tls.ts"
import {
  call,
  calls,
  decodeReview,
  requestFor,
  reviewBody,
  tempDir,
  testHandlers,
  withServer,
  writeSecretVolume,
} from "./server-fixtures.ts"

describe("admission server over HTTPS", () => {
  it.live("answers validate and mutate reviews, health, readiness", () =>
    withServer(({ ca, url, port }) =>
      Effect.gen(function* () {
        calls.length = 0
        const server = yield* WebhookServer
        assert.isAbove(port, 0)
        assert.strictEqual(server.url("/x"), `https://127.0.0.1:${port}/x`)
        assert.isTrue(yield* server.ready)

        const health = yield* call(url("/healthz"), { ca: ca.certPem, method: "GET" })
        assert.deepStrictEqual(health, { status: 200, body: "ok" })

        const req = requestFor("LanguageAgent", "languageagents", { object: { spec: {} } })
        const denied = yield* call(url("/validate/languageagents"), { ca: ca.certPem, body: reviewBody(req) })
        assert.strictEqual(denied.status, 200)
        const deniedReview = decodeReview(denied)
        assert.strictEqual(deniedReview.response.uid, req.uid)
        assert.strictEqual(deniedReview.response.allowed, false)
        assert.strictEqual(
          deniedReview.response.status?.message,
          "spec.image: required\nspec.port: must be 1-65535",
        )

        const mutated = decodeReview(
          yield* call(url("/mutate/languagetools"), {
            ca: ca.certPem,
            body: reviewBody(requestFor("LanguageTool", "languagetools")),
          }),
        )
        assert.strictEqual(mutated.response.patchType, "JSONPatch")
        assert.deepStrictEqual(JSON.parse(Buffer.from(mutated.response.patch ?? "", "base64").toString()), [
          { op: "add", path: "/spec/replicas", value: 1 },
        ])
        const pod = decodeReview(
          yield* call(url("/mutate/pods"), { ca: ca.certPem, body: reviewBody(requestFor("Pod", "pods")) }),
        )
        assert.isTrue(pod.response.allowed)
        assert.deepStrictEqual(calls, [
          "validate LanguageAgent CREATE",
          "mutate LanguageTool CREATE",
          "mutate Pod CREATE",
        ])
      }),
    ),
  )

  it.live(
    "guards every endpoint: other kinds denied, unregistered operations allowed untouched, no patch from validators",
    () =>
      withServer(
        ({ ca, url }) =>
          Effect.gen(function* () {
            calls.length = 0
            const wrongKind = decodeReview(
              yield* call(url("/validate/languageagents"), {
                ca: ca.certPem,
                body: reviewBody(requestFor("LanguageTool", "languagetools")),
              }),
            )
            assert.isFalse(wrongKind.response.allowed)
            assert.strictEqual(wrongKind.response.status?.code, 400)
            assert.include(
              wrongKind.response.status?.message,
              "admits LanguageAgent objects only, got langop.io/LanguageTool",
            )

            const del = decodeReview(
              yield* call(url("/validate/languageagents"), {
                ca: ca.certPem,
                body: reviewBody(
                  requestFor("LanguageAgent", "languageagents", { operation: "DELETE", object: null }),
                ),
              }),
            )
            assert.deepStrictEqual(del.response, { uid: del.response.uid, allowed: true })
            const personaDelete = decodeReview(
              yield* call(url("/validate/languagepersonas"), {
                ca: ca.certPem,
                body: reviewBody(
                  requestFor("LanguagePersona", "languagepersonas", { operation: "DELETE", object: null }),
                ),
              }),
            )
            assert.deepStrictEqual(personaDelete.response.warnings, ["checked"])
            assert.deepStrictEqual(calls, ["validate LanguagePersona DELETE"])

            const patchingValidator = decodeReview(
              yield* call(url("/validate/languagemodels"), {
                ca: ca.certPem,
                body: reviewBody(requestFor("LanguageModel", "languagemodels")),
              }),
            )
            assert.isFalse(patchingValidator.response.allowed)
            assert.strictEqual(patchingValidator.response.status?.code, 500)
          }),
        {
          set: {
            ...testHandlers,
            LanguageModel: {
              mutate: testHandlers.LanguageModel.mutate,
              validate: (req) => Effect.succeed(allowWithMutation(req, {}, { a: 1 })),
            },
          },
        },
      ),
  )

  it.live("400 for unreadable envelopes, 413 over the size limit (declared or chunked), 404 elsewhere", () =>
    withServer(
      ({ ca, url }) =>
        Effect.gen(function* () {
          const path = url("/validate/languageclusters")
          const notJson = yield* call(path, { ca: ca.certPem, body: "{nope" })
          assert.strictEqual(notJson.status, 400)
          assert.include(notJson.body, "not JSON")
          const notReview = yield* call(path, {
            ca: ca.certPem,
            body: JSON.stringify({ apiVersion: "v1", kind: "Pod" }),
          })
          assert.strictEqual(notReview.status, 400)
          assert.include(notReview.body, "AdmissionReview")

          const big = "x".repeat(70_000)
          const declared = yield* call(path, { ca: ca.certPem, body: big })
          assert.strictEqual(declared.status, 413)
          assert.include(declared.body, "exceeds 65536 bytes")
          const chunked = yield* call(path, {
            ca: ca.certPem,
            body: Array.from({ length: 10 }, () => "y".repeat(10_000)),
          })
          assert.strictEqual(chunked.status, 413)
          const fits = yield* call(path, {
            ca: ca.certPem,
            body: reviewBody(
              requestFor("LanguageCluster", "languageclusters", {
                object: { spec: { image: "i", pad: "z".repeat(60_000) } },
              }),
            ),
          })
          assert.strictEqual(fits.status, 200)

          assert.strictEqual((yield* call(url("/validate/pods"), { ca: ca.certPem, body: "{}" })).status, 404)
          assert.strictEqual((yield* call(url("/healthz"), { ca: ca.certPem, body: "{}" })).status, 404)
          // Still serving after all that.
          assert.strictEqual((yield* call(url("/healthz"), { ca: ca.certPem, method: "GET" })).status, 200)
        }),
      { maxBodyBytes: 64 * 1024 },
    ),
  )

  it.live("defaults to the API server's 3 MiB limit", () =>
    withServer(({ ca, url }) =>
      Effect.gen(function* () {
        const path = url("/validate/languageclusters")
        const over = yield* call(path, { ca: ca.certPem, body: "x".repeat(3 * 1024 * 1024 + 1) })
        assert.strictEqual(over.status, 413)
        const pad = "z".repeat(3 * 1024 * 1024 - 1024)
        const under = yield* call(path, {
          ca: ca.certPem,
          body: reviewBody(
            requestFor("LanguageCluster", "languageclusters", { object: { spec: { image: "i", pad } } }),
          ),
        })
        assert.strictEqual(under.status, 200)
      }),
    ),
  )

  it.live("layerFromSettings reads LANGOP_WEBHOOK_PORT / LANGOP_WEBHOOK_HOST / LANGOP_CERT_DIR", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      writeSecretVolume(dir, yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: "1 day" }))
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) => {
            const probe = createNetServer().listen(0, "127.0.0.1", () => {
              const address = probe.address()
              probe.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
            })
          }),
      )
      const settings = Layer.succeed(
        Settings,
        yield* settingsFrom({
          LANGOP_WEBHOOK_PORT: String(port),
          LANGOP_WEBHOOK_HOST: "127.0.0.1",
          LANGOP_CERT_DIR: dir,
        }),
      )
      yield* Effect.gen(function* () {
        const server = yield* WebhookServer
        assert.strictEqual(server.port, port)
        assert.strictEqual((yield* ServingCertificate).dir, dir)
        assert.isTrue(yield* server.ready)
        const reply = yield* call(`https://127.0.0.1:${port}/healthz`, { ca: ca.certPem, method: "GET" })
        assert.strictEqual(reply.status, 200)
      }).pipe(
        Effect.provide(
          layerFromSettings(handlerTable(testHandlers)).pipe(
            Layer.provide(NodeServices.layer),
            Layer.provide(settings),
          ),
        ),
      )
    }),
  )
})
