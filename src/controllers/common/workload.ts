/**
 * Builders shared by the kinds that run a Deployment of their own with optional PDB and HPA (tools,
 * clients; docs/languagetool.md §Service mode, docs/languageclient.md §PodDisruptionBudget, HPA). PURE.
 *
 * Guarantees: deterministic output; absent optional fields are omitted (the API server omits them too, so
 * a live object compares equal); the HPA falls back to 80 % CPU when no metric is expressible, and reports
 * every metric it had to skip (`UnsupportedMetric`, docs/languagetool.md TL-1/docs/languageclient.md CL-8) instead of failing.
 */
import { QUANTITY_PATTERN } from "../../api/k8s/index.ts"
import type {
  HorizontalPodAutoscalerSpec,
  PodDisruptionBudgetSpec,
  UpdateStrategySpec,
} from "../../api/shared.ts"
import type { KubeObject, OwnerReference } from "../../kube/objects.ts"

/** Only keys whose value is defined (the API server omits absent optional fields). */
export const present = <T extends Record<string, unknown>>(record: T): Partial<T> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>

/**
 * Deployment `spec.strategy` from the shared `updateStrategy`. The type is always set (RollingUpdate, the
 * API server's default, when `updateStrategy` is absent) so that our field manager always owns it: a switch
 * to Recreate clears the defaulted `rollingUpdate` with a merge patch (common/deployment.ts), whose entry
 * also records the type, and only a forced apply of the type takes it back from that entry.
 */
export const deploymentStrategy = (
  strategy: typeof UpdateStrategySpec.Type | undefined,
): Record<string, unknown> =>
  strategy === undefined
    ? { type: "RollingUpdate" }
    : strategy.type === "Recreate"
      ? { type: "Recreate" }
      : {
          type: "RollingUpdate",
          ...(strategy.rollingUpdate !== undefined && Object.keys(strategy.rollingUpdate).length > 0
            ? { rollingUpdate: strategy.rollingUpdate }
            : {}),
        }

/** Metadata every generated object of a workload carries (name, namespace, labels, owner). */
export interface ChildMeta {
  readonly name: string
  readonly namespace: string
  readonly labels: Readonly<Record<string, string>>
  readonly ownerReferences: ReadonlyArray<OwnerReference>
}

/** `policy/v1` PodDisruptionBudget selecting `selector`; undefined when no budget is configured. */
export const pdbObject = (
  metadata: ChildMeta,
  selector: Readonly<Record<string, string>>,
  pdb: typeof PodDisruptionBudgetSpec.Type | undefined,
): KubeObject | undefined =>
  pdb === undefined
    ? undefined
    : {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata,
        spec: present({
          selector: { matchLabels: selector },
          minAvailable: pdb.minAvailable,
          maxUnavailable: pdb.maxUnavailable,
        }),
      }

const quantity = new RegExp(QUANTITY_PATTERN, "u")

export interface HpaPlan {
  readonly object: KubeObject | undefined
  /** Metrics that could not be expressed (`AutoscalingReady=False`, `UnsupportedMetric`). */
  readonly unsupported: ReadonlyArray<string>
}

/** `autoscaling/v2` HorizontalPodAutoscaler targeting Deployment `target`; no object unless enabled. */
export const hpaObject = (
  metadata: ChildMeta,
  target: string,
  hpa: typeof HorizontalPodAutoscalerSpec.Type | undefined,
): HpaPlan => {
  if (hpa === undefined || !hpa.enabled) return { object: undefined, unsupported: [] }
  const utilization = (resource: string, percent: number) => ({
    type: "Resource",
    resource: { name: resource, target: { type: "Utilization", averageUtilization: percent } },
  })
  const metrics: Array<unknown> = []
  const unsupported: Array<string> = []
  if (hpa.targetCPUUtilizationPercentage !== undefined)
    metrics.push(utilization("cpu", hpa.targetCPUUtilizationPercentage))
  if (hpa.targetMemoryUtilizationPercentage !== undefined)
    metrics.push(utilization("memory", hpa.targetMemoryUtilizationPercentage))
  for (const [i, m] of (hpa.customMetrics ?? []).entries()) {
    const where = `spec.horizontalPodAutoscaler.customMetrics[${i}] (${m.name})`
    if (m.type === "Object") {
      unsupported.push(
        `${where}: type Object needs a described object, which the spec cannot express; skipped`,
      )
      continue
    }
    if (!quantity.test(m.target)) {
      unsupported.push(`${where}: target ${JSON.stringify(m.target)} is not a quantity; skipped`)
      continue
    }
    const targetValue = { type: "AverageValue", averageValue: m.target }
    metrics.push(
      m.type === "Pods"
        ? { type: "Pods", pods: { metric: { name: m.name }, target: targetValue } }
        : { type: "External", external: { metric: { name: m.name }, target: targetValue } },
    )
  }
  if (metrics.length === 0) metrics.push(utilization("cpu", 80))
  return {
    object: {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: target },
        minReplicas: hpa.minReplicas,
        maxReplicas: hpa.maxReplicas,
        metrics,
      },
    },
    unsupported,
  }
}
