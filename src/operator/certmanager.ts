/**
 * The operator's own certificate manager (LANGOP_CERT_SOURCE=self; overlay `self-managed-certs`): for
 * clusters without cert-manager.
 *
 * What it does, on every replica, at start and every `checkInterval`:
 * 1. reads Secret `<namespace>/<secretName>` (type kubernetes.io/tls; keys `tls.crt`, `tls.key`, `ca.crt`
 *    = the CA bundle, current CA first, `ca.key`) and decides (pure, {@link decideSecret}) what to renew:
 *    - a CA with less than a third of its validity left is replaced IN TWO STEPS: first the new CA joins
 *      the bundle (and becomes the signer) while the serving certificate signed by the old one stays;
 *      only once the new CA has been published for `caSettle` is a serving certificate signed by it, so
 *      the API server already trusts it when the server starts presenting it; the old CA stays in the
 *      bundle until it expires;
 *    - a serving certificate that is missing, not signed by a CA of the bundle, not for the wanted names,
 *      or with less than a third of its validity left (counting its issuer's expiry) is re-issued;
 * 2. writes it with optimistic concurrency (create, or replace with the read resourceVersion), so two
 *    replicas never both rotate: the loser gets a conflict, re-reads and uses the winner's pair;
 * 3. patches the bundle into `caBundle` of every webhook of the two configurations (JSON patch with a
 *    `test` of each webhook's name), BEFORE
 * 4. writing `tls.key` then `tls.crt` into the certificate directory (temporary file + rename), where the
 *    admission server's reloader (src/webhook/tls.ts) picks the pair up without a restart.
 * Guarantees: the pair on disk is always one the published bundle trusts (step 3 before 4); a failed
 * round is logged and retried at the next tick, keeping the previous files.
 * Assumption: the API server picks up a caBundle change (from its watch of the configurations) within
 * `caSettle` (default 10 s; it takes well under a second).
 */
import { X509Certificate } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Clock, Duration, Effect, Schedule } from "effect"
import { mintCa, mintServingCert, type PemPair } from "../../certs/pki.ts"
import { type JsonPatchOp, KubeClient } from "../kube/client.ts"
import { describeError, type KubeError } from "../kube/errors.ts"
import type { KubeObject } from "../kube/objects.ts"
import { Builtin } from "../kube/resources.ts"
import { MutatingConfigurationName, ValidatingConfigurationName } from "../webhook/configurations.ts"

export interface SelfCertOptions {
  readonly namespace: string
  readonly secretName: string
  /** DNS SANs of the serving certificate (the webhook Service's names). */
  readonly dnsNames: ReadonlyArray<string>
  /** IP SANs (out-of-cluster tests: 127.0.0.1). */
  readonly ipAddresses?: ReadonlyArray<string> | undefined
  /** Directory the admission server reads `tls.crt`/`tls.key` from. */
  readonly certDir: string
  readonly caValidity: Duration.Input
  readonly servingValidity: Duration.Input
  /** Default: a tenth of the serving validity, at most one minute. */
  readonly checkInterval?: Duration.Input | undefined
  /** How long a new CA is published before it signs a serving certificate; default 10 s. */
  readonly caSettle?: Duration.Input | undefined
  /** Configurations whose webhooks get the bundle; default the two of the operator. */
  readonly configurations?: { readonly mutating: string; readonly validating: string } | undefined
}

/** The Secret's payload (PEM strings). */
export interface CertBundle {
  readonly caCert: string
  readonly caKey: string
  /** The CAs the API server must trust: the current one first, then a previous one still valid. */
  readonly caBundle: string
  readonly tlsCert: string
  readonly tlsKey: string
}

/** What to do with the Secret. */
export type SecretDecision =
  | { readonly _tag: "Keep" }
  /** A serving certificate from the current CA; with `newCa`, from a new CA (nothing usable exists). */
  | { readonly _tag: "Issue"; readonly newCa: boolean; readonly reason: string }
  /** A new CA joins the bundle and becomes the signer; the serving certificate is kept for now. */
  | { readonly _tag: "RotateCa"; readonly reason: string }

const parse = (pem: string | undefined): X509Certificate | undefined => {
  if (pem === undefined || pem === "") return undefined
  try {
    return new X509Certificate(pem)
  } catch {
    return undefined
  }
}

const ms = (d: Duration.Input) => Duration.toMillis(Duration.fromInputUnsafe(d))

/** Splits a PEM bundle into its certificates. */
export const pemCertificates = (bundle: string): ReadonlyArray<string> =>
  (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/gu) ?? []).map((p) => `${p}\n`)

/** Validity starts this long before "now" (clock skew between machines), on top of the full validity. */
const skew = Duration.minutes(5)
const defaultCaSettle = Duration.seconds(10)

type DecisionOptions = Pick<
  SelfCertOptions,
  "dnsNames" | "ipAddresses" | "caValidity" | "servingValidity" | "caSettle"
>

/**
 * Pure decision over the current payload at `now` (see the module header); `reason` says why, for the
 * log. Certificates minted here start `skew` before their issuing moment, which gives a CA's age.
 */
export const decideSecret = (
  current: Partial<CertBundle> | undefined,
  now: number,
  o: DecisionOptions,
): SecretDecision => {
  if (current === undefined) return { _tag: "Issue", newCa: true, reason: "no certificate Secret yet" }
  const ca = parse(current.caCert)
  if (
    ca === undefined ||
    current.caKey === undefined ||
    current.caKey === "" ||
    !ca.ca ||
    ca.validToDate.getTime() <= now
  )
    return { _tag: "Issue", newCa: true, reason: "the Secret holds no usable CA" }
  const trusted = pemCertificates(current.caBundle ?? "")
    .map(parse)
    .filter((x): x is X509Certificate => x !== undefined && x.validToDate.getTime() > now)
  if (!trusted.some((x) => x.fingerprint256 === ca.fingerprint256))
    return { _tag: "Issue", newCa: false, reason: "the CA bundle does not contain the current CA" }
  if (ca.validToDate.getTime() - now < ms(o.caValidity) / 3)
    return { _tag: "RotateCa", reason: `the CA expires at ${ca.validToDate.toISOString()}` }

  const leaf = parse(current.tlsCert)
  if (leaf === undefined || current.tlsKey === undefined || current.tlsKey === "")
    return { _tag: "Issue", newCa: false, reason: "the Secret holds no serving certificate" }
  const issuer = trusted.find((x) => leaf.verify(x.publicKey))
  if (issuer === undefined)
    return { _tag: "Issue", newCa: false, reason: "the serving certificate is not signed by a trusted CA" }
  const covered = [
    ...o.dnsNames.map((n) => leaf.checkHost(n) !== undefined),
    ...(o.ipAddresses ?? []).map((ip) => leaf.checkIP(ip) !== undefined),
  ]
  if (covered.some((ok) => !ok))
    return { _tag: "Issue", newCa: false, reason: "the serving certificate does not cover every wanted name" }
  const signedByCurrent = issuer.fingerprint256 === ca.fingerprint256
  // A pair from a previous CA also ends with that CA; the current CA's own expiry is the rotation's job.
  const expires = signedByCurrent
    ? leaf.validToDate.getTime()
    : Math.min(leaf.validToDate.getTime(), issuer.validToDate.getTime())
  const left = expires - now
  const caAge = now - (ca.validFromDate.getTime() + Duration.toMillis(skew))
  const settle = ms(o.caSettle ?? defaultCaSettle)
  // A new CA signs nothing until the API server has had `settle` to trust it (while the pair lasts).
  if (!signedByCurrent && caAge < settle && left > settle) return { _tag: "Keep" }
  if (left < ms(o.servingValidity) / 3)
    return {
      _tag: "Issue",
      newCa: false,
      reason: `the serving certificate expires at ${new Date(expires).toISOString()}`,
    }
  return { _tag: "Keep" }
}

/** Mints what `decision` asks for, keeping previous CAs in the bundle while they are valid. */
export const issue = (
  current: Partial<CertBundle> | undefined,
  decision: Exclude<SecretDecision, { _tag: "Keep" }>,
  o: DecisionOptions,
) =>
  Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const notBefore = new Date(now - Duration.toMillis(skew))
    const validFor = (d: Duration.Input) => Duration.millis(ms(d) + Duration.toMillis(skew))
    const freshCa = decision._tag === "RotateCa" || decision.newCa || current?.caCert === undefined
    const ca: PemPair =
      freshCa || current?.caCert === undefined || current.caKey === undefined
        ? yield* mintCa({ validFor: validFor(o.caValidity), notBefore, commonName: "langop webhook CA" })
        : { certPem: current.caCert, keyPem: current.caKey }
    const keepServing =
      decision._tag === "RotateCa" && current?.tlsCert !== undefined && current.tlsKey !== undefined
    const serving = keepServing
      ? { certPem: current?.tlsCert ?? "", keyPem: current?.tlsKey ?? "" }
      : yield* mintServingCert({
          ca,
          dnsNames: o.dnsNames,
          ipAddresses: o.ipAddresses ?? [],
          validFor: validFor(o.servingValidity),
          notBefore,
        })
    const previous = pemCertificates(current?.caBundle ?? "").filter((pem) => {
      const x = parse(pem)
      return x !== undefined && x.validToDate.getTime() > now && pem.trim() !== ca.certPem.trim()
    })
    return {
      caCert: `${ca.certPem.trim()}\n`,
      caKey: ca.keyPem,
      caBundle: [ca.certPem, ...previous].map((p) => `${p.trim()}\n`).join(""),
      tlsCert: serving.certPem,
      tlsKey: serving.keyPem,
    } satisfies CertBundle
  })

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const unb64 = (s: unknown) => (typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : undefined)

/** The payload of a Secret object (absent keys stay undefined). */
export const bundleOf = (secret: KubeObject): Partial<CertBundle> => {
  const data = ((secret as { data?: Record<string, unknown> }).data ?? {}) as Record<string, unknown>
  const caBundle = unb64(data["ca.crt"])
  const caCert = caBundle === undefined ? undefined : pemCertificates(caBundle)[0]
  return {
    ...(caCert === undefined ? {} : { caCert }),
    ...(caBundle === undefined ? {} : { caBundle }),
    ...(unb64(data["ca.key"]) === undefined ? {} : { caKey: unb64(data["ca.key"]) ?? "" }),
    ...(unb64(data["tls.crt"]) === undefined ? {} : { tlsCert: unb64(data["tls.crt"]) ?? "" }),
    ...(unb64(data["tls.key"]) === undefined ? {} : { tlsKey: unb64(data["tls.key"]) ?? "" }),
  }
}

const secretObject = (o: SelfCertOptions, b: CertBundle, resourceVersion?: string): KubeObject =>
  ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: o.secretName,
      namespace: o.namespace,
      labels: { "app.kubernetes.io/managed-by": "language-operator", "app.kubernetes.io/part-of": "langop" },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": b64(b.tlsCert),
      "tls.key": b64(b.tlsKey),
      "ca.crt": b64(b.caBundle),
      "ca.key": b64(b.caKey),
    },
  }) as KubeObject

/** Reads, renews if needed, and returns the Secret's payload (after at most a few conflict retries). */
export const ensureSecret = (o: SelfCertOptions) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const live = yield* client
      .get(Builtin.Secret, { namespace: o.namespace, name: o.secretName })
      .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
    const current = live === undefined ? undefined : bundleOf(live)
    const decision = decideSecret(current, yield* Clock.currentTimeMillis, o)
    if (decision._tag === "Keep" && current !== undefined) return current as CertBundle
    if (decision._tag === "Keep") return yield* Effect.die(new Error("unreachable: Keep without a Secret"))
    const next = yield* issue(current, decision, o)
    if (live === undefined) yield* client.create(Builtin.Secret, secretObject(o, next))
    else yield* client.replace(Builtin.Secret, secretObject(o, next, live.metadata.resourceVersion))
    yield* Effect.logInfo(
      decision._tag === "RotateCa" ? "self-managed CA rotated" : "self-managed certificate issued",
      {
        secret: `${o.namespace}/${o.secretName}`,
        reason: decision.reason,
        newCa: decision._tag === "RotateCa" || decision.newCa,
      },
    )
    return next
  }).pipe(
    // Another replica wrote first: read again and use (or renew) what it wrote.
    Effect.retry({
      while: (e: KubeError | { readonly _tag: string }) =>
        e._tag === "Conflict" || e._tag === "AlreadyExists",
      times: 5,
    }),
  )

/** JSON patch ops setting `caBundle` on every webhook whose value differs (with a name `test` each). */
export const caBundlePatch = (configuration: unknown, bundle: string): ReadonlyArray<JsonPatchOp> => {
  const webhooks =
    (configuration as { webhooks?: ReadonlyArray<{ name?: string; clientConfig?: { caBundle?: string } }> })
      .webhooks ?? []
  const want = b64(bundle)
  return webhooks.flatMap((w, i) =>
    w.clientConfig?.caBundle === want
      ? []
      : [
          { op: "test" as const, path: `/webhooks/${i}/name`, value: w.name },
          { op: "add" as const, path: `/webhooks/${i}/clientConfig/caBundle`, value: want },
        ],
  )
}

/** Patches the bundle into both configurations where it differs; absent configurations are skipped. */
export const injectCaBundle = (o: SelfCertOptions, bundle: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const names = o.configurations ?? {
      mutating: MutatingConfigurationName,
      validating: ValidatingConfigurationName,
    }
    const targets = [
      [Builtin.MutatingWebhookConfiguration, names.mutating],
      [Builtin.ValidatingWebhookConfiguration, names.validating],
    ] as const
    for (const [resource, name] of targets) {
      const live = yield* client
        .get(resource, { name })
        .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
      if (live === undefined) continue
      const ops = caBundlePatch(live, bundle)
      if (ops.length === 0) continue
      yield* client.patch(resource, { name }, { type: "json", ops })
      yield* Effect.logInfo("caBundle injected", { configuration: name, webhooks: ops.length / 2 })
    }
  })

const writeAtomically = (path: string, data: string, mode: number) => {
  const tmp = `${path}.tmp`
  writeFileSync(tmp, data, { mode })
  renameSync(tmp, path)
}

/** Writes the pair into the certificate directory when it differs (key first, see module header). */
export const writeServingFiles = (dir: string, b: Pick<CertBundle, "tlsCert" | "tlsKey">) =>
  Effect.try({
    try: () => {
      mkdirSync(dir, { recursive: true })
      const same = (f: string, v: string) =>
        existsSync(join(dir, f)) && readFileSync(join(dir, f), "utf8") === v
      if (same("tls.crt", b.tlsCert) && same("tls.key", b.tlsKey)) return false
      writeAtomically(join(dir, "tls.key"), b.tlsKey, 0o600)
      writeAtomically(join(dir, "tls.crt"), b.tlsCert, 0o644)
      return true
    },
    catch: (e) => new Error(`cannot write the serving certificate into ${dir}: ${String(e)}`),
  })

/** One round: Secret, caBundle, files. */
export const reconcileCertificates = (o: SelfCertOptions) =>
  Effect.gen(function* () {
    const bundle = yield* ensureSecret(o)
    yield* injectCaBundle(o, bundle.caBundle)
    return yield* writeServingFiles(o.certDir, bundle)
  })

const describe = (e: unknown) =>
  typeof e === "object" && e !== null && "_tag" in e && "code" in e
    ? describeError(e as KubeError)
    : e instanceof Error
      ? e.message
      : String(e)

/** Runs rounds forever (fork it into the operator's scope); a failed round is logged and retried. */
export const runSelfCertManager = (o: SelfCertOptions): Effect.Effect<never, never, KubeClient> => {
  const interval =
    o.checkInterval ?? Duration.millis(Math.max(1000, Math.min(60_000, ms(o.servingValidity) / 10)))
  return reconcileCertificates(o).pipe(
    Effect.catchCause((cause) =>
      Effect.logWarning("self-managed certificates: round failed; retrying", {
        error: describe(cause.reasons[0]?._tag === "Fail" ? cause.reasons[0].error : cause),
      }),
    ),
    Effect.repeat(Schedule.spaced(interval)),
    Effect.andThen(Effect.never),
  )
}
