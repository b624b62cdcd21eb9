/**
 * The LanguageTool controller (docs/languagetool.md): gather → decide → act.
 *
 * Triggers: the tool itself; its generated children (ConfigMap, Deployment, Service, PDB, HPA,
 * NetworkPolicy — owned, so drift is repaired and Deployment status changes update the tool's status);
 * its Pods (failure detection); a LanguageAgent whose old or new `toolRefs` name it (sidecar embed count,
 * docs/concepts.md §10); its LanguageCluster (membership); a Secret or ConfigMap its env reads (config hash).
 */
import { Effect, Result } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { keyOf } from "../../kube/objects.ts"
import type { EgressSettings } from "../../network/settings.ts"
import { egressSettingsFrom } from "../../network/settings.ts"
import {
  defineController,
  type EventPredicate,
  Predicates,
  Reconciled,
  type ReconcileRequest,
  watches,
} from "../../runtime/controller.ts"
import {
  clusterSource,
  configMapSource,
  managedPodSource,
  podOwnerOf,
  secretSource,
} from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { membersOfCluster } from "../common/cluster-membership.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import { KIND } from "./children.ts"
import { decide } from "./decide.ts"
import { type DiscoveryMemory, type DiscoveryOptions, makeDiscoveryMemory } from "./discovery.ts"
import {
  agents,
  CLUSTER_INDEX,
  CONFIGMAP_INDEX,
  childSources,
  gather,
  SECRET_INDEX,
  toolRefKeys,
  tools,
} from "./gather.ts"

export const CONTROLLER_NAME = "languagetool"

export interface ToolControllerOptions extends ActOptions {
  readonly clusterDomain: string
  readonly egress: EgressSettings
  /** MCP tool discovery into status.availableTools (docs/languagetool.md §Discovery); off when absent. */
  readonly discovery?: DiscoveryOptions | undefined
}

export const reconcileTool = (
  req: ReconcileRequest,
  options: ToolControllerOptions,
  memory: DiscoveryMemory,
) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req, {
      egress: options.egress,
      dnsRefresh: options.dnsRefresh,
      clusterDomain: options.clusterDomain,
      discovery: options.discovery === undefined ? undefined : { options: options.discovery, memory },
    })
    switch (gathered._tag) {
      case "Gone":
        memory.delete(req.key)
        return Reconciled.done
      case "Deleting":
        memory.delete(req.key)
        return yield* cleanup(gathered.tool, options.fieldManager)
      case "Live":
        return yield* act(gathered.input, decide(gathered.input), options)
    }
  })

/** A Pod of a tool's Deployment → that tool. */
export const toolOfPod = podOwnerOf(KIND)

/** Agents matter only when their references may have changed (spec) or they appear/disappear. */
const agentSpecChanged: EventPredicate<LanguageAgent> = Predicates.generationChanged

export const languageToolController = (options: ToolControllerOptions) => {
  const memory = makeDiscoveryMemory()
  return defineController({
    name: CONTROLLER_NAME,
    for: tools,
    owns: childSources,
    watches: [
      watches(managedPodSource, toolOfPod),
      watches(agents, toolRefKeys, agentSpecChanged),
      watches(clusterSource, membersOfCluster(tools, CLUSTER_INDEX)),
      watches(secretSource, (s, informers) =>
        informers
          .cache(tools)
          .keysByIndex(
            SECRET_INDEX,
            keyOf({ namespace: s.metadata.namespace ?? "", name: s.metadata.name ?? "" }),
          ),
      ),
      watches(configMapSource, (c, informers) =>
        informers
          .cache(tools)
          .keysByIndex(
            CONFIGMAP_INDEX,
            keyOf({ namespace: c.metadata.namespace ?? "", name: c.metadata.name ?? "" }),
          ),
      ),
    ],
    reconcile: (req) => reconcileTool(req, options, memory),
  })
}

/** Options from the operator settings; fails on malformed DNS-peer settings (named variable). */
export const toolControllerOptionsFromSettings = (
  s: Pick<
    SettingsShape,
    | "fieldManager"
    | "dependencyWaitRequeue"
    | "dnsRefreshInterval"
    | "clusterDomain"
    | "dnsNamespace"
    | "dnsPodLabels"
    | "dnsCidrs"
    | "dnsPorts"
    | "ciliumFqdnPolicies"
    | "mcpToolDiscovery"
  >,
): Result.Result<ToolControllerOptions, string> =>
  Result.map(egressSettingsFrom(s), (egress) => ({
    fieldManager: s.fieldManager,
    dependencyWait: s.dependencyWaitRequeue,
    dnsRefresh: s.dnsRefreshInterval,
    clusterDomain: egress.clusterDomain,
    egress,
    ciliumFqdn: egress.ciliumFqdn,
    discovery: { enabled: s.mcpToolDiscovery },
  }))

export type { ActOptions } from "./act.ts"
