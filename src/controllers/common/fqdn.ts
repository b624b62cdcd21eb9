/**
 * Writes or removes the Cilium FQDN policy `<name>-fqdn` of an agent, service-mode tool or model proxy
 * (built by src/network/cilium.ts), for the three reconcilers that own a NetworkPolicy.
 *
 * Guarantees:
 * - setting off → no request at all;
 * - one read per reconcile (a list by name: a 404 means Cilium's CRD is not served, and the policy is
 *   skipped until it is; the kind has no informer because it may not exist);
 * - written by server-side apply under the given field manager only when it differs from the live one
 *   (common/apply.ts), with our controller reference, so garbage collection removes it with its owner;
 * - a policy of that name controlled by another object is never touched (`Conflict`); one that is ours
 *   and no longer wanted (no DNS name left, or a tool switched to sidecar mode) is deleted with a uid
 *   precondition; with the setting turned off, the next start removes them all ({@link ciliumStartup}).
 */
import { Effect } from "effect"
import { API_VERSION } from "../../api/shared.ts"
import { LABEL_MANAGED_BY, MANAGED_BY } from "../../domain/labels.ts"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import {
  type CiliumNetworkPolicy,
  CiliumNetworkPolicyResource,
  fqdnPolicyName,
} from "../../network/cilium.ts"
import { applyIfChanged, withAppliedHash } from "./apply.ts"
import { controllerRef, ownershipOf } from "./ownership.ts"
import type { SelfMeta } from "./self.ts"

export type FqdnOutcome =
  | { readonly _tag: "Off" }
  | { readonly _tag: "NotServed" }
  | { readonly _tag: "Conflict"; readonly message: string }
  | { readonly _tag: "Applied"; readonly name: string; readonly written: boolean }
  | { readonly _tag: "Removed"; readonly name: string }
  | { readonly _tag: "Absent" }

export interface FqdnOwner {
  readonly kind: string
  readonly metadata: SelfMeta["metadata"]
}

/** Makes the live FQDN policy of `owner` match `desired` (undefined: none wanted). */
export const reconcileFqdnPolicy = (
  owner: FqdnOwner,
  desired: CiliumNetworkPolicy | undefined,
  options: { readonly enabled: boolean; readonly fieldManager: string },
): Effect.Effect<FqdnOutcome, KubeError, KubeClient> =>
  Effect.gen(function* () {
    if (!options.enabled) return { _tag: "Off" } as const
    const kube = yield* KubeClient
    const namespace = owner.metadata.namespace ?? ""
    const name = fqdnPolicyName(owner.metadata.name ?? "")
    const listed = yield* kube
      .list(CiliumNetworkPolicyResource, { namespace, fieldSelector: `metadata.name=${name}` })
      .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
    if (listed === undefined) return { _tag: "NotServed" } as const
    const live = listed.items[0]
    const ownership = ownershipOf(live, owner.metadata.uid ?? "")
    if (ownership._tag === "Foreign")
      return {
        _tag: "Conflict",
        message: `CiliumNetworkPolicy "${name}" is controlled by ${ownership.kind} ${ownership.name}; left untouched`,
      } as const
    if (desired === undefined) {
      if (live === undefined || ownership._tag !== "Ours") return { _tag: "Absent" } as const
      yield* kube
        .delete(
          CiliumNetworkPolicyResource,
          { namespace, name },
          { preconditions: { uid: live.metadata.uid ?? "" } },
        )
        .pipe(Effect.catchTag("NotFound", () => Effect.void))
      return { _tag: "Removed", name } as const
    }
    const object: KubeObject = withAppliedHash({
      ...desired,
      metadata: {
        ...desired.metadata,
        ownerReferences: [
          controllerRef({
            kind: owner.kind,
            metadata: { name: owner.metadata.name ?? "", uid: owner.metadata.uid ?? "" },
          }),
        ],
      },
    } as unknown as KubeObject)
    const applied = yield* applyIfChanged(kube, CiliumNetworkPolicyResource, object, live, {
      fieldManager: options.fieldManager,
    })
    return { _tag: "Applied", name, written: applied.written } as const
  })

/** The problem an outcome reports (for the NetworkPolicyReady condition), if any. */
export const fqdnProblem = (outcome: FqdnOutcome): string | undefined =>
  outcome._tag === "Conflict" ? outcome.message : undefined

/**
 * Startup step for `LANGOP_CILIUM_FQDN_POLICIES`. On: says once, in the log, when Cilium's CRD is not served
 * (the reconcilers then skip FQDN policies quietly until it is). Off: removes the FQDN policies an earlier
 * run wrote ({@link removeFqdnPolicies}), since no reconcile looks at them any more and a stale allow rule
 * must not outlive the setting. Never fails the start.
 */
export const ciliumStartup = (enabled: boolean): Effect.Effect<void, never, KubeClient> =>
  Effect.gen(function* () {
    if (!enabled) {
      const removed = yield* Effect.result(removeFqdnPolicies)
      if (removed._tag === "Failure")
        yield* Effect.logWarning(
          "could not remove FQDN policies after LANGOP_CILIUM_FQDN_POLICIES was turned off",
          {
            error: describeError(removed.failure),
          },
        )
      else if (removed.success > 0)
        yield* Effect.logInfo("removed FQDN policies (LANGOP_CILIUM_FQDN_POLICIES is off)", {
          count: removed.success,
        })
      return
    }
    const kube = yield* KubeClient
    const probe = yield* Effect.result(kube.list(CiliumNetworkPolicyResource, { limit: 1 }))
    if (probe._tag === "Success") return
    yield* probe.failure._tag === "NotFound"
      ? Effect.logWarning(
          "LANGOP_CILIUM_FQDN_POLICIES is on, but cilium.io/v2 CiliumNetworkPolicy is not served: FQDN policies are skipped until Cilium's CRDs are installed",
        )
      : Effect.logWarning("LANGOP_CILIUM_FQDN_POLICIES: could not check for Cilium's CRD", {
          error: describeError(probe.failure),
        })
  })

/**
 * Deletes every CiliumNetworkPolicy this operator wrote (our managed-by label, named `<owner>-fqdn`, controlled
 * by one of our kinds), each with a uid precondition; none when the CRD is not served. Returns how many.
 */
export const removeFqdnPolicies: Effect.Effect<number, KubeError, KubeClient> = Effect.gen(function* () {
  const kube = yield* KubeClient
  const listed = yield* kube
    .listAll(CiliumNetworkPolicyResource, { labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY}` })
    .pipe(Effect.catchTag("NotFound", () => Effect.succeed(undefined)))
  const ours = (listed?.items ?? []).filter((o) => {
    const controller = o.metadata.ownerReferences?.find((r) => r.controller === true)
    return (
      controller !== undefined &&
      controller.apiVersion === API_VERSION &&
      (o.metadata.name ?? "") === fqdnPolicyName(controller.name)
    )
  })
  yield* Effect.forEach(ours, (o) =>
    kube
      .delete(
        CiliumNetworkPolicyResource,
        { namespace: o.metadata.namespace ?? "", name: o.metadata.name ?? "" },
        { preconditions: { uid: o.metadata.uid ?? "" } },
      )
      .pipe(Effect.catchTag("NotFound", () => Effect.void)),
  )
  return ours.length
})
