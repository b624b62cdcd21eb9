// Transforms applied to objects as they enter an informer (client-go's SetTransform): what the operator
// never needs is dropped before anything holds, logs or copies it.
//
// Guarantees of `withoutSecretValues`: the result carries no Secret value — `data` and `stringData`
// keep their key names (mapped to "") and nothing else, and the `kubectl apply` annotation (which holds
// the whole applied Secret, values included) is removed; name, namespace, uid, resourceVersion,
// labels, other annotations, ownerReferences and `type` stay, so existence checks, key validation and
// config hashes (by resourceVersion) work unchanged. Idempotent, and never mutates its input.
import type { KubeObject } from "../kube/objects.ts"

/** Holds the last applied configuration of `kubectl apply`: for a Secret, its values. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

const keysOnly = (values: unknown): Record<string, string> | undefined =>
  typeof values === "object" && values !== null && !Array.isArray(values)
    ? Object.fromEntries(Object.keys(values).map((k) => [k, ""]))
    : undefined

/** A Secret with its values dropped and its key names kept. */
export const withoutSecretValues = (secret: KubeObject): KubeObject => {
  const { data, stringData, ...rest } = secret as KubeObject & { data?: unknown; stringData?: unknown }
  const { [LAST_APPLIED_ANNOTATION]: _values, ...annotations } = rest.metadata.annotations ?? {}
  const dataKeys = keysOnly(data)
  const stringDataKeys = keysOnly(stringData)
  return {
    ...rest,
    metadata:
      rest.metadata.annotations === undefined || !(LAST_APPLIED_ANNOTATION in rest.metadata.annotations)
        ? rest.metadata
        : { ...rest.metadata, annotations },
    ...(dataKeys !== undefined ? { data: dataKeys } : {}),
    ...(stringDataKeys !== undefined ? { stringData: stringDataKeys } : {}),
  }
}
