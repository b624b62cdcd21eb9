/**
 * Membership of a namespaced resource in a LanguageCluster (`spec.clusterRef`, spec docs/concepts.md §2, docs/concepts.md X-2).
 *
 * `clusterRef` is a membership check, not a relocation: the named cluster must exist, be `Ready`, and
 * report the resource's own namespace in `status.namespace`. Until it is Ready the resource waits
 * (requeue after the dependency-wait setting; the cluster watch usually triggers earlier); on a namespace
 * mismatch it is refused and creates nothing (no requeue: a cluster change triggers a reconcile).
 *
 * Used by the agent, tool and client reconcilers (LanguageModel has no `clusterRef`). Pure apart from the
 * index function and the watch helper at the bottom, which only wire the runtime.
 */
import type { LanguageCluster } from "../../api/languagecluster.ts"
import type { ObjectRef } from "../../kube/objects.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import type { InformersShape } from "../../runtime/informers.ts"

/** The parts of a LanguageCluster a member looks at. */
export interface ClusterView {
  readonly name: string
  readonly phase?: string | undefined
  readonly namespace?: string | undefined
  readonly deleting?: boolean | undefined
}

export const clusterViewOf = (cluster: LanguageCluster): ClusterView => ({
  name: cluster.metadata.name ?? "",
  phase: cluster.status?.phase,
  namespace: cluster.status?.namespace,
  deleting: cluster.metadata.deletionTimestamp !== undefined,
})

export type MembershipReason = "ClusterNotFound" | "ClusterNotReady" | "ClusterNamespaceMismatch"

export type Membership =
  /** No `clusterRef`: nothing to check, no cluster label. */
  | { readonly _tag: "Standalone" }
  /** Member of a Ready cluster in the right namespace: label generated objects `langop.io/cluster`. */
  | { readonly _tag: "Member"; readonly cluster: string }
  /**
   * Not allowed to create anything. `wait`: the cause may go away by itself (cluster missing or not
   * Ready yet), so requeue after the dependency wait; otherwise (mismatch) wait for a spec change.
   */
  | {
      readonly _tag: "Blocked"
      readonly reason: MembershipReason
      readonly message: string
      readonly wait: boolean
    }

/**
 * Decides membership of a resource in `namespace` whose `spec.clusterRef` is `clusterRef`, given the
 * cluster as found in the cache (undefined = not found).
 */
export const decideMembership = (
  clusterRef: string | undefined,
  namespace: string,
  cluster: ClusterView | undefined,
): Membership => {
  if (clusterRef === undefined || clusterRef === "") return { _tag: "Standalone" }
  if (cluster === undefined)
    return {
      _tag: "Blocked",
      reason: "ClusterNotFound",
      message: `LanguageCluster "${clusterRef}" does not exist; waiting for it to be created (or remove spec.clusterRef)`,
      wait: true,
    }
  if (cluster.deleting === true)
    return {
      _tag: "Blocked",
      reason: "ClusterNotReady",
      message: `LanguageCluster "${clusterRef}" is being deleted`,
      wait: true,
    }
  if (cluster.phase !== "Ready")
    return {
      _tag: "Blocked",
      reason: "ClusterNotReady",
      message: `LanguageCluster "${clusterRef}" is not Ready (phase ${cluster.phase ?? "unset"}); waiting for it`,
      wait: true,
    }
  if (cluster.namespace !== namespace)
    return {
      _tag: "Blocked",
      reason: "ClusterNamespaceMismatch",
      message: `LanguageCluster "${clusterRef}" provides namespace "${cluster.namespace ?? ""}", but this resource is in namespace "${namespace}"; create it in "${cluster.namespace ?? ""}" or change spec.clusterRef`,
      wait: false,
    }
  return { _tag: "Member", cluster: clusterRef }
}

/** The cluster label value to put on generated objects (undefined unless a member). */
export const clusterLabelOf = (m: Membership): string | undefined =>
  m._tag === "Member" ? m.cluster : undefined

// ---------------------------------------------------------------------------------------------------------
// Wiring helpers (no decisions)

interface ClusterRefHolder {
  readonly spec: { readonly clusterRef?: string | undefined }
}

/** Index function: a member resource filed under its `spec.clusterRef` (for cluster → members maps). */
export const clusterRefIndex = (obj: ClusterRefHolder): ReadonlyArray<string> => {
  const ref = obj.spec.clusterRef
  return ref === undefined || ref === "" ? [] : [ref]
}

/**
 * Map function for `watches(clusterSource, …)`: the members of a cluster, read through the index
 * `indexName` (registered with {@link clusterRefIndex}) on `members`.
 */
export const membersOfCluster =
  <T>(members: InformerSource<T>, indexName: string) =>
  (cluster: LanguageCluster, informers: InformersShape): ReadonlyArray<ObjectRef | string> =>
    informers.cache(members).keysByIndex(indexName, cluster.metadata.name ?? "")
