/**
 * Carries out a LanguageCluster decision against the API server.
 *
 * Guarantees: the finalizer is added/removed by JSON patch with a resourceVersion test; a Namespace is
 * created with POST (never server-side apply, which would silently take over a namespace that appeared
 * in the meantime and later delete it as "ours"); label patches carry a `test` op; a Namespace is
 * deleted with a uid precondition; status goes through the status subresource by server-side apply, only
 * when it changed. A failed namespace write is reported in status (`Pending`, `ReconcileError`) and then
 * fails the reconcile so the runner retries with backoff.
 */
import { type Duration, Effect } from "effect"
import { KubeClient } from "../../kube/client.ts"
import { describeError } from "../../kube/errors.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer } from "../common/self.ts"
import {
  type CleanupDecision,
  type ClusterDecision,
  type ClusterInput,
  failureStatus,
  type NamespaceAction,
} from "./decide.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while a terminating namespace is going away (setting LANGOP_DEPENDENCY_WAIT_REQUEUE). */
  readonly dependencyWait: Duration.Input
}

const reference = (input: ClusterInput) => referenceTo(Langop.LanguageCluster, input.cluster)

const runNamespaceAction = (action: NamespaceAction, fieldManager: string) =>
  Effect.gen(function* () {
    const kube = yield* KubeClient
    switch (action._tag) {
      case "None":
        return
      case "Create":
        yield* kube.create(Builtin.Namespace, action.object, { fieldManager })
        return
      case "Patch":
        yield* kube.patch(
          Builtin.Namespace,
          { name: action.name },
          { type: "json", ops: action.ops },
          { fieldManager },
        )
        return
      case "Delete":
        yield* kube
          .delete(
            Builtin.Namespace,
            { name: action.name },
            action.uid !== undefined ? { preconditions: { uid: action.uid } } : {},
          )
          .pipe(Effect.catchTag("NotFound", () => Effect.void))
        return
    }
  })

export const act = Effect.fn("languagecluster.act")(function* (
  input: ClusterInput,
  decision: ClusterDecision,
  options: ActOptions,
) {
  const _kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { cluster } = input

  if (decision.addFinalizer) yield* addFinalizer(Langop.LanguageCluster, cluster, options.fieldManager)

  const attempted = yield* Effect.result(runNamespaceAction(decision.namespace, options.fieldManager))
  const outcome =
    attempted._tag === "Failure"
      ? failureStatus(input, `ensuring Namespace failed: ${describeError(attempted.failure)}`)
      : decision

  if (outcome.statusChanged)
    yield* applyStatus(Langop.LanguageCluster, cluster, outcome.status, options.fieldManager)
  for (const e of outcome.events)
    yield* recorder.record({ regarding: reference(input), action: "Reconcile", ...e })

  if (attempted._tag === "Failure") return yield* Effect.fail(attempted.failure)
  return decision.waiting ? Reconciled.requeueAfter(options.dependencyWait) : Reconciled.done
})

/** Deletion: the namespace step (delete ours / unlabel an adopted one), then the finalizer. */
export const cleanup = Effect.fn("languagecluster.cleanup")(function* (
  input: ClusterInput,
  decision: CleanupDecision,
  options: Pick<ActOptions, "fieldManager">,
) {
  const _kube = yield* KubeClient
  const recorder = yield* EventRecorder
  yield* runNamespaceAction(decision.namespace, options.fieldManager).pipe(
    // The label may already be gone (the `test` op then fails; see kube/errors.ts): nothing left to undo.
    Effect.catchTag(["Invalid", "Conflict"], (e) =>
      decision.namespace._tag === "Patch" ? Effect.void : Effect.fail(e),
    ),
  )
  if (decision.namespace._tag === "Delete")
    yield* recorder.record({
      regarding: reference(input),
      type: "Normal",
      reason: "NamespaceDeleted",
      action: "Delete",
      note: `Deleting Namespace "${decision.namespace.name}" created by this LanguageCluster`,
    })
  if (decision.removeFinalizer)
    yield* removeFinalizer(Langop.LanguageCluster, input.cluster, options.fieldManager)
  return Reconciled.done
})
