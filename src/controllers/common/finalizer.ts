/**
 * JSON patches that add or remove the finalizer `langop.io/finalizer` (spec docs/concepts.md §5). PURE.
 *
 * Guarantees: the patch touches only `metadata.finalizers` and starts with a `test` of the
 * `resourceVersion` that was read, so it fails (HTTP 422, retried by the reconcile backoff after a fresh
 * read) instead of clobbering a concurrent change; removal also tests the entry it removes. Never a
 * whole-object update (which would race with user edits).
 */

import { FINALIZER } from "../../domain/labels.ts"
import type { JsonPatchOp } from "../../kube/client.ts"

interface Meta {
  readonly resourceVersion?: string | undefined
  readonly finalizers?: ReadonlyArray<string> | undefined
}

const testVersion = (meta: Meta): ReadonlyArray<JsonPatchOp> =>
  meta.resourceVersion === undefined
    ? []
    : [{ op: "test", path: "/metadata/resourceVersion", value: meta.resourceVersion }]

/** Ops adding `finalizer`, or undefined when it is already present. */
export const addFinalizerOps = (
  meta: Meta,
  finalizer = FINALIZER,
): ReadonlyArray<JsonPatchOp> | undefined => {
  const list = meta.finalizers
  if (list?.includes(finalizer)) return undefined
  return [
    ...testVersion(meta),
    list === undefined
      ? { op: "add", path: "/metadata/finalizers", value: [finalizer] }
      : { op: "add", path: "/metadata/finalizers/-", value: finalizer },
  ]
}

/** Ops removing `finalizer`, or undefined when it is absent. */
export const removeFinalizerOps = (
  meta: Meta,
  finalizer = FINALIZER,
): ReadonlyArray<JsonPatchOp> | undefined => {
  const i = meta.finalizers?.indexOf(finalizer) ?? -1
  if (i < 0) return undefined
  return [
    ...testVersion(meta),
    { op: "test", path: `/metadata/finalizers/${i}`, value: finalizer },
    { op: "remove", path: `/metadata/finalizers/${i}` },
  ]
}
