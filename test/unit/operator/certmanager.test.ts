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
        reason: expect.stringMatching(/not signed/u),
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
    "a CA with a third of its validity left is replaced; the old CA stays in the bundle while valid",
    () =>
      Effect.gen(function* () {
        const b = yield* first
        const later = start + Duration.toMillis(Duration.days(21))
        const decision = decideSecret(b, later, options)
        expect(decision).toMatchObject({ _tag: "Issue", newCa: true })
        if (decision._tag !== "Issue") return
        yield* TestClock.setTime(later)
        const next = yield* issue(b, decision, options)
        expect(next.caCert).not.toBe(b.caCert)
        const bundle = pemCertificates(next.caBundle)
        expect(bundle.map((p) => p.trim())).toEqual([next.caCert.trim(), b.caCert.trim()])
        expect(leafOf(next).verify(new X509Certificate(next.caCert).publicKey)).toBe(true)
        // Once the old CA has expired it is dropped from the bundle.
        yield* TestClock.setTime(start + Duration.toMillis(Duration.days(31)))
        const after = yield* issue(next, { _tag: "Issue", newCa: false, reason: "t" }, options)
        expect(pemCertificates(after.caBundle).map((p) => p.trim())).toEqual([next.caCert.trim()])
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
