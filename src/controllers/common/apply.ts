/**
 * Write generated objects only when they differ from the live ones (spec docs/concepts.md §10 "compare the fields
 * the operator owns with the live object and update only on difference").
 *
 * How: every desired object carries annotation `langop.io/applied-hash` = hash of the rest of the desired
 * object. A live object needs no write when it *contains* the desired one (every field we set is present
 * with an equal value; the API server's defaults and other managers' fields may be added). The hash
 * catches what containment cannot: a field we stopped setting (e.g. a removed env var) leaves the live
 * object still containing the new, smaller desired object, but its hash differs.
 *
 * Guarantees:
 * - `needsApply` is pure and deterministic; equal desired objects always compare equal to the same live.
 * - `applyIfChanged` writes (server-side apply, forced, under the given field manager) only when
 *   `needsApply`; when the hash matches but containment fails (the API server normalised a value, e.g. a
 *   quantity `0.5` stored as `500m`, or someone edited a field we own) it first asks for a dry-run apply
 *   and writes only if that would change the stored object — so normalisation never causes a write per
 *   reconcile, while drift is always repaired.
 * - Deployments get what server-side apply cannot do for them first (common/deployment.ts: clearing a
 *   defaulted `rollingUpdate` on a switch to Recreate, handing `replicas` over to an autoscaler).
 * Assumption: desired objects contain no `null`s; empty lists/objects are treated like absent fields
 * (the API server omits them).
 */
import { Effect } from "effect"
import { canonicalJson, configHash } from "../../domain/hash.ts"
import { sortedRecord } from "../../domain/labels.ts"
import type { KubeClientShape } from "../../kube/client.ts"
import type { KubeError } from "../../kube/errors.ts"
import type { KubeObject } from "../../kube/objects.ts"
import { Builtin, type ResourceDescriptor, resourceId } from "../../kube/resources.ts"
import { prepareDeploymentWrite } from "./deployment.ts"

export const ANNOTATION_APPLIED_HASH = "langop.io/applied-hash"

const isEmpty = (v: unknown): boolean =>
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)

/** Every field of `desired` is in `live` with an equal value (lists: same length, element-wise). */
export const containsDesired = (desired: unknown, live: unknown): boolean => {
  if (desired === undefined) return true
  if (live === undefined || live === null) return isEmpty(desired)
  if (desired === null || typeof desired !== "object") return desired === live
  if (Array.isArray(desired))
    return (
      Array.isArray(live) &&
      live.length === desired.length &&
      desired.every((d, i) => containsDesired(d, live[i]))
    )
  if (typeof live !== "object" || Array.isArray(live)) return false
  const liveRecord = live as Readonly<Record<string, unknown>>
  return Object.entries(desired).every(([k, v]) => containsDesired(v, liveRecord[k]))
}

const hashOfObject = (obj: KubeObject): string => {
  const { [ANNOTATION_APPLIED_HASH]: _dropped, ...annotations } = obj.metadata.annotations ?? {}
  return configHash({ ...obj, metadata: { ...obj.metadata, annotations } })
}

/** `obj` with its applied-hash annotation set (call last, on the complete desired object). */
export const withAppliedHash = <T extends KubeObject>(obj: T): T => ({
  ...obj,
  metadata: {
    ...obj.metadata,
    annotations: sortedRecord({ ...obj.metadata.annotations, [ANNOTATION_APPLIED_HASH]: hashOfObject(obj) }),
  },
})

const appliedHashOf = (obj: KubeObject | undefined): string | undefined =>
  obj?.metadata.annotations?.[ANNOTATION_APPLIED_HASH]

/** True when writing `desired` (built with {@link withAppliedHash}) could change `live`. */
export const needsApply = (desired: KubeObject, live: KubeObject | undefined): boolean =>
  live === undefined || !containsDesired(desired, live)

const withoutVolatile = (obj: KubeObject): unknown => {
  const { managedFields: _m, ...metadata } = obj.metadata
  return { ...obj, metadata }
}

export interface ApplyChildOptions {
  readonly fieldManager: string
}

/**
 * Server-side apply of `desired` unless `live` already matches it (see the module header). Returns the
 * object as stored (the live one when nothing was written) and whether a write happened.
 */
export const applyIfChanged = (
  kube: KubeClientShape,
  resource: ResourceDescriptor,
  desired: KubeObject,
  live: KubeObject | undefined,
  options: ApplyChildOptions,
): Effect.Effect<{ readonly object: KubeObject; readonly written: boolean }, KubeError> =>
  Effect.gen(function* () {
    if (live !== undefined && !needsApply(desired, live)) return { object: live, written: false }
    const applyOptions = { fieldManager: options.fieldManager, force: true }
    const lastAppliedSame = live !== undefined && appliedHashOf(live) === appliedHashOf(desired)
    if (lastAppliedSame) {
      const dry = yield* kube.apply(resource, desired, { ...applyOptions, dryRun: true })
      if (canonicalJson(withoutVolatile(dry)) === canonicalJson(withoutVolatile(live)))
        return { object: live, written: false }
    }
    if (resourceId(resource) === resourceId(Builtin.Deployment))
      yield* prepareDeploymentWrite(kube, desired, live, {
        fieldManager: options.fieldManager,
        lastAppliedSame,
      })
    const object = yield* kube.apply(resource, desired, applyOptions)
    return { object, written: true }
  })
