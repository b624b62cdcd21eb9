/**
 * Controller owner references and the name-collision rule (spec docs/concepts.md §3, §5).
 *
 * Guarantee: a generated object controlled by a different owner is never overwritten; the caller reports
 * `NameConflict` instead.
 */
import { API_VERSION } from "../../api/shared.ts"

export interface OwnerRef {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly uid: string
  readonly controller: true
  readonly blockOwnerDeletion: true
}

export interface OwnerObject {
  readonly kind: string
  readonly metadata: { readonly name?: string; readonly uid?: string }
}

/** The controller owner reference to one of our resources (always the same namespace; docs/concepts.md §2). */
export const controllerRef = (owner: OwnerObject): OwnerRef => ({
  apiVersion: API_VERSION,
  kind: owner.kind,
  name: owner.metadata.name ?? "",
  uid: owner.metadata.uid ?? "",
  controller: true,
  blockOwnerDeletion: true,
})

interface LiveMeta {
  readonly metadata?: {
    readonly ownerReferences?: ReadonlyArray<{
      readonly controller?: boolean
      readonly uid: string
      readonly kind: string
      readonly name: string
    }>
  }
}

export type Ownership =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Ours" }
  | { readonly _tag: "Unowned" }
  | { readonly _tag: "Foreign"; readonly kind: string; readonly name: string }

/**
 * Who controls `live` relative to `ownerUid`. `Unowned` objects (no controller reference) are adopted by
 * applying our controller reference, as controller-runtime does.
 */
export const ownershipOf = (live: LiveMeta | undefined, ownerUid: string): Ownership => {
  if (live === undefined) return { _tag: "Absent" }
  const controller = live.metadata?.ownerReferences?.find((ref) => ref.controller === true)
  if (controller === undefined) return { _tag: "Unowned" }
  if (controller.uid === ownerUid) return { _tag: "Ours" }
  return { _tag: "Foreign", kind: controller.kind, name: controller.name }
}
