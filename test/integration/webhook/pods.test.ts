// Sidecar injection on the real control plane, with the operator's admission server registered
// (setup/webhook.ts): Pods created by the REAL ReplicaSet controller from a Deployment whose template
// the agent controller would write (kind label + sidecar marks), for a LanguageAgent whose toolRefs
// list the tool, get the native sidecar and run on the kwok node; the API server's re-invocation (after
// another webhook changed the Pod) gets no patch; a missing tool surfaces as the ReplicaSet's
// FailedCreate event with our deny message. Forged marks (a tool the agent does not list or blocks, a
// forged injected-tools, a Pod a user creates directly) are refused with the entry named; the Job
// controller's Pods are trusted like the ReplicaSet controller's.
import {
  AppsV1Api,
  BatchV1Api,
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

/** The LanguageAgent whose live spec authorises (or not) the sidecar tools its Pods list. */
const createAgent = (
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
) =>
  custom.createNamespacedCustomObject({
    group: "langop.io",
    version: "v1alpha1",
    namespace,
    plural: "languageagents",
    body: {
      apiVersion: "langop.io/v1alpha1",
      kind: "LanguageAgent",
      metadata: { name, namespace },
      spec: { image: "registry.invalid/agent:1", modelRefs: [{ name: "gpt" }], ...spec },
    },
  })

/** The message of the first FailedCreate event of a `kind` (ReplicaSet, Job) in the namespace. */
const failedCreate = async (core: CoreV1Api, namespace: string, kind: string): Promise<string> =>
  vi.waitFor(async () => {
    const events = await core.listNamespacedEvent({ namespace })
    const failed = events.items.find((e) => e.reason === "FailedCreate" && e.involvedObject.kind === kind)
    expect(failed).toBeDefined()
    return failed?.message ?? ""
  }, poll)

const TOOLS_PATH = "metadata.annotations[langop.io/sidecar-tools]"

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
    await createAgent(custom, namespace, "agent", { toolRefs: [{ name: "fs" }] })
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
    await createAgent(custom, namespace, "agent", { toolRefs: [{ name: "search" }] })
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
    await createAgent(kc.makeApiClient(CustomObjectsApi), namespace, "lonely", {
      toolRefs: [{ name: "missing" }],
    })
    await apps.createNamespacedDeployment({
      namespace,
      body: agentDeployment("lonely", {
        "langop.io/sidecar-tools": `${namespace}/missing`,
        "langop.io/sidecar-hash": "0".repeat(64),
      }),
    })
    const message = await failedCreate(core, namespace, "ReplicaSet")
    expect(message).toContain(`${TOOLS_PATH}: LanguageTool ${namespace}/missing not found (ToolNotFound)`)
    const pods = await core.listNamespacedPod({ namespace })
    expect(pods.items).toHaveLength(0)
  })

  test("a Pod naming a service-mode tool is denied with the tool named", async ({ kc, namespace }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await custom.createNamespacedCustomObject({
      group: "langop.io",
      version: "v1alpha1",
      namespace,
      plural: "languagetools",
      body: toolManifest(namespace, "shared", { image: "registry.invalid/shared:1" }),
    })
    await createAgent(custom, namespace, "agent", { toolRefs: [{ name: "shared" }] })
    await apps.createNamespacedDeployment({
      namespace,
      body: agentDeployment("agent", { "langop.io/sidecar-tools": `${namespace}/shared` }),
    })
    expect(await failedCreate(core, namespace, "ReplicaSet")).toContain(
      `LanguageTool ${namespace}/shared is not in sidecar mode (deploymentMode: service)`,
    )
  })
})

describe("Pod webhook: forged sidecar marks are denied, never injected", () => {
  let webhook: WebhookHandle | undefined

  beforeAll(async () => {
    await installCrds()
    webhook = await startWebhook()
    await webhook.waitUntilServing()
  })
  afterAll(async () => {
    await webhook?.close()
  })

  /** A sidecar-mode tool `sc` in the namespace (so only the authorisation can refuse it). */
  const sidecarTool = (custom: CustomObjectsApi, namespace: string) =>
    custom.createNamespacedCustomObject({
      group: "langop.io",
      version: "v1alpha1",
      namespace,
      plural: "languagetools",
      body: toolManifest(namespace, "sc", {
        image: "registry.invalid/sc:1",
        deploymentMode: "sidecar",
        port: 7000,
      }),
    })

  const refusedOnly = async (core: CoreV1Api, namespace: string, kind: string, line: string) => {
    const message = await failedCreate(core, namespace, kind)
    expect(message).toContain(line)
    expect(message).toContain("(SidecarNotAuthorized)")
    expect((await core.listNamespacedPod({ namespace })).items).toEqual([])
  }

  test("an agent without sidecar tools whose template lists one: its Pods are refused, naming the tool", async ({
    kc,
    namespace,
  }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    await sidecarTool(custom, namespace)
    await createAgent(custom, namespace, "agent", {})
    // What a forged podAnnotations entry (stored before the rule) or an edited Deployment produces.
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: agentDeployment("agent", { "langop.io/sidecar-tools": `${namespace}/sc` }),
    })
    await refusedOnly(
      kc.makeApiClient(CoreV1Api),
      namespace,
      "ReplicaSet",
      `${TOOLS_PATH}: LanguageTool ${namespace}/sc is not an enabled, unblocked toolRef of LanguageAgent ${namespace}/agent`,
    )
  })

  test("a tool the agent blocks (safetyConfig.blockedTools) is refused", async ({ kc, namespace }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    await sidecarTool(custom, namespace)
    await createAgent(custom, namespace, "agent", {
      toolRefs: [{ name: "sc" }],
      safetyConfig: { blockedTools: ["sc"] },
    })
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: agentDeployment("agent", { "langop.io/sidecar-tools": `${namespace}/sc` }),
    })
    await refusedOnly(
      kc.makeApiClient(CoreV1Api),
      namespace,
      "ReplicaSet",
      `LanguageTool ${namespace}/sc is not an enabled, unblocked toolRef of LanguageAgent ${namespace}/agent`,
    )
  })

  test("a forged langop.io/injected-tools is refused", async ({ kc, namespace }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    await sidecarTool(custom, namespace)
    await createAgent(custom, namespace, "agent", {})
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace,
      body: agentDeployment("agent", { "langop.io/injected-tools": `${namespace}/sc` }),
    })
    await refusedOnly(
      kc.makeApiClient(CoreV1Api),
      namespace,
      "ReplicaSet",
      `metadata.annotations[langop.io/injected-tools]: names LanguageTool ${namespace}/sc, which this Pod's authorised langop.io/sidecar-tools does not list`,
    )
  })

  test("a Pod created directly by a user gets no sidecar, even for the agent's own tool", async ({
    kc,
    namespace,
  }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const core = kc.makeApiClient(CoreV1Api)
    await sidecarTool(custom, namespace)
    await createAgent(custom, namespace, "agent", { toolRefs: [{ name: "sc" }] })
    const error = await core
      .createNamespacedPod({
        namespace,
        body: {
          metadata: {
            name: "direct",
            labels: { "langop.io/kind": "LanguageAgent", "app.kubernetes.io/name": "agent" },
            annotations: { "langop.io/sidecar-tools": `${namespace}/sc` },
          },
          spec: { containers: [{ name: "agent", image: "registry.invalid/agent:1" }] },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: number; body?: string },
      )
    expect(error?.code).toBe(403)
    expect(error?.body).toContain(
      "sidecar tools are injected only into Pods that the ReplicaSet or Job controller creates from a LanguageAgent's Deployment or CronJob; this Pod was created by",
    )
    expect((await core.listNamespacedPod({ namespace })).items).toEqual([])
  })

  test("Pods the Job controller creates for the agent get the agent's tool", async ({ kc, namespace }) => {
    const custom = kc.makeApiClient(CustomObjectsApi)
    const core = kc.makeApiClient(CoreV1Api)
    await sidecarTool(custom, namespace)
    await createAgent(custom, namespace, "nightly", { toolRefs: [{ name: "sc" }] })
    const template = agentDeployment("nightly", { "langop.io/sidecar-tools": `${namespace}/sc` }).spec
      ?.template
    await kc.makeApiClient(BatchV1Api).createNamespacedJob({
      namespace,
      body: {
        metadata: { name: "nightly-1" },
        spec: {
          backoffLimit: 0,
          template: {
            ...template,
            spec: { ...template?.spec, containers: template?.spec?.containers ?? [], restartPolicy: "Never" },
          },
        },
      },
    })
    const pod = await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({
        namespace,
        labelSelector: "app.kubernetes.io/name=nightly",
      })
      expect(list.items).toHaveLength(1)
      return list.items[0] as V1Pod
    }, poll)
    expect(pod.metadata?.ownerReferences?.[0]?.kind).toBe("Job")
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(["tool-sc"])
    expect(pod.metadata?.annotations?.["langop.io/injected-tools"]).toBe(`${namespace}/sc`)
  })
})
