/**
 * The LanguageAgent status (docs/languageagent.md §Status, §Conditions; docs/concepts.md §7.1). PURE.
 *
 * Guarantees:
 * - The phase is always in the kind's enum; a running workload keeps its phase while a dependency is
 *   awaited (`DependenciesResolved=False` says why).
 * - `Ready=True` iff `Reconciled`, `DependenciesResolved`, `PersonaResolved` and `WorkloadAvailable` are
 *   True; `status.message`/`reason` mirror `Ready`.
 * - Conditions keep `lastTransitionTime` unless their status flips; `lastUpdateTime` changes only when
 *   another status field changes; `changed` is false when the fields the operator owns equal what was
 *   read, so an unchanged agent causes no status write.
 * - Fields the operator does not recompute in a given outcome (replica counts and execution counters
 *   while waiting) are carried over, because a server-side apply would otherwise drop them.
 */
import type { AgentPhase, LanguageAgent, LanguageAgentStatus } from "../../api/languageagent.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { type ConditionInput, findCondition, setConditions } from "../common/conditions.ts"
import { ConditionTypes, READY_MESSAGE, Reasons } from "./names.ts"
import type { ExecutionCounters, UsageStatus, WorkloadState } from "./observe.ts"

/** The status fields this controller owns (everything else is runtime-reported, docs/languageagent.md AG-9). */
const OWNED_KEYS = [
  "observedGeneration",
  "phase",
  "conditions",
  "activeReplicas",
  "readyReplicas",
  "executionCount",
  "successfulExecutions",
  "failedExecutions",
  "lastExecutionTime",
  "lastExecutionResult",
  "currentGoal",
  "metrics",
  "modelUsage",
  "costMetrics",
  "lastUpdateTime",
  "message",
  "reason",
] as const satisfies ReadonlyArray<keyof LanguageAgentStatus>

export type OwnedStatus = Pick<LanguageAgentStatus, (typeof OWNED_KEYS)[number]>

/** The `status.metrics` fields this controller owns (averageIterations, totalToolCalls are runtime-reported). */
const OWNED_METRICS = ["averageExecutionTime", "successRate", "totalTokens"] as const

const pick = <T extends object, K extends keyof T>(
  o: T | undefined,
  keys: ReadonlyArray<K>,
): Partial<Pick<T, K>> =>
  Object.fromEntries(keys.flatMap((k) => (o?.[k] === undefined ? [] : [[k, o[k]]]))) as Partial<Pick<T, K>>

/**
 * Only the owned fields of a status as read (in `metrics` only the owned members), so fields another
 * writer reports are neither compared nor taken over by our server-side apply.
 */
export const ownedPart = (status: LanguageAgentStatus | undefined): OwnedStatus => {
  const owned = pick(status, OWNED_KEYS) as OwnedStatus
  const metrics = pick(status?.metrics, OWNED_METRICS)
  const { metrics: _all, ...rest } = owned
  return Object.keys(metrics).length > 0 ? { ...rest, metrics } : rest
}

export interface StatusEvent {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface StatusResult {
  readonly status: OwnedStatus
  readonly changed: boolean
  readonly events: ReadonlyArray<StatusEvent>
}

/** What a reconcile outcome contributes to the status. */
export interface Outcome {
  /** Conditions besides Ready (Reconciled, DependenciesResolved, …) in any order. */
  readonly conditions: ReadonlyArray<ConditionInput>
  /** Ready=False reason and message; undefined → Ready from the other conditions. */
  readonly failure?: { readonly reason: string; readonly message: string } | undefined
  /** The phase; undefined → keep a running phase, else `Pending` (waits). */
  readonly phase?: AgentPhase | undefined
  /** Recomputed workload numbers; undefined → carried over. */
  readonly workload?: WorkloadState | undefined
  readonly executions?: ExecutionCounters | undefined
  readonly usage?: UsageStatus | undefined
  /** Notes appended to the Ready message (e.g. the default schedule). */
  readonly notes?: ReadonlyArray<string> | undefined
}

const SUMMARY_TYPES = [
  ConditionTypes.Reconciled,
  ConditionTypes.DependenciesResolved,
  ConditionTypes.PersonaResolved,
  ConditionTypes.WorkloadAvailable,
] as const

const withNotes = (message: string, notes: ReadonlyArray<string> | undefined) =>
  [message, ...(notes ?? [])].join("; ")

/** Phase when waiting: a Running/Suspended agent stays so, anything else is Pending. */
const keptPhase = (previous: AgentPhase | undefined): AgentPhase =>
  previous === "Running" || previous === "Suspended" ? previous : "Pending"

export const decideStatus = (agent: LanguageAgent, outcome: Outcome, now: string): StatusResult => {
  const previous = ownedPart(agent.status)
  const generation = agent.metadata.generation
  let conditions = setConditions(previous.conditions, outcome.conditions, generation, now)
  const notReady = SUMMARY_TYPES.map((t) => findCondition(conditions, t)).find((c) => c?.status !== "True")
  const ready: ConditionInput =
    outcome.failure !== undefined
      ? { type: ConditionTypes.Ready, status: "False", ...outcome.failure }
      : notReady === undefined
        ? {
            type: ConditionTypes.Ready,
            status: "True",
            reason: Reasons.ReconcileSuccess,
            message: withNotes(READY_MESSAGE, outcome.notes),
          }
        : {
            type: ConditionTypes.Ready,
            status: "False",
            reason: Reasons.WorkloadNotAvailable,
            message: withNotes(notReady?.message ?? "", outcome.notes),
          }
  conditions = setConditions(conditions, [ready], generation, now)
  const phase = outcome.phase ?? outcome.workload?.phase ?? keptPhase(previous.phase)
  const executions = outcome.executions
  const usage = outcome.usage
  const metrics = {
    ...previous.metrics,
    ...(executions?.averageExecutionTime !== undefined
      ? { averageExecutionTime: executions.averageExecutionTime }
      : {}),
    ...(executions?.successRate !== undefined ? { successRate: executions.successRate } : {}),
    ...(usage?.totalTokens !== undefined ? { totalTokens: usage.totalTokens } : {}),
  }
  const goal = agent.spec.goal
  const { averageExecutionTime: _a, successRate: _s, ...counters } = executions ?? {}
  const next: OwnedStatus = {
    ...previous,
    observedGeneration: generation ?? previous.observedGeneration ?? 0,
    phase,
    conditions,
    ...(outcome.workload !== undefined
      ? { activeReplicas: outcome.workload.activeReplicas, readyReplicas: outcome.workload.readyReplicas }
      : {}),
    ...counters,
    ...(goal !== undefined && goal !== "" ? { currentGoal: goal } : {}),
    ...(Object.keys(metrics).length > 0 ? { metrics } : {}),
    ...(usage?.modelUsage !== undefined ? { modelUsage: usage.modelUsage } : {}),
    ...(usage?.costMetrics !== undefined ? { costMetrics: usage.costMetrics } : {}),
    message: ready.message,
    reason: ready.reason,
  }
  if (goal === undefined || goal === "") delete (next as { currentGoal?: string }).currentGoal
  const { lastUpdateTime: _prevTime, ...prevRest } = previous
  const { lastUpdateTime: _nextTime, ...nextRest } = next
  const changed = canonicalJson(prevRest) !== canonicalJson(nextRest)
  const status: OwnedStatus = { ...next, ...(changed ? { lastUpdateTime: now } : {}) }
  const before = findCondition(previous.conditions, ConditionTypes.Ready)
  const events: Array<StatusEvent> =
    before?.status === ready.status && before.reason === ready.reason
      ? []
      : [
          {
            // A workload that is still starting is news, not a problem.
            type:
              ready.status === "True" || (ready.reason === Reasons.WorkloadNotAvailable && phase !== "Failed")
                ? "Normal"
                : "Warning",
            reason: ready.reason,
            note: ready.message,
          },
        ]
  return { status, changed, events }
}
