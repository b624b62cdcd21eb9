// The install as a user runs it (`kubectl apply -k` of the self-managed-certs overlay), with the
// operator image built from this checkout, on the real node: both replicas Ready under the
// restricted Pod Security level, the API server calling the admission webhook through the Service,
// and the controllers reconciling.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from "@kubernetes/client-node"
import { describe, expect, inject, onTestFinished, vi } from "vitest"
import { repoRoot } from "../../../src/localcluster/binaries.ts"
import { kubectl, clusterTest as test } from "../setup/context.ts"
import type {} from "./provided.ts"

const poll = { timeout: 180_000, interval: 1_000 } as const

/** An overlay of the user-facing one: the local image, and a place on the real node. */
const overlay = (dir: string) =>
  `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${relative(dir, join(repoRoot, "deploy", "overlays", "self-managed-certs"))}
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

describe("operator install on the real node", () => {
  test("self-managed certs: two Ready replicas under restricted Pod Security; the webhook denies through the Service; a persona is reconciled, also across a leader handover", async ({
    kc,
    namespace,
  }) => {
    const dir = mkdtempSync(join(tmpdir(), "langop-overlay-"))
    writeFileSync(join(dir, "kustomization.yaml"), overlay(dir))
    onTestFinished(async () => {
      // The webhooks fail closed: remove them with everything else so later tests are unaffected.
      await kubectl(["delete", "-k", dir, "--ignore-not-found", "--wait=false"])
      rmSync(dir, { recursive: true, force: true })
    })
    const applied = await kubectl(["apply", "--server-side", "-k", dir])
    expect(applied.stderr).toBe("")
    expect(applied.exitCode).toBe(0)

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
    await kc
      .makeApiClient(CoreV1Api)
      .deleteNamespacedPod({ name: leaderPod ?? "", namespace: "langop-system" })
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
  })
})
