/**
 * Gathers one LanguageModel reconcile's input (input.ts `ModelInput`) and, once decide has rendered the
 * configuration, the model proxy's egress policy (docs/languagemodel.md §Egress, docs/concepts.md §9).
 *
 * Guarantees: reads informer caches; a live GET only when a child is not cached (the child caches hold
 * only operator-labelled objects, so a user's object with our name is found by that GET and reported as a
 * NameConflict instead of being overwritten). Secrets are read for existence, key names and
 * resourceVersion only — their values never leave this module (not logged, not copied). Egress: Services
 * named by the policy are read live and names resolve through the shared `Dns` service and grace memory
 * (src/network), repeating until the builder needs nothing more (bounded).
 * Assumption: the caches are synced (the controller runner waits for that before the first reconcile).
 */
import { Clock, type Duration, Effect, Result } from "effect"
import { LanguageModel } from "../../api/languagemodel.ts"
import { LABEL_KIND, LABEL_NAME } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { decodeObject } from "../../kube/decode.ts"
import { type KubeObject, keyOf } from "../../kube/objects.ts"
import { Builtin, Langop, type ResourceDescriptor } from "../../kube/resources.ts"
import { modelEgressHosts } from "../../network/automatic.ts"
import { gatherEgressPolicy } from "../../network/gather.ts"
import type { EgressRequest } from "../../network/policy.ts"
import type { EgressSettings } from "../../network/settings.ts"
import type { ReconcileRequest } from "../../runtime/controller.ts"
import type { InformerSource } from "../../runtime/informer.ts"
import { Informers } from "../../runtime/informers.ts"
import {
  managedConfigMapSource,
  managedDeploymentSource,
  managedNetworkPolicySource,
  managedPodSource,
  managedServiceSource,
  modelSource,
  secretSource,
} from "../../runtime/sources.ts"
import { orUndefinedOnNotFound, rfc3339 } from "../common/io.ts"
import type { ModelInput, ModelPeer, ModelSettings, SecretView } from "./input.ts"
import type { RenderedConfig } from "./litellm.ts"
import { type ProbeOptions, probeModel } from "./probe.ts"
import type { DeploymentView, PodProblem } from "./status.ts"
import { configMapName, KIND } from "./workload.ts"

// ---------------------------------------------------------------------------------------------------------
// Sources with this controller's indexes

/** Models by `ns/name` of the Secrets they read (API key; shared-Redis password when configured). */
export const SECRET_INDEX = "languagemodel/secrets"
/** Models that have fallbacks, by namespace (a change of any model there may change their resolution). */
export const FALLBACK_INDEX = "languagemodel/hasFallbacks"

/** Secret names a model reads in its namespace; `redisSecret` is the shared-Redis password Secret setting. */
export const secretKeysOf =
  (redisSecret: string | undefined) =>
  (m: LanguageModel): ReadonlyArray<string> => {
    const ns = m.metadata.namespace ?? ""
    const ref = m.spec.apiKeySecretRef
    return [
      ...(ref !== undefined ? [`${ns}/${ref.name}`] : []),
      ...(redisSecret !== undefined && m.spec.caching?.enabled === true && m.spec.caching.backend === "redis"
        ? [`${ns}/${redisSecret}`]
        : []),
    ]
  }

const fallbackIndex = (m: LanguageModel): ReadonlyArray<string> =>
  (m.spec.fallbacks ?? []).length > 0 ? [m.metadata.namespace ?? ""] : []

/** The model source with this controller's indexes (the decoder is modelSource's, as sources.ts requires). */
export const modelsSource = (redisSecret: string | undefined): InformerSource<LanguageModel> => ({
  ...modelSource,
  indexers: { [SECRET_INDEX]: secretKeysOf(redisSecret), [FALLBACK_INDEX]: fallbackIndex },
})

export type Role = "configMap" | "deployment" | "service" | "networkPolicy"

export const ROLE_RESOURCE: Readonly<Record<Role, ResourceDescriptor>> = {
  configMap: Builtin.ConfigMap,
  deployment: Builtin.Deployment,
  service: Builtin.Service,
  networkPolicy: Builtin.NetworkPolicy,
}

const CHILD_SOURCES: Readonly<Record<Role, InformerSource<KubeObject>>> = {
  configMap: managedConfigMapSource,
  deployment: managedDeploymentSource,
  service: managedServiceSource,
  networkPolicy: managedNetworkPolicySource,
}

export const childSources: ReadonlyArray<InformerSource<KubeObject>> = Object.values(CHILD_SOURCES)

export const childName = (model: string, role: Role): string =>
  role === "configMap" ? configMapName(model) : model

// ---------------------------------------------------------------------------------------------------------

export interface GatherOptions {
  readonly settings: ModelSettings
  readonly egress: EgressSettings
  /** Grace period of DNS answers (= the DNS refresh interval). */
  readonly dnsRefresh: Duration.Input
  /** Metrics scrape / health poll of the proxy (probe.ts) when the settings enable them; none if absent. */
  readonly probes?: ProbeOptions | undefined
}

/** Live children by role, as read (any owner). */
export type LiveChildren = Partial<Readonly<Record<Role, KubeObject>>>

export type Gathered =
  | { readonly _tag: "Gone" }
  | { readonly _tag: "Deleting"; readonly model: LanguageModel }
  | { readonly _tag: "Live"; readonly input: ModelInput; readonly live: LiveChildren }

const decodeModel = decodeObject(LanguageModel)

/** Existence, key names and resourceVersion of a Secret — never its values. */
export const secretViewOf = (secret: KubeObject | undefined): SecretView | undefined => {
  if (secret === undefined) return undefined
  const keysOf = (field: unknown) =>
    typeof field === "object" && field !== null ? Object.keys(field as Record<string, unknown>) : []
  return {
    resourceVersion: secret.metadata.resourceVersion ?? "",
    keys: [...new Set([...keysOf(secret.data), ...keysOf(secret.stringData)])].sort(),
  }
}

interface ContainerStatus {
  readonly name?: string
  readonly state?: {
    readonly waiting?: { readonly reason?: string; readonly message?: string }
    readonly terminated?: { readonly reason?: string; readonly message?: string }
  }
}

/** Waiting/terminated containers of the proxy pods (kubelet reasons), sorted by pod then container. */
export const podProblemsOf = (pods: ReadonlyArray<KubeObject>): ReadonlyArray<PodProblem> =>
  pods
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .flatMap((p) => {
      const status = p.status as { readonly containerStatuses?: ReadonlyArray<ContainerStatus> } | undefined
      return (status?.containerStatuses ?? []).flatMap((c): ReadonlyArray<PodProblem> => {
        const s = c.state?.waiting ?? c.state?.terminated
        if (s?.reason === undefined) return []
        return [{ pod: p.metadata.name ?? "", container: c.name ?? "", reason: s.reason, message: s.message }]
      })
    })
    .sort((a, b) => (a.pod === b.pod ? (a.container < b.container ? -1 : 1) : a.pod < b.pod ? -1 : 1))

export const gather = Effect.fn("languagemodel.gather")(function* (
  req: ReconcileRequest,
  options: GatherOptions,
) {
  const informers = yield* Informers
  const kube = yield* KubeClient
  const { settings } = options

  let model = informers.cache(modelSource).getByName(req.namespace, req.name)
  if (model === undefined) {
    const raw = yield* orUndefinedOnNotFound(kube.get(Langop.LanguageModel, req))
    if (raw === undefined) {
      options.probes?.memory.delete(keyOf(req))
      return { _tag: "Gone" } satisfies Gathered
    }
    const decoded = decodeModel(raw)
    if (Result.isFailure(decoded)) {
      yield* Effect.logWarning("LanguageModel does not decode", { problems: decoded.failure })
      return { _tag: "Gone" } satisfies Gathered
    }
    model = decoded.success
  }

  if (model.metadata.deletionTimestamp !== undefined) {
    options.probes?.memory.delete(keyOf(req))
    return { _tag: "Deleting", model } satisfies Gathered
  }
  const live: Partial<Record<Role, KubeObject>> = {}
  for (const [role, source] of Object.entries(CHILD_SOURCES) as ReadonlyArray<
    [Role, InformerSource<KubeObject>]
  >) {
    const name = childName(req.name, role)
    const found =
      informers.cache(source).getByName(req.namespace, name) ??
      (yield* orUndefinedOnNotFound(kube.get(ROLE_RESOURCE[role], { namespace: req.namespace, name })))
    if (found !== undefined) live[role] = found
  }

  const secrets = informers.cache(secretSource)
  const ref = model.spec.apiKeySecretRef
  const apiKeySecret =
    ref === undefined ? undefined : secretViewOf(secrets.getByName(req.namespace, ref.name))
  const redisSecretName = settings.sharedRedis?.passwordSecret?.name
  const redisPasswordSecret =
    redisSecretName === undefined
      ? undefined
      : secretViewOf(secrets.getByName(req.namespace, redisSecretName))

  const models = new Map<string, ModelPeer>(
    informers
      .cache(modelSource)
      .list(req.namespace)
      .filter((m) => m.metadata.deletionTimestamp === undefined)
      .map((m) => [
        m.metadata.name ?? "",
        { modelName: m.spec.modelName, fallbacks: (m.spec.fallbacks ?? []).map((f) => f.modelRef) },
      ]),
  )

  const pods = informers
    .cache(managedPodSource)
    .list(req.namespace)
    .filter((p) => p.metadata.labels?.[LABEL_KIND] === KIND && p.metadata.labels[LABEL_NAME] === req.name)

  const deployment = live.deployment as DeploymentView | undefined
  const nowMillis = yield* Clock.currentTimeMillis
  const available = (deployment?.status?.availableReplicas ?? 0) >= 1
  const probed =
    options.probes === undefined
      ? {}
      : yield* probeModel(model, settings, available, options.probes, nowMillis)

  const input: ModelInput = {
    model,
    settings,
    apiKeySecret,
    redisPasswordSecret,
    models,
    live: {
      ...(live.configMap !== undefined ? { configMap: live.configMap } : {}),
      ...(live.deployment !== undefined ? { deployment: live.deployment } : {}),
      ...(live.service !== undefined ? { service: live.service } : {}),
    },
    deployment,
    podProblems: podProblemsOf(pods),
    ...(probed.metrics !== undefined ? { metrics: probed.metrics } : {}),
    ...(probed.health !== undefined ? { health: probed.health } : {}),
    now: rfc3339(nowMillis),
  }
  return { _tag: "Live", input, live } satisfies Gathered
})

// ---------------------------------------------------------------------------------------------------------
// Egress

/** The policy request of a model proxy: provider hosts/endpoints plus Redis/collector when rendered. */
export const egressRequestOf = (model: LanguageModel, rendered: RenderedConfig, settings: ModelSettings) => {
  const redis = settings.sharedRedis
  const auto = modelEgressHosts(model.spec, {
    ...(rendered.cache === "redis" && redis !== undefined
      ? { sharedRedis: { host: redis.host, port: redis.port } }
      : {}),
    ...(rendered.otlpEndpoint !== undefined ? { otlpEndpoint: rendered.otlpEndpoint } : {}),
  })
  const request: EgressRequest = {
    kind: "LanguageModel",
    name: model.metadata.name ?? "",
    namespace: model.metadata.namespace ?? "",
    egress: model.spec.egress ?? [],
    hosts: auto.hosts,
    notes: auto.notes,
  }
  return request
}

/** The egress policy of a model proxy, with every Service and name it mentions looked up. */
export const gatherEgress = (request: EgressRequest, options: Pick<GatherOptions, "egress" | "dnsRefresh">) =>
  gatherEgressPolicy(request, options.egress, options.dnsRefresh)
