/**
 * Gathers one LanguageTool reconcile's input (decide.ts `ToolInput`).
 *
 * Guarantees: reads informer caches; a live GET only when a child the tool wants is not cached (the
 * child caches hold only operator-labelled objects, so a user's object with our name is found by that GET
 * and reported as a NameConflict instead of being overwritten). Egress: Services named by the policy are
 * read live (they are few and not otherwise watched) and names are resolved through the shared `Dns`
 * service and grace memory (src/network), repeating until the builder needs nothing more (bounded).
 * Assumption: the caches are synced (the controller runner waits for that before the first reconcile).
 */
import { Clock, type Duration, Effect, Result } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { LanguageTool } from "../../api/languagetool.ts"
import { LABEL_KIND, LABEL_NAME } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { decodeObject } from "../../kube/decode.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Langop } from "../../kube/resources.ts"
import { gatherEgressPolicy } from "../../network/gather.ts"
import type { EgressSettings } from "../../network/settings.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import {
  agentSource,
  clusterSource,
  configMapSource,
  managedConfigMapSource,
  managedDeploymentSource,
  managedHpaSource,
  managedNetworkPolicySource,
  managedPdbSource,
  managedPodSource,
  managedServiceSource,
  secretSource,
  toolSource,
} from "../../runtime/sources.ts"
import { clusterRefIndex, clusterViewOf } from "../common/cluster-membership.ts"
import { envIndex, envReferences, envSourceVersions } from "../common/env-sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import { endpointOf, KIND } from "./children.ts"
import { type LiveChildren, ROLE_RESOURCE, type Role, type ToolInput, wantedRoles } from "./decide.ts"
import {
  type DiscoveryMemory,
  type DiscoveryOptions,
  discoverTools,
  discoveryApplies,
  readySignature,
} from "./discovery.ts"
import { validate } from "./validate.ts"
import type { DeploymentView, PodView } from "./workload.ts"

// ---------------------------------------------------------------------------------------------------------
// Sources with this controller's indexes

export const CLUSTER_INDEX = "languagetool/clusterRef"
/** Tools by `ns/name` of the Secrets / ConfigMaps their env reads. */
export const SECRET_INDEX = "languagetool/envSecret"
export const CONFIGMAP_INDEX = "languagetool/envConfigMap"
/** Agents by the `ns/name` of every tool in their `toolRefs` (namespace defaulted to the agent's). */
export const TOOL_REF_INDEX = "languagetool/toolRefs"

export const tools: InformerSource<LanguageTool> = {
  ...toolSource,
  indexers: {
    [CLUSTER_INDEX]: clusterRefIndex,
    [SECRET_INDEX]: envIndex("secrets"),
    [CONFIGMAP_INDEX]: envIndex("configMaps"),
  },
}

/** `ns/name` of each tool an agent references (enabled or not). */
export const toolRefKeys = (agent: LanguageAgent): ReadonlyArray<string> =>
  (agent.spec.toolRefs ?? []).map((ref) => {
    const ns =
      ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : (agent.metadata.namespace ?? "")
    return `${ns}/${ref.name}`
  })

export const agents: InformerSource<LanguageAgent> = {
  ...agentSource,
  indexers: { [TOOL_REF_INDEX]: toolRefKeys },
}

const CHILD_SOURCES: Readonly<Record<Role, InformerSource<KubeObject>>> = {
  configMap: managedConfigMapSource,
  deployment: managedDeploymentSource,
  service: managedServiceSource,
  pdb: managedPdbSource,
  hpa: managedHpaSource,
  networkPolicy: managedNetworkPolicySource,
}

export const childSources: ReadonlyArray<InformerSource<KubeObject>> = Object.values(CHILD_SOURCES)

// ---------------------------------------------------------------------------------------------------------

export interface GatherOptions {
  readonly egress: EgressSettings
  /** Grace period of DNS answers (= the DNS refresh interval). */
  readonly dnsRefresh: Duration.Input
  readonly clusterDomain: string
  /** MCP tool discovery (off unless enabled) and the controller's memory of past discoveries. */
  readonly discovery?: { readonly options: DiscoveryOptions; readonly memory: DiscoveryMemory } | undefined
}

export type Gathered =
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Deleting"; readonly tool: LanguageTool }
  | { readonly _tag: "Live"; readonly input: ToolInput }

const decodeTool = decodeObject(LanguageTool)

/** The egress policy of a service-mode tool, with every Service and name it mentions looked up. */
export const gatherEgress = (tool: LanguageTool, options: GatherOptions) =>
  gatherEgressPolicy(
    {
      kind: "LanguageTool" as const,
      name: tool.metadata.name ?? "",
      namespace: tool.metadata.namespace ?? "",
      egress: tool.spec.egress ?? [],
    },
    options.egress,
    options.dnsRefresh,
  )

export const gather = Effect.fn("languagetool.gather")(function* (
  req: ReconcileRequest,
  options: GatherOptions,
) {
  const informers = yield* Informers
  const kube = yield* KubeClient

  let tool = informers.cache(tools).getByName(req.namespace, req.name)
  if (tool === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguageTool, req))
    if (raw === undefined) return { _tag: "Gone" } satisfies Gathered
    const decoded = decodeTool(raw)
    if (Result.isFailure(decoded)) {
      yield* Effect.logWarning("LanguageTool does not decode", { problems: decoded.failure })
      return { _tag: "Gone" } satisfies Gathered
    }
    tool = decoded.success
  }
  if (tool.metadata.deletionTimestamp !== undefined) return { _tag: "Deleting", tool } satisfies Gathered

  const wanted = new Set(wantedRoles(tool))
  const live: Partial<Record<Role, KubeObject>> = {}
  for (const [role, source] of Object.entries(CHILD_SOURCES) as ReadonlyArray<
    [Role, InformerSource<KubeObject>]
  >) {
    const name = role === "configMap" ? `${req.name}-tool` : req.name
    const cached = informers.cache(source).getByName(req.namespace, name)
    const found =
      cached ??
      (wanted.has(role)
        ? yield* orUndefinedOnNotFound(kube.get(ROLE_RESOURCE[role], { namespace: req.namespace, name }))
        : undefined)
    if (found !== undefined) live[role] = found
  }

  const pods: ReadonlyArray<PodView> = informers
    .cache(managedPodSource)
    .list(req.namespace)
    .filter((p) => p.metadata.labels?.[LABEL_KIND] === KIND && p.metadata.labels[LABEL_NAME] === req.name)

  const embeddingAgents = informers
    .cache(agents)
    .byIndex(TOOL_REF_INDEX, `${req.namespace}/${req.name}`)
    .filter(
      (a) =>
        a.metadata.namespace === req.namespace &&
        a.metadata.deletionTimestamp === undefined &&
        (a.spec.toolRefs ?? []).some(
          (r) =>
            r.name === req.name &&
            r.enabled &&
            (r.namespace === undefined || r.namespace === "" || r.namespace === req.namespace),
        ),
    )
    .map((a) => a.metadata.name ?? "")
    .sort()

  const envSources = envSourceVersions(envReferences(tool), req.namespace, {
    configMaps: informers.cache(configMapSource),
    secrets: informers.cache(secretSource),
  })

  const clusterRef = tool.spec.clusterRef
  const clusterObj =
    clusterRef === undefined || clusterRef === ""
      ? undefined
      : informers.cache(clusterSource).getByName("", clusterRef)
  // An invalid tool gets no children, so its policy is not worth resolving.
  const egress =
    tool.spec.deploymentMode === "service" && validate(tool) === undefined
      ? yield* gatherEgress(tool, options)
      : undefined

  const deployment = live.deployment as DeploymentView | undefined
  const discovery =
    options.discovery?.options.enabled === true && discoveryApplies(tool, deployment)
      ? {
          tools: yield* discoverTools(
            options.discovery.memory,
            req.key,
            tool,
            endpointOf(tool, options.clusterDomain),
            readySignature(deployment, pods),
            options.discovery.options,
          ),
        }
      : undefined

  const input: ToolInput = {
    tool,
    cluster: clusterObj === undefined ? undefined : clusterViewOf(clusterObj),
    live: live as LiveChildren,
    pods,
    embeddingAgents,
    envSources,
    egress,
    clusterDomain: options.clusterDomain,
    discovery,
    now: rfc3339(yield* Clock.currentTimeMillis),
  }
  return { _tag: "Live", input } satisfies Gathered
})
