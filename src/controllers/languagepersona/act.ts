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
import { API_VERSION } from "../../api/shared.ts"
import { KubeClient } from "../../kube/client.ts"
import { describeError, type KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, Langop } from "../../kube/resources.ts"
import { Reconciled } from "../../runtime/controller.ts"
import { EventRecorder } from "../../runtime/events.ts"
import { addFinalizerOps, removeFinalizerOps } from "../common/finalizer.ts"
import { configMapName } from "./configmap.ts"
import { type CleanupDecision, decideStatus, type PersonaDecision, type PersonaInput } from "./decide.ts"

export interface ActOptions {
  /** Server-side apply field manager (setting LANGOP_FIELD_MANAGER). */
  readonly fieldManager: string
  /** Requeue delay while waiting for a parent persona or a conflicting ConfigMap (dependency-wait setting). */
  readonly dependencyWait: Duration.Input
}

interface PersonaMeta {
  readonly metadata: {
    readonly name?: string
    readonly namespace?: string
    readonly uid?: string
    readonly resourceVersion?: string
    readonly finalizers?: ReadonlyArray<string>
  }
}

const at = (p: PersonaMeta) => ({ name: p.metadata.name ?? "", namespace: p.metadata.namespace ?? "" })

const reference = (p: PersonaMeta) => ({
  apiVersion: API_VERSION,
  kind: "LanguagePersona",
  name: p.metadata.name,
  namespace: p.metadata.namespace,
  uid: p.metadata.uid,
})

export const act = Effect.fn("languagepersona.act")(function* (
  input: PersonaInput,
  decision: PersonaDecision,
  options: ActOptions,
) {
  const kube = yield* KubeClient
  const recorder = yield* EventRecorder
  const { persona } = input

  if (decision.addFinalizer) {
    const ops = addFinalizerOps(persona.metadata)
    if (ops !== undefined)
      yield* kube.patch(
        Langop.LanguagePersona,
        at(persona),
        { type: "json", ops },
        { fieldManager: options.fieldManager },
      )
  }

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

  if (outcome.statusChanged) {
    const body: KubeObject = {
      apiVersion: API_VERSION,
      kind: "LanguagePersona",
      metadata: at(persona),
      status: outcome.status,
    }
    yield* kube.apply(Langop.LanguagePersona, body, {
      fieldManager: options.fieldManager,
      force: true,
      subresource: "status",
    })
  }
  for (const e of outcome.events)
    yield* recorder.record({ regarding: reference(persona), action: "Reconcile", ...e })

  if (failure !== undefined) return yield* Effect.fail(failure)
  return outcome.waiting ? Reconciled.requeueAfter(options.dependencyWait) : Reconciled.done
})

/** Deletion: our ConfigMap (precondition: its uid), then our finalizer. Missing objects are fine. */
export const cleanup = Effect.fn("languagepersona.cleanup")(function* (
  persona: PersonaMeta,
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
  const ops = decision.removeFinalizer ? removeFinalizerOps(persona.metadata) : undefined
  if (ops !== undefined)
    yield* kube
      .patch(
        Langop.LanguagePersona,
        at(persona),
        { type: "json", ops },
        { fieldManager: options.fieldManager },
      )
      .pipe(Effect.catchTag("NotFound", () => Effect.void))
  return Reconciled.done
})
