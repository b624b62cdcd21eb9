/**
 * The gathered input of the LanguageModel decisions and their output (decide.ts). Each field says what
 * gather must fill in; everything is plain data (no Effects, no clients).
 */
import type { LanguageModel, LanguageModelStatus } from "../../api/languagemodel.ts"
import type { ConditionInput } from "../common/conditions.ts"
import type { RenderedConfig } from "./litellm.ts"
import type { DeploymentView, HealthPoll, MetricsSample, PodProblem } from "./status.ts"
import type { DesiredConfigMap, DesiredDeployment, DesiredService, ProxyMode } from "./workload.ts"

// ---------------------------------------------------------------------------------------------------------
// Input

/** Operator settings this kind uses (src/settings.ts). */
export interface ModelSettings {
  readonly proxyImage: string
  readonly proxyMode: ProxyMode
  readonly clusterDomain: string
  /** Shared Redis; `passwordSecret` is the `<secret>/<key>` setting split, read in the model's namespace. */
  readonly sharedRedis:
    | {
        readonly host: string
        readonly port: number
        readonly passwordSecret?: { readonly name: string; readonly key: string } | undefined
      }
    | undefined
  readonly otlpEndpoint: string | undefined
  /** LANGOP_USAGE_ATTRIBUTION: proxies count per end user (`user` = `<namespace>/<agent>`) for agents. */
  readonly usageAttribution: boolean
  readonly metricsScrape: { readonly enabled: boolean; readonly intervalMs: number }
  readonly healthPolling: boolean
  /** Requeue while waiting for a Secret. */
  readonly dependencyWaitMs: number
}

/** A Secret as far as decisions read it (never its values). */
export interface SecretView {
  readonly resourceVersion: string
  /** Keys of `data` and `stringData`. */
  readonly keys: ReadonlyArray<string>
}

/** Another LanguageModel of the namespace, for fallback resolution. */
export interface ModelPeer {
  readonly modelName: string
  /** Its own `spec.fallbacks[].modelRef`s (cycle detection). */
  readonly fallbacks: ReadonlyArray<string>
}

/** A live child as read (any owner), or undefined when it does not exist. */
export interface LiveChild {
  readonly metadata?: {
    readonly ownerReferences?: ReadonlyArray<{
      readonly controller?: boolean
      readonly uid: string
      readonly kind: string
      readonly name: string
    }>
  }
}

export interface ModelInput {
  /** The LanguageModel, decoded (schema defaults applied). */
  readonly model: LanguageModel
  readonly settings: ModelSettings
  /** The API-key Secret in the model's namespace; undefined when absent or not referenced. */
  readonly apiKeySecret: SecretView | undefined
  /** The shared-Redis password Secret in the model's namespace; undefined when absent or not configured. */
  readonly redisPasswordSecret: SecretView | undefined
  /** LanguageModels of the namespace by name (this one may be included; it is ignored). */
  readonly models: ReadonlyMap<string, ModelPeer>
  /** Live ConfigMap `<name>-model`, Deployment and Service `<name>` (for NameConflict). */
  readonly live: {
    readonly configMap?: LiveChild
    readonly deployment?: LiveChild
    readonly service?: LiveChild
  }
  /** The proxy Deployment's observed state (usually `live.deployment`). */
  readonly deployment: DeploymentView | undefined
  /** Waiting/terminated containers of the proxy pods. */
  readonly podProblems: ReadonlyArray<PodProblem>
  /** `NetworkPolicyReady` and `EgressResolved` from src/network, when the policy step ran. */
  readonly network?: ReadonlyArray<ConditionInput> | undefined
  /** A health poll made for this reconcile (undefined: none due; previous values are kept). */
  readonly health?: HealthPoll | undefined
  /** A metrics scrape made for this reconcile (undefined: none due; previous values are kept). */
  readonly metrics?: MetricsSample | undefined
  /** RFC 3339, seconds precision. */
  readonly now: string
}

export type ChildKind = "ConfigMap" | "Deployment" | "Service" | "NetworkPolicy"

export type ApplyOutcome =
  | { readonly _tag: "Applied" }
  | { readonly _tag: "Failed"; readonly kind: ChildKind; readonly message: string }

export type ChildAction =
  | { readonly _tag: "Apply"; readonly object: DesiredConfigMap | DesiredDeployment | DesiredService }
  | { readonly _tag: "Conflict"; readonly kind: ChildKind; readonly name: string; readonly message: string }

export interface ModelEvent {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface ModelDecision {
  readonly finalizer: "add" | "remove" | undefined
  /** Deleting: delete ConfigMap `<name>-model` (not found is fine), then remove the finalizer. */
  readonly cleanup: { readonly configMap: string } | undefined
  /** ConfigMap, Deployment, Service in that order; empty when an earlier step stopped the sequence. */
  readonly children: ReadonlyArray<ChildAction>
  readonly rendered: RenderedConfig | undefined
  /** Undefined while deleting. */
  readonly status: LanguageModelStatus | undefined
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<ModelEvent>
  readonly requeueAfterMs: number | undefined
}
