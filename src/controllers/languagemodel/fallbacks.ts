/**
 * Fallback resolution (docs/languagemodel.md §LiteLLM, docs/languagemodel.md LM-3, docs/languagemodel.md LM-4) and the `FeaturesSupported` condition.
 * PURE.
 */
import type { LanguageModelSpec } from "../../api/languagemodel.ts"
import type { ConditionInput } from "../common/conditions.ts"
import type { ModelPeer } from "./input.ts"
import type { FeatureIssue, ResolvedFallback } from "./litellm.ts"

// ---------------------------------------------------------------------------------------------------------
// Fallbacks (§Fallbacks, docs/languagemodel.md LM-3, docs/languagemodel.md LM-4)

export interface FallbackResolution {
  readonly resolved: ReadonlyArray<ResolvedFallback>
  readonly issues: ReadonlyArray<FeatureIssue>
}

/** True when `from` reaches `target` over the namespace's fallback edges. */
const reaches = (from: string, target: string, models: ReadonlyMap<string, ModelPeer>): boolean => {
  const seen = new Set<string>()
  const stack = [from]
  while (stack.length > 0) {
    const next = stack.pop() ?? ""
    if (next === target) return true
    if (seen.has(next)) continue
    seen.add(next)
    stack.push(...(models.get(next)?.fallbacks ?? []))
  }
  return false
}

/**
 * Resolves `spec.fallbacks` in order: missing → `FallbackNotFound`; self-reference or an edge whose
 * target reaches this model again → `FallbackCycle` (so both ends of a cycle skip it and no request
 * can loop between proxies); a repeated modelRef is merged into its first entry (conditions united).
 */
export const resolveFallbacks = (
  name: string,
  spec: LanguageModelSpec,
  models: ReadonlyMap<string, ModelPeer>,
): FallbackResolution => {
  const resolved: Array<ResolvedFallback> = []
  const issues: Array<FeatureIssue> = []
  for (const f of spec.fallbacks ?? []) {
    const conditions = f.conditions ?? []
    const earlier = resolved.findIndex((r) => r.modelRef === f.modelRef)
    const first = resolved[earlier]
    if (first !== undefined) {
      resolved[earlier] = { ...first, conditions: [...new Set([...first.conditions, ...conditions])] }
      continue
    }
    const peer = models.get(f.modelRef)
    if (f.modelRef === name || (peer !== undefined && reaches(f.modelRef, name, models)))
      issues.push({
        reason: "FallbackCycle",
        message: `fallback ${f.modelRef} ${f.modelRef === name ? "is this model" : "falls back to this model again"}; skipped`,
      })
    else if (peer === undefined)
      issues.push({
        reason: "FallbackNotFound",
        message: `fallback LanguageModel ${f.modelRef} not found; skipped`,
      })
    else resolved.push({ modelRef: f.modelRef, modelName: peer.modelName, conditions })
  }
  return { resolved, issues }
}

// ---------------------------------------------------------------------------------------------------------
// Features

const FEATURE_ORDER: ReadonlyArray<FeatureIssue["reason"]> = [
  "FallbackNotFound",
  "FallbackCycle",
  "CacheBackendUnavailable",
  "CacheBackendUnsupported",
  "RegionNotRepresentable",
  "TracingUnavailable",
  "PartiallySupported",
]

/** `FeaturesSupported`: the most important reason first, every issue in the message. */
export const featuresCondition = (issues: ReadonlyArray<FeatureIssue>): ConditionInput => {
  if (issues.length === 0)
    return {
      type: "FeaturesSupported",
      status: "True",
      reason: "AllSupported",
      message: "Every setting is supported",
    }
  const reason = FEATURE_ORDER.find((r) => issues.some((i) => i.reason === r)) ?? "PartiallySupported"
  return {
    type: "FeaturesSupported",
    status: "False",
    reason,
    message: issues.map((i) => i.message).join("; "),
  }
}
