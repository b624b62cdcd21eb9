import { X509Certificate } from "node:crypto"
import { Agent } from "node:https"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { WebhookServer } from "../../../src/webhook/server.ts"
import { ServingCertificate } from "../../../src/webhook/tls.ts"
import {
  call,
  decodeReview,
  handshakeSerial,
  requestFor,
  reviewBody,
  serverLayer,
  tempDir,
  withServer,
  writeSecretVolume,
} from "./server-fixtures.ts"

describe("admission server certificate rotation", () => {
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
})
