/**
 * The LanguageCluster controller (docs/languagecluster.md): gather → decide → act.
 *
 * Triggers: the cluster itself; any Namespace event that concerns a cluster — a namespace labelled
 * `langop.io/cluster: <name>` (created or adopted by it; so an externally deleted namespace is
 * recreated), or one whose name a cluster wants or reports (found through the cluster index, so a
 * pre-existing namespace that finishes terminating is picked up at once).
 */
import { Effect } from "effect"
import { LABEL_CLUSTER } from "../../domain/labels.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { defineController, Reconciled, type ReconcileRequest, watches } from "../../runtime/controller.ts"
import type { InformersShape } from "../../runtime/informers.ts"
import { namespaceSource } from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import { decide, decideCleanup } from "./decide.ts"
import { clusters, gather, NAMESPACE_INDEX } from "./gather.ts"

export const CONTROLLER_NAME = "languagecluster"

export const reconcileCluster = (req: ReconcileRequest, options: ActOptions) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req)
    switch (gathered._tag) {
      case "Gone":
        return Reconciled.done
      case "Deleting":
        return yield* cleanup(gathered.input, decideCleanup(gathered.input), options)
      case "Live":
        return yield* act(gathered.input, decide(gathered.input), options)
    }
  })

/** Clusters a Namespace event concerns (see the module header). */
export const clustersOfNamespace = (ns: KubeObject, informers: InformersShape): ReadonlyArray<string> => {
  const labelled = ns.metadata.labels?.[LABEL_CLUSTER]
  const byName = informers.cache(clusters).keysByIndex(NAMESPACE_INDEX, ns.metadata.name ?? "")
  return labelled === undefined || labelled === "" ? byName : [...new Set([labelled, ...byName])]
}

export const languageClusterController = (options: ActOptions) =>
  defineController({
    name: CONTROLLER_NAME,
    for: clusters,
    watches: [watches(namespaceSource, clustersOfNamespace)],
    reconcile: (req) => reconcileCluster(req, options),
  })

export const languageClusterControllerFromSettings = (
  settings: Pick<SettingsShape, "fieldManager" | "dependencyWaitRequeue">,
) =>
  languageClusterController({
    fieldManager: settings.fieldManager,
    dependencyWait: settings.dependencyWaitRequeue,
  })

export type { ActOptions } from "./act.ts"
