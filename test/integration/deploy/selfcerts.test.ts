// The operator's own certificate manager (LANGOP_CERT_SOURCE=self, overlay self-managed-certs) on the real
// API server, with forced short validities (serving 9 s, CA 30 s): it issues a CA and a serving
// certificate into its Secret, injects the CA into its webhook configurations and rotates both before
// they expire, while the admission server keeps answering the API server throughout (every 200 ms a
// server-side dry-run create goes through the mutating webhook, which must default it) and serves each
// new certificate without a restart.
//
// In a cluster the configurations point at the operator's Service; here (no kube-proxy on kwok) they are
// url-form configurations to the in-process server, whose serving certificate also names 127.0.0.1.
import { X509Certificate } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { connect } from "node:tls"
import { Duration, Effect, Exit, Layer, Result, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import { stringify } from "yaml"
import { KubeClient, layerFromFile } from "../../../src/kube/client.ts"
import { Langop } from "../../../src/kube/resources.ts"
import { operatorControllers } from "../../../src/operator/controllers.ts"
import { type RunningOperator, startOperator } from "../../../src/operator/run.ts"
import { loggingLayer } from "../../../src/runtime/logging.ts"
import { settingsFrom } from "../../../src/settings.ts"
import { webhookConfigurations } from "../../../src/webhook/configurations.ts"
import { webhookTable } from "../../../src/webhook/index.ts"
import {
  createNamespace,
  deleteNamespace,
  kubeconfigPath,
  kubectl,
  makeKubeConfig,
  clusterTest as test,
  uniqueName,
} from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"

const id = uniqueName("selfcerts").slice(10)
const label = "langop.io/selfcerts-test"
const names = { mutating: `langop-selfcerts-m-${id}`, validating: `langop-selfcerts-v-${id}` }
const secretName = "langop-webhook-tls"
const admin = layerFromFile(kubeconfigPath())
const scope = Effect.runSync(Scope.make())
let operatorNs = ""
let workNs = ""
let running: RunningOperator | undefined

const servingValidity = Duration.seconds(9)
const caValidity = Duration.seconds(30)

beforeAll(async () => {
  await installCrds()
  const kc = makeKubeConfig()
  operatorNs = await createNamespace(kc, "selfcerts-op")
  workNs = await createNamespace(kc, "selfcerts-work")
  const certDir = join(mkdtempSync(join(tmpdir(), "langop-selfcerts-")), "serving-certs")
  const settings = await Effect.runPromise(
    settingsFrom({
      POD_NAMESPACE: operatorNs,
      LANGOP_CERT_SOURCE: "self",
      LANGOP_CERT_DIR: certDir,
      LANGOP_WEBHOOK_PORT: "0",
      LANGOP_HEALTH_PROBE_BIND_ADDRESS: "0",
      LANGOP_METRICS_BIND_ADDRESS: "0",
      LANGOP_LEADER_ELECT: "false",
      LANGOP_LOG_LEVEL: "warn",
    }),
  )
  // Configurations WITHOUT caBundle, selecting only this test's objects: the certificate manager fills them.
  const table = webhookTable()
  const started = startOperator(settings, Result.getOrThrow(operatorControllers(settings)), {
    selfCerts: {
      namespace: operatorNs,
      secretName,
      dnsNames: [`langop-webhook.${operatorNs}.svc`],
      ipAddresses: ["127.0.0.1"],
      certDir,
      caValidity,
      servingValidity,
      checkInterval: Duration.millis(300),
      caSettle: Duration.seconds(1),
      configurations: names,
    },
  })
  running = await Effect.runPromise(
    started.pipe(Scope.provide(scope), Effect.provide(Layer.mergeAll(admin, loggingLayer("warn")))),
  )
  const { mutating, validating } = webhookConfigurations(table, {
    mode: "url",
    port: running.webhookPort,
    caBundle: "",
  })
  const scoped = (c: typeof mutating | typeof validating, name: string) => ({
    ...c,
    metadata: { name },
    webhooks: (c.webhooks ?? []).map((w) => {
      const { caBundle: _, ...clientConfig } = w.clientConfig
      return {
        ...w,
        clientConfig,
        objectSelector: { matchLabels: { ...(w.objectSelector?.matchLabels ?? {}), [label]: id } },
      }
    }),
  })
  const applied = await kubectl(["apply", "-f", "-"], {
    input: `---\n${stringify(scoped(mutating, names.mutating))}---\n${stringify(scoped(validating, names.validating))}`,
  })
  expect(applied.exitCode, applied.stderr).toBe(0)
})

afterAll(async () => {
  await kubectl([
    "delete",
    `mutatingwebhookconfiguration/${names.mutating}`,
    `validatingwebhookconfiguration/${names.validating}`,
    "--ignore-not-found",
  ])
  await Effect.runPromise(Scope.close(scope, Exit.void))
  const kc = makeKubeConfig()
  await deleteNamespace(kc, operatorNs)
  await deleteNamespace(kc, workNs)
})

const secretData = async () => {
  const r = await kubectl(["get", "secret", secretName, "-n", operatorNs, "-o", "jsonpath={.data}"])
  if (r.exitCode !== 0 || r.stdout === "") return undefined
  const data = JSON.parse(r.stdout) as Record<string, string>
  const pem = (k: string) => Buffer.from(data[k] ?? "", "base64").toString("utf8")
  return { tlsCert: pem("tls.crt"), caBundle: pem("ca.crt"), caBundleB64: data["ca.crt"] ?? "" }
}

const caBundles = async () => {
  const out: Array<string | undefined> = []
  for (const kind of ["mutatingwebhookconfiguration", "validatingwebhookconfiguration"]) {
    const name = kind.startsWith("mutating") ? names.mutating : names.validating
    const r = await kubectl(["get", kind, name, "-o", "json"])
    const c = JSON.parse(r.stdout) as { webhooks: Array<{ clientConfig: { caBundle?: string } }> }
    for (const w of c.webhooks) out.push(w.clientConfig.caBundle)
  }
  return out
}

/** The certificate the admission server presents right now. */
const servedCertificate = (port: number) =>
  new Promise<X509Certificate>((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate()
      socket.end()
      if (cert === undefined) reject(new Error("no peer certificate"))
      else resolve(cert)
    })
    socket.on("error", reject)
  })

/** A server-side dry-run create through the API server; the mutating webhook defaults `tone`. */
const dryRunPersona = (n: number) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const client = yield* KubeClient
      const created = yield* client.create(
        Langop.LanguagePersona,
        {
          apiVersion: "langop.io/v1alpha1",
          kind: "LanguagePersona",
          metadata: { name: `probe-${n}`, namespace: workNs, labels: { [label]: id } },
          spec: { displayName: "probe", description: "probe", systemPrompt: "probe" },
        },
        { dryRun: true },
      )
      return (created as { spec?: { tone?: string } }).spec?.tone
    }).pipe(Effect.provide(admin), Effect.result),
  )

describe("self-managed certificates (forced short validity)", () => {
  test("issued, injected and rotated while the webhook keeps answering", async () => {
    const port = running?.webhookPort ?? 0
    // Issued and injected.
    await vi.waitFor(
      async () => {
        const data = await secretData()
        expect(data).toBeDefined()
        const bundles = await caBundles()
        expect(bundles.length).toBeGreaterThan(10)
        for (const b of bundles) expect(b).toBe(data?.caBundleB64)
      },
      { timeout: 30_000, interval: 200 },
    )
    const first = await secretData()
    const leaf = new X509Certificate(first?.tlsCert ?? "")
    expect(leaf.checkHost(`langop-webhook.${operatorNs}.svc`)).toBeDefined()
    expect(leaf.checkIP("127.0.0.1")).toBeDefined()
    expect(leaf.verify(new X509Certificate(first?.caBundle ?? "").publicKey)).toBe(true)
    await vi.waitFor(
      async () => expect(await Effect.runPromise(running?.ready ?? Effect.succeed(false))).toBe(true),
      {
        timeout: 30_000,
      },
    )

    // Probe without pause until the server has presented three serving certificates (two rotations,
    // no restart) and the CA has changed once; every admission request meanwhile must succeed.
    const served = new Set<string>()
    const cas = new Set<string>()
    const failures: Array<string> = []
    let probes = 0
    const deadline = Date.now() + 150_000
    while (served.size < 3 || cas.size < 2) {
      if (Date.now() > deadline)
        throw new Error(
          `no rotation seen: ${served.size} certificates, ${cas.size} CAs after ${probes} probes`,
        )
      const tone = await dryRunPersona(probes++)
      if (Result.isFailure(tone)) failures.push(`${new Date().toISOString()} ${tone.failure.message}`)
      else if (tone.success !== "professional") failures.push(`not defaulted: tone=${String(tone.success)}`)
      const cert = await servedCertificate(port)
      expect(cert.validToDate.getTime()).toBeGreaterThan(Date.now())
      served.add(cert.fingerprint256)
      const data = await secretData()
      if (data !== undefined) cas.add(data.caBundle.split("-----END CERTIFICATE-----")[0] ?? "")
    }
    console.log(`${probes} admission requests across ${served.size} certificates and ${cas.size} CAs`)
    expect(failures).toEqual([])
    // The bundle still matches the Secret in every webhook.
    const data = await secretData()
    for (const b of await caBundles()) expect(b).toBe(data?.caBundleB64)
  })
})
