import { X509Certificate } from "node:crypto"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Layer, Result, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import {
  type KeyPair,
  ServingCertificate,
  layer as servingCertificateLayer,
  validateKeyPair,
} from "../../../src/webhook/tls.ts"
import { tempDir, writePlain, writeSecretVolume } from "./server-fixtures.ts"

const serialOf = (pem: string) => new X509Certificate(pem).serialNumber

const provideCert = (options: Parameters<typeof servingCertificateLayer>[0]) =>
  Effect.provide(servingCertificateLayer(options).pipe(Layer.provide(NodeServices.layer)))

const eventually = <A>(check: Effect.Effect<A | undefined>) =>
  check.pipe(
    Effect.flatMap((a) => (a === undefined ? Effect.fail("not yet" as const) : Effect.succeed(a))),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("5 seconds"),
  )

describe("validateKeyPair", () => {
  it.live("accepts a good pair and names what is wrong with a bad one", () =>
    Effect.gen(function* () {
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      const good = yield* mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1) })
      const other = yield* mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1) })
      const expired = yield* mintServingCert({
        ca,
        dnsNames: ["localhost"],
        notBefore: new Date(Date.now() - 7_200_000),
        validFor: Duration.hours(1),
      })
      const now = Date.now()
      const ok = validateKeyPair({ cert: good.certPem, key: good.keyPem }, now)
      assert.isTrue(Result.isSuccess(ok))
      if (Result.isSuccess(ok)) assert.strictEqual(ok.success.serialNumber, serialOf(good.certPem))
      const reason = (pair: KeyPair) => {
        const r = validateKeyPair(pair, now)
        return Result.isFailure(r) ? r.failure : "accepted"
      }
      assert.include(reason({ cert: good.certPem, key: other.keyPem }), "does not match")
      assert.include(reason({ cert: expired.certPem, key: expired.keyPem }), "expired")
      assert.include(reason({ cert: "nope", key: good.keyPem }), "tls.crt is not a parseable")
      assert.include(reason({ cert: good.certPem, key: "nope" }), "tls.key is not a parseable")
      assert.include(reason({ cert: "", key: "" }), "tls.crt")
    }),
  )
})

describe("ServingCertificate", () => {
  it.live(
    "loads at start, reloads on a Kubernetes-style ..data swap via the watch, keeps the old pair on a bad one",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const ca = yield* mintCa({ validFor: Duration.days(1) })
        const mint = () => mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1) })
        const first = yield* mint()
        writeSecretVolume(dir, first)
        yield* Effect.gen(function* () {
          const cert = yield* ServingCertificate
          const changes: Array<string> = []
          yield* cert.onChange((pair) => changes.push(serialOf(pair.cert)))
          assert.isTrue(yield* cert.ready)
          assert.strictEqual((yield* cert.current)?.info.serialNumber, serialOf(first.certPem))
          assert.strictEqual(
            (yield* cert.notAfter)?.getTime(),
            new X509Certificate(first.certPem).validToDate.getTime(),
          )

          const second = yield* mint()
          writeSecretVolume(dir, second)
          // The timer is an hour away: only the directory watch can have noticed.
          yield* eventually(
            Effect.map(cert.current, (c) =>
              c?.info.serialNumber === serialOf(second.certPem) ? c : undefined,
            ),
          )
          assert.deepStrictEqual(changes, [serialOf(second.certPem)])

          const third = yield* mint()
          writeSecretVolume(dir, { certPem: third.certPem, keyPem: first.keyPem })
          const status = yield* eventually(
            Effect.map(cert.status, (s) => (s.lastError === undefined ? undefined : s)),
          )
          assert.include(status.lastError, "does not match")
          assert.strictEqual(status.current?.info.serialNumber, serialOf(second.certPem))
          assert.isTrue(yield* cert.ready)
          assert.strictEqual(yield* cert.reload, "rejected")
          assert.deepStrictEqual(changes, [serialOf(second.certPem)])
        }).pipe(provideCert({ dir, pollInterval: Duration.hours(1) }))
      }),
  )

  it.effect("the periodic check picks up a change without any watch (TestClock)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const ca = yield* mintCa({ validFor: Duration.days(1), notBefore: new Date(0) })
      const mint = () =>
        mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1), notBefore: new Date(0) })
      const first = yield* mint()
      writePlain(dir, first)
      yield* Effect.gen(function* () {
        const cert = yield* ServingCertificate
        const changed = yield* Deferred.make<string>()
        yield* cert.onChange((pair) => Deferred.doneUnsafe(changed, Effect.succeed(serialOf(pair.cert))))
        const second = yield* mint()
        writePlain(dir, second)
        assert.strictEqual((yield* cert.current)?.info.serialNumber, serialOf(first.certPem))
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual(yield* Deferred.await(changed), serialOf(second.certPem))
        assert.strictEqual((yield* cert.current)?.info.serialNumber, serialOf(second.certPem))
        // Readiness follows the clock: after notAfter the loaded pair no longer counts.
        assert.isTrue(yield* cert.ready)
        yield* TestClock.adjust(Duration.days(2))
        assert.isFalse(yield* cert.ready)
      }).pipe(provideCert({ dir, watch: false }))
    }),
  )

  it.live("starts without a directory (not ready, error recorded) and loads the pair once it appears", () =>
    Effect.gen(function* () {
      const parent = yield* tempDir
      const dir = join(parent, "later")
      yield* Effect.gen(function* () {
        const cert = yield* ServingCertificate
        assert.isFalse(yield* cert.ready)
        assert.include((yield* cert.status).lastError, "cannot read")
        const ca = yield* mintCa({ validFor: Duration.days(1) })
        const pair = yield* mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1) })
        mkdirSync(dir)
        writePlain(dir, pair)
        yield* eventually(Effect.map(cert.ready, (r) => (r ? r : undefined)))
        const status = yield* cert.status
        assert.isUndefined(status.lastError)
        assert.strictEqual(status.current?.info.serialNumber, serialOf(pair.certPem))
      }).pipe(provideCert({ dir, pollInterval: Duration.millis(50) }))
    }),
  )
})
