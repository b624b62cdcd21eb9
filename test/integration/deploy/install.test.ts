// `kubectl apply -k deploy/` (and the self-managed-certs overlay) against the real local API server.
//
// The cert-manager variant is checked with cert-manager's real CRDs and a TEST STAND-IN for cert-manager
// (certmanager-standin.ts): this tests the contract deploy/ has with cert-manager — the Issuer chain and
// Certificate are accepted, the Certificate names the Secret the Deployment mounts and the Service's DNS
// names, and cainjector's annotation leads to the CA in every webhook's caBundle — not cert-manager itself.
// Pods are scheduled onto the kwok node; kwok fakes their containers, so the operator does not really run.
import { X509Certificate } from "node:crypto"
import { Effect, Fiber } from "effect"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import { layerFromFile } from "../../../src/kube/client.ts"
import {
  certManagerCrdsDir,
  kubeconfigPath,
  kubectl,
  clusterTest as test,
  uniqueName,
} from "../setup/context.ts"
import { waitEstablished } from "../setup/crds.ts"
import { runStandIn } from "./certmanager-standin.ts"
import { removeInstall, testOverlay } from "./support.ts"

interface Listed {
  items: Array<{
    metadata: { name: string; annotations?: Record<string, string> }
    spec?: { nodeName?: string }
    status?: { phase?: string }
    webhooks?: Array<{ name: string; clientConfig: { caBundle?: string; service?: { name: string } } }>
  }>
}
const getJson = async (args: ReadonlyArray<string>): Promise<Listed> => {
  const r = await kubectl([...args, "-o", "json"])
  if (r.exitCode !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout) as Listed
}

/**
 * kustomize's notice that `vars` are deprecated: deploy/ uses them on purpose (only variables are resolved
 * after an outer overlay's `namespace:`), so it is the one warning an install may print.
 */
const withoutVarsNotice = (stderr: string): string =>
  stderr
    .split("\n")
    .filter((l) => !/^# Warning: 'vars' is deprecated/u.test(l))
    .join("\n")

/** kind/name of every object the overlay renders (what `apply -k` should have created). */
const renderedObjects = async (dir: string) => {
  const r = await kubectl(["kustomize", dir])
  expect(r.exitCode, r.stderr).toBe(0)
  return [...r.stdout.matchAll(/^kind: (\w+)\nmetadata:\n(?: {2}.*\n)*? {2}name: ([\w.-]+)$/gmu)].map(
    (m) => ({
      kind: m[1] ?? "",
      name: m[2] ?? "",
    }),
  )
}

const expectPodsScheduled = async () =>
  vi.waitFor(
    async () => {
      const pods = await getJson([
        "get",
        "pods",
        "-n",
        "langop-system",
        "-l",
        "app.kubernetes.io/name=langop-operator",
      ])
      expect(pods.items).toHaveLength(2)
      for (const p of pods.items) expect(p.spec?.nodeName).toBeTruthy()
    },
    { timeout: 90_000, interval: 500 },
  )

const expectAllExist = async (objects: ReadonlyArray<{ kind: string; name: string }>) => {
  for (const o of objects) {
    const r = await kubectl([
      "get",
      o.kind,
      "-A",
      "--field-selector",
      `metadata.name=${o.name}`,
      "-o",
      "name",
    ])
    expect(r.stdout.trim(), `${o.kind}/${o.name}: ${r.stderr}`).not.toBe("")
  }
}

beforeAll(async () => {
  const applied = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", certManagerCrdsDir()])
  expect(applied.exitCode, applied.stderr).toBe(0)
  await waitEstablished(["certificates.cert-manager.io", "issuers.cert-manager.io"])
  await removeInstall()
})

afterAll(removeInstall)

describe("kubectl apply -k deploy/ (contract with cert-manager, via a test stand-in)", () => {
  test("every object is accepted, the webhooks get the CA, the operator Pods schedule", async () => {
    const id = uniqueName("install")
    const overlay = testOverlay("", id)
    const objects = await renderedObjects(overlay)
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining([
        "Namespace",
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "Issuer",
        "Certificate",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
      ]),
    )

    // Discovery of the cert-manager group may lag Established for a moment: retry the apply.
    await vi.waitFor(
      async () => {
        const applied = await kubectl(["apply", "-k", overlay])
        expect(applied.exitCode, applied.stderr).toBe(0)
        expect(withoutVarsNotice(applied.stderr)).not.toMatch(/PodSecurity|Warning/u)
      },
      { timeout: 30_000, interval: 1000 },
    )
    await expectAllExist(objects)

    const standIn = Effect.runFork(
      runStandIn("langop-system").pipe(Effect.provide(layerFromFile(kubeconfigPath()))),
    )
    try {
      // The CA from the CA Certificate's Secret ends up in every webhook's caBundle.
      await vi.waitFor(
        async () => {
          const ca = await kubectl([
            "get",
            "secret",
            "langop-ca",
            "-n",
            "langop-system",
            "-o",
            "jsonpath={.data.ca\\.crt}",
          ])
          expect(ca.stdout).not.toBe("")
          for (const kind of [
            "mutatingwebhookconfiguration/langop-mutating",
            "validatingwebhookconfiguration/langop-validating",
          ]) {
            const config = JSON.parse(
              (await kubectl(["get", kind, "-o", "json"])).stdout,
            ) as Listed["items"][number]
            expect(config.webhooks?.length).toBeGreaterThan(0)
            for (const w of config.webhooks ?? []) expect(w.clientConfig.caBundle, w.name).toBe(ca.stdout)
          }
        },
        { timeout: 60_000, interval: 500 },
      )
      // The serving Secret the Deployment mounts: signed by that CA, for the Service's DNS names.
      const tls = await kubectl(["get", "secret", "langop-webhook-tls", "-n", "langop-system", "-o", "json"])
      const data = (JSON.parse(tls.stdout) as { data: Record<string, string> }).data
      const leaf = new X509Certificate(Buffer.from(data["tls.crt"] ?? "", "base64"))
      const ca = new X509Certificate(Buffer.from(data["ca.crt"] ?? "", "base64"))
      expect(leaf.verify(ca.publicKey)).toBe(true)
      expect(leaf.checkHost("langop-webhook.langop-system.svc")).toBeDefined()
      expect(leaf.checkHost("langop-webhook.langop-system.svc.cluster.local")).toBeDefined()
      const ready = await kubectl([
        "get",
        "certificate",
        "langop-serving-cert",
        "-n",
        "langop-system",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ])
      expect(ready.stdout).toBe("True")
    } finally {
      await Effect.runPromise(Fiber.interrupt(standIn))
    }
    await expectPodsScheduled()
  })
})

describe("kubectl apply -k deploy/overlays/self-managed-certs/", () => {
  test("every object is accepted without cert-manager objects, and the operator Pods schedule", async () => {
    await removeInstall()
    const overlay = testOverlay("overlays/self-managed-certs", uniqueName("self"))
    const objects = await renderedObjects(overlay)
    expect(objects.map((o) => o.kind)).not.toContain("Certificate")
    expect(objects.map((o) => o.kind)).not.toContain("Issuer")
    expect(
      objects
        .filter((o) => o.name === "langop-self-certs")
        .map((o) => o.kind)
        .sort(),
    ).toEqual(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"])
    const applied = await kubectl(["apply", "-k", overlay])
    expect(applied.exitCode, applied.stderr).toBe(0)
    expect(withoutVarsNotice(applied.stderr)).not.toMatch(/PodSecurity|Warning/u)
    await expectAllExist(objects)
    await expectPodsScheduled()
  })
})
