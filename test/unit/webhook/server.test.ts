import { X509Certificate } from "node:crypto"
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { Agent, request as httpsRequest } from "node:https"
import { createServer as createNetServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "node:tls"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Fiber, Layer, Schedule, Schema, type Scope } from "effect"
import { mintCa, mintServingCert, type PemPair } from "../../../certs/pki.ts"
import { type HandlerSet, handlerTable, langopKinds } from "../../../src/webhook/handlers.ts"
import {
  type AdmissionHandler,
  AdmissionReviewResponse,
  allow,
  allowWithMutation,
  deny,
  violation,
} from "../../../src/webhook/review.ts"
import { layerFromSettings, WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { ServingCertificate, layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"

// ---------------------------------------------------------------------------------------------
// Fixtures

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "langop-webhook-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

/** Kubelet-style Secret volume update: a fresh data dir, then an atomic `..data` symlink swap. */
let generation = 0
const writeSecretVolume = (dir: string, pair: PemPair) => {
  generation += 1
  const data = `..gen_${generation}`
  mkdirSync(join(dir, data))
  writeFileSync(join(dir, data, "tls.crt"), pair.certPem)
  writeFileSync(join(dir, data, "tls.key"), pair.keyPem)
  symlinkSync(data, join(dir, "..data_tmp"))
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"))
  for (const f of ["tls.crt", "tls.key"]) {
    try {
      symlinkSync(join("..data", f), join(dir, f))
    } catch {
      // already a link into ..data
    }
  }
}

const calls: Array<string> = []
const recording =
  (name: string, handler: AdmissionHandler): AdmissionHandler =>
  (req) => {
    calls.push(`${name} ${req.operation}`)
    return handler(req)
  }

/** Defaults `spec.replicas` to 1; denies objects without `spec.image`. */
const testHandlers: HandlerSet = {
  ...(Object.fromEntries(
    langopKinds.map((kind) => [
      kind,
      {
        mutate: recording(`mutate ${kind}`, (req) => {
          const object = (req.object ?? {}) as { spec?: Record<string, unknown> }
          const mutated = { ...object, spec: { replicas: 1, ...object.spec } }
          return Effect.succeed(allowWithMutation(req, object, mutated))
        }),
        validate: recording(`validate ${kind}`, (req) => {
          const spec = (req.object as { spec?: { image?: unknown } } | null)?.spec
          return Effect.succeed(
            spec?.image === undefined && req.operation !== "DELETE"
              ? deny(req, [violation("spec.image", "required"), violation("spec.port", "must be 1-65535")])
              : allow(req, { warnings: ["checked"] }),
          )
        }),
      },
    ]),
  ) as Omit<HandlerSet, "Pod">),
  Pod: { mutate: recording("mutate Pod", (req) => Effect.succeed(allow(req))) },
}

const serverLayer = (dir: string, set: HandlerSet = testHandlers, maxBodyBytes?: number) =>
  webhookServerLayer(handlerTable(set), {
    port: 0,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  }).pipe(
    Layer.provideMerge(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
    Layer.provide(NodeServices.layer),
  )

interface Reply {
  readonly status: number
  readonly body: string
}

/** POST (or GET) over HTTPS trusting only `ca`. `chunks` sends the body without content-length. */
const call = (
  url: string,
  options: {
    readonly ca: string
    readonly body?: string | ReadonlyArray<string>
    readonly method?: string
    readonly agent?: Agent
  },
) =>
  Effect.tryPromise(
    () =>
      new Promise<Reply>((resolve, reject) => {
        const req = httpsRequest(
          url,
          {
            method: options.method ?? "POST",
            ca: options.ca,
            ...(options.agent === undefined ? { agent: false } : { agent: options.agent }),
            headers: { "content-type": "application/json" },
          },
          (res) => {
            const chunks: Array<Buffer> = []
            res.on("data", (c: Buffer) => chunks.push(c))
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
            )
            res.on("error", reject)
          },
        )
        req.on("error", reject)
        const body = options.body ?? ""
        if (typeof body === "string") req.end(body)
        else {
          for (const chunk of body) req.write(chunk)
          req.end()
        }
      }),
  )

/** Serial number of the certificate a fresh TLS handshake gets. */
const handshakeSerial = (port: number, ca: string) =>
  Effect.tryPromise(
    () =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: "127.0.0.1", port, ca }, () => {
          const serial = socket.getPeerCertificate().serialNumber
          socket.end()
          resolve(serial)
        })
        socket.on("error", reject)
      }),
  )

const requestFor = (kind: string, resource: string, overrides: Record<string, unknown> = {}) => ({
  uid: crypto.randomUUID(),
  kind: { group: kind === "Pod" ? "" : "langop.io", version: kind === "Pod" ? "v1" : "v1alpha1", kind },
  resource: { group: kind === "Pod" ? "" : "langop.io", version: "v1alpha1", resource },
  namespace: "team",
  operation: "CREATE",
  userInfo: { username: "u" },
  object: { metadata: { name: "x" }, spec: { image: "img" } },
  ...overrides,
})
const reviewBody = (req: unknown) =>
  JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: req })
const decodeReview = (reply: Reply) =>
  Schema.decodeUnknownSync(AdmissionReviewResponse)(JSON.parse(reply.body))

const withServer = <A, E>(
  body: (env: {
    ca: PemPair
    url: (path: string) => string
    port: number
    dir: string
  }) => Effect.Effect<A, E, WebhookServer | ServingCertificate | Scope.Scope>,
  options: { maxBodyBytes?: number; set?: HandlerSet } = {},
) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const ca = yield* mintCa({ validFor: Duration.days(1) })
    writeSecretVolume(
      dir,
      yield* mintServingCert({ ca, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validFor: "1 day" }),
    )
    return yield* Effect.gen(function* () {
      const server = yield* WebhookServer
      return yield* body({ ca, url: server.url, port: server.port, dir })
    }).pipe(Effect.provide(serverLayer(dir, options.set ?? testHandlers, options.maxBodyBytes)))
  })

// ---------------------------------------------------------------------------------------------

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

  it.live(
    "rotates the certificate under load: no request fails, new handshakes get the new certificate",
    () =>
      withServer(({ ca, url, port, dir }) =>
        Effect.gen(function* () {
          const keepAlive = new Agent({ keepAlive: true, maxSockets: 4, ca: ca.certPem })
          yield* Effect.addFinalizer(() => Effect.sync(() => keepAlive.destroy()))
          let stop = false
          let done = 0
          const failures: Array<string> = []
          const worker = (fresh: boolean) =>
            Effect.gen(function* () {
              while (!stop) {
                const req = requestFor("LanguageAgent", "languageagents")
                const reply = yield* call(url("/validate/languageagents"), {
                  ca: ca.certPem,
                  body: reviewBody(req),
                  ...(fresh ? {} : { agent: keepAlive }),
                }).pipe(Effect.catch((e) => Effect.succeed({ status: -1, body: String(e) })))
                if (reply.status !== 200 || decodeReview(reply).response.uid !== req.uid)
                  failures.push(reply.body)
                done += 1
              }
            })
          const workers = yield* Effect.forkChild(
            Effect.all([worker(false), worker(false), worker(false), worker(true), worker(true)], {
              concurrency: "unbounded",
            }),
          )
          const serials = [yield* handshakeSerial(port, ca.certPem)]
          for (let i = 0; i < 3; i++) {
            const before = done
            yield* Effect.sleep("100 millis").pipe(Effect.repeat({ until: () => done >= before + 20 }))
            const next = yield* mintServingCert({
              ca,
              dnsNames: ["localhost"],
              ipAddresses: ["127.0.0.1"],
              validFor: "1 day",
            })
            writeSecretVolume(dir, next)
            const expected = new X509Certificate(next.certPem).serialNumber
            const seen = yield* handshakeSerial(port, ca.certPem).pipe(
              Effect.filterOrFail((s) => s === expected),
              Effect.retry(Schedule.spaced("20 millis")),
              Effect.timeout("5 seconds"),
            )
            serials.push(seen)
          }
          const before = done
          yield* Effect.sleep("50 millis").pipe(Effect.repeat({ until: () => done >= before + 20 }))
          stop = true
          yield* Fiber.join(workers)
          assert.deepStrictEqual(failures, [])
          assert.isAbove(done, 80)
          assert.strictEqual(new Set(serials).size, 4)
        }),
      ),
    { timeout: 60_000 },
  )

  it.live("a bad new pair keeps the old certificate in use", () =>
    withServer(({ ca, url, port, dir }) =>
      Effect.gen(function* () {
        const cert = yield* ServingCertificate
        const original = yield* handshakeSerial(port, ca.certPem)
        const a = yield* mintServingCert({
          ca,
          dnsNames: ["localhost"],
          ipAddresses: ["127.0.0.1"],
          validFor: "1 day",
        })
        const b = yield* mintServingCert({
          ca,
          dnsNames: ["localhost"],
          ipAddresses: ["127.0.0.1"],
          validFor: "1 day",
        })
        writeSecretVolume(dir, { certPem: a.certPem, keyPem: b.keyPem })
        yield* cert.status.pipe(
          Effect.filterOrFail((s) => s.lastError !== undefined),
          Effect.retry(Schedule.spaced("20 millis")),
          Effect.timeout("5 seconds"),
        )
        assert.strictEqual(yield* handshakeSerial(port, ca.certPem), original)
        assert.isTrue(yield* (yield* WebhookServer).ready)
        assert.strictEqual((yield* call(url("/healthz"), { ca: ca.certPem, method: "GET" })).status, 200)
      }),
    ),
  )

  it.live("starts without a certificate (not ready, handshakes fail) and serves once one appears", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.gen(function* () {
        const server = yield* WebhookServer
        assert.isFalse(yield* server.ready)
        const ca = yield* mintCa({ validFor: Duration.days(1) })
        const early = yield* Effect.result(call(server.url("/healthz"), { ca: ca.certPem, method: "GET" }))
        assert.strictEqual(early._tag, "Failure")
        writeSecretVolume(dir, yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: "1 day" }))
        yield* server.ready.pipe(
          Effect.filterOrFail((r) => r),
          Effect.retry(Schedule.spaced("20 millis")),
          Effect.timeout("5 seconds"),
        )
        const later = yield* call(server.url("/healthz"), { ca: ca.certPem, method: "GET" })
        assert.strictEqual(later.status, 200)
      }).pipe(Effect.provide(serverLayer(dir)))
    }),
  )

  it.live("layerFromSettings reads WEBHOOK_PORT / WEBHOOK_HOST / WEBHOOK_CERT_DIR", () =>
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
      const settings = ConfigProvider.layer(
        ConfigProvider.fromEnvRecord({
          WEBHOOK_PORT: String(port),
          WEBHOOK_HOST: "127.0.0.1",
          WEBHOOK_CERT_DIR: dir,
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
