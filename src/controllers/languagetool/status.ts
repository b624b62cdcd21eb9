/**
 * LanguageTool status (docs/languagetool.md §Status, §Conditions). PURE: the plan (decide.ts) and what acting on
 * it observed → the status to write, whether it changed, and the events to record.
 *
 * Guarantees: the phase is always in the kind's enum; `lastUpdateTime` moves only when another status
 * field changed, `lastTransitionTime` only when the phase changed, condition `lastTransitionTime` only on
 * a status flip; feeding the result back as the previous status yields `statusChanged: false` and no
 * event; events are recorded only when the Ready condition's status or reason changes.
 */
import type { LanguageTool, LanguageToolStatus } from "../../api/languagetool.ts"
import type { Condition } from "../../api/shared.ts"
import { canonicalJson } from "../../domain/hash.ts"
import {
  type ConditionInput,
  findCondition,
  reconciledCondition,
  setConditions,
  writeFailureCondition,
} from "../common/conditions.ts"
import { endpointOf } from "./children.ts"
import { Reasons, ROLE_ERROR_REASON, type Role, type ToolInput, type ToolPlan } from "./decide.ts"
import { type DeploymentView, replicaCounts, workloadState } from "./workload.ts"

export interface Observed {
  /** The Deployment as stored after the writes (undefined when absent). */
  readonly deployment: DeploymentView | undefined
  /** Children whose write or deletion failed. */
  readonly errors: ReadonlyArray<{ readonly role: Role; readonly message: string }>
  /** Objects found controlled by someone else while acting (the Cilium FQDN policy). */
  readonly conflicts?: ReadonlyArray<{ readonly role: Role; readonly message: string }> | undefined
}

export interface EventSpec {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface StatusDecision {
  readonly status: LanguageToolStatus
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<EventSpec>
}

const WARNING_REASONS: ReadonlySet<string> = new Set([
  Reasons.InvalidSpec,
  Reasons.InvalidName,
  Reasons.NameConflict,
  "ClusterNamespaceMismatch",
  "PodsNotReady",
  ...Object.values(ROLE_ERROR_REASON),
])

const pdbNote = (tool: LanguageTool): string => {
  const pdb = tool.spec.podDisruptionBudget
  const replicas = tool.spec.horizontalPodAutoscaler?.enabled === true ? undefined : tool.spec.replicas
  return pdb?.minAvailable !== undefined && replicas !== undefined && pdb.minAvailable >= replicas
    ? `; note: the PodDisruptionBudget (minAvailable ${pdb.minAvailable}) allows no voluntary disruption with ${replicas} replica(s), so node drains will block`
    : pdb?.maxUnavailable === 0
      ? "; note: the PodDisruptionBudget (maxUnavailable 0) allows no voluntary disruption, so node drains will block"
      : ""
}

interface Parts {
  readonly phase: LanguageToolStatus["phase"]
  readonly conditions: ReadonlyArray<ConditionInput>
  /** Condition types to drop (not applicable in this mode). */
  readonly drop: ReadonlyArray<string>
  readonly counters: ReturnType<typeof replicaCounts> | undefined
  readonly endpoint: string | undefined
}

const blockedParts = (plan: Extract<ToolPlan, { _tag: "Blocked" }>): Parts => ({
  phase: plan.phase,
  conditions: [
    { type: "Ready", status: "False", reason: plan.reason, message: plan.message },
    { type: "Reconciled", status: "False", reason: Reasons.ReconcileError, message: plan.message },
  ],
  drop: [],
  counters: undefined,
  endpoint: undefined,
})

const reconciledParts = (
  input: ToolInput,
  plan: Extract<ToolPlan, { _tag: "Reconcile" }>,
  observed: Observed,
): Parts => {
  const { tool } = input
  const conflicts = [...plan.conflicts, ...(observed.conflicts ?? [])]
  const reconciled = reconciledCondition({ conflicts, errors: observed.errors })
  const failure = writeFailureCondition({ conflicts, errors: observed.errors }, ROLE_ERROR_REASON)
  const errorOf = (role: Role) => observed.errors.find((e) => e.role === role)

  if (plan.mode === "sidecar") {
    const n = input.embeddingAgents.length
    const message = `Sidecar tool: no workload of its own; embedded by ${n} agent${n === 1 ? "" : "s"}${n > 0 ? ` (${input.embeddingAgents.join(", ")})` : ""}`
    return {
      phase: "Running",
      conditions: [
        failure ?? { type: "Ready", status: "True", reason: Reasons.SidecarMode, message },
        reconciled,
        { type: "WorkloadAvailable", status: "True", reason: Reasons.SidecarMode, message },
        {
          type: "NetworkPolicyReady",
          status: "True",
          reason: Reasons.NotApplicable,
          message:
            "Sidecar tools get no NetworkPolicy; their egress rules apply to each embedding agent's policy",
        },
        {
          type: "AutoscalingReady",
          status: "True",
          reason: Reasons.Disabled,
          message: "No autoscaling in sidecar mode",
        },
      ],
      drop: ["EgressResolved"],
      counters: { readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0, unavailableReplicas: 0 },
      endpoint: endpointOf(input.tool, input.clusterDomain),
    }
  }

  const hpaEnabled = tool.spec.horizontalPodAutoscaler?.enabled === true
  const workload = workloadState(observed.deployment, input.pods, hpaEnabled)
  const npError = errorOf("networkPolicy")
  const npConflict = conflicts.find((c) => c.role === "networkPolicy")
  const hpaError = errorOf("hpa")
  const available = workload.phase === "Running" || workload.phase === "Updating"
  const ready: ConditionInput =
    failure ??
    (workload.phase === "Running"
      ? {
          type: "Ready",
          status: "True",
          reason: Reasons.ReconcileSuccess,
          message: `${workload.message}${pdbNote(tool)}`,
        }
      : { type: "Ready", status: "False", reason: workload.reason, message: workload.message })
  return {
    phase: conflicts.length > 0 ? "Failed" : workload.phase,
    conditions: [
      ready,
      reconciled,
      {
        type: "WorkloadAvailable",
        status: available ? "True" : "False",
        reason: workload.reason,
        message: workload.message,
      },
      npError !== undefined
        ? {
            type: "NetworkPolicyReady",
            status: "False",
            reason: "NetworkPolicyError",
            message: npError.message,
          }
        : npConflict !== undefined
          ? {
              type: "NetworkPolicyReady",
              status: "False",
              reason: Reasons.NameConflict,
              message: npConflict.message,
            }
          : {
              type: "NetworkPolicyReady",
              status: "True",
              reason: Reasons.Applied,
              message: `NetworkPolicy "${tool.metadata.name ?? ""}" applied`,
            },
      ...(input.egress !== undefined ? [input.egress.condition] : []),
      hpaError !== undefined
        ? { type: "AutoscalingReady", status: "False", reason: "AutoscalerError", message: hpaError.message }
        : plan.hpaUnsupported.length > 0
          ? {
              type: "AutoscalingReady",
              status: "False",
              reason: Reasons.UnsupportedMetric,
              message: plan.hpaUnsupported.join("; "),
            }
          : hpaEnabled
            ? {
                type: "AutoscalingReady",
                status: "True",
                reason: Reasons.Applied,
                message: `HorizontalPodAutoscaler "${tool.metadata.name ?? ""}" applied`,
              }
            : {
                type: "AutoscalingReady",
                status: "True",
                reason: Reasons.Disabled,
                message: "Autoscaling is not enabled",
              },
    ],
    drop: [],
    counters: replicaCounts(observed.deployment),
    endpoint: endpointOf(input.tool, input.clusterDomain),
  }
}

/** Discovered tool names when discovery ran, else the previous list (failures leave it unchanged). */
const availableTools = (input: ToolInput, plan: ToolPlan, previous: LanguageToolStatus) => {
  const tools =
    plan._tag === "Reconcile" ? (input.discovery?.tools ?? previous.availableTools) : previous.availableTools
  return tools !== undefined ? { availableTools: tools } : {}
}

/** The status after acting on `plan` (see {@link Observed}), and whether it differs from what was read. */
export const decideStatus = (input: ToolInput, plan: ToolPlan, observed: Observed): StatusDecision => {
  const previous: LanguageToolStatus = input.tool.status ?? {}
  const parts = plan._tag === "Blocked" ? blockedParts(plan) : reconciledParts(input, plan, observed)
  const kept = (previous.conditions ?? []).filter((c) => !parts.drop.includes(c.type))
  const conditions: ReadonlyArray<Condition> = setConditions(
    kept,
    parts.conditions,
    input.tool.metadata.generation,
    input.now,
  )
  const ready = findCondition(conditions, "Ready")
  const counters = parts.counters ?? {
    ...(previous.readyReplicas !== undefined ? { readyReplicas: previous.readyReplicas } : {}),
    ...(previous.availableReplicas !== undefined ? { availableReplicas: previous.availableReplicas } : {}),
    ...(previous.updatedReplicas !== undefined ? { updatedReplicas: previous.updatedReplicas } : {}),
    ...(previous.unavailableReplicas !== undefined
      ? { unavailableReplicas: previous.unavailableReplicas }
      : {}),
  }
  const endpoint = parts.endpoint ?? previous.endpoint
  const core: LanguageToolStatus = {
    ...(input.tool.metadata.generation !== undefined
      ? { observedGeneration: input.tool.metadata.generation }
      : {}),
    ...(parts.phase !== undefined ? { phase: parts.phase } : {}),
    conditions,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...availableTools(input, plan, previous),
    ...counters,
    ...(ready !== undefined ? { message: ready.message, reason: ready.reason } : {}),
  }
  const strip = ({ lastUpdateTime: _u, lastTransitionTime: _t, ...rest }: LanguageToolStatus) => rest
  const changed = canonicalJson(strip(core)) !== canonicalJson(strip(previous))
  const phaseChanged = previous.phase !== core.phase
  const lastTransitionTime = phaseChanged ? input.now : previous.lastTransitionTime
  const lastUpdateTime = changed ? input.now : previous.lastUpdateTime
  const status: LanguageToolStatus = {
    ...core,
    ...(lastUpdateTime !== undefined ? { lastUpdateTime } : {}),
    ...(lastTransitionTime !== undefined ? { lastTransitionTime } : {}),
  }
  const before = findCondition(previous.conditions, "Ready")
  const events: Array<EventSpec> = []
  if (ready !== undefined && (before?.status !== ready.status || before.reason !== ready.reason)) {
    if (ready.status === "True") events.push({ type: "Normal", reason: ready.reason, note: ready.message })
    else if (WARNING_REASONS.has(ready.reason))
      events.push({ type: "Warning", reason: ready.reason, note: ready.message })
  }
  return { status, statusChanged: canonicalJson(status) !== canonicalJson(previous), events }
}
