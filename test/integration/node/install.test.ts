// The install as a user runs it (`kubectl apply -k` of the self-managed-certs overlay), with the
// operator image built from this checkout, on the real node: both replicas Ready under the
// restricted Pod Security level, the API server calling the admission webhook through the Service,
// and the controllers reconciling.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from "@kubernetes/client-node"
import { Effect, Fiber } from "effect"
import { describe, expect, inject, onTestFinished, vi } from "vitest"
import { layerFromFile } from "../../../src/kube/client.ts"
import { repoRoot } from "../../../src/localcluster/binaries.ts"
import { runStandIn } from "../deploy/certmanager-standin.ts"
import { certManagerCrdsDir, kubeconfigPath, kubectl, clusterTest as test } from "../setup/context.ts"
import type {} from "./provided.ts"

const poll = { timeout: 180_000, interval: 1_000 } as const

type Variant = "" | "overlays/self-managed-certs"

/** An overlay of a user-facing variant: the local image, and a place on the real node. */
const overlay = (dir: string, variant: Variant) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${relative(dir, join(repoRoot, "deploy", variant))}
images:
  - name: ghcr.io/langop/operator
    newName: langop/operator
    newTag: dev
patches:
  - target: { kind: Deployment, name: langop-operator }
    patch: |
      - op: add
        path: /spec/template/spec/nodeSelector
        value: { langop.io/real-node: "true" }
      - op: add
        path: /spec/template/spec/tolerations
        value: [{ key: langop.io/real-node, operator: Exists, effect: NoSchedule }]
`

const badAgent = `apiVersion: langop.io/v1alpha1
kind: LanguageAgent
metadata: { name: bad }
spec:
  image: x:1
  modelRefs: [{ name: gpt-4o-mini }]
  egress:
    - to: { dns: ["*.*.example.com"] }
      ports: [{ port: 443 }]
`

const persona = `apiVersion: langop.io/v1alpha1
kind: LanguagePersona
metadata: { name: base }
spec:
  displayName: Base
  description: A persona without a parent.
  systemPrompt: Be helpful.
`

/** Installs `variant` and checks what a user of it sees; `namespace` holds the test's objects. */
const installAndCheck = async (kc: KubeConfig, namespace: string, variant: Variant) => {
  const dir = mkdtempSync(join(tmpdir(), "langop-overlay-"))
  writeFileSync(join(dir, "kustomization.yaml"), overlay(dir, variant))
  onTestFinished(async () => {
    // Our objects first, while the operator still runs to remove its finalizers; then the install
    // (its webhooks fail closed), waiting, so the next install starts from nothing.
    await kubectl([
      "delete",
      "languagepersona",
      "base",
      "-n",
      namespace,
      "--ignore-not-found",
      "--timeout=60s",
    ])
    await kubectl(["delete", "-k", dir, "--ignore-not-found", "--timeout=120s"])
    rmSync(dir, { recursive: true, force: true })
  })
  // Discovery of a just-established CRD group can lag for a moment: retry the apply.
  await vi.waitFor(
    async () => {
      const applied = await kubectl(["apply", "--server-side", "-k", dir])
      expect(applied.exitCode, applied.stderr).toBe(0)
      expect(applied.stderr).toBe("")
    },
    { timeout: 30_000, interval: 1_000 },
  )

  const ns = await kc.makeApiClient(CoreV1Api).readNamespace({ name: "langop-system" })
  expect(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted")
  await vi.waitFor(async () => {
    const d = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: "langop-operator", namespace: "langop-system" })
    expect(d.status?.readyReplicas).toBe(2)
  }, poll)
  const pods = await kc.makeApiClient(CoreV1Api).listNamespacedPod({
    namespace: "langop-system",
    fieldSelector: "status.phase=Running",
  })
  expect(pods.items).toHaveLength(2)
  for (const p of pods.items) {
    expect(p.spec?.nodeName).toBe(inject("realNodeName"))
    expect(p.status?.containerStatuses?.[0]?.image).toBe("docker.io/langop/operator:dev")
  }

  // Served by a replica behind Service langop-webhook: the API server reaches it on the node.
  await vi.waitFor(async () => {
    const denied = await kubectl(["apply", "-n", namespace, "-f", "-"], { input: badAgent })
    expect(denied.exitCode).not.toBe(0)
    expect(denied.stderr).toContain(
      'admission webhook "validate.languageagents.langop.io" denied the request',
    )
    expect(denied.stderr).toContain('spec.egress[0].to.dns[0]: "*.*.example.com" is not a valid DNS name')
  }, poll)

  const created = await kubectl(["apply", "-n", namespace, "-f", "-"], { input: persona })
  expect(created.exitCode).toBe(0)
  await vi.waitFor(async () => {
    const r = await kubectl([
      "get",
      "languagepersona",
      "base",
      "-n",
      namespace,
      "-o",
      'jsonpath={.spec.tone} {.status.conditions[?(@.type=="Ready")].status}',
    ])
    // The tone default comes from the mutating webhook, Ready from the controller.
    expect(r.stdout).toBe("professional True")
  }, poll)

  // Deleting the leader's Pod hands over; a change made meanwhile converges under the new leader.
  const coordination = kc.makeApiClient(CoordinationV1Api)
  const holder = async () =>
    (await coordination.readNamespacedLease({ name: "langop.io", namespace: "langop-system" })).spec
      ?.holderIdentity ?? ""
  const before = await holder()
  const leaderPod = pods.items.find((p) => before.startsWith(p.metadata?.name ?? "-"))?.metadata?.name
  expect(leaderPod).toBeDefined()
  await kc.makeApiClient(CoreV1Api).deleteNamespacedPod({ name: leaderPod ?? "", namespace: "langop-system" })
  const changed = await kubectl(["apply", "-n", namespace, "-f", "-"], {
    input: persona.replace("A persona without a parent.", "Changed while the leader was away."),
  })
  expect(changed.exitCode).toBe(0)
  await vi.waitFor(async () => {
    const now = await holder()
    expect(now).not.toBe("")
    expect(now.startsWith(leaderPod ?? "-")).toBe(false)
  }, poll)
  await vi.waitFor(async () => {
    const r = await kubectl([
      "get",
      "languagepersona",
      "base",
      "-n",
      namespace,
      "-o",
      'jsonpath={.metadata.generation} {.status.conditions[?(@.type=="Ready")].observedGeneration}',
    ])
    expect(r.stdout).toBe("2 2")
  }, poll)
}

describe("operator install on the real node", () => {
  test("self-managed certs: two Ready replicas under restricted Pod Security; the webhook denies through the Service; a persona is reconciled, also across a leader handover", async ({
    kc,
    namespace,
  }) => {
    await installAndCheck(kc, namespace, "overlays/self-managed-certs")
  })

  test("cert-manager (test stand-in for its issuer and CA injection): the same", async ({
    kc,
    namespace,
  }) => {
    const crds = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", certManagerCrdsDir()])
    expect(crds.exitCode, crds.stderr).toBe(0)
    const established = await kubectl([
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/certificates.cert-manager.io",
      "crd/issuers.cert-manager.io",
    ])
    expect(established.exitCode, established.stderr).toBe(0)
    const standIn = Effect.runFork(
      runStandIn("langop-system").pipe(Effect.provide(layerFromFile(kubeconfigPath()))),
    )
    onTestFinished(() => Effect.runPromise(Fiber.interrupt(standIn)).then(() => undefined))
    await installAndCheck(kc, namespace, "")
  })
})
