/**
 * The LanguageAgent controller (docs/languageagent.md): gather → decide → act.
 *
 * Triggers (docs/concepts.md §10):
 * - the agent itself, and every object it generates (owned: ConfigMap, PVC, Deployment, CronJob,
 *   Service, ServiceAccount, Role, RoleBinding, NetworkPolicy), so drift is repaired and workload status
 *   changes reach the agent's status;
 * - a referenced LanguageModel, LanguageTool, LanguageCluster or env Secret (memory store, env, envFrom),
 *   through cache indexes over the agent's references;
 * - a referenced LanguagePersona or any of its ancestors (a persona change maps to every persona that
 *   inherits from it, then to the agents referencing any of them);
 * - Jobs of its CronJob (execution counters) and its Pods (failure detection), by their common labels.
 *
 * Services: needs `KubeClient`, the runtime's `Informers` and `EventRecorder`, and the network's `Dns` and
 * `DnsMemory` (egress names); `AgentUsage` is optional (usage attribution).
 */
import { type Duration, Effect, Result } from "effect"
import type { LanguageModel } from "../../api/languagemodel.ts"
import type { LanguageTool } from "../../api/languagetool.ts"
import { LABEL_KIND, LABEL_NAME } from "../../domain/labels.ts"
import { type KubeObject, objectKey } from "../../kube/objects.ts"
import { egressSettingsFrom } from "../../network/settings.ts"
import { defineController, Reconciled, type ReconcileRequest, watches } from "../../runtime/controller.ts"
import type { InformersShape } from "../../runtime/informers.ts"
import {
  clusterSource,
  configMapSource,
  modelSource,
  secretSource,
  toolSource,
} from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { membersOfCluster } from "../common/cluster-membership.ts"
import { personas } from "../languagepersona/gather.ts"
import { referrersOfPersona } from "../languagepersona/index.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import { type AgentSettings, decide } from "./decide.ts"
import {
  agents,
  CHILD_SOURCES,
  CLUSTER_INDEX,
  CONFIGMAP_INDEX,
  gather,
  jobSource,
  MODEL_INDEX,
  PERSONA_INDEX,
  podSource,
  SECRET_INDEX,
  TOOL_INDEX,
} from "./gather.ts"

export const CONTROLLER_NAME = "languageagent"

export interface AgentControllerOptions extends ActOptions {
  readonly settings: AgentSettings
  readonly usageAttribution: boolean
}

const byIndex =
  (index: string) => (obj: KubeObject | LanguageModel | LanguageTool, informers: InformersShape) =>
    informers.cache(agents).keysByIndex(index, objectKey(obj as KubeObject))

/** The agents whose persona is `persona` or inherits from it. */
export const agentsOfPersona = referrersOfPersona(agents, PERSONA_INDEX)

/** The agent a Job or Pod belongs to, from the common labels its template carried. */
export const agentOfLabels = (obj: KubeObject): ReadonlyArray<string> => {
  const labels = obj.metadata.labels ?? {}
  const name = labels[LABEL_NAME]
  return labels[LABEL_KIND] === "LanguageAgent" && name !== undefined
    ? [`${obj.metadata.namespace ?? ""}/${name}`]
    : []
}

export const reconcileAgent = (req: ReconcileRequest, options: AgentControllerOptions) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req, {
      settings: options.settings,
      dnsRefresh: options.dnsRefresh,
      usageAttribution: options.usageAttribution,
    })
    switch (gathered._tag) {
      case "Gone":
        return Reconciled.done
      case "Deleting":
        return yield* cleanup(gathered.agent, options)
      case "Live":
        return yield* act(gathered.input.agent, decide(gathered.input), options)
    }
  })

export const languageAgentController = (options: AgentControllerOptions) =>
  defineController({
    name: CONTROLLER_NAME,
    for: agents,
    owns: Object.values(CHILD_SOURCES),
    watches: [
      watches(modelSource, byIndex(MODEL_INDEX)),
      watches(toolSource, byIndex(TOOL_INDEX)),
      watches(personas, agentsOfPersona),
      watches(clusterSource, membersOfCluster(agents, CLUSTER_INDEX)),
      watches(secretSource, byIndex(SECRET_INDEX)),
      watches(configMapSource, byIndex(CONFIGMAP_INDEX)),
      watches(jobSource, agentOfLabels),
      watches(podSource, agentOfLabels),
    ],
    reconcile: (req) => reconcileAgent(req, options),
  })

/** Controller options from the operator settings; fails naming the variable when one is malformed. */
export const agentControllerOptionsFromSettings = (
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
    | "otlpEndpoint"
    | "defaultWorkspaceFsGroup"
    | "usageAttribution"
    | "modelMetricsInterval"
  >,
): Result.Result<AgentControllerOptions, string> => {
  const fsGroup = s.defaultWorkspaceFsGroup
  if (fsGroup !== undefined && !/^[0-9]+$/u.test(fsGroup))
    return Result.fail(
      `LANGOP_DEFAULT_WORKSPACE_FSGROUP: ${JSON.stringify(fsGroup)} is not a non-negative integer`,
    )
  return Result.map(egressSettingsFrom(s), (egress) => ({
    fieldManager: s.fieldManager,
    dependencyWait: s.dependencyWaitRequeue as Duration.Input,
    dnsRefresh: s.dnsRefreshInterval as Duration.Input,
    usageAttribution: s.usageAttribution,
    usageRefresh: s.usageAttribution ? (s.modelMetricsInterval as Duration.Input) : undefined,
    ciliumFqdn: egress.ciliumFqdn,
    settings: {
      clusterDomain: egress.clusterDomain,
      egress,
      otlpEndpoint: s.otlpEndpoint,
      defaultFsGroup: fsGroup === undefined ? undefined : Number(fsGroup),
    },
  }))
}

/** The controller from the operator settings (needs `Dns` and `DnsMemory` besides the runtime services). */
export const languageAgentControllerFromSettings = (
  s: Parameters<typeof agentControllerOptionsFromSettings>[0],
) => Result.map(agentControllerOptionsFromSettings(s), languageAgentController)

export type { ActOptions } from "./act.ts"
