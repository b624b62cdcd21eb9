/**
 * `npm run certs [-- options]`: mints a development CA and a serving certificate for the admission
 * server into `certs/dev/` (gitignored): `ca.crt`, `ca.key`, `tls.crt`, `tls.key`.
 *
 * The server reads `tls.crt`/`tls.key` from that directory (and reloads them when they change); the
 * out-of-cluster webhook configurations carry `ca.crt` as their `caBundle`.
 *
 * An existing `ca.crt`/`ca.key` pair is reused (so configurations already registered with it stay
 * valid) unless `--new-ca` is given or the CA has expired. Options:
 *   --out <dir>        output directory (default certs/dev)
 *   --dns <name>       extra DNS SAN, repeatable (always included: localhost), e.g.
 *                      --dns langop-webhook.langop-system.svc
 *   --ip <address>     extra IP SAN, repeatable (always included: 127.0.0.1)
 *   --days <n>         serving certificate validity (default 365)
 *   --ca-days <n>      CA validity when a new CA is minted (default 3650)
 *   --new-ca           mint a new CA even when one exists
 *
 * Also re-exports the minting functions, so `certs/mint.ts` can be imported as a library.
 */
import { X509Certificate } from "node:crypto"
import { parseArgs } from "node:util"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Clock, Console, Duration, Effect, FileSystem, Path } from "effect"
import { CertificateMintError, mintCa, mintServingCert, type PemPair } from "./pki.ts"

export {
  CertificateMintError,
  type MintCaOptions,
  type MintServingCertOptions,
  mintCa,
  mintServingCert,
  type PemPair,
} from "./pki.ts"

const usage =
  "usage: npm run certs -- [--out dir] [--dns name]... [--ip addr]... [--days n] [--ca-days n] [--new-ca]"

const positiveInt = (flag: string, value: string | undefined, fallback: number) =>
  Effect.gen(function* () {
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isInteger(n) || n <= 0) {
      return yield* new CertificateMintError({
        message: `${flag} must be a positive integer, got "${value}"`,
      })
    }
    return n
  })

const readCa = Effect.fnUntraced(function* (dir: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const certPath = path.join(dir, "ca.crt")
  const keyPath = path.join(dir, "ca.key")
  if (!(yield* fs.exists(certPath)) || !(yield* fs.exists(keyPath))) return undefined
  const ca: PemPair = {
    certPem: yield* fs.readFileString(certPath),
    keyPem: yield* fs.readFileString(keyPath),
  }
  const now = yield* Clock.currentTimeMillis
  const expired = Effect.try({
    try: () => new X509Certificate(ca.certPem).validToDate.getTime() <= now,
    catch: () => true,
  }).pipe(Effect.orElseSucceed(() => true))
  return (yield* expired) ? undefined : ca
})

export const main = Effect.fn("certs.main")(function* (argv: ReadonlyArray<string>) {
  const { values } = yield* Effect.try({
    try: () =>
      parseArgs({
        args: [...argv],
        options: {
          out: { type: "string", default: "certs/dev" },
          dns: { type: "string", multiple: true, default: [] },
          ip: { type: "string", multiple: true, default: [] },
          days: { type: "string" },
          "ca-days": { type: "string" },
          "new-ca": { type: "boolean", default: false },
        },
        strict: true,
      }),
    catch: (cause) => new CertificateMintError({ message: `${String(cause)}\n${usage}`, cause }),
  })
  const days = yield* positiveInt("--days", values.days, 365)
  const caDays = yield* positiveInt("--ca-days", values["ca-days"], 3650)
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const out = values.out
  yield* fs.makeDirectory(out, { recursive: true })

  const existing = values["new-ca"] ? undefined : yield* readCa(out)
  const ca = existing ?? (yield* mintCa({ validFor: Duration.days(caDays) }))
  const dnsNames = [...new Set(["localhost", ...values.dns])]
  const ipAddresses = [...new Set(["127.0.0.1", ...values.ip])]
  const serving = yield* mintServingCert({ ca, dnsNames, ipAddresses, validFor: Duration.days(days) })

  const write = (name: string, data: string, mode: number) =>
    fs
      .writeFileString(path.join(out, name), data, { mode })
      .pipe(Effect.andThen(fs.chmod(path.join(out, name), mode)))
  if (existing === undefined) {
    yield* write("ca.key", ca.keyPem, 0o600)
    yield* write("ca.crt", ca.certPem, 0o644)
  }
  // Key before certificate: a reloading server that sees the new certificate first would reject the
  // pair as mismatched and simply retry on the next change.
  yield* write("tls.key", serving.keyPem, 0o600)
  yield* write("tls.crt", serving.certPem, 0o644)
  yield* Console.log(
    `${existing === undefined ? "minted a new CA" : "reused the CA"} in ${out}/ca.crt; ` +
      `serving certificate ${out}/tls.crt (+ tls.key) for ${[...dnsNames, ...ipAddresses].join(", ")}, valid ${days} days`,
  )
})

if (import.meta.main) {
  main(process.argv.slice(2)).pipe(
    Effect.catchTag("CertificateMintError", (e) =>
      Console.error(`certs: ${e.message}`).pipe(Effect.andThen(Effect.sync(() => process.exit(1)))),
    ),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain,
  )
}
