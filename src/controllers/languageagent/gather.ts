/**
 * Gathers one LanguageAgent reconcile's input (decide.ts `AgentInput`).
 *
 * Guarantees: reads informer caches; a live GET only when the agent or a child it wants is not cached (the
 * child caches hold only operator-labelled objects, so a same-named object of someone else is found by
 * that GET and reported as NameConflict instead of being overwritten). Models, tools, personas (and their
 * ancestors), the cluster and Secrets come from caches, never from status copies. Egress: Services named by
 * the policy are read live and names resolved through the shared `Dns` service and grace memory, repeating
 * until the builder needs nothing more (bounded). Usage samples come from `AgentUsage` (none by default).
 * Assumption: the caches are synced (the controller runner waits for that before the first reconcile).
 */
import { Clock, type Duration, Effect, Result } from "effect"
import type { LanguageAgent } from "../../api/languageagent.ts"
import { LABEL_NAME } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import type { KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, Langop, type ResourceDescriptor } from "../../kube/resources.ts"
import { gatherEgressWorld } from "../../network/gather.ts"
import { emptyWorld } from "../../network/peers.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import {
  agentSource,
  clusterSource,
  configMapSource,
  managedConfigMapSource,
  managedDeploymentSource,
  managedNetworkPolicySource,
  managedPodSource,
  managedServiceSource,
  managedSource,
  modelSource,
  secretSource,
  toolSource,
} from "../../runtime/sources.ts"
import { clusterRefIndex, clusterViewOf } from "../common/cluster-membership.ts"
import { envIndex, envReferences } from "../common/env-sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import { personas } from "../languagepersona/gather.ts"
import type { AgentInput, AgentSettings } from "./decide.ts"
import { type Lookups, resolveDependencies } from "./dependencies.ts"
import { configMapName, eventsRbacName, workloadName, workspaceClaimName } from "./names.ts"
import type { LiveJob, LivePod } from "./observe.ts"
import { agentEgressRequest, type LiveChildren } from "./plan.ts"
import { needsEventRbac, needsServiceAccount } from "./support.ts"
import { AgentUsage } from "./usage.ts"
import { needsService, workspaceEnabled } from "./validate.ts"

// ---------------------------------------------------------------------------------------------------------
// Sources with this controller's indexes (index names are unique across controllers)

export const MODEL_INDEX = "languageagent/modelRefs"
export const TOOL_INDEX = "languageagent/toolRefs"
export const PERSONA_INDEX = "languageagent/personaRef"
export const CLUSTER_INDEX = "languageagent/clusterRef"
export const SECRET_INDEX = "languageagent/secrets"
export const CONFIGMAP_INDEX = "languageagent/configmaps"

const refKey = (
  agent: LanguageAgent,
  ref: { readonly name: string; readonly namespace?: string | undefined },
) =>
  `${ref.namespace !== undefined && ref.namespace !== "" ? ref.namespace : (agent.metadata.namespace ?? "")}/${ref.name}`

/** Secrets the agent container reads through env (memory store URL, user env and envFrom). */
export const envSecretNames = (agent: LanguageAgent): ReadonlyArray<string> => {
  const store = agent.spec.memoryStore
  const names = [
    ...(store !== undefined && store.type !== "ephemeral" && store.connectionSecretRef !== undefined
      ? [store.connectionSecretRef.name]
      : []),
    ...(agent.spec.env ?? []).flatMap((e) => {
      const name = e.valueFrom?.secretKeyRef?.name
      return name === undefined || name === "" ? [] : [name]
    }),
    ...(agent.spec.envFrom ?? []).flatMap((e) => {
      const name = e.secretRef?.name
      return name === undefined || name === "" ? [] : [name]
    }),
  ]
  return [...new Set(names)].sort()
}

export const agents: InformerSource<LanguageAgent> = {
  ...agentSource,
  indexers: {
    [MODEL_INDEX]: (a) => a.spec.modelRefs.map((r) => refKey(a, r)),
    [TOOL_INDEX]: (a) => (a.spec.toolRefs ?? []).map((r) => refKey(a, r)),
    [PERSONA_INDEX]: (a) => (a.spec.personaRef === undefined ? [] : [refKey(a, a.spec.personaRef)]),
    [CLUSTER_INDEX]: clusterRefIndex,
    [SECRET_INDEX]: (a) => envSecretNames(a).map((n) => `${a.metadata.namespace ?? ""}/${n}`),
    [CONFIGMAP_INDEX]: envIndex("configMaps"),
  },
}

export const CHILD_SOURCES = {
  configMap: managedConfigMapSource,
  claim: managedSource(Builtin.PersistentVolumeClaim),
  deployment: managedDeploymentSource,
  cronJob: managedSource(Builtin.CronJob),
  service: managedServiceSource,
  serviceAccount: managedSource(Builtin.ServiceAccount),
  role: managedSource(Builtin.Role),
  roleBinding: managedSource(Builtin.RoleBinding),
  networkPolicy: managedNetworkPolicySource,
} as const satisfies Record<keyof LiveChildren, InformerSource<KubeObject>>

/** Jobs created from our CronJobs carry the job template's common labels. */
export const jobSource = managedSource(Builtin.Job)
export const podSource = managedPodSource

// ---------------------------------------------------------------------------------------------------------

export interface GatherOptions {
  readonly settings: AgentSettings
  /** Grace period of DNS answers (= the DNS refresh interval). */
  readonly dnsRefresh: Duration.Input
  /** Operator setting LANGOP_USAGE_ATTRIBUTION (docs/languageagent.md AG-12). */
  readonly usageAttribution: boolean
}

export type Gathered =
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Deleting"; readonly agent: LanguageAgent }
  | { readonly _tag: "Live"; readonly input: AgentInput }

export const gather = Effect.fn("languageagent.gather")(function* (
  req: ReconcileRequest,
  options: GatherOptions,
) {
  const informers = yield* Informers
  const kube = yield* KubeClient
  const { namespace, name } = req

  let agent = informers.cache(agents).getByName(namespace, name)
  if (agent === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguageAgent, req))
    const decoded =
      raw === undefined || agentSource.decode === undefined ? undefined : agentSource.decode(raw)
    // An undecodable agent gets an InvalidObject Warning Event from the informer; nothing to reconcile.
    if (decoded === undefined || Result.isFailure(decoded)) return { _tag: "Gone" } satisfies Gathered
    agent = decoded.success
  }
  if (agent.metadata.deletionTimestamp !== undefined) return { _tag: "Deleting", agent } satisfies Gathered

  const clusterRef = agent.spec.clusterRef
  const clusterObject =
    clusterRef === undefined || clusterRef === ""
      ? undefined
      : informers.cache(clusterSource).getByName("", clusterRef)
  const secrets = informers.cache(secretSource)
  const lookups: Lookups = {
    model: (ns, n) => informers.cache(modelSource).getByName(ns, n),
    tool: (ns, n) => informers.cache(toolSource).getByName(ns, n),
    persona: (ns, n) => informers.cache(personas).getByName(ns, n),
    secretKeys: (n) => {
      const secret = secrets.getByName(namespace, n) as
        | (KubeObject & { data?: Record<string, string> })
        | undefined
      return secret === undefined ? undefined : Object.keys(secret.data ?? {})
    },
  }
  const secretVersions = Object.fromEntries(
    envSecretNames(agent).flatMap((n) => {
      const rv = secrets.getByName(namespace, n)?.metadata.resourceVersion
      return rv === undefined ? [] : [[n, rv] as const]
    }),
  )

  const configMaps = informers.cache(configMapSource)
  const configMapVersions = Object.fromEntries(
    envReferences(agent).configMaps.map(
      (n) => [n, configMaps.getByName(namespace, n)?.metadata.resourceVersion ?? "missing"] as const,
    ),
  )

  const scheduled = agent.spec.executionMode === "scheduled"
  const wanted: Readonly<Record<keyof LiveChildren, readonly [string, boolean]>> = {
    configMap: [configMapName(name), true],
    claim: [workspaceClaimName(name), workspaceEnabled(agent)],
    deployment: [workloadName(name), !scheduled],
    cronJob: [workloadName(name), scheduled],
    service: [workloadName(name), needsService(agent)],
    serviceAccount: [workloadName(name), needsServiceAccount(agent)],
    role: [eventsRbacName(name), needsEventRbac(agent)],
    roleBinding: [eventsRbacName(name), needsEventRbac(agent)],
    networkPolicy: [workloadName(name), true],
  }
  /** The child (undefined: absent) and, for the workload only, why it could not be read. */
  const readChild = (
    key: keyof LiveChildren,
  ): Effect.Effect<readonly [KubeObject | undefined, string | undefined], KubeError> => {
    const [childName, want] = wanted[key]
    const source: InformerSource<KubeObject> = CHILD_SOURCES[key]
    const cached = informers.cache(source).getByName(namespace, childName)
    if (cached !== undefined || !want) return Effect.succeed([cached, undefined])
    const resource: ResourceDescriptor = source.resource
    const read = Effect.map(
      orUndefinedOnNotFound(kube.get(resource, { namespace, name: childName })),
      (o) => [o, undefined] as const,
    )
    // The workload's state is what the phase reports: a failed read becomes phase Unknown (decide.ts)
    // instead of a reconcile error that leaves a stale phase behind. Other children stay fatal.
    return key === "deployment" || key === "cronJob"
      ? Effect.catch(read, (error) =>
          Effect.succeed([
            undefined,
            `cannot read ${resource.kind} "${childName}": ${error.message}`,
          ] as const),
        )
      : read
  }
  const keys = Object.keys(wanted) as ReadonlyArray<keyof LiveChildren>
  const liveEntries = yield* Effect.forEach(keys, (k) => Effect.map(readChild(k), (r) => [k, r] as const))
  const live = Object.fromEntries(liveEntries.map(([k, [o]]) => [k, o])) as LiveChildren
  const workloadUnreadable = liveEntries.map(([, [, problem]]) => problem).find((p) => p !== undefined)

  const cronJobUid = live.cronJob?.metadata.uid
  const jobs = informers
    .cache(jobSource)
    .list(namespace)
    .filter((j) => cronJobUid !== undefined && j.metadata.ownerReferences?.some((r) => r.uid === cronJobUid))
  const pods = informers
    .cache(podSource)
    .list(namespace)
    .filter(
      (p) =>
        p.metadata.labels?.[LABEL_NAME] === name && p.metadata.labels?.["langop.io/kind"] === "LanguageAgent",
    )

  const resolution = resolveDependencies(agent, lookups, options.settings.clusterDomain)
  const deps = resolution.dependencies
  const world = deps.ok
    ? yield* gatherEgressWorld(
        agentEgressRequest(agent, deps, options.settings.otlpEndpoint),
        options.settings.egress,
        options.dnsRefresh,
      )
    : emptyWorld
  const usage =
    options.usageAttribution && deps.ok
      ? yield* (yield* AgentUsage).samples(
          { namespace, name },
          deps.models.map((m) => ({ namespace: m.namespace, name: m.name })),
        )
      : []

  const input: AgentInput = {
    agent,
    cluster: clusterObject === undefined ? undefined : clusterViewOf(clusterObject),
    lookups,
    secretVersions,
    configMapVersions,
    live,
    jobs: jobs as unknown as ReadonlyArray<LiveJob>,
    pods: pods as unknown as ReadonlyArray<LivePod>,
    world,
    workloadUnreadable,
    usageAttribution: options.usageAttribution && deps.ok,
    usage,
    settings: options.settings,
    now: rfc3339(yield* Clock.currentTimeMillis),
  }
  return { _tag: "Live", input } satisfies Gathered
})
