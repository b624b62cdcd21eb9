/**
 * Step 8c of the LanguageModel reconcile: the proxy's ingress NetworkPolicy `<name>.ingress`
 * (src/network/ingress.ts says whom it admits and why), owned by the model.
 *
 * Guarantees: written by server-side apply only on a semantic difference from the live object (so a
 * reconcile with nothing changed makes no write); a policy of that name controlled by another owner is
 * never written (NameConflict); the consumers come from the informer caches.
 */
import { Effect } from "effect"
import type { LanguageModel } from "../../api/languagemodel.ts"
import { sortedRecord } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin } from "../../kube/resources.ts"
import {
  buildModelIngressPolicy,
  ingressPoliciesEquivalent,
  ingressPolicyName,
  type LiveIngressPolicy,
  type OperatorPeer,
} from "../../network/ingress.ts"
import { Informers } from "../../runtime/informers.ts"
import { managedNetworkPolicySource } from "../../runtime/sources.ts"
import { applyIfChanged, withAppliedHash } from "../common/apply.ts"
import type { ConditionInput } from "../common/conditions.ts"
import { orUndefinedOnNotFound } from "../common/io.ts"
import { controllerRef, ownershipOf } from "../common/ownership.ts"
import { consumersOf } from "./consumers.ts"

export interface IngressOutcome {
  /** `NetworkPolicyReady=False` when the policy could not be written; undefined when it is in place. */
  readonly condition: ConditionInput | undefined
  readonly failure:
    | { readonly kind: "NetworkPolicy"; readonly message: string; readonly error: KubeError | undefined }
    | undefined
}

export const ingressStep = (model: LanguageModel, operator: OperatorPeer | undefined, fieldManager: string) =>
  Effect.gen(function* () {
    const informers = yield* Informers
    const kube = yield* KubeClient
    const namespace = model.metadata.namespace ?? ""
    const modelName = model.metadata.name ?? ""
    const name = ingressPolicyName(modelName)
    const address = { namespace, name }
    const live =
      informers.cache(managedNetworkPolicySource).getByName(namespace, name) ??
      (yield* orUndefinedOnNotFound(kube.get(Builtin.NetworkPolicy, address)))
    const failed = (reason: string, message: string, error: KubeError | undefined): IngressOutcome => ({
      condition: { type: "NetworkPolicyReady", status: "False", reason, message },
      failure: { kind: "NetworkPolicy", message, error },
    })
    const owner = ownershipOf(live, model.metadata.uid ?? "")
    if (owner._tag === "Foreign")
      return failed(
        "NameConflict",
        `NetworkPolicy ${name} is controlled by ${owner.kind} ${owner.name}; left untouched`,
        undefined,
      )
    const policy = buildModelIngressPolicy(
      { namespace, name: modelName },
      consumersOf(informers, namespace, modelName),
      operator,
    )
    if (
      live !== undefined &&
      owner._tag === "Ours" &&
      ingressPoliciesEquivalent(policy, live as unknown as LiveIngressPolicy)
    )
      return { condition: undefined, failure: undefined } satisfies IngressOutcome
    const desired: KubeObject = {
      apiVersion: policy.apiVersion,
      kind: policy.kind,
      metadata: {
        name,
        namespace,
        labels: sortedRecord(policy.metadata.labels),
        ownerReferences: [controllerRef(model)],
      },
      spec: policy.spec,
    }
    const written = yield* Effect.result(
      applyIfChanged(kube, Builtin.NetworkPolicy, withAppliedHash(desired), live, { fieldManager }),
    )
    if (written._tag === "Failure")
      return failed(
        "NetworkPolicyError",
        `applying NetworkPolicy "${name}" failed: ${describeError(written.failure)}`,
        written.failure,
      )
    return { condition: undefined, failure: undefined } satisfies IngressOutcome
  })
