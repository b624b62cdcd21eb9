/**
 * Writes a reconciler makes to the object it reconciles, and the two shapes they need.
 *
 * Every reconciler adds and removes its finalizer, writes its status and records Events about its
 * object; this module is the one place for those, so each kind's act step only says *when*.
 *
 * Guarantees:
 * - finalizer writes are JSON patches from `finalizer.ts` (a resourceVersion `test` first), made only
 *   when the list needs the change; removal treats NotFound as success (the object is already gone);
 * - status goes through the status subresource by server-side apply under the given field manager,
 *   forced (status is written by this operator alone), with exactly `apiVersion`, `kind`, name,
 *   namespace and `status`, so no spec or metadata field is ever claimed by the status write;
 * - after a status write, every condition that flipped from True (or Unknown) to False gets one Warning
 *   Event (reason and message of the condition), so `kubectl describe` and `kubectl events` tell a user
 *   what broke for every kind and condition alike. The comparison is with the status the reconcile read,
 *   so a reconcile that changes nothing records nothing; an identical Event a kind records itself is
 *   folded into the same Event by the recorder.
 * `addressOf` and `referenceTo` are pure.
 */
import { Effect } from "effect"
import { KubeClient } from "../../kube/client.ts"
import { apiVersionOf, type ResourceDescriptor } from "../../kube/resources.ts"
import { EventRecorder, type ObjectReference } from "../../runtime/events.ts"
import { type ConditionState, flippedToFalse } from "./conditions.ts"
import { addFinalizerOps, removeFinalizerOps } from "./finalizer.ts"

/** The metadata this module reads. */
export interface SelfMeta {
  readonly metadata: {
    readonly name?: string | undefined
    readonly namespace?: string | undefined
    readonly uid?: string | undefined
    readonly resourceVersion?: string | undefined
    readonly finalizers?: ReadonlyArray<string> | undefined
  }
}

/** Name and (for namespaced kinds) namespace of `o`, as the client's calls take them. */
export const addressOf = (o: SelfMeta): { readonly name: string; readonly namespace?: string } =>
  o.metadata.namespace === undefined
    ? { name: o.metadata.name ?? "" }
    : { name: o.metadata.name ?? "", namespace: o.metadata.namespace }

/** The `regarding` reference of an Event about `o`, an object of resource `r`. */
export const referenceTo = (r: ResourceDescriptor, o: SelfMeta): ObjectReference => ({
  apiVersion: apiVersionOf(r),
  kind: r.kind,
  name: o.metadata.name,
  namespace: o.metadata.namespace,
  uid: o.metadata.uid,
})

/** Adds our finalizer to `o` (an `r` object); no request when it is already there. */
export const addFinalizer = (r: ResourceDescriptor, o: SelfMeta, fieldManager: string) =>
  Effect.gen(function* () {
    const ops = addFinalizerOps(o.metadata)
    if (ops === undefined) return
    const kube = yield* KubeClient
    yield* kube.patch(r, addressOf(o), { type: "json", ops }, { fieldManager })
  })

/** Removes our finalizer from `o` (an `r` object); no request when it is absent; NotFound is success. */
export const removeFinalizer = (r: ResourceDescriptor, o: SelfMeta, fieldManager: string) =>
  Effect.gen(function* () {
    const ops = removeFinalizerOps(o.metadata)
    if (ops === undefined) return
    const kube = yield* KubeClient
    yield* kube
      .patch(r, addressOf(o), { type: "json", ops }, { fieldManager })
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  })

/** The part of a status this module reads: its conditions. */
export interface StatusConditions {
  readonly conditions?: ReadonlyArray<ConditionState> | undefined
}

/**
 * Writes `status` of `o` (an `r` object, as the reconcile read it) through the status subresource, then
 * records a Warning Event for each condition that flipped to False. Callers write only on change.
 */
export const applyStatus = (
  r: ResourceDescriptor,
  o: SelfMeta & { readonly status?: StatusConditions | undefined },
  status: StatusConditions,
  fieldManager: string,
) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    yield* kube.apply(
      r,
      { apiVersion: apiVersionOf(r), kind: r.kind, metadata: addressOf(o), status },
      { fieldManager, force: true, subresource: "status" },
    )
    const flipped = flippedToFalse(o.status?.conditions, status.conditions)
    if (flipped.length === 0) return
    const recorder = yield* EventRecorder
    for (const c of flipped)
      yield* recorder.record({
        regarding: referenceTo(r, o),
        type: "Warning",
        reason: c.reason,
        // The same action as the kinds' own status events, so an identical one is folded into this Event.
        action: "Reconcile",
        note: c.message,
      })
  })
