/**
 * LanguageTool decisions (docs/languagetool.md §Reconcile sequence, §Validation, §Service mode, §Sidecar mode).
 * PURE: `decide(input)` → a plan: finalizer, validation/membership block, the desired children (each with
 * the live object it is compared with), the children to delete (a service-mode leftover after switching
 * to sidecar mode, a PDB/HPA no longer configured), and name conflicts. The status after acting on the plan
 * is status.ts's `decideStatus`.
 *
 * Guarantees:
 * - A child controlled by another object is never written or deleted (`NameConflict`); only children we
 *   control are deleted.
 * - With nothing changed nothing is written: children whose live object already matches are marked
 *   unchanged (see common/apply.ts).
 */
import type { LanguageTool } from "../../api/languagetool.ts"
import { FINALIZER } from "../../domain/labels.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, type ResourceDescriptor } from "../../kube/resources.ts"
import type { EgressPolicyResult } from "../../network/policy.ts"
import { needsApply, withAppliedHash } from "../common/apply.ts"
import { type ClusterView, clusterLabelOf, decideMembership } from "../common/cluster-membership.ts"
import { ownershipOf } from "../common/ownership.ts"
import {
  configMapName,
  desiredConfigMap,
  desiredDeployment,
  desiredHpa,
  desiredPdb,
  desiredService,
  type EnvSourceVersion,
  ownedNetworkPolicy,
} from "./children.ts"
import { validate } from "./validate.ts"
import type { PodView } from "./workload.ts"

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
      /** Requeue after the DNS refresh interval (DNS-derived peers, or names that failed to resolve). */
      readonly requeueDns: boolean
      /** Requeue after the discovery interval (MCP tool discovery is active). */
      readonly rediscover: boolean
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
    requeueDns: !sidecar && input.egress?.requeueForDns === true,
    rediscover: !sidecar && input.discovery !== undefined,
  }
}
