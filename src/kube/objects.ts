// Plain JSON shapes of Kubernetes objects as they travel on the wire, and pure helpers over them.
//
// These are deliberately loose (`[key: string]: unknown` beyond metadata): the kind-specific Schemas
// in src/api decode the rest. Timestamps stay strings (RFC 3339) exactly as the API server sends them.

export interface OwnerReference {
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly uid: string
  readonly controller?: boolean
  readonly blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  readonly name?: string
  readonly generateName?: string
  readonly namespace?: string
  readonly uid?: string
  readonly resourceVersion?: string
  readonly generation?: number
  readonly creationTimestamp?: string
  readonly deletionTimestamp?: string
  readonly deletionGracePeriodSeconds?: number
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  readonly ownerReferences?: ReadonlyArray<OwnerReference>
  readonly finalizers?: ReadonlyArray<string>
  readonly managedFields?: ReadonlyArray<unknown>
}

/** Any Kubernetes object. */
export interface KubeObject {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata: ObjectMeta
  readonly [field: string]: unknown
}

/** `metav1.Status`, returned by the API server on errors and inside watch ERROR events. */
export interface Status {
  readonly kind?: string
  readonly status?: string
  readonly message?: string
  readonly reason?: string
  readonly code?: number
  readonly details?: {
    readonly name?: string
    readonly group?: string
    readonly kind?: string
    readonly causes?: ReadonlyArray<{
      readonly reason?: string
      readonly message?: string
      readonly field?: string
    }>
    readonly retryAfterSeconds?: number
  }
}

/** A reference used as a queue key: namespace is "" for cluster-scoped objects. */
export interface ObjectRef {
  readonly namespace: string
  readonly name: string
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export const keyOf = (ref: ObjectRef): string =>
  ref.namespace === "" ? ref.name : `${ref.namespace}/${ref.name}`

/** Inverse of `keyOf`. */
export const refOfKey = (key: string): ObjectRef => {
  const slash = key.indexOf("/")
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) }
}

export const refOf = (obj: KubeObject): ObjectRef => ({
  namespace: obj.metadata.namespace ?? "",
  name: obj.metadata.name ?? "",
})

export const objectKey = (obj: KubeObject): string => keyOf(refOf(obj))

export const isKubeObject = (u: unknown): u is KubeObject =>
  typeof u === "object" &&
  u !== null &&
  "metadata" in u &&
  typeof u.metadata === "object" &&
  u.metadata !== null &&
  !Array.isArray(u.metadata)

/** The owner reference with `controller: true`, if any. */
export const controllerOf = (obj: KubeObject): OwnerReference | undefined =>
  obj.metadata.ownerReferences?.find((r) => r.controller === true)

/**
 * A copy without `metadata.managedFields` (often half of an object's size and never needed by a
 * controller: server-side apply computes ownership on the server).
 */
export const stripManagedFields = <T extends KubeObject>(obj: T): T => {
  if (obj.metadata.managedFields === undefined) return obj
  const { managedFields: _dropped, ...metadata } = obj.metadata
  return { ...obj, metadata }
}

/** An owner reference that makes `owner` the controller of a child (same as controllerutil). */
export const controllerReference = (
  owner: KubeObject & { apiVersion: string; kind: string },
): OwnerReference => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name ?? "",
  uid: owner.metadata.uid ?? "",
  controller: true,
  blockOwnerDeletion: true,
})
