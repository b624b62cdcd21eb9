import { createPrivateKey, X509Certificate } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { createServer } from "node:https"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "node:tls"
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { main } from "../../certs/mint.ts"
import { mintCa, mintServingCert, type PemPair } from "../../certs/pki.ts"

/** Completes a TLS handshake to `host` trusting only `ca`; resolves with the peer's subject CN. */
const handshake = (pair: PemPair, ca: string, host: string, servername?: string) =>
  Effect.tryPromise(
    () =>
      new Promise<string>((resolve, reject) => {
        const server = createServer({ cert: pair.certPem, key: pair.keyPem }, (_, res) => res.end())
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          const socket = connect(
            { host, port, ca, ...(servername === undefined ? {} : { servername }) },
            () => {
              const cn = socket.getPeerCertificate().subject.CN
              socket.end()
              server.close()
              resolve(String(cn))
            },
          )
          socket.on("error", (e) => {
            server.close()
            reject(e)
          })
        })
      }),
  ).pipe(Effect.result)

describe("mintCa / mintServingCert", () => {
  it.live(
    "a CA and a serving certificate that a client trusting the CA accepts for localhost and 127.0.0.1",
    () =>
      Effect.gen(function* () {
        const ca = yield* mintCa({ validFor: Duration.days(30), commonName: "test CA" })
        const caCert = new X509Certificate(ca.certPem)
        assert.isTrue(caCert.ca)
        assert.isTrue(caCert.checkPrivateKey(createPrivateKey(ca.keyPem)))
        assert.strictEqual(caCert.subject, "CN=test CA")

        const serving = yield* mintServingCert({
          ca,
          dnsNames: ["localhost", "langop-webhook.langop-system.svc"],
          ipAddresses: ["127.0.0.1"],
          validFor: "1 day",
        })
        const cert = new X509Certificate(serving.certPem)
        assert.isFalse(cert.ca)
        assert.isTrue(cert.checkIssued(caCert))
        assert.isTrue(cert.verify(caCert.publicKey))
        assert.isTrue(cert.checkPrivateKey(createPrivateKey(serving.keyPem)))
        assert.strictEqual(
          cert.subjectAltName,
          "DNS:localhost, DNS:langop-webhook.langop-system.svc, IP Address:127.0.0.1",
        )
        assert.include(cert.keyUsage ?? [], "1.3.6.1.5.5.7.3.1")
        const lifetime = cert.validToDate.getTime() - cert.validFromDate.getTime()
        assert.strictEqual(lifetime, Duration.toMillis(Duration.days(1)))
        assert.isBelow(cert.validFromDate.getTime(), Date.now())

        const byIp = yield* handshake(serving, ca.certPem, "127.0.0.1")
        assert.deepStrictEqual(byIp._tag === "Success" && byIp.success, "localhost")
        const byName = yield* handshake(serving, ca.certPem, "127.0.0.1", "langop-webhook.langop-system.svc")
        assert.strictEqual(byName._tag, "Success")
        const wrongName = yield* handshake(serving, ca.certPem, "127.0.0.1", "other.example.com")
        assert.strictEqual(wrongName._tag, "Failure")
        const otherCa = yield* mintCa({ validFor: Duration.days(1) })
        const untrusted = yield* handshake(serving, otherCa.certPem, "127.0.0.1")
        assert.strictEqual(untrusted._tag, "Failure")
      }),
  )

  it.live("validity window follows notBefore and validFor", () =>
    Effect.gen(function* () {
      const notBefore = new Date("2020-01-01T00:00:00Z")
      const ca = yield* mintCa({ validFor: Duration.hours(2), notBefore })
      const cert = new X509Certificate(ca.certPem)
      assert.strictEqual(cert.validFromDate.toISOString(), "2020-01-01T00:00:00.000Z")
      assert.strictEqual(cert.validToDate.toISOString(), "2020-01-01T02:00:00.000Z")
    }),
  )

  it.live("refuses bad input with a CertificateMintError", () =>
    Effect.gen(function* () {
      const ca = yield* mintCa({ validFor: Duration.days(1) })
      const other = yield* mintCa({ validFor: Duration.days(1) })
      const leaf = yield* mintServingCert({ ca, dnsNames: ["localhost"], validFor: Duration.days(1) })
      const failures = [
        mintServingCert({ ca, validFor: Duration.days(1) }),
        mintServingCert({
          ca: { certPem: ca.certPem, keyPem: other.keyPem },
          dnsNames: ["x"],
          validFor: "1 day",
        }),
        mintServingCert({ ca: leaf, dnsNames: ["x"], validFor: "1 day" }),
        mintServingCert({
          ca: { certPem: "garbage", keyPem: ca.keyPem },
          dnsNames: ["x"],
          validFor: "1 day",
        }),
        mintCa({ validFor: 0 }),
      ]
      for (const attempt of failures) {
        const error = yield* Effect.flip(attempt)
        assert.strictEqual(error._tag, "CertificateMintError")
        assert.isAbove(error.message.length, 5)
      }
    }),
  )
})

describe("npm run certs (certs/mint.ts main)", () => {
  it.live("writes ca/tls pairs, reuses the CA on a second run, --new-ca replaces it", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "langop-certs-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const read = (name: string) => readFileSync(join(dir, name), "utf8")
      yield* main(["--out", dir, "--dns", "langop-webhook.langop-system.svc", "--days", "2"])
      const ca1 = read("ca.crt")
      const tls1 = read("tls.crt")
      assert.strictEqual(statSync(join(dir, "tls.key")).mode & 0o777, 0o600)
      assert.strictEqual(statSync(join(dir, "ca.key")).mode & 0o777, 0o600)
      const cert = new X509Certificate(tls1)
      assert.isTrue(cert.checkIssued(new X509Certificate(ca1)))
      assert.include(cert.subjectAltName ?? "", "DNS:langop-webhook.langop-system.svc")
      assert.include(cert.subjectAltName ?? "", "IP Address:127.0.0.1")

      yield* main(["--out", dir])
      assert.strictEqual(read("ca.crt"), ca1)
      assert.notStrictEqual(read("tls.crt"), tls1)
      assert.isTrue(new X509Certificate(read("tls.crt")).checkIssued(new X509Certificate(ca1)))

      yield* main(["--out", dir, "--new-ca"])
      assert.notStrictEqual(read("ca.crt"), ca1)
      assert.isTrue(new X509Certificate(read("tls.crt")).checkIssued(new X509Certificate(read("ca.crt"))))

      const bad = yield* Effect.flip(main(["--out", dir, "--days", "zero"]))
      assert.include(bad.message, "--days")
      const unknown = yield* Effect.flip(main(["--bogus"]))
      assert.include(unknown.message, "usage")
    }).pipe(Effect.provide(NodeServices.layer)),
  )
})
