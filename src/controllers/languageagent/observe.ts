/**
 * What the agent's workload reports back (docs/languageagent.md §Status, §Cost and usage). PURE.
 *
 * - Deployment modes: phase and `WorkloadAvailable` from the Deployment's status and conditions and from
 *   its Pods' waiting reasons (including injected native sidecars), replica counts from the Deployment.
 * - Scheduled mode: phase from the CronJob; active/ready from its unfinished Jobs; execution counters
 *   advanced by every finished Job whose finish time is later than `lastExecutionTime`, in finish-time
 *   order, so counting stays right although the CronJob keeps only a few Jobs.
 * - Usage attribution (docs/languageagent.md AG-12): per-model usage summed into `modelUsage`, `metrics.totalTokens` and
 *   `costMetrics`.
 */
import type {
  AgentCostMetrics,
  AgentPhase,
  LanguageAgentStatus,
  ModelUsage,
} from "../../api/languageagent.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { ConditionTypes, Reasons } from "./names.ts"

type Cond = {
  readonly type?: string
  readonly status?: string
  readonly reason?: string
  readonly message?: string
  readonly lastTransitionTime?: string
}

export interface LiveDeployment {
  readonly status?: {
    readonly replicas?: number
    readonly readyReplicas?: number
    readonly availableReplicas?: number
    readonly conditions?: ReadonlyArray<Cond>
  }
}

export interface LiveJob {
  readonly metadata: { readonly name?: string }
  readonly status?: {
    readonly startTime?: string
    readonly completionTime?: string
    readonly ready?: number
    readonly conditions?: ReadonlyArray<Cond>
  }
}

type ContainerStatus = {
  readonly name?: string
  readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string } }
}

export interface LivePod {
  readonly metadata: { readonly name?: string }
  readonly status?: {
    readonly containerStatuses?: ReadonlyArray<ContainerStatus>
    readonly initContainerStatuses?: ReadonlyArray<ContainerStatus>
  }
}

export interface WorkloadState {
  readonly phase: AgentPhase
  readonly condition: ConditionInput
  readonly activeReplicas: number
  readonly readyReplicas: number
}

/** Waiting reasons that mean the Pod will not start without a change (§Status). */
export const FAILING_WAIT_REASONS: ReadonlySet<string> = new Set([
  "CrashLoopBackOff",
  "ImagePullBackOff",
  "ErrImagePull",
  "CreateContainerConfigError",
  "InvalidImageName",
])

const available = (reason: string, message: string): ConditionInput => ({
  type: ConditionTypes.WorkloadAvailable,
  status: "True",
  reason,
  message,
})
const unavailable = (reason: string, message: string): ConditionInput => ({
  type: ConditionTypes.WorkloadAvailable,
  status: "False",
  reason,
  message,
})

const isTrue = (conds: ReadonlyArray<Cond> | undefined, type: string) =>
  conds?.find((c) => c.type === type)?.status === "True"

const failingPod = (pods: ReadonlyArray<LivePod>): string | undefined => {
  for (const pod of [...pods].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1))) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
    for (const s of statuses) {
      const waiting = s.state?.waiting
      if (waiting?.reason !== undefined && FAILING_WAIT_REASONS.has(waiting.reason))
        return `pod ${pod.metadata.name ?? ""} container ${s.name ?? ""}: ${waiting.reason}${waiting.message !== undefined && waiting.message !== "" ? `: ${waiting.message}` : ""}`
    }
  }
  return undefined
}

export const deploymentState = (
  replicas: number,
  deployment: LiveDeployment | undefined,
  pods: ReadonlyArray<LivePod>,
): WorkloadState => {
  const status = deployment?.status
  const counts = { activeReplicas: status?.replicas ?? 0, readyReplicas: status?.readyReplicas ?? 0 }
  if (replicas === 0)
    return { phase: "Suspended", condition: available(Reasons.Suspended, "Scaled to 0 replicas"), ...counts }
  const availableReplicas = status?.availableReplicas ?? 0
  if (availableReplicas >= 1)
    return {
      phase: "Running",
      condition: available(Reasons.Available, `${availableReplicas} of ${replicas} replicas available`),
      ...counts,
    }
  const conds = status?.conditions
  const replicaFailure = conds?.find((c) => c.type === "ReplicaFailure" && c.status === "True")
  if (replicaFailure !== undefined)
    return {
      phase: "Failed",
      condition: unavailable(
        Reasons.PodsFailing,
        replicaFailure.message ?? replicaFailure.reason ?? "ReplicaFailure",
      ),
      ...counts,
    }
  const progressing = conds?.find((c) => c.type === "Progressing")
  if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded")
    return {
      phase: "Failed",
      condition: unavailable(Reasons.PodsFailing, progressing.message ?? "ProgressDeadlineExceeded"),
      ...counts,
    }
  const failing = failingPod(pods)
  if (failing !== undefined)
    return { phase: "Failed", condition: unavailable(Reasons.PodsFailing, failing), ...counts }
  return {
    phase: "Pending",
    condition: unavailable(Reasons.Progressing, `Waiting for pods to become available (0 of ${replicas})`),
    ...counts,
  }
}

const finished = (job: LiveJob): "Succeeded" | "Failed" | undefined =>
  isTrue(job.status?.conditions, "Complete")
    ? "Succeeded"
    : isTrue(job.status?.conditions, "Failed")
      ? "Failed"
      : undefined

export const cronJobState = (suspended: boolean, jobs: ReadonlyArray<LiveJob>): WorkloadState => {
  const active = jobs.filter((j) => finished(j) === undefined)
  const counts = {
    activeReplicas: active.length,
    readyReplicas: active.reduce((n, j) => n + (j.status?.ready ?? 0), 0),
  }
  return suspended
    ? {
        phase: "Suspended",
        condition: available(Reasons.Suspended, "CronJob is suspended (replicas 0)"),
        ...counts,
      }
    : { phase: "Running", condition: available(Reasons.Scheduled, "CronJob is scheduled"), ...counts }
}

export type ExecutionCounters = Pick<
  LanguageAgentStatus,
  "executionCount" | "successfulExecutions" | "failedExecutions" | "lastExecutionTime" | "lastExecutionResult"
> & { readonly averageExecutionTime?: number; readonly successRate?: number }

const finishTime = (job: LiveJob): string | undefined => {
  const conds = job.status?.conditions ?? []
  const cond = conds.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True")
  return job.status?.completionTime ?? cond?.lastTransitionTime
}

const millis = (t: string | undefined): number => (t === undefined ? Number.NaN : Date.parse(t))

/** Counters after counting every finished Job newer than `previous.lastExecutionTime` (§Status). */
export const countExecutions = (
  previous: ExecutionCounters,
  jobs: ReadonlyArray<LiveJob>,
): ExecutionCounters => {
  const since = millis(previous.lastExecutionTime)
  const fresh = jobs
    .flatMap((job) => {
      const result = finished(job)
      const at = finishTime(job)
      return result === undefined || at === undefined || !(Number.isNaN(since) || millis(at) > since)
        ? []
        : [{ job, result, at }]
    })
    .sort(
      (a, b) =>
        millis(a.at) - millis(b.at) || ((a.job.metadata.name ?? "") < (b.job.metadata.name ?? "") ? -1 : 1),
    )
  let count = previous.executionCount ?? 0
  let ok = previous.successfulExecutions ?? 0
  let failed = previous.failedExecutions ?? 0
  let average = previous.averageExecutionTime
  let last = previous.lastExecutionTime
  let result = previous.lastExecutionResult
  for (const f of fresh) {
    count++
    last = f.at
    if (f.result === "Succeeded") {
      ok++
      result = "Succeeded"
      const seconds = (millis(f.job.status?.completionTime) - millis(f.job.status?.startTime)) / 1000
      if (Number.isFinite(seconds))
        average = average === undefined || ok === 1 ? seconds : average + (seconds - average) / ok
    } else {
      failed++
      const reason = f.job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True")?.reason
      result = `Failed: ${reason ?? "Unknown"}`
    }
  }
  return {
    ...(count > 0 ? { executionCount: count, successfulExecutions: ok, failedExecutions: failed } : {}),
    ...(last !== undefined ? { lastExecutionTime: last } : {}),
    ...(result !== undefined ? { lastExecutionResult: result } : {}),
    ...(average !== undefined ? { averageExecutionTime: average } : {}),
    ...(count > 0 ? { successRate: (ok * 100) / count } : {}),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Usage attribution (docs/languageagent.md AG-12)

/** Per-user counters of one model proxy for this agent (`user` = `<namespace>/<agent>`). */
export interface ModelUsageSample {
  readonly modelNamespace: string
  readonly modelName: string
  readonly requestCount: number
  readonly inputTokens: number
  readonly outputTokens: number
  /** When these counters were first recorded (a proxy restart resets them). */
  readonly since: string
}

export interface ModelPricing {
  readonly namespace: string
  readonly name: string
  readonly enabled: boolean
  readonly currency: string
  readonly inputTokenCost?: number | undefined
  readonly outputTokenCost?: number | undefined
}

export interface UsageStatus {
  readonly modelUsage?: ReadonlyArray<ModelUsage>
  readonly totalTokens?: number
  readonly costMetrics?: AgentCostMetrics
}

/**
 * Sums and prices the samples per model. Models are told apart by namespace AND name: two models called
 * `gpt` in two namespaces are two entries with their own prices, never one sum priced by either.
 */
export const usageStatus = (
  samples: ReadonlyArray<ModelUsageSample>,
  pricing: ReadonlyArray<ModelPricing>,
): UsageStatus => {
  if (samples.length === 0) return {}
  interface Sum {
    readonly namespace: string
    readonly name: string
    readonly requests: number
    readonly input: number
    readonly output: number
  }
  const byModel = new Map<string, Sum>()
  for (const s of samples) {
    const key = `${s.modelNamespace}/${s.modelName}`
    const acc = byModel.get(key) ?? {
      namespace: s.modelNamespace,
      name: s.modelName,
      requests: 0,
      input: 0,
      output: 0,
    }
    byModel.set(key, {
      ...acc,
      requests: acc.requests + s.requestCount,
      input: acc.input + s.inputTokens,
      output: acc.output + s.outputTokens,
    })
  }
  const sums = [...byModel.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, u]) => u)
  const modelUsage: Array<ModelUsage> = sums.map((u) => ({
    modelName: u.name,
    modelNamespace: u.namespace,
    requestCount: u.requests,
    totalTokens: u.input + u.output,
    inputTokens: u.input,
    outputTokens: u.output,
  }))
  const totalTokens = modelUsage.reduce((n, u) => n + u.totalTokens, 0)
  const priced = sums.flatMap((u) => {
    const p = pricing.find((x) => x.namespace === u.namespace && x.name === u.name && x.enabled)
    if (p === undefined) return []
    const cost = (u.input / 1000) * (p.inputTokenCost ?? 0) + (u.output / 1000) * (p.outputTokenCost ?? 0)
    return [{ modelName: u.name, modelNamespace: u.namespace, cost, currency: p.currency }]
  })
  const currencies = new Set(priced.map((p) => p.currency))
  const since = samples.map((s) => s.since).sort()[0]
  const costMetrics: AgentCostMetrics | undefined =
    priced.length === 0
      ? undefined
      : {
          modelCosts: priced.map(({ modelName, modelNamespace, cost }) => ({
            modelName,
            modelNamespace,
            cost,
          })),
          ...(currencies.size === 1
            ? { totalCost: priced.reduce((n, p) => n + p.cost, 0), currency: [...currencies][0] ?? "" }
            : {}),
          ...(since !== undefined ? { lastReset: since } : {}),
        }
  return { modelUsage, totalTokens, ...(costMetrics !== undefined ? { costMetrics } : {}) }
}
