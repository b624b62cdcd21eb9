import { describe, expect, it } from "vitest"
import type { LanguageCluster } from "../../../../src/api/languagecluster.ts"
import type { Condition } from "../../../../src/api/shared.ts"
import {
  type ClusterInput,
  decide,
  decideCleanup,
  desiredNamespaceName,
  failureStatus,
  type LiveNamespace,
} from "../../../../src/controllers/languagecluster/decide.ts"

const NOW = "2025-11-01T10:00:00Z"
const EARLIER = "2025-10-01T10:00:00Z"

const cluster = (over: {
  name?: string
  namespace?: string
  status?: LanguageCluster["status"]
  finalizers?: ReadonlyArray<string>
  generation?: number
}): LanguageCluster => ({
  apiVersion: "langop.io/v1alpha1",
  kind: "LanguageCluster",
  metadata: {
    name: over.name ?? "team",
    uid: "uid-team",
    generation: over.generation ?? 1,
    finalizers: over.finalizers ?? ["langop.io/finalizer"],
  },
  ...(over.namespace !== undefined ? { spec: { namespace: over.namespace } } : { spec: {} }),
  ...(over.status !== undefined ? { status: over.status } : {}),
})

const ns = (
  name: string,
  over: Partial<LiveNamespace["metadata"]> & { phase?: string } = {},
): LiveNamespace => {
  const { phase, ...meta } = over
  return {
    metadata: { name, uid: `uid-${name}`, resourceVersion: "7", ...meta },
    ...(phase !== undefined ? { status: { phase } } : {}),
  }
}

const input = (c: LanguageCluster, namespaces: ReadonlyArray<LiveNamespace> = []): ClusterInput => ({
  cluster: c,
  namespaces: new Map(namespaces.map((n) => [n.metadata.name ?? "", n])),
  now: NOW,
})

const cond = (list: ReadonlyArray<Condition> | undefined, type: string) => list?.find((c) => c.type === type)

const created = (name: string, cluster = "team") =>
  ns(name, {
    labels: { "langop.io/cluster": cluster, "langop.io/managed": "true" },
    annotations: { "langop.io/created-by-cluster": "true" },
  })

describe("LanguageCluster decide: namespace provisioning", () => {
  it("computes <name>-ns when spec.namespace is empty", () => {
    expect(desiredNamespaceName(cluster({}))).toBe("team-ns")
    expect(desiredNamespaceName(cluster({ namespace: "prod" }))).toBe("prod")
  })

  it("creates an absent namespace with labels, annotation and a controller owner reference", () => {
    const d = decide(input(cluster({ namespace: "prod" })))
    expect(d.namespace).toEqual({
      _tag: "Create",
      object: {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "prod",
          labels: { "langop.io/cluster": "team", "langop.io/managed": "true" },
          annotations: { "langop.io/created-by-cluster": "true" },
          ownerReferences: [
            {
              apiVersion: "langop.io/v1alpha1",
              kind: "LanguageCluster",
              name: "team",
              uid: "uid-team",
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
      },
    })
    expect(d.status.phase).toBe("Ready")
    expect(d.status.namespace).toBe("prod")
    expect(cond(d.status.conditions, "Ready")).toMatchObject({ status: "True", reason: "ReconcileSuccess" })
    expect(cond(d.status.conditions, "NamespaceReady")).toMatchObject({
      status: "True",
      reason: "NamespaceCreated",
    })
    expect(cond(d.status.conditions, "Reconciled")).toMatchObject({
      status: "True",
      reason: "ReconcileSuccess",
    })
    expect(d.statusChanged).toBe(true)
    expect(d.events).toEqual([
      { type: "Normal", reason: "NamespaceCreated", note: 'Namespace "prod" created' },
    ])
    expect(d.waiting).toBe(false)
  })

  it("adds the finalizer when missing, and only then", () => {
    expect(decide(input(cluster({ finalizers: [] }))).addFinalizer).toBe(true)
    expect(decide(input(cluster({}))).addFinalizer).toBe(false)
  })

  it("adopts an existing namespace: adds only our label (resourceVersion-guarded), no annotation, no owner", () => {
    const d = decide(input(cluster({ namespace: "shared" }), [ns("shared", { labels: { team: "x" } })]))
    expect(d.namespace).toEqual({
      _tag: "Patch",
      name: "shared",
      ops: [
        { op: "test", path: "/metadata/resourceVersion", value: "7" },
        { op: "add", path: "/metadata/labels/langop.io~1cluster", value: "team" },
      ],
    })
    expect(cond(d.status.conditions, "NamespaceReady")).toMatchObject({
      status: "True",
      reason: "NamespaceAdopted",
    })
    expect(d.status.phase).toBe("Ready")
  })

  it("adopts an unlabelled namespace by adding the labels map", () => {
    const d = decide(input(cluster({ namespace: "bare" }), [ns("bare")]))
    expect(d.namespace._tag === "Patch" ? d.namespace.ops[1] : undefined).toEqual({
      op: "add",
      path: "/metadata/labels",
      value: { "langop.io/cluster": "team" },
    })
  })

  it("an adopted namespace that already carries our label needs no write", () => {
    const d = decide(
      input(cluster({ namespace: "shared" }), [ns("shared", { labels: { "langop.io/cluster": "team" } })]),
    )
    expect(d.namespace._tag).toBe("None")
    expect(cond(d.status.conditions, "NamespaceReady")?.reason).toBe("NamespaceAdopted")
  })

  it("a namespace it created earlier stays 'created', with no write", () => {
    const d = decide(input(cluster({}), [created("team-ns")]))
    expect(d.namespace._tag).toBe("None")
    expect(cond(d.status.conditions, "NamespaceReady")?.reason).toBe("NamespaceCreated")
  })

  it("waits (Pending, requeue) while the namespace is terminating", () => {
    for (const live of [ns("prod", { phase: "Terminating" }), ns("prod", { deletionTimestamp: EARLIER })]) {
      const d = decide(input(cluster({ namespace: "prod" }), [live]))
      expect(d.namespace._tag).toBe("None")
      expect(d.status.phase).toBe("Pending")
      expect(cond(d.status.conditions, "Ready")).toMatchObject({
        status: "False",
        reason: "NamespaceTerminating",
      })
      expect(cond(d.status.conditions, "NamespaceReady")).toMatchObject({
        status: "False",
        reason: "NamespaceTerminating",
      })
      expect(d.waiting).toBe(true)
    }
  })

  it("refuses a namespace labelled for another cluster and does not touch it", () => {
    const d = decide(input(cluster({ namespace: "prod" }), [created("prod", "other")]))
    expect(d.namespace._tag).toBe("None")
    expect(d.status.phase).toBe("Failed")
    expect(d.status.namespace).toBeUndefined()
    expect(cond(d.status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "NamespaceOwnedByOtherCluster",
    })
    expect(cond(d.status.conditions, "Ready")?.message).toContain('LanguageCluster "other"')
    expect(d.events).toEqual([
      expect.objectContaining({ type: "Warning", reason: "NamespaceOwnedByOtherCluster" }),
    ])
    expect(d.waiting).toBe(false)
  })

  it("rejects an invalid namespace name, also a too long computed <name>-ns", () => {
    const bad = decide(input(cluster({ namespace: "Bad_Name" })))
    expect(bad.namespace._tag).toBe("None")
    expect(bad.status.phase).toBe("Failed")
    expect(cond(bad.status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "InvalidNamespaceName",
    })
    const long = decide(input(cluster({ name: "x".repeat(61) })))
    expect(long.status.phase).toBe("Failed")
    expect(cond(long.status.conditions, "Ready")?.message).toContain("set spec.namespace")
  })

  it("keeps using the old namespace when spec.namespace changed after creation (NamespaceImmutable)", () => {
    const c = cluster({ namespace: "new", status: { phase: "Ready", namespace: "old" } })
    const d = decide(input(c, [created("old")]))
    expect(d.namespace._tag).toBe("None")
    expect(d.status).toMatchObject({ phase: "Failed", namespace: "old" })
    expect(cond(d.status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "NamespaceImmutable",
    })
  })

  it("is idempotent: feeding its own status back changes nothing and records no event", () => {
    const first = decide(input(cluster({ namespace: "prod" })))
    const again = decide({
      ...input(cluster({ namespace: "prod", status: first.status }), [created("prod")]),
      now: "2030-01-01T00:00:00Z",
    })
    expect(again.statusChanged).toBe(false)
    expect(again.status).toEqual(first.status)
    expect(again.events).toEqual([])
    expect(again.namespace._tag).toBe("None")
  })

  it("keeps lastTransitionTime unless a condition's status flips", () => {
    const pending = decide(input(cluster({ namespace: "prod" }), [ns("prod", { phase: "Terminating" })]))
    const stillPending = decide({
      ...input(cluster({ namespace: "prod", status: pending.status, generation: 2 }), [
        ns("prod", { phase: "Terminating" }),
      ]),
      now: "2030-01-01T00:00:00Z",
    })
    expect(cond(stillPending.status.conditions, "Ready")?.lastTransitionTime).toBe(NOW)
    expect(cond(stillPending.status.conditions, "Ready")?.observedGeneration).toBe(2)
    expect(pending.status.observedGeneration).toBe(1)
    expect(stillPending.status.observedGeneration).toBe(2)
    expect(stillPending.statusChanged).toBe(true)
    const ready = decide({
      ...input(cluster({ namespace: "prod", status: pending.status }), []),
      now: "2030-01-01T00:00:00Z",
    })
    expect(cond(ready.status.conditions, "Ready")?.lastTransitionTime).toBe("2030-01-01T00:00:00Z")
  })

  it("reports a failed namespace write as Pending/ReconcileError, keeping the reported namespace", () => {
    const out = failureStatus(input(cluster({ status: { phase: "Ready", namespace: "team-ns" } })), "boom")
    expect(out.status).toMatchObject({ phase: "Pending", namespace: "team-ns" })
    expect(cond(out.status.conditions, "Ready")).toMatchObject({
      status: "False",
      reason: "ReconcileError",
      message: "boom",
    })
    expect(cond(out.status.conditions, "Reconciled")).toMatchObject({
      status: "False",
      reason: "ReconcileError",
    })
    expect(out.statusChanged).toBe(true)
  })
})

describe("LanguageCluster decideCleanup: never deletes a namespace it did not create", () => {
  const deleting = (status: LanguageCluster["status"], finalizers = ["langop.io/finalizer"]) =>
    cluster({ namespace: "prod", status, finalizers })

  it("deletes a namespace it created (annotation AND label), with a uid precondition", () => {
    const d = decideCleanup(input(deleting({ phase: "Ready", namespace: "prod" }), [created("prod")]))
    expect(d).toEqual({ namespace: { _tag: "Delete", name: "prod", uid: "uid-prod" }, removeFinalizer: true })
  })

  it("only removes our label from an adopted namespace", () => {
    const adopted = ns("prod", { labels: { "langop.io/cluster": "team", keep: "me" } })
    const d = decideCleanup(input(deleting({ phase: "Ready", namespace: "prod" }), [adopted]))
    expect(d).toEqual({
      namespace: {
        _tag: "Patch",
        name: "prod",
        ops: [
          { op: "test", path: "/metadata/labels/langop.io~1cluster", value: "team" },
          { op: "remove", path: "/metadata/labels/langop.io~1cluster" },
        ],
      },
      removeFinalizer: true,
    })
  })

  it("leaves alone: the annotation without our label, another cluster's namespace, a missing namespace", () => {
    const annotatedOnly = ns("prod", { annotations: { "langop.io/created-by-cluster": "true" } })
    for (const live of [[annotatedOnly], [created("prod", "other")], []]) {
      const d = decideCleanup(input(deleting({ phase: "Ready", namespace: "prod" }), live))
      expect(d).toEqual({ namespace: { _tag: "None" }, removeFinalizer: true })
    }
  })

  it("does nothing to namespaces without status.namespace, and nothing at all without our finalizer", () => {
    expect(decideCleanup(input(deleting(undefined), [created("prod")]))).toEqual({
      namespace: { _tag: "None" },
      removeFinalizer: true,
    })
    expect(decideCleanup(input(deleting({ namespace: "prod" }, []), [created("prod")]))).toEqual({
      namespace: { _tag: "None" },
      removeFinalizer: false,
    })
  })

  it("does not delete again a namespace that is already terminating", () => {
    const terminating = { ...created("prod"), status: { phase: "Terminating" } }
    expect(decideCleanup(input(deleting({ namespace: "prod" }), [terminating])).namespace._tag).toBe("None")
  })
})
