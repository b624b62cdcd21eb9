/**
 * LanguageAgent decisions (docs/languageagent.md §Reconcile sequence). PURE: one gathered input → what to
 * write, and a pure `finish` that turns what act managed to do into the status and the requeue.
 *
 * The sequence: validate statically (→ `Failed`, no requeue) → cluster membership (wait or fail) →
 * dependencies and persona (wait or fail; an existing workload is neither updated nor deleted) → the
 * ordered steps of plan.ts → status. Waits requeue after the dependency wait; DNS-derived egress after
 * the DNS refresh interval.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { EgressWorld } from "../../network/peers.ts"
import type { EgressSettings } from "../../network/settings.ts"
import { type ClusterView, clusterLabelOf, decideMembership } from "../common/cluster-membership.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { type Lookups, resolveDependencies } from "./dependencies.ts"
import { ConditionTypes, DEFAULT_SCHEDULE, Reasons } from "./names.ts"
import {
  countExecutions,
  cronJobState,
  deploymentState,
  type LiveDeployment,
  type LiveJob,
  type LivePod,
  type ModelPricing,
  type ModelUsageSample,
  usageStatus,
} from "./observe.ts"
import { type ChildDelete, type LiveChildren, type Plan, planChildren, type Step } from "./plan.ts"
import { decideStatus, type Outcome, type StatusResult } from "./status.ts"
import { validateAgent, validationMessage, validationReason } from "./validate.ts"

export interface AgentSettings {
  readonly clusterDomain: string
  readonly egress: EgressSettings
  readonly otlpEndpoint: string | undefined
  readonly defaultFsGroup: number | undefined
}

export interface AgentInput {
  readonly agent: LanguageAgent
  /** The LanguageCluster named by `spec.clusterRef`, as found (undefined = not found or no clusterRef). */
  readonly cluster: ClusterView | undefined
  readonly lookups: Lookups
  /** resourceVersion of each Secret the pod reads through env, by name (config hash). */
  readonly secretVersions: Readonly<Record<string, string>>
  /** resourceVersion ("missing" when absent) of each ConfigMap the pod reads through env, by name. */
  readonly configMapVersions?: Readonly<Record<string, string>> | undefined
  readonly live: LiveChildren
  /** Jobs of the live CronJob (scheduled mode). */
  readonly jobs: ReadonlyArray<LiveJob>
  /** Pods of the agent (failure detection in Deployment modes). */
  readonly pods: ReadonlyArray<LivePod>
  readonly world: EgressWorld
  /**
   * Why the workload (Deployment or CronJob) could not be read, when its GET failed with anything but
   * NotFound: its state is unknown, so the phase is `Unknown` and it is neither written nor deleted
   * (without the read, an object of someone else with its name could not be told apart).
   */
  readonly workloadUnreadable?: string | undefined
  /** Usage attribution is on and the agent's models are resolved (samples are read every reconcile). */
  readonly usageAttribution?: boolean | undefined
  /** Usage attribution samples (empty without attribution, docs/languageagent.md AG-12). */
  readonly usage: ReadonlyArray<ModelUsageSample>
  readonly settings: AgentSettings
  /** RFC 3339, seconds precision. */
  readonly now: string
}

export type Requeue = "none" | "dependencyWait" | "dnsRefresh"

/** What act managed to do. */
export interface ActOutcome {
  /** The step that failed (or stopped on a NameConflict), with the error text. */
  readonly failed?:
    | {
        readonly step: Step
        readonly message: string
        readonly terminal: boolean
        /** Stopped on an object of ours controlled by someone else, found while acting (the FQDN policy). */
        readonly conflict?: boolean | undefined
      }
    | undefined
  /** The storage increase of the workspace PVC was rejected (WorkspaceResizeFailed). */
  readonly resizeFailed?: string | undefined
  readonly deleted?: ReadonlyArray<ChildDelete> | undefined
}

export interface Finish {
  readonly status: StatusResult
  readonly requeue: Requeue
  /**
   * Read the usage counters again after the scrape interval (usage attribution on, workload applied):
   * nothing the operator watches changes when a model proxy counts requests, so without this the
   * usage would lag by up to the resync period.
   */
  readonly refreshUsage: boolean
}

export interface AgentDecision {
  readonly addFinalizer: boolean
  /** Undefined when nothing is applied (invalid spec, membership or dependencies blocked). */
  readonly plan: Plan | undefined
  readonly finish: (outcome: ActOutcome) => Finish
}

const cond = (
  type: string,
  status: "True" | "False" | "Unknown",
  reason: string,
  message: string,
): ConditionInput => ({
  type,
  status,
  reason,
  message,
})

const notReconciled = (message: string) =>
  cond(ConditionTypes.Reconciled, "False", Reasons.ReconcileError, message)

/** Ready-message notes: defaults the controller applied and spec parts it ignores. */
export const readyNotes = (agent: LanguageAgent): ReadonlyArray<string> => {
  const mode = agent.spec.executionMode
  return [
    ...(mode === "scheduled" && (agent.spec.schedule ?? "").trim() === ""
      ? [`spec.schedule is empty; running hourly ("${DEFAULT_SCHEDULE}")`]
      : []),
    ...(mode !== "event-driven" && (agent.spec.eventTriggers ?? []).length > 0
      ? [`spec.eventTriggers ignored in ${mode} mode`]
      : []),
  ]
}

const statusOnly = (input: AgentInput, outcome: Outcome, requeue: Requeue): AgentDecision => ({
  addFinalizer: true,
  plan: undefined,
  finish: () => ({ status: decideStatus(input.agent, outcome, input.now), requeue, refreshUsage: false }),
})

const pricingOf = (input: AgentInput, models: ReadonlyArray<{ name: string; namespace: string }>) =>
  models.flatMap((m): ReadonlyArray<ModelPricing> => {
    const tracking = input.lookups.model(m.namespace, m.name)?.spec.costTracking
    return tracking === undefined
      ? []
      : [
          {
            namespace: m.namespace,
            name: m.name,
            enabled: tracking.enabled,
            currency: tracking.currency,
            inputTokenCost: tracking.inputTokenCost,
            outputTokenCost: tracking.outputTokenCost,
          },
        ]
  })

export const decide = (input: AgentInput): AgentDecision => {
  const { agent } = input
  const issues = validateAgent(agent)
  if (issues.length > 0)
    return statusOnly(
      input,
      {
        conditions: [notReconciled("The spec is invalid; nothing was applied")],
        failure: { reason: validationReason(issues), message: validationMessage(issues) },
        phase: "Failed",
      },
      "none",
    )

  const namespace = agent.metadata.namespace ?? ""
  const membership = decideMembership(agent.spec.clusterRef, namespace, input.cluster)
  if (membership._tag === "Blocked")
    return statusOnly(
      input,
      {
        conditions: [
          cond(ConditionTypes.DependenciesResolved, "False", membership.reason, membership.message),
          notReconciled(
            membership.wait ? "Waiting for the LanguageCluster" : "Not a member of the LanguageCluster",
          ),
        ],
        failure: { reason: membership.reason, message: membership.message },
        phase: membership.wait ? undefined : "Failed",
      },
      membership.wait ? "dependencyWait" : "none",
    )

  const resolution = resolveDependencies(agent, input.lookups, input.settings.clusterDomain)
  const deps = resolution.dependencies
  const persona = resolution.persona
  const dependencyCondition = deps.ok
    ? cond(ConditionTypes.DependenciesResolved, "True", Reasons.Resolved, deps.message)
    : cond(ConditionTypes.DependenciesResolved, "False", deps.reason, deps.message)
  const personaCondition = persona.ok
    ? cond(ConditionTypes.PersonaResolved, "True", persona.reason, persona.message)
    : cond(ConditionTypes.PersonaResolved, "False", persona.reason, persona.message)
  if (!deps.ok || !persona.ok) {
    const blocked = [deps, persona].flatMap((o) => (o.ok ? [] : [o]))
    const first = blocked[0]
    const fails = blocked.some((b) => !b.wait)
    return statusOnly(
      input,
      {
        conditions: [
          dependencyCondition,
          personaCondition,
          notReconciled(
            fails
              ? "A dependency cannot be used; generated objects were not updated"
              : "Waiting for dependencies; generated objects were not updated",
          ),
        ],
        failure: first === undefined ? undefined : { reason: first.reason, message: first.message },
        phase: fails ? "Failed" : undefined,
      },
      blocked.some((b) => b.wait) ? "dependencyWait" : "none",
    )
  }

  const planned = planChildren({
    agent,
    resolved: { models: deps.models, tools: deps.tools, sidecars: deps.sidecars, persona: persona.persona },
    clusterLabel: clusterLabelOf(membership),
    live: input.live,
    secretVersions: input.secretVersions,
    configMapVersions: input.configMapVersions,
    world: input.world,
    clusterDomain: input.settings.clusterDomain,
    egress: input.settings.egress,
    otlpEndpoint: input.settings.otlpEndpoint,
    defaultFsGroup: input.settings.defaultFsGroup,
  })
  const scheduled = agent.spec.executionMode === "scheduled"
  const unreadable = input.workloadUnreadable
  const plan =
    unreadable === undefined
      ? planned
      : { ...planned, steps: planned.steps.filter((step) => step.name !== "Workload") }

  const finish = (outcome: ActOutcome): Finish => {
    const failed = outcome.failed
    const stepIndex = failed === undefined ? plan.steps.length : plan.steps.indexOf(failed.step)
    const reached = (name: Step["name"]) => plan.steps.findIndex((s) => s.name === name) < stepIndex
    const failedAt = (name: Step["name"]) => failed?.step.name === name
    const conflicted =
      failed !== undefined && (failed.conflict === true || failed.step.conflict !== undefined)
    const workload = scheduled
      ? cronJobState(agent.spec.replicas === 0, input.jobs)
      : deploymentState(agent.spec.replicas, input.live.deployment as LiveDeployment | undefined, input.pods)
    const conditions: Array<ConditionInput> = [dependencyCondition, personaCondition]
    if (reached("Workspace"))
      conditions.push(
        outcome.resizeFailed !== undefined
          ? cond(ConditionTypes.WorkspaceReady, "False", Reasons.WorkspaceResizeFailed, outcome.resizeFailed)
          : plan.workspace.condition,
      )
    else if (failedAt("Workspace") && failed !== undefined)
      conditions.push(cond(ConditionTypes.WorkspaceReady, "False", Reasons.PVCError, failed.message))
    if (reached("NetworkPolicy")) {
      conditions.push(
        cond(ConditionTypes.NetworkPolicyReady, "True", Reasons.Applied, "NetworkPolicy applied"),
      )
      conditions.push(plan.egress.condition)
    } else if (failedAt("NetworkPolicy") && failed !== undefined)
      conditions.push(
        cond(
          ConditionTypes.NetworkPolicyReady,
          "False",
          conflicted ? Reasons.NameConflict : Reasons.NetworkPolicyError,
          failed.message,
        ),
      )
    if (unreadable !== undefined)
      conditions.push(
        cond(
          ConditionTypes.WorkloadAvailable,
          "Unknown",
          scheduled ? Reasons.CronJobError : Reasons.DeploymentError,
          `${unreadable}; the workload's state is unknown`,
        ),
      )
    else if (reached("Workload")) conditions.push(workload.condition)
    else if (failedAt("Workload") && failed !== undefined)
      conditions.push(cond(ConditionTypes.WorkloadAvailable, "False", failed.step.reason, failed.message))
    conditions.push(
      failed === undefined
        ? cond(
            ConditionTypes.Reconciled,
            "True",
            Reasons.ReconcileSuccess,
            "All generated objects are applied",
          )
        : notReconciled(failed.message),
    )
    const failure =
      failed === undefined
        ? undefined
        : {
            reason: conflicted ? Reasons.NameConflict : failed.step.reason,
            message: failed.message,
          }
    const usage = input.usage.length > 0 ? usageStatus(input.usage, pricingOf(input, deps.models)) : undefined
    const status = decideStatus(
      agent,
      {
        conditions,
        failure,
        phase:
          failed !== undefined
            ? failed.terminal
              ? "Failed"
              : undefined
            : unreadable !== undefined
              ? "Unknown"
              : workload.phase,
        workload: reached("Workload") && unreadable === undefined ? workload : undefined,
        executions: scheduled
          ? countExecutions(
              {
                ...agent.status,
                ...(agent.status?.metrics?.averageExecutionTime !== undefined
                  ? { averageExecutionTime: agent.status.metrics.averageExecutionTime }
                  : {}),
              },
              input.jobs,
            )
          : undefined,
        usage,
        notes: readyNotes(agent),
      },
      input.now,
    )
    // An unreadable workload is read again soon, like a dependency being waited for.
    const requeue: Requeue =
      conflicted || unreadable !== undefined
        ? "dependencyWait"
        : plan.egress.requeueForDns
          ? "dnsRefresh"
          : "none"
    return { status, requeue, refreshUsage: input.usageAttribution === true && failed === undefined }
  }
  return { addFinalizer: true, plan, finish }
}
