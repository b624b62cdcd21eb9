/**
 * Gathers one LanguageCluster reconcile's input from the informer caches.
 *
 * Guarantees: reads the cluster and the (at most two) Namespaces it is concerned with — the desired one
 * and the one in `status.namespace` — from the caches; a live GET happens only on a cache miss, so a
 * Namespace created an instant ago is never mistaken for an absent one (and re-created).
 */
import { Clock, Effect, Result } from "effect"
import { LanguageCluster } from "../../api/languagecluster.ts"
import { KubeClient } from "../../kube/client.ts"
import { decodeObject } from "../../kube/decode.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import { clusterSource, namespaceSource } from "../../runtime/sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import { type ClusterInput, desiredNamespaceName, type LiveNamespace } from "./decide.ts"

/** Clusters by the namespace names they are concerned with (desired and reported). */
export const NAMESPACE_INDEX = "languagecluster/namespace"

const namespaceIndex = (cluster: LanguageCluster): ReadonlyArray<string> => {
  const names = [desiredNamespaceName(cluster)]
  const current = cluster.status?.namespace
  if (current !== undefined && current !== "") names.push(current)
  return names
}

export const clusters: InformerSource<LanguageCluster> = {
  ...clusterSource,
  indexers: { [NAMESPACE_INDEX]: namespaceIndex },
}

export type Gathered =
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Deleting"; readonly input: ClusterInput }
  | { readonly _tag: "Live"; readonly input: ClusterInput }

const decodeCluster = decodeObject(LanguageCluster)

export const gather = Effect.fn("languagecluster.gather")(function* (req: ReconcileRequest) {
  const informers = yield* Informers
  const kube = yield* KubeClient

  let cluster = informers.cache(clusters).getByName("", req.name)
  if (cluster === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguageCluster, { name: req.name }))
    if (raw === undefined) return { _tag: "Gone" } satisfies Gathered
    const decoded = decodeCluster(raw)
    if (Result.isFailure(decoded)) {
      yield* Effect.logWarning("LanguageCluster does not decode", { problems: decoded.failure })
      return { _tag: "Gone" } satisfies Gathered
    }
    cluster = decoded.success
  }

  const nsCache = informers.cache(namespaceSource)
  const wanted = new Set([desiredNamespaceName(cluster)])
  const current = cluster.status?.namespace
  if (current !== undefined && current !== "") wanted.add(current)
  const namespaces = new Map<string, LiveNamespace>()
  for (const name of wanted) {
    const live =
      nsCache.getByName("", name) ??
      // A name that is not a valid namespace name cannot exist; do not ask the API server about it.
      (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u.test(name) && name.length <= 63
        ? yield* orUndefinedOnNotFound(kube.get(Builtin.Namespace, { name }))
        : undefined)
    if (live !== undefined) namespaces.set(name, live as LiveNamespace)
  }

  const input: ClusterInput = { cluster, namespaces, now: rfc3339(yield* Clock.currentTimeMillis) }
  return (
    cluster.metadata.deletionTimestamp !== undefined ? { _tag: "Deleting", input } : { _tag: "Live", input }
  ) satisfies Gathered
})
