// Sidecar injection on the real control plane, with the operator's admission server registered
// (setup/webhook.ts): Pods created by the REAL ReplicaSet controller from a Deployment whose template
// the agent controller would write (kind label + sidecar marks) get the native sidecar and run on the
// kwok node; the API server's re-invocation (after another webhook changed the Pod) gets no patch; a
// missing tool surfaces as the ReplicaSet's FailedCreate event with our deny message.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type V1Deployment,
  type V1Pod,
} from "@kubernetes/client-node"
import { Effect, Layer, Result } from "effect"
import { afterAll, beforeAll, describe, expect, vi } from "vitest"
import { decodeAll } from "../../../src/api/decode.ts"
import { LanguageTool } from "../../../src/api/languagetool.ts"
import { sidecarAnnotations, sidecarToolOf } from "../../../src/domain/sidecars.ts"
import { layerFromFile } from "../../../src/kube/client.ts"
import { layerLive } from "../../../src/webhook/lookup.ts"
import { mutatePod } from "../../../src/webhook/pods.ts"
import { kubeconfigPath, clusterTest as test } from "../setup/context.ts"
import { installCrds } from "../setup/crds.ts"
import { startWebhook, type WebhookHandle } from "../setup/webhook.ts"
import { recordedTable, TOUCHED_LABEL, touchAfterUs } from "./pods-harness.ts"

const poll = { timeout: 90_000, interval: 500 } as const
const decodeTool = decodeAll(LanguageTool, { rejectUnknownFields: false })

const toolManifest = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageTool",
  metadata: { name, namespace },
  spec,
})

/** The agent Deployment as the agent controller writes it (marks from `annotations`). */
const agentDeployment = (name: string, annotations: Record<string, string>): V1Deployment => {
  const labels = {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/managed-by": "language-operator",
    "app.kubernetes.io/part-of": "langop",
    "langop.io/kind": "LanguageAgent",
  }
  return {
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations },
        spec: {
          containers: [
            {
              name: "agent",
              image: "registry.invalid/agent:1",
              volumeMounts: [{ name: "workspace", mountPath: "/data" }],
            },
          ],
          volumes: [{ name: "workspace", emptyDir: {} }],
        },
      },
    },
  }
}

describe("Pod webhook: sidecar injection", () => {
  // The operator's full handler table (tools are validated on creation too), Pod answers recorded.
  const recorded = recordedTable()
  let webhook: WebhookHandle | undefined
  const cleanups: Array<() => Promise<void>> = []

  beforeAll(async () => {
    await installCrds()
    webhook = await startWebhook({
      table: recorded.table,
      context: layerLive.pipe(Layer.provide(layerFromFile(kubeconfigPath()))),
    })
    await webhook.waitUntilServing()
  })
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup()
    await webhook?.close()
  })

  test("ReplicaSet Pods get the native sidecar with the workspace mount and run", async ({
    kc,
    namespace,
  }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    const created = await custom.createNamespacedCustomObject({
      group: "langop.io",
      version: "v1alpha1",
      namespace,
      plural: "languagetools",
      body: toolManifest(namespace, "fs", {
        image: "registry.invalid/fs-mcp:1",
        deploymentMode: "sidecar",
        port: 3000,
        env: [
          { name: "ROOT", value: "/data" },
          { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        ],
        // Shapes the API server rewrites when it defaults the Pod (requests from limits, 0.5 → 500m,
        // defaultMode, probe timings): the handler must still see its own output as a fixed point.
        resources: { limits: { cpu: "0.5", memory: "64Mi" } },
        readinessProbe: { httpGet: { path: "/ready", port: 3000 } },
        volumes: [
          { name: "cache", emptyDir: {} },
          { name: "creds", secret: { secretName: "fs-creds" } },
        ],
        volumeMounts: [{ name: "cache", mountPath: "/cache" }],
        imagePullSecrets: [{ name: "regcred" }],
      }),
    })
    const tool = decodeTool(created)
    if (Result.isFailure(tool)) throw new Error(tool.failure.join("\n"))
    const marks = sidecarAnnotations([sidecarToolOf(tool.success)])
    await apps.createNamespacedDeployment({ namespace, body: agentDeployment("agent", marks) })

    const pod = await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "langop.io/kind=LanguageAgent" })
      expect(list.items).toHaveLength(1)
      const p = list.items[0] as V1Pod
      expect(p.status?.phase).toBe("Running")
      return p
    }, poll)

    expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe("ReplicaSet")
    expect(pod.metadata?.annotations?.["langop.io/injected-tools"]).toBe(`${namespace}/fs`)
    const sidecars = pod.spec?.initContainers ?? []
    expect(sidecars.map((c) => c.name)).toEqual(["tool-fs"])
    const [fs] = sidecars
    expect(fs).toMatchObject({
      image: "registry.invalid/fs-mcp:1",
      restartPolicy: "Always",
      ports: [{ name: "mcp", containerPort: 3000, protocol: "TCP" }],
      env: [
        { name: "ROOT", value: "/data" },
        { name: "POD", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
        { name: "PORT", value: "3000" },
      ],
      resources: { limits: { cpu: "500m", memory: "64Mi" }, requests: { cpu: "500m", memory: "64Mi" } },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
    })
    // Ours first; the ServiceAccount plugin, re-run by the API server after our patch, may append its
    // token mount (it does on 1.37), which the handler keeps (see the fixed-point check below).
    expect(
      fs?.volumeMounts
        ?.filter((m) => m.mountPath !== "/var/run/secrets/kubernetes.io/serviceaccount")
        .map((m) => [m.name, m.mountPath]),
    ).toEqual([
      ["workspace", "/data"],
      ["cache", "/cache"],
    ])
    expect(fs?.startupProbe?.tcpSocket?.port).toBe(3000)
    expect(pod.spec?.volumes?.map((v) => v.name)).toEqual(
      expect.arrayContaining(["workspace", "cache", "creds"]),
    )
    expect(pod.spec?.imagePullSecrets).toEqual([{ name: "regcred" }])
    expect(pod.spec?.nodeName).toBeTruthy()
    expect(pod.status?.initContainerStatuses?.map((s) => s.name)).toEqual(["tool-fs"])

    // Reinvocation: the Pod as the API server stored it (defaulted) is a fixed point of the handler.
    const stored = await core.readNamespacedPod({ name: pod.metadata?.name ?? "", namespace })
    const again = await Effect.runPromise(
      mutatePod(() => Effect.succeed(tool.success))({
        uid: "reinvoke",
        kind: { group: "", version: "v1", kind: "Pod" },
        resource: { group: "", version: "v1", resource: "pods" },
        namespace,
        operation: "CREATE",
        object: JSON.parse(JSON.stringify(stored)),
      }),
    )
    expect(again).toEqual({ uid: "reinvoke", allowed: true })
  })

  test("re-invoked after another webhook changed the Pod, the webhook answers without a patch", async ({
    kc,
    namespace,
  }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    cleanups.push(await touchAfterUs(namespace))
    const before = recorded.reviews(namespace).length
    const created = await custom.createNamespacedCustomObject({
      group: "langop.io",
      version: "v1alpha1",
      namespace,
      plural: "languagetools",
      body: toolManifest(namespace, "search", {
        image: "registry.invalid/search:1",
        deploymentMode: "sidecar",
        port: 8081,
        resources: { limits: { cpu: "0.25" } },
        volumes: [{ name: "index", configMap: { name: "search-index" } }],
      }),
    })
    const tool = decodeTool(created)
    if (Result.isFailure(tool)) throw new Error(tool.failure.join("\n"))
    await apps.createNamespacedDeployment({
      namespace,
      body: agentDeployment("agent", sidecarAnnotations([sidecarToolOf(tool.success)])),
    })
    const pod = await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "app.kubernetes.io/name=agent" })
      expect(list.items).toHaveLength(1)
      return list.items[0] as V1Pod
    }, poll)
    expect(pod.metadata?.labels?.[TOUCHED_LABEL]).toBe("yes")
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["tool-search"])
    expect(pod.spec?.volumes?.filter((v) => v.name === "index")).toHaveLength(1)
    // First call injects; the API server re-invokes us after the second webhook's change, on the
    // defaulted Pod, and our answer changes nothing.
    expect(recorded.reviews(namespace).slice(before)).toEqual([
      { namespace, allowed: true, patched: true },
      { namespace, allowed: true, patched: false },
    ])
  })

  test("a missing tool: the ReplicaSet reports our deny as FailedCreate", async ({ kc, namespace }) => {
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await apps.createNamespacedDeployment({
      namespace,
      body: agentDeployment("lonely", {
        "langop.io/sidecar-tools": `${namespace}/missing`,
        "langop.io/sidecar-hash": "0".repeat(64),
      }),
    })
    const event = await vi.waitFor(async () => {
      const events = await core.listNamespacedEvent({ namespace })
      const failed = events.items.find(
        (e) => e.reason === "FailedCreate" && e.involvedObject.kind === "ReplicaSet",
      )
      expect(failed).toBeDefined()
      return failed
    }, poll)
    expect(event?.message).toContain(`LanguageTool ${namespace}/missing not found (ToolNotFound)`)
    expect(event?.message).toContain("metadata.annotations[langop.io/sidecar-tools]")
    const pods = await core.listNamespacedPod({ namespace })
    expect(pods.items).toHaveLength(0)
  })

  test("a Pod naming a service-mode tool is denied with the tool named", async ({ kc, namespace }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const core = kc.makeApiClient(CoreV1Api)
    await custom.createNamespacedCustomObject({
      group: "langop.io",
      version: "v1alpha1",
      namespace,
      plural: "languagetools",
      body: toolManifest(namespace, "shared", { image: "registry.invalid/shared:1" }),
    })
    const error = await core
      .createNamespacedPod({
        namespace,
        body: {
          metadata: {
            name: "direct",
            labels: { "langop.io/kind": "LanguageAgent" },
            annotations: { "langop.io/sidecar-tools": `${namespace}/shared` },
          },
          spec: { containers: [{ name: "agent", image: "registry.invalid/agent:1" }] },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      )
    expect(error?.code).toBe(422)
    expect(error?.body).toContain(
      `LanguageTool ${namespace}/shared is not in sidecar mode (deploymentMode: service)`,
    )
  })
})
