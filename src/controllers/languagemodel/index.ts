/**
 * The LanguageModel controller (docs/languagemodel.md): gather → decide → act.
 *
 * Triggers: the model itself; its generated children (ConfigMap `<name>-model`, Deployment, Service,
 * NetworkPolicy — owned, so drift is repaired and Deployment status changes update the model's status);
 * the proxy Pods (failure detection); another LanguageModel of the namespace appearing, disappearing or
 * changing its spec (fallback resolution and cycle detection read every model of the namespace, so all
 * models there with fallbacks are enqueued); a Secret it reads (API key, shared-Redis password); an agent,
 * client or model whose references to it change (its ingress policy admits exactly those, consumers.ts).
 * Timers: the dependency wait while a Secret is missing, the DNS refresh while the policy has DNS-derived
 * peers, and the metrics/health intervals when those settings are on (decide.ts); the scrape and poll
 * themselves are made during gather (probe.ts), at most once per interval per model.
 */
import { Duration, Effect, Result } from "effect"
import type { LanguageModel } from "../../api/languagemodel.ts"
import { keyOf } from "../../kube/objects.ts"
import { OPERATOR_POD_LABELS } from "../../network/ingress.ts"
import { egressSettingsFrom } from "../../network/settings.ts"
import {
  defineController,
  type EventPredicate,
  Predicates,
  Reconciled,
  type ReconcileRequest,
  watches,
} from "../../runtime/controller.ts"
import { managedPodSource, podOwnerOf, secretSource } from "../../runtime/sources.ts"
import type { SettingsShape } from "../../settings.ts"
import { type ActOptions, act, cleanup } from "./act.ts"
import {
  agentModelKeys,
  chainingModelsSource,
  clientModelKeys,
  consumingAgentsSource,
  consumingClientsSource,
  fallbackTargetKeys,
} from "./consumers.ts"
import { childSources, FALLBACK_INDEX, gather, modelsSource, SECRET_INDEX } from "./gather.ts"
import type { ModelSettings } from "./input.ts"
import { type ProbeOptions, type ProxyUrl, serviceProxyUrl } from "./probe.ts"
import { KIND } from "./workload.ts"

export const CONTROLLER_NAME = "languagemodel"

export interface ModelControllerOptions extends ActOptions {
  readonly settings: ModelSettings
  /** Where the proxies answer (default: their Service's cluster DNS name); tests point it at 127.0.0.1. */
  readonly proxyUrl?: ProxyUrl | undefined
  /** Set by {@link languageModelController} (one memory per controller); without it nothing is probed. */
  readonly probes?: ProbeOptions | undefined
}

export const reconcileModel = (req: ReconcileRequest, options: ModelControllerOptions) =>
  Effect.gen(function* () {
    const gathered = yield* gather(req, {
      settings: options.settings,
      egress: options.egress,
      dnsRefresh: options.dnsRefresh,
      probes: options.probes,
    })
    switch (gathered._tag) {
      case "Gone":
        return Reconciled.done
      case "Deleting":
        return yield* cleanup(gathered.model, options.fieldManager)
      case "Live":
        return yield* act(gathered.input, gathered.live, options)
    }
  })

/** A Pod of a model's Deployment → that model. */
export const modelOfPod = podOwnerOf(KIND)

/** Peers matter for fallbacks only through their spec (modelName, fallbacks) and existence. */
const peerSpecChanged: EventPredicate<LanguageModel> = Predicates.generationChanged

export const languageModelController = (given: ModelControllerOptions) => {
  const { settings } = given
  const probes: ProbeOptions | undefined =
    settings.metricsScrape.enabled || settings.healthPolling
      ? (given.probes ?? {
          proxyUrl: given.proxyUrl ?? serviceProxyUrl(settings.clusterDomain),
          memory: new Map(),
        })
      : undefined
  const options: ModelControllerOptions = { ...given, probes }
  const models = modelsSource(options.settings.sharedRedis?.passwordSecret?.name)
  return defineController({
    name: CONTROLLER_NAME,
    for: models,
    owns: childSources,
    watches: [
      watches(managedPodSource, modelOfPod),
      watches(
        models,
        (m, informers) =>
          informers
            .cache(models)
            .keysByIndex(FALLBACK_INDEX, m.metadata.namespace ?? "")
            .filter(
              (k) => k !== keyOf({ namespace: m.metadata.namespace ?? "", name: m.metadata.name ?? "" }),
            ),
        peerSpecChanged,
      ),
      // Ingress policy: a reference to a model appearing, changing or going changes who may call it.
      watches(consumingAgentsSource, agentModelKeys),
      watches(consumingClientsSource, clientModelKeys),
      watches(chainingModelsSource, fallbackTargetKeys),
      watches(secretSource, (s, informers) =>
        informers
          .cache(models)
          .keysByIndex(SECRET_INDEX, `${s.metadata.namespace ?? ""}/${s.metadata.name ?? ""}`),
      ),
    ],
    reconcile: (req) => reconcileModel(req, options),
  })
}

/** `<secret>/<key>` of LANGOP_SHARED_REDIS_PASSWORD_SECRET. */
const parseSecretKey = (
  text: string | undefined,
): Result.Result<{ readonly name: string; readonly key: string } | undefined, string> => {
  if (text === undefined) return Result.succeed(undefined)
  const [name, key, ...rest] = text.split("/")
  if (name === undefined || name === "" || key === undefined || key === "" || rest.length > 0)
    return Result.fail(`LANGOP_SHARED_REDIS_PASSWORD_SECRET: expected <secret>/<key>, got "${text}"`)
  return Result.succeed({ name, key })
}

/** Options from the operator settings; fails on malformed DNS-peer or Redis-secret settings (named). */
export const modelControllerOptionsFromSettings = (
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
    | "modelProxyImage"
    | "modelProxyMode"
    | "modelMetricsScrape"
    | "modelMetricsInterval"
    | "modelHealthPolling"
    | "sharedRedisHost"
    | "sharedRedisPort"
    | "sharedRedisPasswordSecret"
    | "otlpEndpoint"
    | "usageAttribution"
    | "operatorNamespace"
  >,
): Result.Result<ModelControllerOptions, string> =>
  Result.flatMap(egressSettingsFrom(s), (egress) =>
    Result.map(parseSecretKey(s.sharedRedisPasswordSecret), (passwordSecret) => ({
      fieldManager: s.fieldManager,
      dnsRefresh: s.dnsRefreshInterval,
      egress,
      // Only while the operator itself calls proxies (metrics, health, usage attribution) may it reach them.
      operatorPeer:
        s.modelMetricsScrape || s.modelHealthPolling || s.usageAttribution
          ? { namespace: s.operatorNamespace, podLabels: OPERATOR_POD_LABELS }
          : undefined,
      settings: {
        proxyImage: s.modelProxyImage,
        proxyMode: s.modelProxyMode,
        clusterDomain: egress.clusterDomain,
        sharedRedis:
          s.sharedRedisHost === undefined
            ? undefined
            : { host: s.sharedRedisHost, port: s.sharedRedisPort, passwordSecret },
        otlpEndpoint: s.otlpEndpoint,
        usageAttribution: s.usageAttribution,
        metricsScrape: {
          enabled: s.modelMetricsScrape,
          intervalMs: Duration.toMillis(s.modelMetricsInterval),
        },
        healthPolling: s.modelHealthPolling,
        dependencyWaitMs: Duration.toMillis(s.dependencyWaitRequeue),
      },
    })),
  )

/** The controller from the operator settings (the registry entry's `make`). */
export const languageModelControllerFromSettings = (s: SettingsShape) =>
  Result.map(modelControllerOptionsFromSettings(s), languageModelController)

export type { ActOptions } from "./act.ts"
