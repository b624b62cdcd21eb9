/**
 * The generated objects of a resolved LanguageAgent, as ordered steps (docs/languageagent.md §Reconcile
 * sequence 6–10): ConfigMap → workspace PVC → Service → ServiceAccount/Role/RoleBinding → NetworkPolicy →
 * workload (Deployment or CronJob; the other kind deleted). PURE.
 *
 * Guarantees:
 * - Each step lists what to apply and what to delete, and the reason reported when it fails.
 * - An existing object controlled by someone else is never written or deleted: its step carries a
 *   `conflict` (NameConflict) instead, and the sequence stops there.
 * - Objects no longer wanted (a Service after a mode change, RBAC after a trigger was removed, the other
 *   workload kind) are deleted only when they are ours; the workspace PVC is never deleted (GC does it).
 * - Every applied object carries `langop.io/applied-hash` (common/apply.ts), so unchanged objects are
 *   not written.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, type ResourceDescriptor } from "../../kube/resources.ts"
import { agentEgressHosts } from "../../network/automatic.ts"
import { policiesEquivalent } from "../../network/compare.ts"
import type { EgressWorld } from "../../network/peers.ts"
import {
  buildEgressPolicy,
  type EgressPolicyResult,
  type EgressRequest,
  MODEL_PROXY_PORT,
} from "../../network/policy.ts"
import type { EgressSettings } from "../../network/settings.ts"
import { withAppliedHash } from "../common/apply.ts"
import { ownershipOf } from "../common/ownership.ts"
import { renderInstructions } from "../languagepersona/render.ts"
import { configMapData } from "./configmap.ts"
import type { ResolvedModel, ResolvedPersona, ResolvedTool } from "./dependencies.ts"
import { agentEnv, tracingActive } from "./env.ts"
import { configMapName, eventsRbacName, Reasons, workloadName } from "./names.ts"
import {
  desiredRole,
  desiredRoleBinding,
  desiredService,
  desiredServiceAccount,
  podServiceAccount,
} from "./support.ts"
import { childMetadata, desiredCronJob, desiredDeployment, type PodInput } from "./workload.ts"
import { decideWorkspace, type LiveClaim, type WorkspaceDecision } from "./workspace.ts"

export interface LiveChildren {
  readonly configMap?: KubeObject | undefined
  readonly claim?: KubeObject | undefined
  readonly deployment?: KubeObject | undefined
  readonly cronJob?: KubeObject | undefined
  readonly service?: KubeObject | undefined
  readonly serviceAccount?: KubeObject | undefined
  readonly role?: KubeObject | undefined
  readonly roleBinding?: KubeObject | undefined
  readonly networkPolicy?: KubeObject | undefined
}

export type StepName = "ConfigMap" | "Workspace" | "Service" | "RBAC" | "NetworkPolicy" | "Workload"

export interface ChildApply {
  readonly resource: ResourceDescriptor
  readonly object: KubeObject
  readonly live: KubeObject | undefined
  /** Semantic equality that makes a write unnecessary even when the hash differs (NetworkPolicy). */
  readonly equivalent?: ((live: KubeObject) => boolean) | undefined
}

export interface ChildDelete {
  readonly resource: ResourceDescriptor
  readonly name: string
  readonly uid: string
}

export interface Step {
  readonly name: StepName
  /** Ready reason when the step fails. */
  readonly reason: string
  readonly applies: ReadonlyArray<ChildApply>
  readonly deletes: ReadonlyArray<ChildDelete>
  /** Set when an object of this step belongs to someone else (NameConflict; nothing is written). */
  readonly conflict?: string | undefined
}

export interface Resolved {
  readonly models: ReadonlyArray<ResolvedModel>
  readonly tools: ReadonlyArray<ResolvedTool>
  readonly sidecars: PodInput["sidecars"]
  readonly persona: ResolvedPersona | undefined
}

export interface PlanInput {
  readonly agent: LanguageAgent
  readonly resolved: Resolved
  readonly clusterLabel: string | undefined
  readonly live: LiveChildren
  /** resourceVersion of each Secret the pod reads through env (memory store, user env/envFrom). */
  readonly secretVersions: Readonly<Record<string, string>>
  readonly configMapVersions?: Readonly<Record<string, string>> | undefined
  readonly world: EgressWorld
  readonly clusterDomain: string
  readonly egress: EgressSettings
  readonly otlpEndpoint: string | undefined
  readonly defaultFsGroup: number | undefined
}

export interface Plan {
  readonly steps: ReadonlyArray<Step>
  readonly workspace: WorkspaceDecision
  readonly egress: EgressPolicyResult
  readonly configData: Readonly<Record<string, string>>
}

/** The egress request of an agent: its rules, sidecar rules, cross-namespace targets and automatic hosts. */
export const agentEgressRequest = (
  agent: LanguageAgent,
  resolved: Pick<Resolved, "models" | "tools">,
  otlpEndpoint: string | undefined,
): EgressRequest => {
  const auto = agentEgressHosts(agent.spec, tracingActive(agent, otlpEndpoint) ? otlpEndpoint : undefined)
  return {
    kind: "LanguageAgent",
    name: agent.metadata.name ?? "",
    namespace: agent.metadata.namespace ?? "",
    egress: agent.spec.egress ?? [],
    sidecars: resolved.tools
      .filter((t) => t.deploymentMode === "sidecar")
      .map((t) => ({ tool: t.name, namespace: t.namespace, egress: t.tool.spec.egress ?? [] })),
    targets: [
      ...resolved.models.map((m) => ({
        kind: "LanguageModel" as const,
        name: m.name,
        namespace: m.namespace,
        port: MODEL_PROXY_PORT,
      })),
      ...resolved.tools
        .filter((t) => t.deploymentMode === "service")
        .map((t) => ({ kind: "LanguageTool" as const, name: t.name, namespace: t.namespace, port: t.port })),
    ],
    hosts: auto.hosts,
    apiServer: auto.apiServer,
    notes: auto.notes,
  }
}

const uidOf = (o: KubeObject | undefined): string => o?.metadata.uid ?? ""

const conflictOf = (agent: LanguageAgent, kind: string, live: KubeObject | undefined): string | undefined => {
  const owner = ownershipOf(live, uidOf(agent as unknown as KubeObject))
  return owner._tag === "Foreign"
    ? `${kind} "${live?.metadata.name ?? ""}" already exists and is controlled by ${owner.kind} "${owner.name}"; rename or delete it`
    : undefined
}

const isOurs = (agent: LanguageAgent, live: KubeObject | undefined): live is KubeObject =>
  ownershipOf(live, uidOf(agent as unknown as KubeObject))._tag === "Ours"

/** One object that is wanted (`desired`) or not (undefined → deleted if ours). */
const child = (
  agent: LanguageAgent,
  resource: ResourceDescriptor,
  desired: KubeObject | undefined,
  live: KubeObject | undefined,
): { applies: Array<ChildApply>; deletes: Array<ChildDelete>; conflict: string | undefined } => {
  if (desired === undefined)
    return {
      applies: [],
      deletes: isOurs(agent, live) ? [{ resource, name: live.metadata.name ?? "", uid: uidOf(live) }] : [],
      conflict: undefined,
    }
  const conflict = conflictOf(agent, resource.kind, live)
  return {
    applies: conflict === undefined ? [{ resource, object: withAppliedHash(desired), live }] : [],
    deletes: [],
    conflict,
  }
}

const merge = (name: StepName, reason: string, parts: ReadonlyArray<ReturnType<typeof child>>): Step => ({
  name,
  reason,
  applies: parts.flatMap((p) => p.applies),
  deletes: parts.flatMap((p) => p.deletes),
  conflict: parts.map((p) => p.conflict).find((c) => c !== undefined),
})

const asObject = (o: unknown): KubeObject => o as KubeObject

export const planChildren = (input: PlanInput): Plan => {
  const { agent, resolved, live, clusterLabel } = input
  const name = agent.metadata.name ?? ""
  const instructions = renderInstructions(resolved.persona?.effective, agent.spec.instructions)
  const data = configMapData({ agent, ...resolved, instructions })
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMetadata(agent, configMapName(name), clusterLabel),
    data,
  }
  const workspace = decideWorkspace(agent, live.claim as LiveClaim | undefined, clusterLabel)
  const workspaceConflict = conflictOf(agent, "PersistentVolumeClaim", live.claim)
  const env = agentEnv({
    agent,
    models: resolved.models,
    tools: resolved.tools,
    persona: resolved.persona,
    instructions,
    otlpEndpoint: input.otlpEndpoint,
  })
  const pod: PodInput = {
    agent,
    env,
    sidecars: resolved.sidecars,
    knowledge: resolved.persona?.knowledge ?? [],
    clusterLabel,
    configData: data,
    secretVersions: input.secretVersions,
    configMapVersions: input.configMapVersions,
    serviceAccountName: podServiceAccount(agent),
    defaultFsGroup: input.defaultFsGroup,
  }
  const egress = buildEgressPolicy(
    agentEgressRequest(agent, resolved, input.otlpEndpoint),
    input.world,
    input.egress,
  )
  const policy = asObject({
    ...egress.policy,
    metadata: {
      ...egress.policy.metadata,
      ownerReferences: childMetadata(agent, name, clusterLabel).ownerReferences,
    },
  })
  const policyChild = child(agent, Builtin.NetworkPolicy, policy, live.networkPolicy)
  const scheduled = agent.spec.executionMode === "scheduled"
  const workloadStep = merge(
    scheduled ? "Workload" : "Workload",
    scheduled ? Reasons.CronJobError : Reasons.DeploymentError,
    [
      scheduled
        ? child(agent, Builtin.CronJob, asObject(desiredCronJob(pod)), live.cronJob)
        : child(agent, Builtin.Deployment, asObject(desiredDeployment(pod)), live.deployment),
      scheduled
        ? child(agent, Builtin.Deployment, undefined, live.deployment)
        : child(agent, Builtin.CronJob, undefined, live.cronJob),
    ],
  )
  const steps: Array<Step> = [
    merge("ConfigMap", Reasons.ConfigMapError, [
      child(agent, Builtin.ConfigMap, asObject(configMap), live.configMap),
    ]),
    {
      name: "Workspace",
      reason: Reasons.PVCError,
      applies:
        workspace.claim === undefined || workspaceConflict !== undefined
          ? []
          : [
              {
                resource: Builtin.PersistentVolumeClaim,
                object: withAppliedHash(asObject(workspace.claim)),
                live: live.claim,
              },
            ],
      deletes: [],
      conflict: workspace.claim === undefined ? undefined : workspaceConflict,
    },
    merge("Service", Reasons.ServiceError, [
      child(
        agent,
        Builtin.Service,
        desiredService(agent, clusterLabel) as KubeObject | undefined,
        live.service,
      ),
    ]),
    merge("RBAC", Reasons.RBACError, [
      child(
        agent,
        Builtin.ServiceAccount,
        desiredServiceAccount(agent, clusterLabel) as KubeObject | undefined,
        live.serviceAccount,
      ),
      child(agent, Builtin.Role, desiredRole(agent, clusterLabel) as KubeObject | undefined, live.role),
      child(
        agent,
        Builtin.RoleBinding,
        desiredRoleBinding(agent, clusterLabel) as KubeObject | undefined,
        live.roleBinding,
      ),
    ]),
    {
      ...merge("NetworkPolicy", Reasons.NetworkPolicyError, [policyChild]),
      applies: policyChild.applies.map((a) => ({
        ...a,
        equivalent: (l: KubeObject) =>
          isOurs(agent, l) &&
          policiesEquivalent(egress.policy, l as Parameters<typeof policiesEquivalent>[1]),
      })),
    },
    workloadStep,
  ]
  return { steps, workspace, egress, configData: data }
}

/** Names of every object the agent may generate (for gathering). */
export const childNames = (agent: string) => ({
  configMap: configMapName(agent),
  workload: workloadName(agent),
  events: eventsRbacName(agent),
})
