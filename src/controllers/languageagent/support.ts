/**
 * Support objects of interactive and event-driven agents (docs/languageagent.md §Workload, §Triggers): Service
 * `<agent>` (interactive, or a `webhook` trigger), and for a `kubernetes-event` trigger Role and RoleBinding
 * `<agent>-events` (least rights: read Events, core and events.k8s.io, in the agent's namespace only) plus
 * ServiceAccount `<agent>` when `spec.serviceAccountName` is empty. PURE.
 *
 * Guarantees: an object is desired only while its trigger (or mode) needs it, so a removed trigger makes
 * the caller delete it; the Role grants get/list/watch on events and nothing else; the RoleBinding binds
 * exactly the pod's service account.
 */
import type { LanguageAgent } from "../../api/languageagent.ts"
import { commonLabels, sortedRecord } from "../../domain/labels.ts"
import {
  AGENT_HTTP_PORT,
  AGENT_HTTP_PORT_NAME,
  AGENT_SERVICE_PORT,
  eventsRbacName,
  workloadName,
} from "./names.ts"
import { needsService } from "./validate.ts"
import { childMetadata, type ObjectMetadata } from "./workload.ts"

export type DesiredService = {
  readonly apiVersion: "v1"
  readonly kind: "Service"
  readonly metadata: ObjectMetadata
  readonly spec: {
    readonly type: "ClusterIP"
    readonly selector: Readonly<Record<string, string>>
    readonly ports: ReadonlyArray<{
      readonly name: string
      readonly port: number
      readonly targetPort: number
      readonly protocol: "TCP"
    }>
  }
}

export type DesiredServiceAccount = {
  readonly apiVersion: "v1"
  readonly kind: "ServiceAccount"
  readonly metadata: ObjectMetadata
}

export type PolicyRule = {
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
}

export type DesiredRole = {
  readonly apiVersion: "rbac.authorization.k8s.io/v1"
  readonly kind: "Role"
  readonly metadata: ObjectMetadata
  readonly rules: ReadonlyArray<PolicyRule>
}

export type DesiredRoleBinding = {
  readonly apiVersion: "rbac.authorization.k8s.io/v1"
  readonly kind: "RoleBinding"
  readonly metadata: ObjectMetadata
  readonly roleRef: {
    readonly apiGroup: "rbac.authorization.k8s.io"
    readonly kind: "Role"
    readonly name: string
  }
  readonly subjects: ReadonlyArray<{
    readonly kind: "ServiceAccount"
    readonly name: string
    readonly namespace: string
  }>
}

/** Read-only access to Events of the agent's namespace: what a kubernetes-event trigger needs, no more. */
export const EVENT_READER_RULES: ReadonlyArray<PolicyRule> = [
  { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["get", "list", "watch"] },
]

/** Event-driven with at least one kubernetes-event trigger (triggers are ignored in other modes). */
export const needsEventRbac = (agent: LanguageAgent): boolean =>
  agent.spec.executionMode === "event-driven" &&
  (agent.spec.eventTriggers ?? []).some((t) => t.type === "kubernetes-event")

const userServiceAccount = (agent: LanguageAgent): string | undefined => {
  const sa = agent.spec.serviceAccountName
  return sa === undefined || sa === "" ? undefined : sa
}

/** The operator creates ServiceAccount `<agent>` only for event RBAC and only when the user named none. */
export const needsServiceAccount = (agent: LanguageAgent): boolean =>
  needsEventRbac(agent) && userServiceAccount(agent) === undefined

/** The pod's service account: the user's, else `<agent>` when we create it, else the namespace default. */
export const podServiceAccount = (agent: LanguageAgent): string | undefined =>
  userServiceAccount(agent) ??
  (needsServiceAccount(agent) ? workloadName(agent.metadata.name ?? "") : undefined)

export const desiredService = (
  agent: LanguageAgent,
  clusterLabel: string | undefined,
): DesiredService | undefined =>
  needsService(agent)
    ? {
        apiVersion: "v1",
        kind: "Service",
        metadata: childMetadata(agent, workloadName(agent.metadata.name ?? ""), clusterLabel),
        spec: {
          type: "ClusterIP",
          selector: sortedRecord(commonLabels("LanguageAgent", agent.metadata.name ?? "")),
          ports: [
            {
              name: AGENT_HTTP_PORT_NAME,
              port: AGENT_SERVICE_PORT,
              targetPort: AGENT_HTTP_PORT,
              protocol: "TCP",
            },
          ],
        },
      }
    : undefined

export const desiredServiceAccount = (
  agent: LanguageAgent,
  clusterLabel: string | undefined,
): DesiredServiceAccount | undefined =>
  needsServiceAccount(agent)
    ? {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: childMetadata(agent, workloadName(agent.metadata.name ?? ""), clusterLabel),
      }
    : undefined

export const desiredRole = (
  agent: LanguageAgent,
  clusterLabel: string | undefined,
): DesiredRole | undefined =>
  needsEventRbac(agent)
    ? {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: childMetadata(agent, eventsRbacName(agent.metadata.name ?? ""), clusterLabel),
        rules: EVENT_READER_RULES,
      }
    : undefined

export const desiredRoleBinding = (
  agent: LanguageAgent,
  clusterLabel: string | undefined,
): DesiredRoleBinding | undefined => {
  const sa = podServiceAccount(agent) ?? "default"
  const name = eventsRbacName(agent.metadata.name ?? "")
  return needsEventRbac(agent)
    ? {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: childMetadata(agent, name, clusterLabel),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: agent.metadata.namespace ?? "" }],
      }
    : undefined
}
