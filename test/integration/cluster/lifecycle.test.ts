// Garbage collection and namespace deletion: the controllers that make finalisation work.
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node"
import { describe, expect, vi } from "vitest"
import { createNamespace, clusterTest as test } from "../setup/context.ts"

const poll = { timeout: 120_000, interval: 500 } as const

const isNotFound = (e: unknown): boolean =>
  typeof e === "object" && e !== null && "code" in e && e.code === 404

/** Resolves once `read` fails with 404; fails the assertion while the object still exists. */
const gone = async (read: () => Promise<unknown>): Promise<void> => {
  const exists = await read().then(
    () => true,
    (e: unknown) => {
      if (isNotFound(e)) return false
      throw e
    },
  )
  expect(exists).toBe(false)
}

describe("object lifecycle", () => {
  test("deleting an owner garbage-collects the objects it owns", async ({ kc, namespace }) => {
    const core = kc.makeApiClient(CoreV1Api)
    const owner = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "owner" }, data: { a: "1" } },
    })
    const ownerRef = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata?.uid ?? "" }
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "owned", ownerReferences: [ownerRef] }, stringData: { b: "2" } },
    })
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: "bystander" } } })

    await core.deleteNamespacedConfigMap({ name: "owner", namespace, propagationPolicy: "Background" })
    await vi.waitFor(() => gone(() => core.readNamespacedSecret({ name: "owned", namespace })), poll)
    // Unowned objects stay.
    expect((await core.readNamespacedConfigMap({ name: "bystander", namespace })).metadata?.name).toBe(
      "bystander",
    )
  })

  test("foreground deletion of a Deployment removes its ReplicaSets and Pods first", async ({
    kc,
    namespace,
  }) => {
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: "fg" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "fg" } },
          template: {
            metadata: { labels: { app: "fg" } },
            spec: { containers: [{ name: "c", image: "x.invalid/y:1" }] },
          },
        },
      },
    })
    await vi.waitFor(async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=fg" })
      expect(pods.items.filter((p) => p.status?.phase === "Running")).toHaveLength(2)
    }, poll)

    await apps.deleteNamespacedDeployment({ name: "fg", namespace, propagationPolicy: "Foreground" })
    await vi.waitFor(() => gone(() => apps.readNamespacedDeployment({ name: "fg", namespace })), poll)
    expect((await apps.listNamespacedReplicaSet({ namespace })).items).toHaveLength(0)
    expect((await core.listNamespacedPod({ namespace, labelSelector: "app=fg" })).items).toHaveLength(0)
  })

  test("deleting a namespace with running Pods completes", async ({ kc }) => {
    const apps = kc.makeApiClient(AppsV1Api)
    const core = kc.makeApiClient(CoreV1Api)
    const ns = await createNamespace(kc, "doomed")
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "cm" } } })
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "d" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "d" } },
          template: {
            metadata: { labels: { app: "d" } },
            spec: { containers: [{ name: "c", image: "x.invalid/y:1" }] },
          },
        },
      },
    })
    await vi.waitFor(async () => {
      const pods = await core.listNamespacedPod({ namespace: ns })
      expect(pods.items.filter((p) => p.status?.phase === "Running")).toHaveLength(2)
    }, poll)

    await core.deleteNamespace({ name: ns })
    expect((await core.readNamespace({ name: ns })).status?.phase).toBe("Terminating")
    await vi.waitFor(() => gone(() => core.readNamespace({ name: ns })), poll)
  })
})
