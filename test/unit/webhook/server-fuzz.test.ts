import { Agent, request as httpsRequest } from "node:https"
import { connect as netConnect } from "node:net"
import type { Duplex } from "node:stream"
import { connect as tlsConnect } from "node:tls"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, References, Schema } from "effect"
import fc from "fast-check"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { type HandlerSet, handlerTable, langopKinds } from "../../../src/webhook/handlers.ts"
import {
  AdmissionReviewResponse,
  allow,
  allowWithMutation,
  deny,
  violation,
} from "../../../src/webhook/review.ts"
import { WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"
import { tempDir, writePlain } from "./server-fixtures.ts"

/** Handlers that poke at the object carelessly, as buggy real ones might: throws become defects. */
const careless: HandlerSet = {
  ...(Object.fromEntries(
    langopKinds.map((kind) => [
      kind,
      {
        mutate: (req) =>
          Effect.sync(() => {
            const object = req.object as { spec: Record<string, unknown> }
            return allowWithMutation(req, object, { ...object, spec: { defaulted: true, ...object.spec } })
          }),
        validate: (req) =>
          Effect.sync(() => {
            const image = (req.object as { spec: { image: unknown } }).spec.image
            return typeof image === "string"
              ? allow(req)
              : deny(req, [violation("spec.image", "must be a string")])
          }),
      },
    ]),
  ) as Omit<HandlerSet, "Pod">),
  Pod: { mutate: (req) => Effect.succeed(allow(req)) },
}
const table = handlerTable(careless)
const paths = table.map((entry) => entry.path)

interface Reply {
  readonly status: number
  readonly body: string
}

const post = (agent: Agent, url: string, body: string | Uint8Array) =>
  new Promise<Reply>((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        res.on("error", reject)
      },
    )
    req.on("error", reject)
    req.end(body)
  })

const decodeResponse = Schema.decodeUnknownSync(AdmissionReviewResponse)

/** Checks one answer; `uid` is the request's uid when the body carried a string one. */
const wellFormed = (reply: Reply, uid: string | undefined) => {
  if (reply.status === 200) {
    const review = decodeResponse(JSON.parse(reply.body))
    if (uid !== undefined) assert.strictEqual(review.response.uid, uid)
    if (!review.response.allowed) assert.isString(review.response.status?.message)
    return
  }
  assert.include([400, 413], reply.status, reply.body)
  assert.isAbove(reply.body.length, 0)
}

const validRequest = {
  uid: "fixed-uid",
  kind: { group: "langop.io", version: "v1alpha1", kind: "LanguageAgent" },
  resource: { group: "langop.io", version: "v1alpha1", resource: "languageagents" },
  operation: "CREATE",
  object: { spec: { image: "x" } },
}
const envelope = (request: unknown) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request,
})

const json = fc.jsonValue({ maxDepth: 6 })
/** A request with some fields replaced by arbitrary JSON (or dropped). */
const mangledRequest = fc
  .record(
    {
      uid: fc.oneof(fc.string(), json),
      kind: fc.oneof(fc.constant(validRequest.kind), json),
      resource: fc.oneof(fc.constant(validRequest.resource), json),
      operation: fc.oneof(fc.constantFrom("CREATE", "UPDATE", "DELETE", "CONNECT"), json),
      object: json,
      oldObject: json,
      dryRun: fc.oneof(fc.boolean(), json),
      userInfo: json,
    },
    { requiredKeys: [] },
  )
  .map((overrides) => ({ ...validRequest, ...overrides }))
const ourKindRequest = fc
  .record({
    kind: fc.constantFrom(...langopKinds, "Pod", "Secret"),
    operation: fc.constantFrom("CREATE", "UPDATE", "DELETE"),
    object: fc.oneof(json, fc.record({ spec: json }), fc.record({ spec: fc.record({ image: json }) })),
    dryRun: fc.boolean(),
  })
  .map((r) => ({ ...validRequest, ...r, kind: { ...validRequest.kind, kind: r.kind } }))

const stringUid = (body: unknown): string | undefined => {
  const uid = (body as { request?: { uid?: unknown } } | null)?.request?.uid
  return typeof uid === "string" ? uid : undefined
}

/** A JSON body and the uid expected back (only meaningful when the envelope itself is valid). */
const bodies: fc.Arbitrary<{ body: string | Uint8Array; uid: string | undefined }> = fc.oneof(
  fc.string({ unit: "binary" }).map((body) => ({ body, uid: undefined })),
  fc.uint8Array({ maxLength: 2048 }).map((body) => ({ body, uid: undefined })),
  json.map((v) => ({ body: JSON.stringify(v), uid: undefined })),
  fc
    .record({ apiVersion: json, kind: json, request: json }, { requiredKeys: [] })
    .map((v) => ({ body: JSON.stringify(v), uid: undefined })),
  json.map((request) => envelope(request)).map((v) => ({ body: JSON.stringify(v), uid: stringUid(v) ?? "" })),
  mangledRequest.map(envelope).map((v) => ({ body: JSON.stringify(v), uid: stringUid(v) ?? "" })),
  ourKindRequest.map(envelope).map((v) => ({ body: JSON.stringify(v), uid: "fixed-uid" })),
)

const fixture = Effect.gen(function* () {
  const dir = yield* tempDir
  const ca = yield* mintCa({ validFor: Duration.days(1) })
  const pair = yield* mintServingCert({ ca, ipAddresses: ["127.0.0.1"], validFor: Duration.days(1) })
  writePlain(dir, pair)
  const agent = yield* Effect.acquireRelease(
    Effect.sync(() => new Agent({ keepAlive: true, maxSockets: 8, ca: ca.certPem })),
    (a) => Effect.sync(() => a.destroy()),
  )
  return { dir, ca, agent }
})

/** The server, with logging off: the careless handlers' defects are expected here. */
const serve =
  (dir: string) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(
      Effect.provide(
        webhookServerLayer(table, { port: 0, maxBodyBytes: 256 * 1024 }).pipe(
          Layer.provide(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
          Layer.provide(NodeServices.layer),
        ),
      ),
      Effect.provideService(References.MinimumLogLevel, "None"),
    )

describe("admission server fuzzing", () => {
  it.live(
    "random and malformed reviews always get a well-formed answer",
    () =>
      Effect.gen(function* () {
        const { dir, agent } = yield* fixture
        yield* Effect.gen(function* () {
          const server = yield* WebhookServer
          let answered = 0
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(fc.constantFrom(...paths), bodies, async (path, { body, uid }) => {
                const reply = await post(agent, server.url(path), body)
                wellFormed(reply, uid)
                answered += 1
              }),
              { numRuns: 1500 },
            ),
          )
          assert.strictEqual(answered, 1500)
          // Bodies that stress the parser or the handlers' recursion, and ones over the limit.
          const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`
          const deepObject = JSON.stringify(envelope({ ...validRequest, object: { spec: {} } })).replace(
            '"spec":{}',
            `"spec":{"deep":${deep}}`,
          )
          for (const body of [deep, deepObject, "x".repeat(300_000), "\u0000".repeat(10), '{"apiVersion":']) {
            for (const path of ["/mutate/languageagents", "/validate/languageagents"]) {
              wellFormed(yield* Effect.promise(() => post(agent, server.url(path), body)), undefined)
            }
          }
          const health = yield* Effect.promise(() =>
            post(agent, server.url("/mutate/pods"), JSON.stringify(envelope(validRequest))),
          )
          assert.strictEqual(health.status, 200)
        }).pipe(serve(dir))
      }),
    { timeout: 120_000 },
  )

  it.live("garbage below HTTP (raw TCP, TLS without HTTP) does not take the server down", () =>
    Effect.gen(function* () {
      const { dir, ca, agent } = yield* fixture
      yield* Effect.gen(function* () {
        const server = yield* WebhookServer
        const garbage = Buffer.from(
          "\x16\x03\x01\xff\xffGARBAGE\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        )
        /** Writes garbage once connected, reads whatever comes back, resolves when the socket closes. */
        const send = (open: (onConnect: () => void) => Duplex) =>
          Effect.promise(
            () =>
              new Promise<void>((resolve) => {
                const socket: Duplex = open(() => socket.end(garbage))
                socket.resume()
                socket.on("close", () => resolve())
                socket.on("error", () => resolve())
              }),
          )
        for (let i = 0; i < 20; i++) {
          yield* send((done) => netConnect({ host: "127.0.0.1", port: server.port }, done))
          yield* send((done) => tlsConnect({ host: "127.0.0.1", port: server.port, ca: ca.certPem }, done))
        }
        const reply = yield* Effect.promise(() =>
          post(agent, server.url("/validate/languageagents"), JSON.stringify(envelope(validRequest))),
        )
        assert.strictEqual(reply.status, 200)
        assert.isTrue(decodeResponse(JSON.parse(reply.body)).response.allowed)
      }).pipe(serve(dir))
    }),
  )
})
