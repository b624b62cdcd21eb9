/**
 * LanguageCluster (cluster-scoped): names an isolated environment and provides (creates or adopts) its
 * Namespace. Spec and behaviour: docs/languagecluster.md.
 */
import { Schema } from "effect"
import {
  ConditionsPlainList,
  celRules,
  defineKindWithOptionalSpec,
  described,
  Int64,
  optional,
} from "./shared.ts"

/** DNS-1123 label: what a Namespace name must be. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u

export const LanguageClusterSpec = Schema.Struct({
  namespace: Schema.optionalKey(
    described(
      Schema.String.check(Schema.isMaxLength(63), Schema.isPattern(DNS1123_LABEL)),
      "Namespace to create or adopt for this cluster (a DNS-1123 label, at most 63 characters). When empty the controller uses <metadata.name>-ns. Immutable once set, and cannot be added later (docs/languagecluster.md LC-1).",
    ).annotate(celRules([{ rule: "self == oldSelf", message: "spec.namespace is immutable" }])),
  ),
}).annotate({
  description: "Desired state of the LanguageCluster.",
  ...celRules([
    {
      rule: "has(oldSelf.namespace) == has(self.namespace)",
      message: "spec.namespace cannot be added or removed after creation",
    },
  ]),
})
export type LanguageClusterSpec = typeof LanguageClusterSpec.Type

export const LanguageClusterStatus = Schema.Struct({
  // Not in docs/languagecluster.md's status table; docs/concepts.md §7.1 requires it on every kind, and tools that
  // judge readiness (kstatus, Argo CD, `kubectl wait`) compare it with metadata.generation.
  observedGeneration: optional(Int64, "The metadata.generation the status reflects."),
  phase: Schema.optionalKey(
    described(
      Schema.String,
      "Pending until the namespace is ensured, Ready, or Failed (invalid, changed or foreign-owned namespace).",
    ),
  ),
  namespace: Schema.optionalKey(described(Schema.String, "The namespace actually in use.")),
  conditions: Schema.optionalKey(ConditionsPlainList),
}).annotate({ description: "Observed state of the LanguageCluster." })
export type LanguageClusterStatus = typeof LanguageClusterStatus.Type

export const LanguageClusterKind = defineKindWithOptionalSpec({
  kind: "LanguageCluster",
  plural: "languageclusters",
  singular: "languagecluster",
  listKind: "LanguageClusterList",
  shortNames: ["lcluster"],
  scope: "Cluster",
  description:
    "LanguageCluster names an isolated environment for agents, tools, models and clients, and creates or adopts its Namespace.",
  printerColumns: [
    { name: "Phase", type: "string", jsonPath: ".status.phase" },
    { name: "Managed Namespace", type: "string", jsonPath: ".status.namespace" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  specRequired: false,
  spec: LanguageClusterSpec,
  status: LanguageClusterStatus,
})
export const LanguageCluster = LanguageClusterKind.resource
export type LanguageCluster = typeof LanguageCluster.Type
