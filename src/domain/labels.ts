/**
 * Labels and annotations on generated objects (spec docs/concepts.md §4).
 *
 * Guarantee: selectors use only the four common labels (plus a region label that never changes for a given
 * object), so adding or changing `clusterRef` never touches an immutable Deployment selector.
 */

export const MANAGED_BY = "language-operator"
export const PART_OF = "langop"

export const LABEL_NAME = "app.kubernetes.io/name"
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
export const LABEL_PART_OF = "app.kubernetes.io/part-of"
export const LABEL_KIND = "langop.io/kind"
export const LABEL_CLUSTER = "langop.io/cluster"
export const LABEL_MANAGED = "langop.io/managed"
export const LABEL_REGION = "langop.io/region"
export const LABEL_GROUP = "langop.io/group"

export const ANNOTATION_CONFIG_HASH = "langop.io/config-hash"
export const ANNOTATION_SIDECAR_TOOLS = "langop.io/sidecar-tools"
export const ANNOTATION_SIDECAR_HASH = "langop.io/sidecar-hash"
export const ANNOTATION_INJECTED_TOOLS = "langop.io/injected-tools"
export const ANNOTATION_CREATED_BY_CLUSTER = "langop.io/created-by-cluster"

export const FINALIZER = "langop.io/finalizer"

export type OwnerKind =
  | "LanguageAgent"
  | "LanguageTool"
  | "LanguageModel"
  | "LanguageClient"
  | "LanguagePersona"
  | "LanguageCluster"

/** The four common labels: on every generated object and the only keys selectors use. */
export const commonLabels = (kind: OwnerKind, name: string): Record<string, string> => ({
  [LABEL_NAME]: name,
  [LABEL_MANAGED_BY]: MANAGED_BY,
  [LABEL_PART_OF]: PART_OF,
  [LABEL_KIND]: kind,
})

/** Labels of generated objects and pod templates: common labels plus `langop.io/cluster` when set. */
export const objectLabels = (kind: OwnerKind, name: string, clusterRef?: string): Record<string, string> => ({
  ...commonLabels(kind, name),
  ...(clusterRef !== undefined && clusterRef !== "" ? { [LABEL_CLUSTER]: clusterRef } : {}),
})

/** Pod template labels: user `podLabels` first, then ours, so the operator's labels always win. */
export const podTemplateLabels = (
  kind: OwnerKind,
  name: string,
  clusterRef: string | undefined,
  podLabels: Readonly<Record<string, string>> | undefined,
): Record<string, string> => sortedRecord({ ...podLabels, ...objectLabels(kind, name, clusterRef) })

/** Pod template annotations: user `podAnnotations`, then the operator's (which win on a clash). */
export const podTemplateAnnotations = (
  podAnnotations: Readonly<Record<string, string>> | undefined,
  operator: Readonly<Record<string, string>>,
): Record<string, string> => sortedRecord({ ...podAnnotations, ...operator })

/** A copy with keys in sorted order, so serialised children never differ by key order. */
export const sortedRecord = <V>(record: Readonly<Record<string, V>>): Record<string, V> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
