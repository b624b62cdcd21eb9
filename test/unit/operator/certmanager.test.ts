// The self-managed certificate manager's decisions (src/operator/certmanager.ts): when to issue, when to
// replace the CA (keeping the old one trusted), the caBundle patch and the Secret round trip. Time is the
// TestClock's; certificates are real (certs/pki.ts).
import { X509Certificate } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import {
  bundleOf,
  type CertBundle,
  caBundlePatch,
  decideSecret,
  issue,
  pemCertificates,
  writeServingFiles,
} from "../../../src/operator/certmanager.ts"

const options = {
  dnsNames: ["langop-webhook.langop-system.svc"],
  ipAddresses: ["127.0.0.1"],
  caValidity: Duration.days(30),
  servingValidity: Duration.days(3),
}
const start = Date.parse("2030-01-01T00:00:00Z")
const atStart = TestClock.setTime(start)

const first = Effect.gen(function* () {
  yield* atStart
  return yield* issue(undefined, { _tag: "Issue", newCa: true, reason: "test" }, options)
})

const leafOf = (b: CertBundle) => new X509Certificate(b.tlsCert)

describe("decideSecret", () => {
  it.effect("no Secret: issue a CA and a serving certificate", () =>
    Effect.sync(() =>
      expect(decideSecret(undefined, start, options)).toMatchObject({ _tag: "Issue", newCa: true }),
    ),
  )

  it.effect("a fresh bundle is kept; it covers the names, for exactly the validity", () =>
    Effect.gen(function* () {
      const b = yield* first
      expect(decideSecret(b, start, options)).toEqual({ _tag: "Keep" })
      const leaf = leafOf(b)
      expect(leaf.checkHost("langop-webhook.langop-system.svc")).toBeDefined()
      expect(leaf.checkIP("127.0.0.1")).toBeDefined()
      expect(leaf.validToDate.getTime() - start).toBe(Duration.toMillis(Duration.days(3)))
      expect(leaf.verify(new X509Certificate(b.caCert).publicKey)).toBe(true)
    }),
  )

  it.effect("the serving certificate is re-issued once less than a third of its validity is left", () =>
    Effect.gen(function* () {
      const b = yield* first
      expect(decideSecret(b, start + Duration.toMillis(Duration.hours(47)), options)._tag).toBe("Keep")
      expect(decideSecret(b, start + Duration.toMillis(Duration.hours(49)), options)).toMatchObject({
        _tag: "Issue",
        newCa: false,
      })
    }),
  )

  it.effect("missing names, a foreign signature or a broken payload trigger a new certificate", () =>
    Effect.gen(function* () {
      const b = yield* first
      expect(decideSecret(b, start, { ...options, dnsNames: ["other.svc"] })).toMatchObject({ newCa: false })
      const other = yield* issue(undefined, { _tag: "Issue", newCa: true, reason: "t" }, options)
      expect(decideSecret({ ...b, tlsCert: other.tlsCert }, start, options)).toMatchObject({
        reason: expect.stringMatching(/not signed by a trusted CA/u),
      })
      expect(decideSecret({ ...b, caKey: "" }, start, options)).toMatchObject({ newCa: true })
      const { tlsKey: _, ...withoutKey } = b
      expect(decideSecret(withoutKey, start, options)).toMatchObject({ newCa: false })
      expect(decideSecret({ ...b, caBundle: other.caCert }, start, options)).toMatchObject({
        reason: expect.stringMatching(/bundle/u),
      })
    }),
  )

  it.effect(
    "a CA with a third of its validity left is replaced in two steps; the old CA stays trusted while valid",
    () =>
      Effect.gen(function* () {
        const day = (d: number) => start + Duration.toMillis(Duration.days(d))
        const b = yield* first
        // Day 21: a fresh serving certificate from the old CA (expires day 24).
        yield* TestClock.setTime(day(21))
        const b2 = yield* issue(b, { _tag: "Issue", newCa: false, reason: "t" }, options)
        // Day 23.5: the CA (expires day 30) has less than a third left → a new CA joins the bundle.
        const rotation = day(23.5)
        const decision = decideSecret(b2, rotation, options)
        expect(decision).toMatchObject({ _tag: "RotateCa" })
        if (decision._tag !== "RotateCa") return
        yield* TestClock.setTime(rotation)
        const next = yield* issue(b2, decision, options)
        expect(next.caCert).not.toBe(b.caCert)
        expect(pemCertificates(next.caBundle).map((p) => p.trim())).toEqual([
          next.caCert.trim(),
          b.caCert.trim(),
        ])
        // The serving certificate (old CA) is kept while the API server learns the new CA …
        expect(next.tlsCert).toBe(b2.tlsCert)
        expect(decideSecret(next, rotation + 1_000, options)).toEqual({ _tag: "Keep" })
        // … and re-issued by the new CA once it has settled (it was due: half a day left of 3).
        const due = decideSecret(next, rotation + 11_000, options)
        expect(due).toMatchObject({ _tag: "Issue", newCa: false })
        if (due._tag !== "Issue") return
        yield* TestClock.setTime(rotation + 11_000)
        const renewed = yield* issue(next, due, options)
        expect(leafOf(renewed).verify(new X509Certificate(next.caCert).publicKey)).toBe(true)
        expect(renewed.caCert).toBe(next.caCert)
        // Once the old CA has expired it is dropped from the bundle.
        yield* TestClock.setTime(day(31))
        const after = yield* issue(renewed, { _tag: "Issue", newCa: false, reason: "t" }, options)
        expect(pemCertificates(after.caBundle).map((p) => p.trim())).toEqual([next.caCert.trim()])
      }),
  )

  it.effect("a pair from the previous CA is renewed before that CA expires, without a renewal loop", () =>
    Effect.gen(function* () {
      const day = (d: number) => start + Duration.toMillis(Duration.days(d))
      // Serving certificates valid 60 days, longer than the 30-day CA: renewed at 20 days left.
      const long = { ...options, servingValidity: Duration.days(60) }
      yield* atStart
      const b = yield* issue(undefined, { _tag: "Issue", newCa: true, reason: "t" }, long)
      expect(decideSecret(b, day(15), long)).toEqual({ _tag: "Keep" })
      const rotate = decideSecret(b, day(21), long)
      expect(rotate._tag).toBe("RotateCa")
      if (rotate._tag !== "RotateCa") return
      yield* TestClock.setTime(day(21))
      const next = yield* issue(b, rotate, long)
      // The kept pair now ends with the old CA (day 30, 9 days left < 20): renewed once the new CA settled.
      expect(decideSecret(next, day(21) + 11_000, long)).toMatchObject({ _tag: "Issue" })
      yield* TestClock.setTime(day(21) + 11_000)
      const renewed = yield* issue(next, { _tag: "Issue", newCa: false, reason: "t" }, long)
      expect(decideSecret(renewed, day(21) + 12_000, long)).toEqual({ _tag: "Keep" })
    }),
  )
})

describe("Secret payload and caBundle patch", () => {
  it.effect("bundleOf reads back what the Secret holds", () =>
    Effect.gen(function* () {
      const b = yield* first
      const b64 = (s: string) => Buffer.from(s).toString("base64")
      const secret = {
        metadata: { name: "s" },
        data: {
          "tls.crt": b64(b.tlsCert),
          "tls.key": b64(b.tlsKey),
          "ca.crt": b64(b.caBundle),
          "ca.key": b64(b.caKey),
        },
      }
      expect(bundleOf(secret)).toEqual(b)
      expect(bundleOf({ metadata: {} })).toEqual({})
    }),
  )

  it("patches only webhooks whose caBundle differs, each guarded by a test of its name", () => {
    const want = Buffer.from("CA").toString("base64")
    const configuration = {
      webhooks: [
        { name: "a", clientConfig: { caBundle: want } },
        { name: "b", clientConfig: {} },
        { name: "c", clientConfig: { caBundle: "old" } },
      ],
    }
    expect(caBundlePatch(configuration, "CA")).toEqual([
      { op: "test", path: "/webhooks/1/name", value: "b" },
      { op: "add", path: "/webhooks/1/clientConfig/caBundle", value: want },
      { op: "test", path: "/webhooks/2/name", value: "c" },
      { op: "add", path: "/webhooks/2/clientConfig/caBundle", value: want },
    ])
    expect(caBundlePatch({ webhooks: [{ name: "a", clientConfig: { caBundle: want } }] }, "CA")).toEqual([])
  })

  it.effect("writes the pair only when it changed, leaving no temporary files", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "selfcerts-"))
      expect(yield* writeServingFiles(dir, { tlsCert: "C1", tlsKey: "K1" })).toBe(true)
      expect(yield* writeServingFiles(dir, { tlsCert: "C1", tlsKey: "K1" })).toBe(false)
      writeFileSync(join(dir, "tls.crt"), "tampered")
      expect(yield* writeServingFiles(dir, { tlsCert: "C1", tlsKey: "K1" })).toBe(true)
      expect(readFileSync(join(dir, "tls.crt"), "utf8")).toBe("C1")
      expect(readdirSync(dir).sort()).toEqual(["tls.crt", "tls.key"])
    }),
  )
})
