/**
 * Shared fixtures of the admission-server tests: temp dirs, kubelet-style certificate volumes, a
 * recording handler set, the server layer on a free port, and a small HTTPS client trusting only the
 * test CA. Not a test file itself.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { type Agent, request as httpsRequest } from "node:https"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "node:tls"
import { NodeServices } from "@effect/platform-node"
import { Duration, Effect, Layer, Schema, type Scope } from "effect"
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
import { WebhookServer, layer as webhookServerLayer } from "../../../src/webhook/server.ts"
import { type ServingCertificate, layer as servingCertificateLayer } from "../../../src/webhook/tls.ts"

/** Plain files (no `..data` indirection), key first. */
export const writePlain = (dir: string, pair: PemPair) => {
  writeFileSync(join(dir, "tls.key"), pair.keyPem)
  writeFileSync(join(dir, "tls.crt"), pair.certPem)
}

export const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "langop-webhook-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true })),
)

/** Kubelet-style Secret volume update: a fresh data dir, then an atomic `..data` symlink swap. */
let generation = 0
export const writeSecretVolume = (dir: string, pair: PemPair) => {
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

export const calls: Array<string> = []
export const recording =
  (name: string, handler: AdmissionHandler): AdmissionHandler =>
  (req) => {
    calls.push(`${name} ${req.operation}`)
    return handler(req)
  }

/** Defaults `spec.replicas` to 1; denies objects without `spec.image`. */
export const testHandlers: HandlerSet = {
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

export const serverLayer = (dir: string, set: HandlerSet = testHandlers, maxBodyBytes?: number) =>
  webhookServerLayer(handlerTable(set), {
    port: 0,
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
  }).pipe(
    Layer.provideMerge(servingCertificateLayer({ dir, pollInterval: Duration.hours(1) })),
    Layer.provide(NodeServices.layer),
  )

export interface Reply {
  readonly status: number
  readonly body: string
}

/** POST (or GET) over HTTPS trusting only `ca`. `chunks` sends the body without content-length. */
export const call = (
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
export const handshakeSerial = (port: number, ca: string) =>
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

export const requestFor = (kind: string, resource: string, overrides: Record<string, unknown> = {}) => ({
  uid: crypto.randomUUID(),
  kind: { group: kind === "Pod" ? "" : "langop.io", version: kind === "Pod" ? "v1" : "v1alpha1", kind },
  resource: { group: kind === "Pod" ? "" : "langop.io", version: "v1alpha1", resource },
  namespace: "team",
  operation: "CREATE",
  userInfo: { username: "u" },
  object: { metadata: { name: "x" }, spec: { image: "img" } },
  ...overrides,
})
export const reviewBody = (req: unknown) =>
  JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: req })
export const decodeReview = (reply: Reply) =>
  Schema.decodeUnknownSync(AdmissionReviewResponse)(JSON.parse(reply.body))

export const withServer = <A, E>(
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
