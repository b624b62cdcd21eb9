/**
 * What a server-side apply of a Deployment cannot do by itself, for every kind that runs one (agents,
 * tools, clients). Called by `applyIfChanged` right before it writes a Deployment.
 *
 * 1. Switching to `Recreate`. On creation the API server defaults `spec.strategy.rollingUpdate`; that
 *    field belongs to no field manager, so applying `{type: Recreate}` keeps it and the API server then
 *    rejects the object ("may not be specified when strategy type is 'Recreate'") on every attempt. A JSON
 *    merge patch that sets the type and removes `rollingUpdate` in one request clears it (a patch that
 *    removed only `rollingUpdate` would see it defaulted again while the type is still RollingUpdate).
 * 2. Handing `spec.replicas` over to a HorizontalPodAutoscaler. The desired Deployment omits `replicas`
 *    while an HPA is enabled; applying it releases our ownership and, with no other owner, the API server
 *    resets the field to its default (1) before the HPA acts. So before such a write a second field
 *    manager (`<manager>-handover`) applies only the current replica count, without force: it then owns
 *    the field and keeps the count when we let go. A conflict means someone else (the HPA, writing
 *    through the scale subresource) already owns it, which is the goal; the HPA's next scaling takes the
 *    field from the hand-over manager, whose entry then disappears. This is the "transferring ownership"
 *    procedure of the Kubernetes server-side apply documentation.
 *
 * Guarantees: both steps write only when needed (a Recreate target whose live object still carries
 * `rollingUpdate`; a desired object without `replicas` whose last applied form differed, i.e. might
 * still have owned the count); neither changes what the subsequent apply writes.
 */
import { Effect } from "effect"
import type { KubeClientShape } from "../../kube/client.ts"
import type { KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin } from "../../kube/resources.ts"

interface DeploymentShape {
  readonly spec?: {
    readonly replicas?: number
    readonly strategy?: { readonly type?: string; readonly rollingUpdate?: unknown }
  }
}

const specOf = (o: KubeObject | undefined) => (o as (KubeObject & DeploymentShape) | undefined)?.spec

/** The field manager that holds `spec.replicas` while it passes to an autoscaler. */
export const handoverManager = (fieldManager: string): string => `${fieldManager}-handover`

/** The merge patch that makes `live` a valid target for `desired`'s `Recreate` strategy, if one is needed. */
export const strategyPatch = (
  desired: KubeObject,
  live: KubeObject | undefined,
): Readonly<Record<string, unknown>> | undefined =>
  live !== undefined &&
  specOf(desired)?.strategy?.type === "Recreate" &&
  specOf(live)?.strategy?.rollingUpdate !== undefined
    ? { spec: { strategy: { type: "Recreate", rollingUpdate: null } } }
    : undefined

/**
 * The replicas-only object the hand-over manager applies before `desired` (which omits `replicas`) is
 * written over `live`; undefined when nothing can be lost. `lastAppliedSame` tells that the live object
 * was last written from exactly `desired` (so our manager no longer owns the count).
 */
export const replicasHandover = (
  desired: KubeObject,
  live: KubeObject | undefined,
  lastAppliedSame: boolean,
): KubeObject | undefined => {
  const replicas = specOf(live)?.replicas
  if (live === undefined || replicas === undefined || lastAppliedSame) return undefined
  if (specOf(desired)?.replicas !== undefined) return undefined
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: live.metadata.name ?? "", namespace: live.metadata.namespace ?? "" },
    spec: { replicas },
  }
}

/** Runs the steps above that `desired` needs before it is applied over `live`. */
export const prepareDeploymentWrite = (
  kube: KubeClientShape,
  desired: KubeObject,
  live: KubeObject | undefined,
  options: { readonly fieldManager: string; readonly lastAppliedSame: boolean },
): Effect.Effect<void, KubeError> =>
  Effect.gen(function* () {
    if (live === undefined) return
    const at = { name: live.metadata.name ?? "", namespace: live.metadata.namespace }
    const patch = strategyPatch(desired, live)
    if (patch !== undefined)
      yield* kube.patch(
        Builtin.Deployment,
        at,
        { type: "merge", body: patch },
        { fieldManager: options.fieldManager },
      )
    const handover = replicasHandover(desired, live, options.lastAppliedSame)
    if (handover !== undefined)
      yield* kube
        .apply(Builtin.Deployment, handover, { fieldManager: handoverManager(options.fieldManager) })
        .pipe(Effect.catchTag("Conflict", () => Effect.void))
  })
