/**
 * Carries out a LanguageModel decision against the API server (docs/languagemodel.md §Reconcile sequence).
 *
 * Guarantees:
 * - children (ConfigMap `<name>-model`, Deployment and Service `<name>`) are written by server-side apply
 *   (forced, under the configured field manager) only when they differ from the live object
 *   (common/apply.ts); the egress NetworkPolicy `<name>` and the ingress NetworkPolicy `<name>.ingress`
 *   only on a semantic difference (network/compare.ts, network/ingress.ts);
 * - a child controlled by another owner is never written (NameConflict, from decide; for the
 *   NetworkPolicy decided here the same way);
 * - the finalizer is added/removed by JSON patch with a resourceVersion test; on deletion the ConfigMap is
 *   deleted explicitly (uid precondition, only when ours; not found is fine) before the finalizer goes;
 * - status goes through the status subresource, only when decide says it changed, computed from the
 *   Deployment as stored after the writes; every child is attempted even if an earlier one failed —
 *   failures are reported in status (`<Kind>Error`) and then fail the reconcile so the runner retries.
 */
import { Duration, Effect } from "effect"
import type { LanguageModel } from "../../api/languagemodel.ts"
import { FINALIZER, sortedRecord } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import { fqdnPolicyName } from "../../network/cilium.ts"
import { policiesEquivalent } from "../../network/compare.ts"
import type { OperatorPeer } from "../../network/ingress.ts"
import type { EgressPolicyResult } from "../../network/policy.ts"
import type { EgressSettings } from "../../network/settings.ts"
import { Reconciled, type ReconcileResult } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { applyIfChanged, withAppliedHash } from "../common/apply.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { reconcileFqdnPolicy } from "../common/fqdn.ts"
import { controllerRef, ownershipOf } from "../common/ownership.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer } from "../common/self.ts"
import { decide } from "./decide.ts"
import { egressRequestOf, gatherEgress, type LiveChildren, ROLE_RESOURCE, type Role } from "./gather.ts"
import { ingressStep } from "./ingress.ts"
import type { ApplyOutcome, ChildKind, ModelInput } from "./input.ts"
import type { DeploymentView } from "./status.ts"
import { configMapName } from "./workload.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** DNS refresh interval: requeue delay and grace period when the policy has DNS-derived peers. */
  readonly dnsRefresh: Duration.Input
  readonly egress: EgressSettings
  /** The operator's Pods, admitted by each proxy's ingress policy while the operator probes proxies. */
  readonly operatorPeer: OperatorPeer | undefined
}

const ROLE_OF: Readonly<Record<ChildKind, Role>> = {
  ConfigMap: "configMap",
  Deployment: "deployment",
  Service: "service",
  NetworkPolicy: "networkPolicy",
}

const reference = (m: LanguageModel) => referenceTo(Langop.LanguageModel, m)

/** The builder's policy, owned by the model. */
export const ownedNetworkPolicy = (
  model: LanguageModel,
  policy: EgressPolicyResult["policy"],
): KubeObject => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: {
    name: model.metadata.name ?? "",
    namespace: model.metadata.namespace ?? "",
    labels: sortedRecord(policy.metadata.labels),
    ownerReferences: [controllerRef(model)],
  },
  spec: policy.spec,
})

interface Failure {
  readonly kind: ChildKind
  readonly message: string
  /** Undefined for a NameConflict (nothing to retry until something changes). */
  readonly error: KubeError | undefined
}

const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
  type,
  status: ok ? "True" : "False",
  reason,
  message,
})

/** Step 8b: the Cilium FQDN policy beside the NetworkPolicy; a failure is reported like the policy's own. */
const fqdnStep = (model: LanguageModel, egress: EgressPolicyResult, options: ActOptions) =>
  Effect.gen(function* () {
    const name = fqdnPolicyName(model.metadata.name ?? "")
    const outcome = yield* Effect.result(
      reconcileFqdnPolicy(model, egress.fqdnPolicy, {
        enabled: options.egress.ciliumFqdn,
        fieldManager: options.fieldManager,
      }),
    )
    if (outcome._tag === "Failure") {
      const message = `writing CiliumNetworkPolicy "${name}" failed: ${describeError(outcome.failure)}`
      return {
        condition: cond("NetworkPolicyReady", false, "NetworkPolicyError", message),
        failure: { kind: "NetworkPolicy", message, error: outcome.failure } satisfies Failure,
      }
    }
    if (outcome.success._tag === "Conflict") {
      const message = outcome.success.message
      return {
        condition: cond("NetworkPolicyReady", false, "NameConflict", message),
        failure: { kind: "NetworkPolicy", message, error: undefined } satisfies Failure,
      }
    }
    return undefined
  })

/** Step 8: the NetworkPolicy, written only on a semantic difference. */
const applyNetworkPolicy = (
  input: ModelInput,
  live: KubeObject | undefined,
  egress: EgressPolicyResult,
  fieldManager: string,
) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    const { model } = input
    const name = model.metadata.name ?? ""
    const owner = ownershipOf(live, model.metadata.uid ?? "")
    if (owner._tag === "Foreign") {
      const message = `NetworkPolicy ${name} is controlled by ${owner.kind} ${owner.name}; left untouched`
      return {
        condition: cond("NetworkPolicyReady", false, "NameConflict", message),
        failure: { kind: "NetworkPolicy", message, error: undefined } satisfies Failure,
      }
    }
    const desired = ownedNetworkPolicy(model, egress.policy)
    const same =
      live !== undefined &&
      owner._tag === "Ours" &&
      policiesEquivalent(egress.policy, live as Parameters<typeof policiesEquivalent>[1])
    const written = same
      ? undefined
      : yield* Effect.result(
          applyIfChanged(kube, ROLE_RESOURCE.networkPolicy, withAppliedHash(desired), live, { fieldManager }),
        )
    if (written !== undefined && written._tag === "Failure") {
      const message = `applying NetworkPolicy "${name}" failed: ${describeError(written.failure)}`
      return {
        condition: cond("NetworkPolicyReady", false, "NetworkPolicyError", message),
        failure: { kind: "NetworkPolicy", message, error: written.failure } satisfies Failure,
      }
    }
    return {
      condition: cond("NetworkPolicyReady", true, "Applied", `NetworkPolicy "${name}" applied`),
      failure: undefined,
    }
  })

/** Steps 2–10 for a model that is not being deleted. */
export const act = Effect.fn("languagemodel.act")(function* (
  input: ModelInput,
  live: LiveChildren,
  options: ActOptions,
) {
  const kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { model } = input
  const decision = decide(input)

  if (decision.finalizer === "add") yield* addFinalizer(Langop.LanguageModel, model, options.fieldManager)

  const failures: Array<Failure> = []
  let deployment = input.deployment
  for (const child of decision.children) {
    if (child._tag === "Conflict") continue
    const object = child.object as unknown as KubeObject
    const role = ROLE_OF[child.object.kind]
    const written = yield* Effect.result(
      applyIfChanged(kube, ROLE_RESOURCE[role], withAppliedHash(object), live[role], {
        fieldManager: options.fieldManager,
      }),
    )
    if (written._tag === "Failure") {
      failures.push({
        kind: child.object.kind,
        message: `applying ${child.object.kind} "${object.metadata.name ?? ""}" failed: ${describeError(written.failure)}`,
        error: written.failure,
      })
    } else if (role === "deployment") deployment = written.success.object as DeploymentView
  }

  // 8. NetworkPolicy: only when the sequence reached the children (not blocked by spec or Secret).
  let network: ReadonlyArray<ConditionInput> | undefined
  let requeueForDns = false
  if (decision.children.length > 0 && decision.rendered !== undefined) {
    const egress = yield* gatherEgress(egressRequestOf(model, decision.rendered, input.settings), options)
    requeueForDns = egress.requeueForDns
    const np = yield* applyNetworkPolicy(input, live.networkPolicy, egress, options.fieldManager)
    const fqdn = yield* fqdnStep(model, egress, options)
    const ingress = yield* ingressStep(model, options.operatorPeer, options.fieldManager)
    network = [ingress.condition ?? fqdn?.condition ?? np.condition, egress.condition]
    if (np.failure !== undefined) failures.push(np.failure)
    if (fqdn !== undefined) failures.push(fqdn.failure)
    if (ingress.failure !== undefined) failures.push(ingress.failure)
  }

  const first = failures[0]
  const outcome: ApplyOutcome =
    first === undefined ? { _tag: "Applied" } : { _tag: "Failed", kind: first.kind, message: first.message }
  const final = decide({ ...input, deployment, network }, outcome)
  if (final.statusChanged && final.status !== undefined)
    yield* applyStatus(Langop.LanguageModel, model, final.status, options.fieldManager)
  for (const e of final.events)
    yield* recorder.record({ regarding: reference(model), action: "Reconcile", ...e })

  const error = failures.find((f) => f.error !== undefined)?.error
  if (error !== undefined) return yield* Effect.fail(error)
  const delays = [
    ...(final.requeueAfterMs !== undefined ? [final.requeueAfterMs] : []),
    ...(requeueForDns ? [Duration.toMillis(Duration.fromInputUnsafe(options.dnsRefresh))] : []),
  ]
  const result: ReconcileResult =
    delays.length === 0 ? Reconciled.done : Reconciled.requeueAfter(Duration.millis(Math.min(...delays)))
  return result
})

/** Step 1: delete ConfigMap `<name>-model` (only ours; not found is fine), then remove the finalizer. */
export const cleanup = Effect.fn("languagemodel.cleanup")(function* (
  model: LanguageModel,
  fieldManager: string,
) {
  const kube = yield* KubeClient
  if (!model.metadata.finalizers?.includes(FINALIZER)) return Reconciled.done
  const address = {
    namespace: model.metadata.namespace ?? "",
    name: configMapName(model.metadata.name ?? ""),
  }
  const cm = yield* kube
    .get(Builtin.ConfigMap, address)
    .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
  if (cm !== undefined && ownershipOf(cm, model.metadata.uid ?? "")._tag === "Ours")
    yield* kube
      .delete(Builtin.ConfigMap, address, { preconditions: { uid: cm.metadata.uid ?? "" } })
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  yield* removeFinalizer(Langop.LanguageModel, model, fieldManager)
  return Reconciled.done
})
