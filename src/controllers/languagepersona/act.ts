/**
 * Carries out a LanguagePersona decision against the API server.
 *
 * Guarantees: writes only what the decision says changed (finalizer JSON patch with a resourceVersion
 * test; ConfigMap and status by server-side apply under the configured field manager, status through
 * the status subresource); a ConfigMap that another object controls is never written or deleted; Events
 * are recorded only after the status that explains them was written. A failed ConfigMap apply is reported
 * in status (`ConfigMapError`) and then fails the reconcile so the runner retries with backoff.
 */
import { type Duration, Effect } from "effect"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { addFinalizer, applyStatus, referenceTo, removeFinalizer, type SelfMeta } from "../common/self.ts"
import { configMapName } from "./configmap.ts"
import { type CleanupDecision, decideStatus, type PersonaDecision, type PersonaInput } from "./decide.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while waiting for a parent persona or a conflicting ConfigMap (dependency-wait setting). */
  readonly dependencyWait: Duration.Input
}

const reference = (p: SelfMeta) => referenceTo(Langop.LanguagePersona, p)

export const act = Effect.fn("languagepersona.act")(function* (
  input: PersonaInput,
  decision: PersonaDecision,
  options: ActOptions,
) {
  const kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { persona } = input

  if (decision.addFinalizer) yield* addFinalizer(Langop.LanguagePersona, persona, options.fieldManager)

  let outcome: Pick<PersonaDecision, "status" | "statusChanged" | "events" | "waiting"> = decision
  let failure: KubeError | undefined
  if (decision.configMap._tag === "Apply") {
    const applied = yield* Effect.result(
      kube.apply(Builtin.ConfigMap, decision.configMap.object as unknown as KubeObject, {
        fieldManager: options.fieldManager,
        force: true,
      }),
    )
    if (applied._tag === "Failure") {
      failure = applied.failure
      outcome = decideStatus(input, {
        _tag: "Failed",
        message: `applying ConfigMap "${decision.configMap.object.metadata.name}" failed: ${describeError(applied.failure)}`,
      })
    }
  }

  if (outcome.statusChanged)
    yield* applyStatus(Langop.LanguagePersona, persona, outcome.status, options.fieldManager)
  for (const e of outcome.events)
    yield* recorder.record({ regarding: reference(persona), action: "Reconcile", ...e })

  if (failure !== undefined) return yield* Effect.fail(failure)
  return outcome.waiting ? Reconciled.requeueAfter(options.dependencyWait) : Reconciled.done
})

/** Deletion: our ConfigMap (precondition: its uid), then our finalizer. Missing objects are fine. */
export const cleanup = Effect.fn("languagepersona.cleanup")(function* (
  persona: SelfMeta,
  decision: CleanupDecision,
  options: Pick<ActOptions, "fieldManager">,
) {
  const kube = yield* KubeClient
  if (decision.deleteConfigMap !== undefined)
    yield* kube
      .delete(
        Builtin.ConfigMap,
        { name: configMapName(persona.metadata.name ?? ""), namespace: persona.metadata.namespace },
        { preconditions: { uid: decision.deleteConfigMap.uid } },
      )
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  if (decision.removeFinalizer) yield* removeFinalizer(Langop.LanguagePersona, persona, options.fieldManager)
  return Reconciled.done
})
