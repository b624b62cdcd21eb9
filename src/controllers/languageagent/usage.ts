/**
 * `AgentUsage`: where per-agent usage attribution samples come from (languageagent.md §Cost and usage,
 * AG-12). With attribution on, the runtime sends the OpenAI `user` field as `<namespace>/<agent>` and the
 * model proxies count per user; the LanguageModel side scrapes those counters (languagemodel.md §Metrics)
 * and offers them through this service. The controller only sums and prices them (observe.ts
 * `usageStatus`).
 *
 * Default (no layer provided, or attribution off): no samples, so `modelUsage`, `metrics.totalTokens` and
 * `costMetrics` stay unset, as the spec requires without attribution.
 */
import { Context, Effect } from "effect"
import type { ModelUsageSample } from "./observe.ts"

export interface ModelKey {
  readonly namespace: string
  readonly name: string
}

export interface AgentUsageShape {
  /** Counters of user `<namespace>/<agent>` on each of `models` (missing models: no sample). */
  readonly samples: (
    agent: ModelKey,
    models: ReadonlyArray<ModelKey>,
  ) => Effect.Effect<ReadonlyArray<ModelUsageSample>>
}

export const noUsage: AgentUsageShape = { samples: () => Effect.succeed([]) }

export const AgentUsage = Context.Reference<AgentUsageShape>("langop/languageagent/AgentUsage", {
  defaultValue: () => noUsage,
})

/** The OpenAI `user` value an agent's requests carry under attribution. */
export const attributionUser = (agent: ModelKey): string => `${agent.namespace}/${agent.name}`
