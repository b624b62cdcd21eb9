import { describe, expect, it } from "vitest"
import type { LanguageCluster } from "../../../../src/api/languagecluster.ts"
import {
  clusterLabelOf,
  clusterRefIndex,
  clusterViewOf,
  decideMembership,
} from "../../../../src/controllers/common/cluster-membership.ts"

const cluster = (status?: LanguageCluster["status"], deleting = false): LanguageCluster => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageCluster",
  metadata: { name: "demo", ...(deleting ? { deletionTimestamp: "2025-11-01T00:00:00Z" } : {}) },
  spec: { namespace: "demo" },
  ...(status !== undefined ? { status } : {}),
})

describe("cluster membership (docs/concepts.md §2)", () => {
  it("no clusterRef: standalone, no label", () => {
    for (const ref of [undefined, ""]) {
      const m = decideMembership(ref, "demo", undefined)
      expect(m).toEqual({ _tag: "Standalone" })
      expect(clusterLabelOf(m)).toBeUndefined()
    }
  })

  it("member of a Ready cluster in the same namespace: label with the cluster name", () => {
    const m = decideMembership("demo", "demo", clusterViewOf(cluster({ phase: "Ready", namespace: "demo" })))
    expect(m).toEqual({ _tag: "Member", cluster: "demo" })
    expect(clusterLabelOf(m)).toBe("demo")
  })

  it.each([
    ["missing cluster", undefined, "ClusterNotFound", true],
    ["no status yet", clusterViewOf(cluster()), "ClusterNotReady", true],
    ["Pending", clusterViewOf(cluster({ phase: "Pending" })), "ClusterNotReady", true],
    ["Failed", clusterViewOf(cluster({ phase: "Failed", namespace: "demo" })), "ClusterNotReady", true],
    [
      "being deleted",
      clusterViewOf(cluster({ phase: "Ready", namespace: "demo" }, true)),
      "ClusterNotReady",
      true,
    ],
    [
      "other namespace",
      clusterViewOf(cluster({ phase: "Ready", namespace: "prod" })),
      "ClusterNamespaceMismatch",
      false,
    ],
  ] as const)("%s → %s (wait: %s)", (_what, view, reason, wait) => {
    const m = decideMembership("demo", "demo", view)
    expect(m).toMatchObject({ _tag: "Blocked", reason, wait })
    expect(m._tag === "Blocked" ? m.message : "").toContain('LanguageCluster "demo"')
    expect(clusterLabelOf(m)).toBeUndefined()
  })

  it("the mismatch message says where to go", () => {
    const m = decideMembership(
      "demo",
      "team-b",
      clusterViewOf(cluster({ phase: "Ready", namespace: "demo" })),
    )
    expect(m._tag === "Blocked" ? m.message : "").toContain('create it in "demo" or change spec.clusterRef')
  })

  it("indexes members by clusterRef", () => {
    expect(clusterRefIndex({ spec: { clusterRef: "demo" } })).toEqual(["demo"])
    expect(clusterRefIndex({ spec: {} })).toEqual([])
    expect(clusterRefIndex({ spec: { clusterRef: "" } })).toEqual([])
  })
})
