/**
 * LanguageCluster decisions (docs/languagecluster.md §Reconcile behaviour). PURE: one gathered input → what to
 * do with the finalizer and the Namespace, the status to report, events, and whether to requeue.
 *
 * Guarantees:
 * - A Namespace is created only when absent, and then carries `langop.io/created-by-cluster: "true"`,
 *   `langop.io/cluster: <name>`, `langop.io/managed: "true"` and a controller owner reference.
 * - A Namespace is deleted only if it carries BOTH that annotation and our cluster label (docs/languagecluster.md LC-2); an adopted
 *   namespace only loses our label. A namespace labelled for another cluster is never modified.
 * - With nothing changed the decision writes nothing: `namespace: None`, `statusChanged: false`
 *   (conditions keep their `lastTransitionTime` unless their status flips).
 */
import type { LanguageCluster, LanguageClusterStatus } from "../../api/languagecluster.ts"
import { DNS1123_LABEL } from "../../api/languagecluster.ts"
import type { Condition } from "../../api/shared.ts"
import { canonicalJson } from "../../domain/hash.ts"
import {
  ANNOTATION_CREATED_BY_CLUSTER,
  FINALIZER,
  LABEL_CLUSTER,
  LABEL_MANAGED,
} from "../../domain/labels.ts"
import type { JsonPatchOp } from "../../kube/client.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { type ConditionInput, findCondition, setConditions } from "../common/conditions.ts"
import { controllerRef } from "../common/ownership.ts"

export const Reasons = {
  ReconcileSuccess: "ReconcileSuccess",
  ReconcileError: "ReconcileError",
  InvalidNamespaceName: "InvalidNamespaceName",
  NamespaceImmutable: "NamespaceImmutable",
  NamespaceOwnedByOtherCluster: "NamespaceOwnedByOtherCluster",
  NamespaceTerminating: "NamespaceTerminating",
  NamespaceCreated: "NamespaceCreated",
  NamespaceAdopted: "NamespaceAdopted",
} as const

export const READY_MESSAGE = "LanguageCluster is ready"

/** The Namespace as far as decisions read it (a cache object or a live GET). */
export interface LiveNamespace {
  readonly metadata: {
    readonly name?: string
    readonly uid?: string
    readonly resourceVersion?: string
    readonly deletionTimestamp?: string
    readonly labels?: Readonly<Record<string, string>>
    readonly annotations?: Readonly<Record<string, string>>
  }
  readonly status?: { readonly phase?: string }
}

export interface ClusterInput {
  readonly cluster: LanguageCluster
  /** Namespaces by name: the desired one and the one in `status.namespace` (absent = does not exist). */
  readonly namespaces: ReadonlyMap<string, LiveNamespace>
  /** RFC 3339 now, for condition transitions. */
  readonly now: string
}

export type NamespaceAction =
  | { readonly _tag: "None" }
  | { readonly _tag: "Create"; readonly object: KubeObject }
  | { readonly _tag: "Patch"; readonly name: string; readonly ops: ReadonlyArray<JsonPatchOp> }
  | { readonly _tag: "Delete"; readonly name: string; readonly uid: string | undefined }

export interface EventSpec {
  readonly type: "Normal" | "Warning"
  readonly reason: string
  readonly note: string
}

export interface ClusterDecision {
  readonly addFinalizer: boolean
  readonly namespace: NamespaceAction
  readonly status: LanguageClusterStatus
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<EventSpec>
  /** Requeue after the dependency wait (a terminating namespace must go before we can recreate it). */
  readonly waiting: boolean
}

export interface CleanupDecision {
  readonly namespace: NamespaceAction
  readonly removeFinalizer: boolean
}

/** `spec.namespace`, or `<name>-ns` when empty. */
export const desiredNamespaceName = (cluster: LanguageCluster): string => {
  const fromSpec = cluster.spec?.namespace
  return fromSpec !== undefined && fromSpec !== "" ? fromSpec : `${cluster.metadata.name ?? ""}-ns`
}

export const isValidNamespaceName = (name: string): boolean => name.length <= 63 && DNS1123_LABEL.test(name)

const escapeToken = (key: string) => key.replaceAll("~", "~0").replaceAll("/", "~1")

const isTerminating = (ns: LiveNamespace) =>
  ns.metadata.deletionTimestamp !== undefined || ns.status?.phase === "Terminating"

const createdBy = (ns: LiveNamespace, cluster: string) =>
  ns.metadata.annotations?.[ANNOTATION_CREATED_BY_CLUSTER] === "true" &&
  ns.metadata.labels?.[LABEL_CLUSTER] === cluster

/** JSON patch adding our cluster label, guarded by the resourceVersion we read. */
const addLabelOps = (ns: LiveNamespace, cluster: string): ReadonlyArray<JsonPatchOp> => [
  ...(ns.metadata.resourceVersion !== undefined
    ? [{ op: "test" as const, path: "/metadata/resourceVersion", value: ns.metadata.resourceVersion }]
    : []),
  ns.metadata.labels === undefined
    ? { op: "add", path: "/metadata/labels", value: { [LABEL_CLUSTER]: cluster } }
    : { op: "add", path: `/metadata/labels/${escapeToken(LABEL_CLUSTER)}`, value: cluster },
]

/** JSON patch removing our cluster label only if it still names us. */
const removeLabelOps = (cluster: string): ReadonlyArray<JsonPatchOp> => {
  const path = `/metadata/labels/${escapeToken(LABEL_CLUSTER)}`
  return [
    { op: "test", path, value: cluster },
    { op: "remove", path },
  ]
}

/** The Namespace a cluster creates. */
export const namespaceObject = (cluster: LanguageCluster, name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: {
    name,
    labels: { [LABEL_CLUSTER]: cluster.metadata.name ?? "", [LABEL_MANAGED]: "true" },
    annotations: { [ANNOTATION_CREATED_BY_CLUSTER]: "true" },
    ownerReferences: [controllerRef({ kind: "LanguageCluster", metadata: cluster.metadata })],
  },
})

interface Outcome {
  readonly phase: "Pending" | "Ready" | "Failed"
  readonly namespace: string | undefined
  readonly ready: ConditionInput
  readonly namespaceReady: ConditionInput
  readonly reconciled: ConditionInput
}

const failed = (
  phase: "Pending" | "Failed",
  reason: string,
  message: string,
  namespace: string | undefined,
): Outcome => ({
  phase,
  namespace,
  ready: { type: "Ready", status: "False", reason, message },
  namespaceReady: { type: "NamespaceReady", status: "False", reason, message },
  reconciled: { type: "Reconciled", status: "False", reason: Reasons.ReconcileError, message },
})

const succeeded = (namespace: string, reason: string, message: string): Outcome => ({
  phase: "Ready",
  namespace,
  ready: { type: "Ready", status: "True", reason: Reasons.ReconcileSuccess, message: READY_MESSAGE },
  namespaceReady: { type: "NamespaceReady", status: "True", reason, message },
  reconciled: {
    type: "Reconciled",
    status: "True",
    reason: Reasons.ReconcileSuccess,
    message: READY_MESSAGE,
  },
})

/** Status for an outcome; `statusChanged` compares with what was read. */
export const statusFor = (
  input: ClusterInput,
  outcome: Outcome,
): {
  readonly status: LanguageClusterStatus
  readonly statusChanged: boolean
  readonly events: ReadonlyArray<EventSpec>
} => {
  const previous = input.cluster.status ?? {}
  const generation = input.cluster.metadata.generation
  const conditions: ReadonlyArray<Condition> = setConditions(
    previous.conditions,
    [outcome.ready, outcome.namespaceReady, outcome.reconciled],
    generation,
    input.now,
  )
  const status: LanguageClusterStatus = {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: outcome.phase,
    ...(outcome.namespace !== undefined ? { namespace: outcome.namespace } : {}),
    conditions,
  }
  const before = findCondition(previous.conditions, "NamespaceReady")
  const transitioned =
    before === undefined ||
    before.status !== outcome.namespaceReady.status ||
    before.reason !== outcome.namespaceReady.reason
  const events: ReadonlyArray<EventSpec> = transitioned
    ? [
        {
          type: outcome.namespaceReady.status === "True" ? "Normal" : "Warning",
          reason: outcome.namespaceReady.reason,
          note: outcome.namespaceReady.message,
        },
      ]
    : []
  return { status, statusChanged: canonicalJson(status) !== canonicalJson(previous), events }
}

/**
 * Status after the namespace action failed (transient API error): `Pending` while the namespace is being
 * ensured; the namespace reported so far is kept.
 */
export const failureStatus = (input: ClusterInput, message: string) =>
  statusFor(input, failed("Pending", Reasons.ReconcileError, message, input.cluster.status?.namespace))

const decideNamespace = (
  input: ClusterInput,
): { readonly action: NamespaceAction; readonly outcome: Outcome; readonly waiting: boolean } => {
  const { cluster } = input
  const name = cluster.metadata.name ?? ""
  const desired = desiredNamespaceName(cluster)
  const current = cluster.status?.namespace
  const none: NamespaceAction = { _tag: "None" }
  if (!isValidNamespaceName(desired)) {
    const message = `namespace name "${desired}" is not a valid DNS-1123 label of at most 63 characters${
      cluster.spec?.namespace === undefined || cluster.spec.namespace === ""
        ? "; set spec.namespace (the default <name>-ns is too long or invalid)"
        : ""
    }`
    return {
      action: none,
      outcome: failed("Failed", Reasons.InvalidNamespaceName, message, current),
      waiting: false,
    }
  }
  if (current !== undefined && current !== "" && current !== desired) {
    const message = `spec.namespace changed from "${current}" to "${desired}" after creation; the namespace is immutable, still using "${current}" (recreate the LanguageCluster to move it)`
    return {
      action: none,
      outcome: failed("Failed", Reasons.NamespaceImmutable, message, current),
      waiting: false,
    }
  }
  const live = input.namespaces.get(desired)
  if (live === undefined)
    return {
      action: { _tag: "Create", object: namespaceObject(cluster, desired) },
      outcome: succeeded(desired, Reasons.NamespaceCreated, `Namespace "${desired}" created`),
      waiting: false,
    }
  if (isTerminating(live)) {
    const message = `Namespace "${desired}" is being deleted; waiting to recreate it`
    return {
      action: none,
      outcome: failed("Pending", Reasons.NamespaceTerminating, message, current),
      waiting: true,
    }
  }
  const labelled = live.metadata.labels?.[LABEL_CLUSTER]
  if (labelled !== undefined && labelled !== name) {
    const message = `Namespace "${desired}" belongs to LanguageCluster "${labelled}" (label ${LABEL_CLUSTER}); choose another spec.namespace`
    return {
      action: none,
      outcome: failed("Failed", Reasons.NamespaceOwnedByOtherCluster, message, current),
      waiting: false,
    }
  }
  if (createdBy(live, name))
    return {
      action: none,
      outcome: succeeded(desired, Reasons.NamespaceCreated, `Namespace "${desired}" created`),
      waiting: false,
    }
  return {
    action: labelled === name ? none : { _tag: "Patch", name: desired, ops: addLabelOps(live, name) },
    outcome: succeeded(desired, Reasons.NamespaceAdopted, `Existing Namespace "${desired}" adopted`),
    waiting: false,
  }
}

/** The reconcile decision for a cluster that is not being deleted. */
export const decide = (input: ClusterInput): ClusterDecision => {
  const { action, outcome, waiting } = decideNamespace(input)
  const { status, statusChanged, events } = statusFor(input, outcome)
  return {
    addFinalizer: !(input.cluster.metadata.finalizers ?? []).includes(FINALIZER),
    namespace: action,
    status,
    statusChanged,
    events,
    waiting,
  }
}

/**
 * Deletion: delete the namespace in `status.namespace` only if this cluster created it (annotation AND
 * label); otherwise remove our label from it if it still carries it; then drop the finalizer.
 */
export const decideCleanup = (input: ClusterInput): CleanupDecision => {
  const { cluster } = input
  const name = cluster.metadata.name ?? ""
  const removeFinalizer = (cluster.metadata.finalizers ?? []).includes(FINALIZER)
  const current = cluster.status?.namespace
  const live = current === undefined || current === "" ? undefined : input.namespaces.get(current)
  if (!removeFinalizer || current === undefined || live === undefined)
    return { namespace: { _tag: "None" }, removeFinalizer }
  if (createdBy(live, name))
    return {
      namespace: isTerminating(live)
        ? { _tag: "None" }
        : { _tag: "Delete", name: current, uid: live.metadata.uid },
      removeFinalizer,
    }
  if (live.metadata.labels?.[LABEL_CLUSTER] === name)
    return { namespace: { _tag: "Patch", name: current, ops: removeLabelOps(name) }, removeFinalizer }
  return { namespace: { _tag: "None" }, removeFinalizer }
}
