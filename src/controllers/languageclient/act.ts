/**
 * Carries out a LanguageClient plan against the API server.
 *
 * Guarantees: children are written by server-side apply (forced, under the configured field manager)
 * only when they differ from the live object (common/apply.ts); deletions carry a uid precondition and
 * touch only children we control; the finalizer is added by JSON patch with a resourceVersion test;
 * status goes through the status subresource only when it changed, computed from the children as stored
 * after the writes. Every child is attempted even if an earlier one failed; failures are reported in
 * status (`<Object>Error`) and then fail the reconcile so the runner retries with backoff.
 */
import { type Duration, Effect } from "effect"
import type { LanguageClient } from "../../api/languageclient.ts"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Langop } from "../../kube/resources.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { applyIfChanged } from "../common/apply.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer } from "../common/self.ts"
import { type ClientInput, type ClientPlan, ROLE_RESOURCE, type Role } from "./decide.ts"
import { decideStatus } from "./status.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while waiting for a dependency or the LanguageCluster (LANGOP_DEPENDENCY_WAIT_REQUEUE). */
  readonly dependencyWait: Duration.Input
  /** How often a client with a ServiceMonitor is reconciled to revert edits to it (default 1 minute). */
  readonly monitorRecheck?: Duration.Input | undefined
}

const _at = (c: LanguageClient) => ({ name: c.metadata.name ?? "", namespace: c.metadata.namespace ?? "" })
const keyOf = (o: KubeObject) => `${o.kind ?? ""}/${o.metadata.name ?? ""}`

export const act = Effect.fn("languageclient.act")(function* (
  input: ClientInput,
  plan: ClientPlan,
  options: ActOptions,
) {
  const kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { client } = input

  if (plan.addFinalizer) yield* addFinalizer(Langop.LanguageClient, client, options.fieldManager)

  const objects = new Map(input.live.map((o) => [keyOf(o), o]))
  const errors: Array<{ role: Role; message: string; error: KubeError }> = []
  if (plan._tag === "Reconcile") {
    for (const child of plan.apply) {
      const written = yield* Effect.result(
        applyIfChanged(kube, ROLE_RESOURCE[child.role], child.desired, child.live, {
          fieldManager: options.fieldManager,
        }),
      )
      if (written._tag === "Failure")
        errors.push({
          role: child.role,
          message: `applying ${child.desired.kind ?? ""} "${child.desired.metadata.name ?? ""}" failed: ${describeError(written.failure)}`,
          error: written.failure,
        })
      else objects.set(keyOf(child.desired), written.success.object)
    }
    for (const child of plan.delete) {
      const resource = ROLE_RESOURCE[child.role]
      const deleted = yield* Effect.result(
        kube
          .delete(
            resource,
            { namespace: client.metadata.namespace, name: child.name },
            child.uid !== undefined ? { preconditions: { uid: child.uid } } : {},
          )
          .pipe(Effect.catchTag("NotFound", () => Effect.void)),
      )
      if (deleted._tag === "Failure")
        errors.push({
          role: child.role,
          message: `deleting ${resource.kind} "${child.name}" failed: ${describeError(deleted.failure)}`,
          error: deleted.failure,
        })
      else objects.delete(`${resource.kind}/${child.name}`)
    }
  }

  const outcome = decideStatus(input, plan, {
    objects,
    errors: errors.map(({ role, message }) => ({ role, message })),
  })
  if (outcome.statusChanged)
    yield* applyStatus(Langop.LanguageClient, client, outcome.status, options.fieldManager)
  const regarding = referenceTo(Langop.LanguageClient, client)
  for (const e of outcome.events) yield* recorder.record({ regarding, action: "Reconcile", ...e })

  // A Deployment that could not be read was not written: retry with backoff like a failed write.
  const first = errors[0]?.error ?? (plan._tag === "Reconcile" ? input.unreadable[0]?.error : undefined)
  if (first !== undefined) return yield* Effect.fail(first)
  if (plan._tag === "Blocked")
    return plan.wait ? Reconciled.requeueAfter(options.dependencyWait) : Reconciled.done
  return plan.recheckMonitor ? Reconciled.requeueAfter(options.monitorRecheck ?? "1 minute") : Reconciled.done
})

/** Deletion: nothing to clean up beyond garbage collection (docs/concepts.md §5); drop the finalizer. */
export const cleanup = Effect.fn("languageclient.cleanup")(function* (
  client: LanguageClient,
  fieldManager: string,
) {
  yield* removeFinalizer(Langop.LanguageClient, client, fieldManager)
  return Reconciled.done
})
