/**
 * Development certificates for an out-of-cluster operator: a CA and a serving certificate for
 * 127.0.0.1/localhost in a directory (`ca.crt`, `ca.key`, `tls.crt`, `tls.key`; the layout of
 * `npm run certs`), whose CA goes into the url-form webhook configurations' caBundle.
 *
 * Where: `LANGOP_CERT_DIR` when the user set it, else `${XDG_CACHE_HOME:-~/.cache}/langop/dev-certs`.
 * Guarantees: the CA is reused while valid for more than 30 days (so configurations registered earlier
 * stay trusted) and the serving certificate while valid for more than 7 days and covering the wanted
 * host; otherwise fresh ones are minted (key written before certificate: a reloading server that sees
 * the certificate first rejects the pair and picks it up on the next change). A user directory that has
 * a CA certificate but no CA key is used as is, and must then hold a valid serving pair.
 */
import { X509Certificate } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { Clock, Duration, Effect, Schema } from "effect"
import { mintCa, mintServingCert, type PemPair } from "../../certs/pki.ts"

export class DevCertError extends Schema.TaggedError<DevCertError>()("DevCertError", {
  message: Schema.String,
}) {}

export interface DevCerts {
  readonly dir: string
  /** PEM of the CA that signed `tls.crt`. */
  readonly caPem: string
}

/** The default directory (outside the repository, survives restarts). */
export const defaultDevCertDir = (): string => {
  const xdg = process.env.XDG_CACHE_HOME
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "langop", "dev-certs")
}

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined)

const validFor = (pem: string | undefined, now: number): number => {
  if (pem === undefined) return 0
  try {
    return new X509Certificate(pem).validToDate.getTime() - now
  } catch {
    return 0
  }
}

const covers = (pem: string, host: string): boolean => {
  try {
    const x = new X509Certificate(pem)
    return x.checkIP(host) !== undefined || x.checkHost(host) !== undefined
  } catch {
    return false
  }
}

const issuedBy = (pem: string, caPem: string): boolean => {
  try {
    return new X509Certificate(pem).verify(new X509Certificate(caPem).publicKey)
  } catch {
    return false
  }
}

/** Ensures a usable CA + serving pair in `dir` for `host` (an IP or DNS name). */
export const ensureDevCerts = (dir: string, host = "127.0.0.1"): Effect.Effect<DevCerts, DevCertError> =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const failed = (what: string) => (e: { readonly message: string }) =>
      new DevCertError({ message: `${what} in ${dir}: ${e.message}` })
    const attempt = <A>(what: string, f: () => A) =>
      Effect.try({ try: f, catch: (e) => failed(what)(e instanceof Error ? e : new Error(String(e))) })
    yield* attempt("cannot create the certificate directory", () => mkdirSync(dir, { recursive: true }))
    const caCert = read(join(dir, "ca.crt"))
    const caKey = read(join(dir, "ca.key"))
    const tlsCert = read(join(dir, "tls.crt"))
    const tlsKey = read(join(dir, "tls.key"))

    const servingOk = (ca: string) =>
      tlsCert !== undefined &&
      tlsKey !== undefined &&
      validFor(tlsCert, now) > Duration.toMillis(Duration.days(7)) &&
      covers(tlsCert, host) &&
      issuedBy(tlsCert, ca)

    if (caCert !== undefined && caKey === undefined) {
      if (servingOk(caCert)) return { dir, caPem: caCert }
      return yield* new DevCertError({
        message: `${dir} has ca.crt but no ca.key, and tls.crt/tls.key are missing, expiring, not for ${host} or not signed by ca.crt; put a valid pair there or remove ca.crt`,
      })
    }
    let ca: PemPair
    let newCa = false
    if (
      caCert !== undefined &&
      caKey !== undefined &&
      validFor(caCert, now) > Duration.toMillis(Duration.days(30))
    ) {
      ca = { certPem: caCert, keyPem: caKey }
    } else {
      ca = yield* Effect.mapError(
        mintCa({ validFor: Duration.days(3650), commonName: "langop development CA" }),
        failed("cannot mint a CA"),
      )
      newCa = true
    }
    if (!newCa && servingOk(ca.certPem)) return { dir, caPem: ca.certPem }
    const serving = yield* Effect.mapError(
      mintServingCert({
        ca,
        dnsNames: ["localhost"],
        ipAddresses: [...new Set(["127.0.0.1", ...(/^[\d.]+$|:/u.test(host) ? [host] : [])])],
        ...(/^[\d.]+$|:/u.test(host) || host === "localhost" ? {} : { dnsNames: ["localhost", host] }),
        validFor: Duration.days(365),
      }),
      failed("cannot mint a serving certificate"),
    )
    yield* attempt("cannot write the certificates", () => {
      if (newCa) {
        writeFileSync(join(dir, "ca.key"), ca.keyPem, { mode: 0o600 })
        writeFileSync(join(dir, "ca.crt"), ca.certPem, { mode: 0o644 })
      }
      writeFileSync(join(dir, "tls.key"), serving.keyPem, { mode: 0o600 })
      writeFileSync(join(dir, "tls.crt"), serving.certPem, { mode: 0o644 })
    })
    return { dir, caPem: ca.certPem }
  })
