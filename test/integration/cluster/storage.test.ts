// The local control plane provisions volumes like a real cluster: a claim of the default StorageClass
// binds by itself and its volume goes away with it; a claim of a class nobody provisions stays Pending.
import { CoreV1Api, type V1PersistentVolumeClaim } from "@kubernetes/client-node"
import { describe, expect, vi } from "vitest"
import { DEFAULT_STORAGE_CLASS } from "../../../src/localcluster/provisioner.ts"
import { clusterTest as test } from "../setup/context.ts"

const poll = { timeout: 90_000, interval: 500 } as const

const claim = (name: string, storageClassName?: string): V1PersistentVolumeClaim => ({
  metadata: { name },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "2Gi" } },
    ...(storageClassName !== undefined ? { storageClassName } : {}),
  },
})

describe("storage", () => {
  test("a claim without a class binds by itself; one of an unprovisioned class stays Pending", async ({
    kc,
    namespace,
  }) => {
    const core = kc.makeApiClient(CoreV1Api)
    // Created first: by the time the later claim is bound, the provisioner has seen this one too.
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim("elsewhere", "unprovisioned") })
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim("data") })

    const bound = await vi.waitFor(async () => {
      const c = await core.readNamespacedPersistentVolumeClaim({ namespace, name: "data" })
      expect(c.status?.phase).toBe("Bound")
      return c
    }, poll)
    expect(bound.spec?.storageClassName).toBe(DEFAULT_STORAGE_CLASS)
    expect(bound.status?.capacity?.storage).toBe("2Gi")
    const volumeName = bound.spec?.volumeName ?? ""
    const pv = await core.readPersistentVolume({ name: volumeName })
    expect(pv.spec?.claimRef).toMatchObject({ namespace, name: "data", uid: bound.metadata?.uid })
    expect(pv.spec?.accessModes).toEqual(["ReadWriteOnce"])
    expect(pv.status?.phase).toBe("Bound")

    const other = await core.readNamespacedPersistentVolumeClaim({ namespace, name: "elsewhere" })
    expect(other.status?.phase).toBe("Pending")
    expect(other.spec?.volumeName ?? "").toBe("")
    const volumes = await core.listPersistentVolume()
    expect(volumes.items.filter((v) => v.spec?.claimRef?.name === "elsewhere")).toEqual([])

    // The volume is the provisioner's to delete once its claim is gone (reclaim policy Delete).
    await core.deleteNamespacedPersistentVolumeClaim({ namespace, name: "data" })
    await vi.waitFor(async () => {
      const left = await core.listPersistentVolume()
      expect(left.items.map((v) => v.metadata?.name)).not.toContain(volumeName)
    }, poll)
  })
})
