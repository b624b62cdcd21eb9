/**
 * The upstream Kubernetes types our kinds embed, as OpenAPI v3 definition names. `generate.ts` emits
 * these and their transitive closure into `generated.ts`.
 *
 * Which kind field uses which type (the API reference in docs/reference/ names them per field):
 *
 * | type                           | LanguageAgent | LanguageTool | LanguageClient | LanguageModel | field(s)                                   |
 * |--------------------------------|---------------|--------------|----------------|---------------|--------------------------------------------|
 * | core/v1 LocalObjectReference[] | x             | x            | x              |               | spec.imagePullSecrets                      |
 * | core/v1 EnvVar[]               | x             | x            | x              |               | spec.env                                   |
 * | core/v1 EnvFromSource[]        | x             | x            | x              |               | spec.envFrom                               |
 * | core/v1 ResourceRequirements   | x             | x            | x              |               | spec.resources                             |
 * | core/v1 Affinity               | x             | x            | x              |               | spec.affinity, client spec.regions[].affinity |
 * | core/v1 Toleration[]           | x             | x            | x              |               | spec.tolerations                           |
 * | core/v1 TopologySpreadConstraint[] |           | x            | x              |               | spec.topologySpreadConstraints             |
 * | core/v1 PodSecurityContext     | x             | x            | x              |               | spec.securityContext                       |
 * | core/v1 SecurityContext        |               |              | x              |               | spec.containerSecurityContext              |
 * | core/v1 VolumeMount[]          | x             | x            | x              |               | spec.volumeMounts                          |
 * | core/v1 Volume[]               | x             | x            | x              |               | spec.volumes                               |
 * | core/v1 Probe                  |               | x            | x              |               | spec.livenessProbe, readinessProbe, startupProbe |
 * | meta/v1 LabelSelector          | x             | x            |                | x             | spec.egress[].from/to.namespaceSelector, .podSelector |
 * | networking/v1 IngressTLS[]     |               |              | x              |               | spec.ingress.tls, spec.regions[].ingress.tls |
 *
 * Deliberately NOT generated:
 * - `metav1.Condition` (every kind's `status.conditions`): the spec requires controller-gen's
 *   kubebuilder validations (type ≤ 316 chars + qualified-name pattern, status enum, reason pattern, …)
 *   that upstream OpenAPI does not carry, and upstream's `default: ""` on `status`/`reason` would
 *   contradict them. It belongs with the kinds' shared schema (`src/api/shared.ts`).
 * - LanguageCluster and LanguagePersona embed no upstream type.
 */
export const ROOTS: ReadonlyArray<string> = [
  "io.k8s.api.core.v1.Affinity",
  "io.k8s.api.core.v1.EnvFromSource",
  "io.k8s.api.core.v1.EnvVar",
  "io.k8s.api.core.v1.LocalObjectReference",
  "io.k8s.api.core.v1.PodSecurityContext",
  "io.k8s.api.core.v1.Probe",
  "io.k8s.api.core.v1.ResourceRequirements",
  "io.k8s.api.core.v1.SecurityContext",
  "io.k8s.api.core.v1.Toleration",
  "io.k8s.api.core.v1.TopologySpreadConstraint",
  "io.k8s.api.core.v1.Volume",
  "io.k8s.api.core.v1.VolumeMount",
  "io.k8s.api.networking.v1.IngressTLS",
  "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
]

/**
 * Definitions the generator does not expand, with the schema used instead.
 * - ObjectMeta: controller-gen emits an embedded ObjectMeta as a plain `type: object` (contents pruned);
 *   expanding it would pull in `managedFields[].fieldsV1`, a free-form object, and the spec says the
 *   CRDs have no `x-kubernetes-preserve-unknown-fields` anywhere.
 */
export const OPAQUE: Readonly<Record<string, "prunedObject" | "freeFormObject">> = {
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": "prunedObject",
  "io.k8s.apimachinery.pkg.runtime.RawExtension": "freeFormObject",
}

/** Definitions with a hand-written schema in `primitives.ts` (their OpenAPI form is a `oneOf`). */
export const PRIMITIVES: Readonly<Record<string, "intOrString" | "quantity">> = {
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "intOrString",
  "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
}
