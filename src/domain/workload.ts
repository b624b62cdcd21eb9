/**
 * The workload rules tools and clients share (PodDisruptionBudget one-of, update strategy, autoscaler
 * bounds) as findings in the calling kind's rule catalog. The predicates are the ones the CRD's CEL
 * rules are generated from (src/api/shared.ts), so schema, webhook and controllers enforce one rule.
 * Pure.
 */
import { AutoscalerBounds, PodDisruptionBudgetOneOf, RollingUpdateOnlyWithItsType } from "../api/shared.ts"
import { type FieldPath, type Finding, finding, type Rule } from "./rules.ts"

interface WorkloadShape {
  readonly podDisruptionBudget?:
    | { readonly minAvailable?: number | undefined; readonly maxUnavailable?: number | undefined }
    | undefined
  readonly updateStrategy?: { readonly type: string; readonly rollingUpdate?: unknown } | undefined
  readonly horizontalPodAutoscaler?:
    | { readonly minReplicas: number; readonly maxReplicas: number }
    | undefined
}

export const workloadFindings = (
  spec: WorkloadShape,
  rules: {
    readonly podDisruptionBudget: Rule
    readonly updateStrategy: Rule
    readonly autoscalerBounds: Rule
  },
  path: FieldPath = ["spec"],
): ReadonlyArray<Finding> => {
  const out: Array<Finding> = []
  const pdb = spec.podDisruptionBudget
  if (pdb !== undefined && PodDisruptionBudgetOneOf.violated(pdb))
    out.push(
      finding(rules.podDisruptionBudget, [...path, "podDisruptionBudget"], PodDisruptionBudgetOneOf.message),
    )
  const strategy = spec.updateStrategy
  if (strategy !== undefined && RollingUpdateOnlyWithItsType.violated(strategy))
    out.push(
      finding(
        rules.updateStrategy,
        [...path, "updateStrategy", "rollingUpdate"],
        `${RollingUpdateOnlyWithItsType.message} (type is ${strategy.type})`,
      ),
    )
  const hpa = spec.horizontalPodAutoscaler
  if (hpa !== undefined && AutoscalerBounds.violated(hpa))
    out.push(
      finding(
        rules.autoscalerBounds,
        [...path, "horizontalPodAutoscaler", "minReplicas"],
        `minReplicas (${hpa.minReplicas}) must be less than or equal to maxReplicas (${hpa.maxReplicas})`,
      ),
    )
  return out
}
