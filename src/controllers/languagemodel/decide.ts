/**
 * LanguageModel decisions (docs/languagemodel.md §Reconcile sequence, §Validation, §Fallbacks, §Status,
 * §Conditions). PURE: one gathered {@link ModelInput} → finalizer, desired ConfigMap/Deployment/Service,
 * status, events and requeue. The NetworkPolicy is built by src/network; its conditions come in as input.
 *
 * Use: `decide(input)` gives the children to apply; after applying them call
 * `decide(input, outcome)` with what happened (same input, so the same children) for the final status.
 *
 * Guarantees: the first failing step of the sequence wins (deleted → invalid name/spec → Secret →
 * children); missing fallbacks degrade but never block; a child controlled by another owner is never
 * in `children` as an Apply (NameConflict instead); nothing here depends on time except through
 * `input.now`.
 */
import type { LanguageModelSpec, LanguageModelStatus, ModelPhase } from "../../api/languagemodel.ts"
import { parseDuration } from "../../api/shared.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { FINALIZER } from "../../domain/labels.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { controllerRef, type Ownership, ownershipOf } from "../common/ownership.ts"
import { featuresCondition, resolveFallbacks } from "./fallbacks.ts"
import type {
  ApplyOutcome,
  ChildAction,
  ChildKind,
  LiveChild,
  ModelDecision,
  ModelEvent,
  ModelInput,
} from "./input.ts"
import { type RenderedConfig, renderLiteLLMConfig } from "./litellm.ts"
import {
  assembleStatus,
  availabilityOf,
  costMetricsOf,
  endpointStatusOf,
  READY_MESSAGE,
  regionStatusOf,
  type StatusParts,
} from "./status.ts"
import { issuesMessage, validateModel } from "./validate.ts"
import {
  configMapData,
  configMapName,
  desiredConfigMap,
  desiredDeployment,
  desiredService,
  type ModelIdentity,
} from "./workload.ts"

export const Reasons = {
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  InvalidSpec: "InvalidSpec",
  InvalidName: "InvalidName",
  NameConflict: "NameConflict",
  CrossNamespaceSecretUnsupported: "CrossNamespaceSecretUnsupported",
  SecretNotFound: "SecretNotFound",
  SecretKeyNotFound: "SecretKeyNotFound",
  ConfigMapError: "ConfigMapError",
  DeploymentError: "DeploymentError",
  ServiceError: "ServiceError",
  NetworkPolicyError: "NetworkPolicyError",
  ProxyNotAvailable: "ProxyNotAvailable",
  Rendered: "Rendered",
  RenderError: "RenderError",
  Available: "Available",
  Progressing: "Progressing",
  PodsFailing: "PodsFailing",
  AllSupported: "AllSupported",
} as const

// ---------------------------------------------------------------------------------------------------------
// Decision

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: ok ? "True" : "False",
  reason,
  message,
})

/** Health poll period of a model: `max(healthCheck.interval, 30s)`; undefined without health checks. */
export const healthPollIntervalMs = (spec: LanguageModelSpec): number | undefined => {
  const hc = spec.loadBalancing?.healthCheck
  if (hc?.enabled !== true) return undefined
  return Math.max(parseDuration(hc.interval) ?? 30_000, 30_000)
}

/** Timeout of one health poll (`healthCheck.timeout`, no LiteLLM key; §Health). */
export const healthPollTimeoutMs = (spec: LanguageModelSpec): number =>
  parseDuration(spec.loadBalancing?.healthCheck?.timeout ?? "5s") ?? 5000

const conflictOf = (kind: ChildKind, name: string, o: Ownership): ChildAction | undefined =>
  o._tag === "Foreign"
    ? {
        _tag: "Conflict",
        kind,
        name,
        message: `${kind} ${name} is controlled by ${o.kind} ${o.name}; left untouched`,
      }
    : undefined

interface Stop {
  readonly phase: ModelPhase
  readonly reason: string
  readonly message: string
  readonly wait: boolean
}

const secretProblem = (input: ModelInput, spec: LanguageModelSpec, namespace: string): Stop | undefined => {
  const ref = spec.apiKeySecretRef
  if (ref === undefined) return undefined
  if (ref.namespace !== undefined && ref.namespace !== "" && ref.namespace !== namespace)
    return {
      phase: "Error",
      reason: Reasons.CrossNamespaceSecretUnsupported,
      message: `apiKeySecretRef.namespace ${ref.namespace} differs from the model's namespace ${namespace}; pods can only read Secrets of their own namespace (copy the Secret here)`,
      wait: false,
    }
  if (input.apiKeySecret === undefined)
    return {
      phase: "Error",
      reason: Reasons.SecretNotFound,
      message: `Secret ${ref.name} not found in namespace ${namespace}; waiting for it`,
      wait: true,
    }
  // bedrock reads the whole Secret as environment (docs/languagemodel.md LM-5): `key` need not exist.
  if (spec.provider !== "bedrock" && !input.apiKeySecret.keys.includes(ref.key))
    return {
      phase: "Error",
      reason: Reasons.SecretKeyNotFound,
      message: `Secret ${ref.name} has no key ${ref.key}; waiting for it`,
      wait: true,
    }
  return undefined
}

export const decide = (input: ModelInput, outcome: ApplyOutcome = { _tag: "Applied" }): ModelDecision => {
  const { model, settings } = input
  const name = model.metadata.name ?? ""
  const namespace = model.metadata.namespace ?? ""
  const spec = model.spec
  const previous = model.status
  const finalizers = model.metadata.finalizers ?? []
  const hasFinalizer = finalizers.includes(FINALIZER)

  if (model.metadata.deletionTimestamp !== undefined)
    return {
      finalizer: hasFinalizer ? "remove" : undefined,
      cleanup: hasFinalizer ? { configMap: configMapName(name) } : undefined,
      children: [],
      rendered: undefined,
      status: undefined,
      statusChanged: false,
      events: [],
      requeueAfterMs: undefined,
    }

  const availability = availabilityOf(input.deployment, input.podProblems)
  const proxyAvailable = cond(
    "ProxyAvailable",
    availability._tag === "Available",
    availability._tag,
    availability._tag === "Available" ? "The proxy has an available replica" : availability.message,
  )
  const finish = (
    parts: StatusParts,
    children: ReadonlyArray<ChildAction>,
    rendered: RenderedConfig | undefined,
    wait: boolean,
  ): ModelDecision => {
    const status = assembleStatus(previous, parts, model.metadata.generation, input.now)
    const statusChanged = previous === undefined || canonicalJson(status) !== canonicalJson(previous)
    const ready = status.conditions?.find((c) => c.type === "Ready")
    const events: Array<ModelEvent> =
      previous?.phase !== status.phase && ready !== undefined
        ? [
            {
              type: status.phase === "Ready" || status.phase === "Configuring" ? "Normal" : "Warning",
              reason: ready.reason,
              note: `${status.phase}: ${ready.message}`,
            },
          ]
        : []
    const intervals = [
      wait ? settings.dependencyWaitMs : undefined,
      settings.metricsScrape.enabled && children.length > 0 ? settings.metricsScrape.intervalMs : undefined,
      settings.healthPolling && children.length > 0 ? healthPollIntervalMs(spec) : undefined,
    ].filter((n): n is number => n !== undefined)
    return {
      finalizer: hasFinalizer ? undefined : "add",
      cleanup: undefined,
      children,
      rendered,
      status,
      statusChanged,
      events,
      requeueAfterMs: intervals.length === 0 ? undefined : Math.min(...intervals),
    }
  }
  const keep = {
    health: previousHealth(previous),
    metrics: previous?.metrics,
    costMetrics: previous?.costMetrics,
  }
  const stopped = (stop: Stop): ModelDecision =>
    finish(
      {
        ...keep,
        phase: stop.phase,
        conditions: [
          cond("Ready", false, stop.reason, stop.message),
          cond("Reconciled", false, Reasons.ReconcileError, stop.message),
          cond("ProxyConfigured", false, Reasons.RenderError, `Not rendered: ${stop.message}`),
          proxyAvailable,
        ],
      },
      [],
      undefined,
      stop.wait,
    )

  // 3. Validation
  const validation = validateModel(name, spec)
  if (validation.nameErrors.length > 0)
    return stopped({
      phase: "Error",
      reason: Reasons.InvalidName,
      message: issuesMessage(validation.nameErrors),
      wait: false,
    })
  if (validation.errors.length > 0)
    return stopped({
      phase: "Error",
      reason: Reasons.InvalidSpec,
      message: issuesMessage(validation.errors),
      wait: false,
    })
  // 4. Secret
  const secret = secretProblem(input, spec, namespace)
  if (secret !== undefined) return stopped(secret)

  // 5-6. Fallbacks, rendering, ConfigMap
  const fallbacks = resolveFallbacks(name, spec, input.models)
  const redis = settings.sharedRedis
  const rendered = renderLiteLLMConfig({
    name,
    namespace,
    clusterDomain: settings.clusterDomain,
    spec,
    fallbacks: fallbacks.resolved,
    sharedRedis:
      redis === undefined
        ? undefined
        : {
            host: redis.host,
            port: redis.port,
            password:
              redis.passwordSecret === undefined
                ? undefined
                : {
                    secretName: redis.passwordSecret.name,
                    key: redis.passwordSecret.key,
                    present: input.redisPasswordSecret?.keys.includes(redis.passwordSecret.key) === true,
                  },
          },
    otlpEndpoint: settings.otlpEndpoint,
    endUserMetrics: settings.usageAttribution,
  })
  const issues = [...fallbacks.issues, ...rendered.issues]
  const id: ModelIdentity = { name, namespace, owner: controllerRef(model) }
  const data = configMapData(spec, rendered.text)
  const uid = model.metadata.uid ?? ""
  // 7. Children (NameConflict per object)
  const candidates: ReadonlyArray<[ChildKind, string, LiveChild | undefined, () => ChildAction]> = [
    [
      "ConfigMap",
      configMapName(name),
      input.live.configMap,
      () => ({ _tag: "Apply", object: desiredConfigMap(id, data) }),
    ],
    [
      "Deployment",
      name,
      input.live.deployment,
      () => ({
        _tag: "Apply",
        object: desiredDeployment({
          id,
          spec,
          rendered,
          configData: data,
          image: settings.proxyImage,
          mode: settings.proxyMode,
          apiKeySecretVersion:
            spec.apiKeySecretRef === undefined ? undefined : input.apiKeySecret?.resourceVersion,
          redisSecretVersion:
            rendered.redisPassword === undefined ? undefined : input.redisPasswordSecret?.resourceVersion,
        }),
      }),
    ],
    ["Service", name, input.live.service, () => ({ _tag: "Apply", object: desiredService(id) })],
  ]
  const children = candidates.map(
    ([kind, childName, live, build]) => conflictOf(kind, childName, ownershipOf(live, uid)) ?? build(),
  )
  const conflict = children.find(
    (c): c is Extract<ChildAction, { _tag: "Conflict" }> => c._tag === "Conflict",
  )

  // 9. Status
  const features = featuresCondition(issues)
  const health = healthFields(input, spec, previous)
  const unhealthy = health?.endpointStatus?.filter((e) => !e.healthy) ?? []
  const unavailableRegions = health?.regionStatus?.filter((r) => !r.available) ?? []
  const allUnhealthy =
    health?.endpointStatus !== undefined &&
    health.endpointStatus.length > 0 &&
    unhealthy.length === health.endpointStatus.length
  const failure =
    conflict !== undefined
      ? { reason: Reasons.NameConflict, message: conflict.message }
      : outcome._tag === "Failed"
        ? { reason: `${outcome.kind}Error`, message: outcome.message }
        : undefined
  const metricsParts = metricsFields(input, spec, previous)
  const base: ReadonlyArray<ConditionInput> = [
    cond(
      "ProxyConfigured",
      true,
      Reasons.Rendered,
      `LiteLLM configuration rendered into ConfigMap ${configMapName(name)}`,
    ),
    proxyAvailable,
    features,
    ...(input.network ?? []),
  ]
  if (failure !== undefined)
    return finish(
      {
        ...metricsParts,
        health,
        phase: "Error",
        conditions: [
          ...base,
          cond("Ready", false, failure.reason, failure.message),
          cond("Reconciled", false, Reasons.ReconcileError, failure.message),
        ],
      },
      children,
      rendered,
      false,
    )
  const reconciled = cond("Reconciled", true, Reasons.ReconcileSuccess, "All generated objects are applied")
  const phase: ModelPhase =
    availability._tag === "PodsFailing" || (availability._tag === "Available" && allUnhealthy)
      ? "NotReady"
      : availability._tag === "Progressing"
        ? "Configuring"
        : issues.length > 0 || unhealthy.length > 0 || unavailableRegions.length > 0
          ? "Degraded"
          : "Ready"
  const degradedBy = [
    ...(issues.length > 0 ? [features.message] : []),
    ...(unhealthy.length > 0 ? [`unhealthy endpoints: ${unhealthy.map((e) => e.url).join(", ")}`] : []),
    ...(unavailableRegions.length > 0
      ? [`unavailable regions: ${unavailableRegions.map((r) => r.name).join(", ")}`]
      : []),
  ]
  const ready =
    phase === "Ready" || phase === "Degraded"
      ? cond(
          "Ready",
          true,
          Reasons.ReconcileSuccess,
          phase === "Ready" ? READY_MESSAGE : `${READY_MESSAGE}; degraded: ${degradedBy.join("; ")}`,
        )
      : cond(
          "Ready",
          false,
          Reasons.ProxyNotAvailable,
          allUnhealthy && availability._tag === "Available"
            ? "No endpoint of the model is healthy"
            : proxyAvailable.message,
        )
  return finish(
    { ...metricsParts, health, phase, conditions: [...base, ready, reconciled] },
    children,
    rendered,
    false,
  )
}

// ---------------------------------------------------------------------------------------------------------
// Periodic fields

/** Scraped usage and costs: unset without scraping; the previous values until a new scrape arrives. */
const metricsFields = (
  input: ModelInput,
  spec: LanguageModelSpec,
  previous: LanguageModelStatus | undefined,
) => {
  if (!input.settings.metricsScrape.enabled) return { metrics: undefined, costMetrics: undefined }
  const sample = input.metrics
  if (sample === undefined)
    return {
      metrics: previous?.metrics,
      costMetrics: spec.costTracking?.enabled === true ? previous?.costMetrics : undefined,
    }
  return { metrics: sample.metrics, costMetrics: costMetricsOf(spec, sample) }
}

const previousHealth = (previous: LanguageModelStatus | undefined): StatusParts["health"] =>
  previous === undefined
    ? undefined
    : {
        lastHealthCheck: previous.lastHealthCheck,
        endpointStatus: previous.endpointStatus,
        regionStatus: previous.regionStatus,
      }

/** Polled health when polling is on for this model (explicit enabled health check); else unset. */
const healthFields = (
  input: ModelInput,
  spec: LanguageModelSpec,
  previous: LanguageModelStatus | undefined,
): StatusParts["health"] => {
  if (!input.settings.healthPolling || spec.loadBalancing?.healthCheck?.enabled !== true) return undefined
  const poll = input.health
  if (poll === undefined) return previousHealth(previous)
  return {
    lastHealthCheck: poll.time,
    endpointStatus: endpointStatusOf(spec, poll, previous?.endpointStatus),
    regionStatus: regionStatusOf(spec, poll),
  }
}
