// The local control plane behaves like a cluster: controllers, scheduler and kwok all take part.
import { AppsV1Api, CoreV1Api, type V1Deployment } from "@kubernetes/client-node"
import { describe, expect, vi } from "vitest"
import { clusterTest as test } from "../setup/context.ts"

const poll = { timeout: 90_000, interval: 500 } as const

const deployment = (name: string, replicas: number): V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "main", image: "registry.invalid/never-pulled:1" }] },
    },
  },
})

describe("workloads", () => {
  test("a Deployment gets a ReplicaSet and Pods that run on the kwok node", async ({ kc, namespace }) => {
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await apps.createNamespacedDeployment({ namespace, body: deployment("web", 2) })

    const rs = await vi.waitFor(async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: "app=web" })
      expect(list.items).toHaveLength(1)
      return list.items[0]
    }, poll)
    expect(rs?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Deployment", name: "web" })

    const pods = await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "app=web" })
      expect(list.items).toHaveLength(2)
      for (const pod of list.items) {
        expect(pod.spec?.nodeName).toBeTruthy()
        expect(pod.status?.phase).toBe("Running")
        expect(pod.status?.podIP).toMatch(/^10\.244\./)
      }
      return list.items
    }, poll)
    for (const pod of pods) {
      expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: "ReplicaSet",
        name: rs?.metadata?.name,
      })
      const node = await core.readNode({ name: pod.spec?.nodeName ?? "" })
      expect(node.metadata?.annotations?.["kwok.x-k8s.io/node"]).toBe("fake")
    }

    await vi.waitFor(async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace })
      expect(d.status?.availableReplicas).toBe(2)
    }, poll)
  })

  test("scaling a Deployment down deletes Pods for good (kwok finishes deletions)", async ({
    kc,
    namespace,
  }) => {
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await apps.createNamespacedDeployment({ namespace, body: deployment("shrink", 3) })
    await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "app=shrink" })
      expect(list.items.filter((p) => p.status?.phase === "Running")).toHaveLength(3)
    }, poll)
    await apps.patchNamespacedDeploymentScale({
      name: "shrink",
      namespace,
      body: [{ op: "replace", path: "/spec/replicas", value: 1 }],
    })
    await vi.waitFor(async () => {
      const list = await core.listNamespacedPod({ namespace, labelSelector: "app=shrink" })
      expect(list.items).toHaveLength(1)
    }, poll)
  })
})
