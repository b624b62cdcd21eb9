/**
 * LanguageTool decisions (languagetool.md §Reconcile sequence, §Validation, §Status, §Conditions). PURE.
 *
 * `decide(input)` → a plan: finalizer, validation/membership block, the desired children (each with the
 * live object it is compared with), the children to delete (a service-mode leftover after switching to
 * sidecar mode, a PDB/HPA no longer configured), and name conflicts. `decideStatus(input, plan, observed)`
 * → the status after acting, from the Deployment as it is after the writes.
 *
 * Guarantees:
 * - A child controlled by another object is never written or deleted (`NameConflict`); only children we
 *   control are deleted.
 * - With nothing changed nothing is written: children whose live object already matches are marked
 *   unchanged (see common/apply.ts), and `statusChanged` is false; `lastUpdateTime` moves only when
 *   another status field changed and `lastTransitionTime` only when the phase changed.
 */
import type { LanguageTool, LanguageToolStatus } from "../../api/languagetool.ts"
import type { Condition } from "../../api/shared.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, type ResourceDescriptor } from "../../kube/resources.ts"
import type { EgressPolicyResult } from "../../network/policy.ts"
import { needsApply, withAppliedHash } from "../common/apply.ts"
import { type ClusterView, clusterLabelOf, decideMembership } from "../common/cluster-membership.ts"
import { type ConditionInput, findCondition, setConditions } from "../common/conditions.ts"
import { canonicalJson } from "../common/hash.ts"
import { FINALIZER } from "../common/labels.ts"
import { ownershipOf } from "../common/ownership.ts"
import {
  configMapName,
  desiredConfigMap,
  desiredDeployment,
  desiredHpa,
  desiredPdb,
  desiredService,
  type EnvSourceVersion,
  endpointOf,
  ownedNetworkPolicy,
} from "./children.ts"
import { type DeploymentView, type PodView, replicaCounts, workloadState } from "./workload.ts"

export const Reasons = {
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  SidecarMode: "SidecarMode",
  InvalidSpec: "InvalidSpec",
  InvalidName: "InvalidName",
  NameConflict: "NameConflict",
  Applied: "Applied",
  NotApplicable: "NotApplicable",
  Disabled: "Disabled",
  UnsupportedMetric: "UnsupportedMetric",
} as const

export type Role = "configMap" | "deployment" | "service" | "pdb" | "hpa" | "networkPolicy"

export const ROLE_RESOURCE: Readonly<Record<Role, ResourceDescriptor>> = {
  configMap: Builtin.ConfigMap,
  deployment: Builtin.Deployment,
  service: Builtin.Service,
  pdb: Builtin.PodDisruptionBudget,
  hpa: Builtin.HorizontalPodAutoscaler,
  networkPolicy: Builtin.NetworkPolicy,
}

/** Ready reason when writing a child of that role failed. */
export const ROLE_ERROR_REASON: Readonly<Record<Role, string>> = {
  configMap: "ConfigMapError",
  deployment: "DeploymentError",
  service: "ServiceError",
  pdb: "PodDisruptionBudgetError",
  hpa: "AutoscalerError",
  networkPolicy: "NetworkPolicyError",
}

const SERVICE_ROLES: ReadonlyArray<Role> = ["deployment", "service", "pdb", "hpa", "networkPolicy"]

export type LiveChildren = Partial<Readonly<Record<Role, KubeObject>>>

export interface ToolInput {
  readonly tool: LanguageTool
  /** The LanguageCluster named by `spec.clusterRef`, if found. */
  readonly cluster: ClusterView | undefined
  readonly live: LiveChildren
  /** Pods of the tool's Deployment (failure detection). */
  readonly pods: ReadonlyArray<PodView>
  /** Names of the agents in this namespace whose enabled `toolRefs` name this tool, sorted. */
  readonly embeddingAgents: ReadonlyArray<string>
  /** ConfigMaps/Secrets the container env reads, with their versions (config hash). */
  readonly envSources: ReadonlyArray<EnvSourceVersion>
  /** The egress policy from src/network (service mode, not blocked); undefined otherwise. */
  readonly egress: EgressPolicyResult | undefined
  readonly clusterDomain: string
  /**
   * Present when MCP tool discovery is active for this tool (setting on, mcp, service mode, a ready
   * replica): the discovered names, or undefined when unknown (the status keeps its previous list).
   */
  readonly discovery?: { readonly tools: ReadonlyArray<string> | undefined } | undefined
  /** RFC 3339 now. */
  readonly now: string
}

export interface ChildApply {
  readonly role: Role
  readonly desired: KubeObject
  readonly live: KubeObject | undefined
  /** False when the live object already matches (no write). */
  readonly changed: boolean
}

export interface ChildDelete {
  readonly role: Role
  readonly name: string
  readonly uid: string | undefined
}

export type ToolPlan =
  | {
      readonly _tag: "Blocked"
      readonly addFinalizer: boolean
      readonly reason: string
      readonly message: string
      readonly phase: "Pending" | "Failed"
      /** Requeue after the dependency wait (cluster missing / not Ready). */
      readonly wait: boolean
    }
  | {
      readonly _tag: "Reconcile"
      readonly addFinalizer: boolean
      readonly mode: "service" | "sidecar"
      readonly apply: ReadonlyArray<ChildApply>
      readonly delete: ReadonlyArray<ChildDelete>
      readonly conflicts: ReadonlyArray<{ readonly role: Role; readonly message: string }>
      readonly hpaUnsupported: ReadonlyArray<string>
      /** Requeue after the DNS refresh interval (the policy has DNS-derived peers). */
      readonly requeueDns: boolean
      /** Requeue after the discovery interval (MCP tool discovery is active). */
      readonly rediscover: boolean
    }

// ---------------------------------------------------------------------------------------------------------
// Validation (§Validation; the webhook denies the same, objects stored without it are reported)

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/u

export const validate = (
  tool: LanguageTool,
): { readonly reason: "InvalidName" | "InvalidSpec"; readonly message: string } | undefined => {
  const name = tool.metadata.name ?? ""
  const sidecar = tool.spec.deploymentMode === "sidecar"
  const max = sidecar ? 58 : 63
  if (!DNS1035_LABEL.test(name) || name.length > max)
    return {
      reason: "InvalidName",
      message: `metadata.name "${name}" must be a DNS-1035 label (lower case letters, digits and '-', starting with a letter) of at most ${max} characters${sidecar ? " in sidecar mode (container name tool-<name> ≤ 63)" : " (it names a Service)"}`,
    }
  const problems: Array<string> = []
  const pdb = tool.spec.podDisruptionBudget
  if (pdb?.minAvailable !== undefined && pdb.maxUnavailable !== undefined)
    problems.push("spec.podDisruptionBudget: set at most one of minAvailable and maxUnavailable")
  const strategy = tool.spec.updateStrategy
  if (strategy?.type === "Recreate" && strategy.rollingUpdate !== undefined)
    problems.push("spec.updateStrategy.rollingUpdate: only allowed with type RollingUpdate")
  const hpa = tool.spec.horizontalPodAutoscaler
  if (hpa !== undefined && hpa.minReplicas > hpa.maxReplicas)
    problems.push("spec.horizontalPodAutoscaler.minReplicas: must be less than or equal to maxReplicas")
  return problems.length === 0 ? undefined : { reason: "InvalidSpec", message: problems.join("; ") }
}

// ---------------------------------------------------------------------------------------------------------
// Plan

/** Children the tool wants in its current mode and spec (gather GETs these on a cache miss). */
export const wantedRoles = (tool: LanguageTool): ReadonlyArray<Role> => {
  if (tool.spec.deploymentMode === "sidecar") return ["configMap"]
  return [
    "configMap",
    "deployment",
    "service",
    ...(tool.spec.podDisruptionBudget !== undefined ? (["pdb"] as const) : []),
    ...(tool.spec.horizontalPodAutoscaler?.enabled === true ? (["hpa"] as const) : []),
    "networkPolicy",
  ]
}

const nameOfRole = (tool: LanguageTool, role: Role): string =>
  role === "configMap" ? configMapName(tool.metadata.name ?? "") : (tool.metadata.name ?? "")

export const decide = (input: ToolInput): ToolPlan => {
  const { tool } = input
  const addFinalizer = !(tool.metadata.finalizers ?? []).includes(FINALIZER)
  const invalid = validate(tool)
  if (invalid !== undefined)
    return { _tag: "Blocked", addFinalizer, ...invalid, phase: "Failed", wait: false }
  const membership = decideMembership(tool.spec.clusterRef, tool.metadata.namespace ?? "", input.cluster)
  if (membership._tag === "Blocked")
    return {
      _tag: "Blocked",
      addFinalizer,
      reason: membership.reason,
      message: membership.message,
      phase: membership.wait ? "Pending" : "Failed",
      wait: membership.wait,
    }
  const cluster = clusterLabelOf(membership)
  const uid = tool.metadata.uid ?? ""
  const sidecar = tool.spec.deploymentMode === "sidecar"
  const hpa = sidecar ? { object: undefined, unsupported: [] } : desiredHpa(tool, cluster)
  const policy =
    sidecar || input.egress === undefined ? undefined : ownedNetworkPolicy(tool, cluster, input.egress.policy)
  const desired: ReadonlyArray<readonly [Role, KubeObject | undefined]> = [
    ["configMap", desiredConfigMap(tool, cluster)],
    ...(sidecar
      ? []
      : ([
          ["deployment", desiredDeployment(tool, cluster, input.envSources)],
          ["service", desiredService(tool, cluster)],
          ["pdb", desiredPdb(tool, cluster)],
          ["hpa", hpa.object],
          ["networkPolicy", policy],
        ] as const)),
  ]
  const apply: Array<ChildApply> = []
  const conflicts: Array<{ role: Role; message: string }> = []
  const wanted = new Set<Role>()
  for (const [role, object] of desired) {
    if (object === undefined) continue
    wanted.add(role)
    const live = input.live[role]
    const owner = ownershipOf(live, uid)
    if (owner._tag === "Foreign") {
      conflicts.push({
        role,
        message: `${object.kind} "${object.metadata.name}" is controlled by ${owner.kind} "${owner.name}"; rename one of them`,
      })
      continue
    }
    const complete = withAppliedHash(object)
    apply.push({ role, desired: complete, live, changed: needsApply(complete, live) })
  }
  const deletions: Array<ChildDelete> = []
  for (const role of SERVICE_ROLES) {
    const live = input.live[role]
    if (wanted.has(role) || live === undefined || ownershipOf(live, uid)._tag !== "Ours") continue
    deletions.push({ role, name: nameOfRole(tool, role), uid: live.metadata.uid })
  }
  return {
    _tag: "Reconcile",
    addFinalizer,
    mode: sidecar ? "sidecar" : "service",
    apply,
    delete: deletions,
    conflicts,
    hpaUnsupported: hpa.unsupported,
    requeueDns: !sidecar && input.egress?.hasDnsPeers === true,
    rediscover: !sidecar && input.discovery !== undefined,
  }
}

// ---------------------------------------------------------------------------------------------------------
// Status

export interface Observed {
  /** The Deployment as stored after the writes (undefined when absent). */
  readonly deployment: DeploymentView | undefined
  /** Children whose write or deletion failed. */
  readonly errors: ReadonlyArray<{ readonly role: Role; readonly message: string }>
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
  const problems = [...plan.conflicts.map((c) => c.message), ...observed.errors.map((e) => e.message)]
  const reconciled: ConditionInput =
    problems.length === 0
      ? {
          type: "Reconciled",
          status: "True",
          reason: Reasons.ReconcileSuccess,
          message: "All generated objects applied",
        }
      : { type: "Reconciled", status: "False", reason: Reasons.ReconcileError, message: problems.join("; ") }
  const firstError = observed.errors[0]
  const failure: ConditionInput | undefined =
    plan.conflicts.length > 0
      ? {
          type: "Ready",
          status: "False",
          reason: Reasons.NameConflict,
          message: plan.conflicts.map((c) => c.message).join("; "),
        }
      : firstError !== undefined
        ? {
            type: "Ready",
            status: "False",
            reason: ROLE_ERROR_REASON[firstError.role],
            message: firstError.message,
          }
        : undefined
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
  const npConflict = plan.conflicts.find((c) => c.role === "networkPolicy")
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
    phase: plan.conflicts.length > 0 ? "Failed" : workload.phase,
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
