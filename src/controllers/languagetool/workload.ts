/**
 * The phase of a service-mode tool from its real Deployment and Pods (docs/languagetool.md §Status). PURE.
 *
 * Guarantees: the phase is always in the kind's enum; `Failed` needs a real failure signal (the
 * Deployment's progress deadline exceeded, or a pod container waiting with a reason that does not heal
 * by itself) — merely having no available replica, as during every first start, is `Pending`.
 */
import type { ToolPhase } from "../../api/languagetool.ts"

export interface DeploymentView {
  readonly metadata: { readonly name?: string; readonly generation?: number }
  readonly spec?: { readonly replicas?: number }
  readonly status?: {
    readonly observedGeneration?: number
    readonly readyReplicas?: number
    readonly availableReplicas?: number
    readonly updatedReplicas?: number
    readonly unavailableReplicas?: number
    readonly conditions?: ReadonlyArray<{
      readonly type: string
      readonly status: string
      readonly reason?: string
      readonly message?: string
    }>
  }
}

interface ContainerStatusView {
  readonly name?: string
  readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string } }
}

export interface PodView {
  readonly metadata: { readonly name?: string; readonly deletionTimestamp?: string }
  readonly status?: {
    readonly containerStatuses?: ReadonlyArray<ContainerStatusView>
    readonly initContainerStatuses?: ReadonlyArray<ContainerStatusView>
  }
}

/** Waiting reasons that mean the pod will not start without a change (README: "real failure signal"). */
export const FAILING_WAIT_REASONS: ReadonlySet<string> = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "CreateContainerConfigError",
  "InvalidImageName",
])

export type WorkloadReason =
  | "DeploymentNotFound"
  | "ScaledToZero"
  | "Updating"
  | "ReconcileSuccess"
  | "PodsNotReady"
  | "Pending"
  | "DeploymentUnreadable"

export interface WorkloadState {
  readonly phase: ToolPhase
  readonly reason: WorkloadReason
  readonly message: string
}

export interface ReplicaCounts {
  readonly readyReplicas: number
  readonly availableReplicas: number
  readonly updatedReplicas: number
  readonly unavailableReplicas: number
}

export const replicaCounts = (d: DeploymentView | undefined): ReplicaCounts => ({
  readyReplicas: d?.status?.readyReplicas ?? 0,
  availableReplicas: d?.status?.availableReplicas ?? 0,
  updatedReplicas: d?.status?.updatedReplicas ?? 0,
  unavailableReplicas: d?.status?.unavailableReplicas ?? 0,
})

const failureOf = (d: DeploymentView, pods: ReadonlyArray<PodView>): string | undefined => {
  const progressing = d.status?.conditions?.find((c) => c.type === "Progressing")
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded")
    return `Deployment exceeded its progress deadline: ${progressing.message ?? ""}`.trim()
  for (const pod of [...pods].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1))) {
    if (pod.metadata.deletionTimestamp !== undefined) continue
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    for (const c of statuses) {
      const waiting = c.state?.waiting
      if (waiting?.reason !== undefined && FAILING_WAIT_REASONS.has(waiting.reason))
        return `Pod ${pod.metadata.name ?? ""} container ${c.name ?? ""}: ${waiting.reason}${
          waiting.message !== undefined && waiting.message !== "" ? ` (${waiting.message})` : ""
        }`
    }
  }
  return undefined
}

/** docs/languagetool.md §Status, service mode, in the spec's order of precedence. */
export const workloadState = (
  deployment: DeploymentView | undefined,
  pods: ReadonlyArray<PodView>,
  hpaEnabled: boolean,
): WorkloadState => {
  if (deployment === undefined)
    return {
      phase: "Pending",
      reason: "DeploymentNotFound",
      message: "The tool's Deployment does not exist yet",
    }
  const desired = deployment.spec?.replicas ?? 1
  const { readyReplicas: ready, updatedReplicas: updated } = replicaCounts(deployment)
  if (desired === 0 && !hpaEnabled)
    return { phase: "Pending", reason: "ScaledToZero", message: "Scaled to zero (spec.replicas is 0)" }
  const stale = (deployment.status?.observedGeneration ?? 0) < (deployment.metadata.generation ?? 0)
  if (ready > 0 && (updated < desired || stale))
    return {
      phase: "Updating",
      reason: "Updating",
      message: `Rolling out: ${updated} of ${desired} pods updated, ${ready} ready`,
    }
  if (ready > 0)
    return { phase: "Running", reason: "ReconcileSuccess", message: `${ready} of ${desired} pods ready` }
  const failure = failureOf(deployment, pods)
  if (failure !== undefined) return { phase: "Failed", reason: "PodsNotReady", message: failure }
  return {
    phase: "Pending",
    reason: "Pending",
    message: `Waiting for pods to become ready (0 of ${desired} ready)`,
  }
}
