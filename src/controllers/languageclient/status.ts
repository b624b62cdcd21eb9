/**
 * LanguageClient status (docs/languageclient.md §Status, §URL, §Conditions). PURE: plan + what acting on it
 * observed → the status to write, whether it changed, and the events to record.
 *
 * Guarantees: the phase is in the kind's enum and computed per Deployment exactly as for tools
 * (languagetool/workload.ts), then combined (any Failed → Failed; any Deployment unreadable → Unknown; all
 * Running → Running; some pods ready → Updating; else Pending); while a dependency or the cluster is
 * awaited nothing is written, so a Running/Updating client keeps its phase; `lastUpdateTime` (also per region) moves only when another field changed;
 * condition `lastTransitionTime` only on a status flip; feeding the result back yields no change and no
 * event; events only when the Ready condition's status or reason changes. Usage fields stay unset (docs/languageclient.md CL-10).
 */
import type {
  ClientPhase,
  LanguageClient,
  LanguageClientStatus,
  RegionStatus,
} from "../../api/languageclient.ts"
import type { Condition } from "../../api/shared.ts"
import { canonicalJson } from "../../domain/hash.ts"
import { LABEL_REGION } from "../../domain/labels.ts"
import { describeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import {
  type ConditionInput,
  findCondition,
  reconciledCondition,
  setConditions,
  writeFailureCondition,
} from "../common/conditions.ts"
import {
  type DeploymentView,
  replicaCounts,
  type WorkloadState,
  workloadState,
} from "../languagetool/workload.ts"
import type { Unit } from "./children.ts"
import type { ClientInput, ClientPlan, Role } from "./decide.ts"
import { ROLE_ERROR_REASON } from "./decide.ts"
import { Reasons } from "./names.ts"

export interface Observed {
  /** Children as stored after the writes, by `Kind/name` (absent: not found). */
  readonly objects: ReadonlyMap<string, KubeObject>
  readonly errors: ReadonlyArray<{ readonly role: Role; readonly message: string }>
}

export interface EventSpec {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface StatusDecision {
  readonly status: LanguageClientStatus
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<EventSpec>
}

interface LoadBalancerView {
  readonly status?: {
    readonly loadBalancer?: { readonly ingress?: ReadonlyArray<{ ip?: string; hostname?: string }> }
  }
}

const lbAddress = (o: KubeObject | undefined): string | undefined => {
  const first = (o as LoadBalancerView | undefined)?.status?.loadBalancer?.ingress?.[0]
  const address = first?.ip ?? first?.hostname
  return address !== undefined && address !== "" ? address : undefined
}

/** §URL for the Ingress/Service named `name` (the client's or a region's). */
export const urlOf = (
  client: LanguageClient,
  name: string,
  ingress: LanguageClient["spec"]["ingress"],
  objects: ReadonlyMap<string, KubeObject>,
  clusterDomain: string,
): string | undefined => {
  const port = client.spec.port
  if (ingress?.enabled === true) {
    const host = ingress.hosts?.[0]
    const covered =
      client.spec.tls?.enabled === true ||
      (host !== undefined && (ingress.tls ?? []).some((t) => (t.hosts ?? []).includes(host)))
    const address = host ?? lbAddress(objects.get(`Ingress/${name}`))
    return address === undefined ? undefined : `${covered ? "https" : "http"}://${address}${ingress.path}`
  }
  switch (client.spec.serviceType) {
    case "LoadBalancer": {
      const address = lbAddress(objects.get(`Service/${name}`))
      return address === undefined ? undefined : `http://${address}:${port}`
    }
    case "NodePort":
      return undefined
    case "ClusterIP":
      return `http://${name}.${client.metadata.namespace ?? ""}.svc.${clusterDomain}:${port}`
  }
}

const combine = (states: ReadonlyArray<WorkloadState>): WorkloadState => {
  const [only] = states
  if (states.length === 1 && only !== undefined) return only
  const failed = states.find((s) => s.phase === "Failed")
  if (failed !== undefined) return failed
  const message = states.map((s) => s.message).join("; ")
  // Without every Deployment's state the sum is not known either.
  if (states.some((s) => s.phase === "Unknown"))
    return { phase: "Unknown", reason: "DeploymentUnreadable", message }
  if (states.every((s) => s.phase === "Running"))
    return { phase: "Running", reason: "ReconcileSuccess", message }
  if (states.some((s) => s.phase === "Running" || s.phase === "Updating"))
    return { phase: "Updating", reason: "Updating", message }
  return { phase: "Pending", reason: "Pending", message }
}

interface Parts {
  readonly phase: ClientPhase
  readonly conditions: ReadonlyArray<ConditionInput>
  readonly workload?: {
    readonly counts: ReturnType<typeof replicaCounts>
    readonly url: string | undefined
    readonly regions: ReadonlyArray<Omit<RegionStatus, "lastUpdateTime">>
  }
}

/**
 * Phase while blocked. A wait (a dependency or the cluster is not there yet) leaves every child as it
 * was, so Deployments that were serving keep serving: their phase stays, and `DependenciesResolved`
 * (or `Ready`) says what is awaited. Anything else is `Pending`; a failure is `Failed`.
 */
const blockedPhase = (
  plan: Extract<ClientPlan, { _tag: "Blocked" }>,
  previous: ClientPhase | undefined,
): ClientPhase => (plan.wait && (previous === "Running" || previous === "Updating") ? previous : plan.phase)

const blockedParts = (
  plan: Extract<ClientPlan, { _tag: "Blocked" }>,
  previous: ClientPhase | undefined,
): Parts => ({
  phase: blockedPhase(plan, previous),
  conditions: [
    { type: "Ready", status: "False", reason: plan.reason, message: plan.message },
    { type: "Reconciled", status: "False", reason: Reasons.ReconcileError, message: plan.message },
    ...(plan.dependency
      ? [
          {
            type: "DependenciesResolved",
            status: "False",
            reason: plan.reason,
            message: plan.message,
          } as const,
        ]
      : []),
  ],
})

const reconciledParts = (
  input: ClientInput,
  plan: Extract<ClientPlan, { _tag: "Reconcile" }>,
  observed: Observed,
): Parts => {
  const { client } = input
  const hpaEnabled = client.spec.horizontalPodAutoscaler?.enabled === true
  const unitState = (unit: Unit): WorkloadState => {
    const deployment = observed.objects.get(`Deployment/${unit.name}`) as DeploymentView | undefined
    const unreadable = input.unreadable.find((u) => u.name === unit.name)
    if (deployment === undefined && unreadable !== undefined)
      return {
        phase: "Unknown",
        reason: "DeploymentUnreadable",
        message: `Deployment "${unit.name}" cannot be read: ${describeError(unreadable.error)}`,
      }
    return workloadState(
      deployment,
      input.pods.filter(
        (p) => unit.region === undefined || p.metadata.labels?.[LABEL_REGION] === unit.region.name,
      ),
      hpaEnabled,
    )
  }
  const states = plan.units.map((u) => ({ unit: u, state: unitState(u) }))
  const workload = combine(states.map((s) => s.state))
  const counts = plan.units
    .map((u) => replicaCounts(observed.objects.get(`Deployment/${u.name}`) as DeploymentView | undefined))
    .reduce((a, b) => ({
      readyReplicas: a.readyReplicas + b.readyReplicas,
      availableReplicas: a.availableReplicas + b.availableReplicas,
      updatedReplicas: a.updatedReplicas + b.updatedReplicas,
      unavailableReplicas: a.unavailableReplicas + b.unavailableReplicas,
    }))
  const name = client.metadata.name ?? ""
  const url = urlOf(client, name, client.spec.ingress, observed.objects, input.clusterDomain)
  const regions = states.flatMap(({ unit, state }) =>
    unit.region === undefined
      ? []
      : [
          {
            name: unit.region.name,
            phase: state.phase,
            readyReplicas: replicaCounts(
              observed.objects.get(`Deployment/${unit.name}`) as DeploymentView | undefined,
            ).readyReplicas,
            ...(() => {
              const u = urlOf(client, unit.name, unit.region.ingress, observed.objects, input.clusterDomain)
              return u !== undefined ? { url: u } : {}
            })(),
            message: state.message,
          },
        ],
  )
  const failure = writeFailureCondition(
    { conflicts: plan.conflicts, errors: observed.errors },
    ROLE_ERROR_REASON,
  )
  const withWarnings = (m: string) => [m, ...plan.warnings].join("; warning: ")
  const unknown = workload.phase === "Unknown"
  const ready: ConditionInput =
    failure ??
    (unknown
      ? { type: "Ready", status: "Unknown", reason: workload.reason, message: withWarnings(workload.message) }
      : workload.phase === "Running"
        ? {
            type: "Ready",
            status: "True",
            reason: Reasons.ReconcileSuccess,
            message: withWarnings(workload.message),
          }
        : {
            type: "Ready",
            status: "False",
            reason: workload.reason,
            message: withWarnings(workload.message),
          })
  const errorOf = (role: Role) => observed.errors.find((e) => e.role === role)
  const ingressNames = plan.apply
    .filter((c) => c.role === "ingress")
    .map((c) => c.desired.metadata.name ?? "")
  const ingressError = errorOf("ingress") ?? plan.conflicts.find((c) => c.role === "ingress")
  const waiting = ingressNames.filter((n) => lbAddress(observed.objects.get(`Ingress/${n}`)) === undefined)
  const ingressReady: ConditionInput =
    ingressError !== undefined
      ? { type: "IngressReady", status: "False", reason: Reasons.IngressError, message: ingressError.message }
      : ingressNames.length === 0
        ? { type: "IngressReady", status: "True", reason: Reasons.Disabled, message: "No Ingress is enabled" }
        : waiting.length === 0
          ? {
              type: "IngressReady",
              status: "True",
              reason: Reasons.AddressAssigned,
              message: `Ingress ${ingressNames.map((n) => `"${n}"`).join(", ")} has a load-balancer address`,
            }
          : {
              type: "IngressReady",
              status: "False",
              reason: Reasons.Pending,
              message: `Waiting for a load-balancer address on Ingress ${waiting.map((n) => `"${n}"`).join(", ")}`,
            }
  const hpaError = errorOf("hpa")
  const autoscaling: ConditionInput =
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
              message: `HorizontalPodAutoscaler ${plan.units.map((u) => `"${u.name}"`).join(", ")} applied`,
            }
          : {
              type: "AutoscalingReady",
              status: "True",
              reason: Reasons.Disabled,
              message: "Autoscaling is not enabled",
            }
  return {
    phase: plan.conflicts.length > 0 ? "Failed" : workload.phase,
    conditions: [
      ready,
      reconciledCondition({
        conflicts: plan.conflicts,
        errors: [
          ...observed.errors,
          ...input.unreadable.map((u) => ({
            role: "deployment" as const,
            message: `reading Deployment "${u.name}" failed: ${describeError(u.error)}`,
          })),
        ],
      }),
      {
        type: "DependenciesResolved",
        status: "True",
        reason: Reasons.Resolved,
        message: plan.dependencies.message,
      },
      {
        type: "WorkloadAvailable",
        status: unknown
          ? "Unknown"
          : workload.phase === "Running" || workload.phase === "Updating"
            ? "True"
            : "False",
        reason: workload.reason,
        message: workload.message,
      },
      ingressReady,
      autoscaling,
    ],
    workload: { counts, url, regions },
  }
}

const WARNING_REASONS: ReadonlySet<string> = new Set([
  Reasons.InvalidSpec,
  Reasons.InvalidName,
  Reasons.ReservedVolumeName,
  Reasons.CrossNamespaceSecretUnsupported,
  Reasons.NameConflict,
  "ClusterNamespaceMismatch",
  "PersonaInvalid",
  "PodsNotReady",
  "DeploymentUnreadable",
  ...Object.values(ROLE_ERROR_REASON),
])

const regionStatuses = (
  next: ReadonlyArray<Omit<RegionStatus, "lastUpdateTime">>,
  previous: ReadonlyArray<RegionStatus>,
  now: string,
): ReadonlyArray<RegionStatus> =>
  next.map((r) => {
    const before = previous.find((p) => p.name === r.name)
    const { lastUpdateTime, ...rest } = before ?? { name: r.name }
    const same = before !== undefined && canonicalJson(rest) === canonicalJson(r)
    const time = same ? lastUpdateTime : now
    return { ...r, ...(time !== undefined ? { lastUpdateTime: time } : {}) }
  })

export const decideStatus = (input: ClientInput, plan: ClientPlan, observed: Observed): StatusDecision => {
  const { client } = input
  const previous: LanguageClientStatus = client.status ?? {}
  const parts =
    plan._tag === "Blocked" ? blockedParts(plan, previous.phase) : reconciledParts(input, plan, observed)
  const conditions: ReadonlyArray<Condition> = setConditions(
    previous.conditions,
    parts.conditions,
    client.metadata.generation,
    input.now,
  )
  const ready = findCondition(conditions, "Ready")
  const { lastUpdateTime: _u, ...kept } = previous
  const w = parts.workload
  const workloadFields: Partial<LanguageClientStatus> =
    w === undefined
      ? {
          ...(kept.url !== undefined ? { url: kept.url } : {}),
          ...(kept.regionalURLs !== undefined ? { regionalURLs: kept.regionalURLs } : {}),
          ...(kept.regionStatus !== undefined ? { regionStatus: kept.regionStatus } : {}),
          ...(kept.readyReplicas !== undefined ? { readyReplicas: kept.readyReplicas } : {}),
          ...(kept.availableReplicas !== undefined ? { availableReplicas: kept.availableReplicas } : {}),
          ...(kept.updatedReplicas !== undefined ? { updatedReplicas: kept.updatedReplicas } : {}),
          ...(kept.unavailableReplicas !== undefined
            ? { unavailableReplicas: kept.unavailableReplicas }
            : {}),
        }
      : {
          ...w.counts,
          ...(w.url !== undefined ? { url: w.url } : {}),
          ...(w.regions.length > 0
            ? {
                regionalURLs: Object.fromEntries(
                  w.regions.flatMap((r) => (r.url !== undefined ? [[r.name, r.url] as const] : [])),
                ),
                regionStatus: regionStatuses(w.regions, previous.regionStatus ?? [], input.now),
              }
            : {}),
        }
  const core: LanguageClientStatus = {
    ...(client.metadata.generation !== undefined ? { observedGeneration: client.metadata.generation } : {}),
    phase: parts.phase,
    conditions,
    ...workloadFields,
    ...(ready !== undefined ? { message: ready.message, reason: ready.reason } : {}),
  }
  const changed = canonicalJson(core) !== canonicalJson(kept)
  const lastUpdateTime = changed ? input.now : previous.lastUpdateTime
  const status: LanguageClientStatus = {
    ...core,
    ...(lastUpdateTime !== undefined ? { lastUpdateTime } : {}),
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
