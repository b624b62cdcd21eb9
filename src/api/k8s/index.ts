/**
 * Upstream Kubernetes types embedded in our kinds' specs, generated from the OpenAPI v3 documents of
 * `k8s.io/kubernetes` (version in {@link SOURCE}; see `roots.ts` for which kind field uses which type).
 * Use them as-is in kind schemas, e.g. `env: Schema.optionalKey(Schema.Array(EnvVar).annotate({ description }))`;
 * never copy or edit their fields by hand — change `roots.ts` and run `npm run gen:k8s`.
 *
 * How the CRD generator must read them (`Schema.toJsonSchemaDocument`):
 * - options `{ referencePolicy: () => undefined, includeAnnotationKey: (key) => key.startsWith("x-kubernetes-") }`:
 *   everything is inlined (no `$ref`, the closure has no recursion) and the markers survive;
 * - markers appear under their literal OpenAPI keys on the node they belong to: `description`, `default`,
 *   `format` (int32/int64 on integers, `date-time`, …), `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
 *   `x-kubernetes-map-type`, `x-kubernetes-int-or-string`, `x-kubernetes-preserve-unknown-fields`;
 * - integers are flat `{type: integer, format}` (no allOf, no ±2^53 bounds); IntOrString is
 *   `{anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}`; Quantity is the same plus
 *   top-level `pattern`. Optional fields are `optionalKey`, so there is no `anyOf` with null;
 * - every struct carries Effect's `additionalProperties: true` next to `properties`: drop it;
 * - `x-kubernetes-preserve-unknown-fields: false` marks an object whose contents the API server prunes
 *   (embedded ObjectMeta, as controller-gen emits it): output `{type: object}` without the `false` (the API
 *   server rejects it) and WITHOUT adding `true`. Only `true` means free-form.
 */
export {
  Affinity,
  EnvFromSource,
  EnvVar,
  IngressTLS,
  IntOrString,
  LabelSelector,
  LocalObjectReference,
  PodSecurityContext,
  Probe,
  Quantity,
  ResourceRequirements,
  SecurityContext,
  SOURCE,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeMount,
} from "./generated.ts"
export { QUANTITY_PATTERN } from "./primitives.ts"
