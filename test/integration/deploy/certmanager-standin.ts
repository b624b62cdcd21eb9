// A test-side stand-in for cert-manager (its binaries cannot be built from the module proxy; see
// /work/shared/guides/test-cluster.md §5). It implements only the CONTRACT deploy/ relies on, so the tests
// that use it check that contract, not cert-manager itself:
// - a Certificate whose Issuer has `spec.selfSigned` and `spec.isCA: true` gets a self-signed CA in its
//   Secret (`tls.crt` = `ca.crt` = the CA, `tls.key`);
// - a Certificate whose Issuer has `spec.ca.secretName` gets a certificate for `spec.dnsNames`, signed by
//   that Secret's pair (`tls.crt`, `tls.key`, `ca.crt` = the signing CA);
// - both get `status.conditions[Ready]=True`;
// - cainjector: every webhook of a Mutating/ValidatingWebhookConfiguration annotated
//   `cert-manager.io/inject-ca-from: <ns>/<certificate>` gets that Certificate Secret's `ca.crt` as caBundle.
// It polls (every 300 ms) instead of watching; other issuer kinds are ignored.
import { Duration, Effect, Schedule } from "effect"
import { mintCa, mintServingCert } from "../../../certs/pki.ts"
import { KubeClient } from "../../../src/kube/client.ts"
import type { KubeObject } from "../../../src/kube/objects.ts"
import { Builtin, resource } from "../../../src/kube/resources.ts"
import { caBundlePatch } from "../../../src/operator/certmanager.ts"
import { parseGoDuration } from "../../../src/settings.ts"

export const Certificate = resource("cert-manager.io", "v1", "Certificate", "certificates", true)
export const Issuer = resource("cert-manager.io", "v1", "Issuer", "issuers", true)
const INJECT = "cert-manager.io/inject-ca-from"

interface CertificateSpec {
  readonly secretName: string
  readonly issuerRef: { readonly name: string; readonly kind?: string }
  readonly isCA?: boolean
  readonly commonName?: string
  readonly dnsNames?: ReadonlyArray<string>
  readonly duration?: string
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64")
const unb64 = (s: unknown) => (typeof s === "string" ? Buffer.from(s, "base64").toString("utf8") : "")
const dataOf = (o: KubeObject) =>
  ((o as { data?: Record<string, string> }).data ?? {}) as Record<string, string>
const orNone = <A, E extends { readonly _tag: string }>(e: Effect.Effect<A, E>) =>
  Effect.catchIf(
    e,
    (x) => x._tag === "NotFound",
    () => Effect.succeed(undefined),
  )

const issueOne = (cert: KubeObject) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const ns = cert.metadata.namespace ?? ""
    const spec = (cert as unknown as { spec: CertificateSpec }).spec
    const existing = yield* orNone(client.get(Builtin.Secret, { namespace: ns, name: spec.secretName }))
    if (existing?.metadata.annotations?.["cert-manager.io/certificate-name"] === cert.metadata.name) return
    if ((spec.issuerRef.kind ?? "Issuer") !== "Issuer") return
    const issuer = yield* orNone(client.get(Issuer, { namespace: ns, name: spec.issuerRef.name }))
    const issuerSpec = (
      issuer as { spec?: { selfSigned?: unknown; ca?: { secretName: string } } } | undefined
    )?.spec
    const validFor = Duration.millis(parseGoDuration(spec.duration ?? "2160h"))
    let data: Record<string, string>
    if (issuerSpec?.selfSigned !== undefined && spec.isCA === true) {
      const ca = yield* mintCa({ validFor, commonName: spec.commonName ?? cert.metadata.name ?? "ca" })
      data = { "tls.crt": b64(ca.certPem), "tls.key": b64(ca.keyPem), "ca.crt": b64(ca.certPem) }
    } else if (issuerSpec?.ca !== undefined) {
      const caSecret = yield* orNone(
        client.get(Builtin.Secret, { namespace: ns, name: issuerSpec.ca.secretName }),
      )
      if (caSecret === undefined) return // the CA is not issued yet; next round
      const ca = { certPem: unb64(dataOf(caSecret)["tls.crt"]), keyPem: unb64(dataOf(caSecret)["tls.key"]) }
      const leaf = yield* mintServingCert({ ca, dnsNames: spec.dnsNames ?? [], validFor })
      data = { "tls.crt": b64(leaf.certPem), "tls.key": b64(leaf.keyPem), "ca.crt": b64(ca.certPem) }
    } else return
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: spec.secretName,
        namespace: ns,
        annotations: { "cert-manager.io/certificate-name": cert.metadata.name ?? "" },
      },
      type: "kubernetes.io/tls",
      data,
    }
    yield* client.apply(Builtin.Secret, secret, { fieldManager: "cert-manager-standin", force: true })
    yield* client.patch(
      Certificate,
      { namespace: ns, name: cert.metadata.name ?? "" },
      {
        type: "merge",
        body: {
          status: {
            conditions: [
              {
                type: "Ready",
                status: "True",
                reason: "Issued",
                message: "issued by the test stand-in",
                lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/u, "Z"),
              },
            ],
          },
        },
      },
      { subresource: "status" },
    )
  })

const inject = (namespace: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    for (const r of [Builtin.MutatingWebhookConfiguration, Builtin.ValidatingWebhookConfiguration]) {
      const { items } = yield* client.listAll(r)
      for (const config of items) {
        const from = config.metadata.annotations?.[INJECT]
        if (from === undefined || !from.startsWith(`${namespace}/`)) continue
        const cert = yield* orNone(
          client.get(Certificate, { namespace, name: from.slice(namespace.length + 1) }),
        )
        const secretName = (cert as { spec?: CertificateSpec } | undefined)?.spec?.secretName
        if (secretName === undefined) continue
        const secret = yield* orNone(client.get(Builtin.Secret, { namespace, name: secretName }))
        const ca = secret === undefined ? "" : unb64(dataOf(secret)["ca.crt"])
        if (ca === "") continue
        const ops = caBundlePatch(config, ca)
        if (ops.length > 0)
          yield* client.patch(r, { name: config.metadata.name ?? "" }, { type: "json", ops })
      }
    }
  })

/** One round over `namespace`: issue what is missing, inject CA bundles. */
export const standInRound = (namespace: string) =>
  Effect.gen(function* () {
    const client = yield* KubeClient
    const { items } = yield* client.listAll(Certificate, { namespace })
    for (const cert of items) yield* issueOne(cert)
    yield* inject(namespace)
  })

/** Runs rounds until interrupted; a failed round is retried at the next tick. */
export const runStandIn = (namespace: string): Effect.Effect<never, never, KubeClient> =>
  standInRound(namespace).pipe(
    Effect.catchCause((cause) => Effect.logDebug("stand-in round failed", cause)),
    Effect.repeat(Schedule.spaced("300 millis")),
    Effect.andThen(Effect.never),
  )
